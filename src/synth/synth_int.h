/* synth_int.h — private to src/synth: parameters, random streams, the
 * simulated patient, output. */
#ifndef HM_SYNTH_INT_H
#define HM_SYNTH_INT_H

#include <Random123/philox.h>
#include <stdint.h>
#include <stdio.h>

#include "hm_pseudo.h"
#include "hm_synth.h"

#define SY_MAX_CENTRES 64
#define SY_MAX_BANDS   16
#define SY_MAX_ERAS    16
#define SY_MAX_EXAMS   16
#define SY_MAX_GROWTH  32
#define SY_MAX_RATES   16      /* age bands per outcome type */
#define SY_MAX_CODES   64
#define SY_MAX_NAMES   32
#define SY_MAX_PROCS   64      /* procedures per patient */
#define SY_NTYPES      4       /* outcome groups */

enum { SY_LEUKAEMIA, SY_LYMPHOMA, SY_CNS, SY_SOLID };
extern const char *const sy_type_names[SY_NTYPES];

typedef struct {
    char code[16], country[4], name[128];
    double share, dose_missing;
    int first_year, day_offsets;
} sy_centre;
typedef struct { long from_days, to_days; double value; char label[16]; } sy_band;
typedef struct { int from, to; double kap_factor, p_tier[3], p_interventional; } sy_era;
typedef struct { char exam[32]; int interventional; double weight, kap_factor; } sy_exam;
typedef struct { char organ[32]; double ratio; } sy_organ;
typedef struct { double age_years, weight_kg, height_cm; } sy_growth;
typedef struct { double from_years, to_years, per_million; } sy_rate;
typedef struct { int type; char topo[8], morph[8], icd10[8], sex; double weight; } sy_code;
typedef struct {
    char   event_type[32], plane[8], protocol[64];
    double kvp_base, kvp_per_kg, ma_min, ma_max, pulse_ms, pulse_rate, cu_mm, al_mm,
           primary_deg, primary_sd, secondary_deg, secondary_sd;
} sy_technique;   /* [0] fluoro A, [1] fluoro B, [2] acquisition A, [3] acquisition B */

typedef struct sy_params {
    sy_centre centres[SY_MAX_CENTRES];  int ncentres;
    sy_band   kap[SY_MAX_BANDS];        int nkap;       /* median KAP by age */
    sy_band   epk[SY_MAX_BANDS];        int nepk;       /* E/KAP by dose age class */
    sy_era    eras[SY_MAX_ERAS];        int neras;
    sy_exam   exams[SY_MAX_EXAMS];      int nexams;
    sy_organ  organs[HM_SYNTH_MAX_ORGANS]; int norgans;
    sy_growth growth[SY_MAX_GROWTH];    int ngrowth;
    sy_rate   rates[SY_NTYPES][SY_MAX_RATES]; int nrates[SY_NTYPES];
    sy_code   codes[SY_MAX_CODES];      int ncodes;
    sy_technique tech[4];
    /* names by country: index of the centre's country in `countries` */
    char      countries[SY_MAX_CENTRES][4]; int ncountries;
    char      given[SY_MAX_CENTRES][SY_MAX_NAMES][48];  int ngiven[SY_MAX_CENTRES];
    char      family[SY_MAX_CENTRES][SY_MAX_NAMES][48]; int nfamily[SY_MAX_CENTRES];
    /* params.csv scalars */
    double p_male, year_trend, p_neonate, neonate_mean_days, p_infant, older_mean_years;
    double repeat_extra_mean, repeat_gap_days, kap_sigma, fluoro_median_s, fluoro_exponent,
           fluoro_sigma, cine_per_kap, air_kerma_per_kap;
    double p_down, p_22q11, p_williams, p_noonan, down_leuk_0_4, down_leuk_5_29, down_solid;
    double p_transplant, tx_all_rr, tx_lymphoma_rr, biopsy_interval_days;
    double death_first, death_later, loss, loss_no;
    double sigma_shared_coeff, sigma_shared_kap, sigma_unshared[3];
    double lag_years[SY_NTYPES];
    double fluoro_kap_fraction, acq_min, acq_max, weight_factor;
    int    start_year, max_age_days;
    long   study_end;                   /* days since 1970-01-01 */
} sy_params;

/* Loads the CSV files of data/synth/. */
int sy_params_load(sy_params *p, hm_error *err);

/* Philox4x32-10 stream for (seed, a, b, c): 2^32 draws of 32 bits. */
typedef struct sy_rng {
    philox4x32_key_t key;
    philox4x32_ctr_t ctr, out;
    int pos;
} sy_rng;
void   sy_rng_init(sy_rng *r, uint64_t seed, uint32_t a, uint32_t b, uint32_t c);
double sy_u01(sy_rng *r);              /* in (0, 1) */
double sy_normal(sy_rng *r);
double sy_exp1(sy_rng *r);             /* Exp(1) */

/* Streams of a patient (b of sy_rng_init). */
enum { SY_S_DEMOG = 1, SY_S_PROC, SY_S_DOSE, SY_S_OUTCOME, SY_S_REAL, SY_S_NAMES,
       SY_S_SHARED_COEFF, SY_S_SHARED_KAP, SY_S_EVENTS };

typedef struct sy_proc {
    long   date, age_days;
    int    exam, interventional, tier, age_class, era;
    double kap_gy_cm2, weight_kg, height_cm, fluoro_s, air_kerma_mgy;
    long   cine_frames;
    double dose_mgy[HM_SYNTH_MAX_ORGANS];    /* realization 0 */
    uint64_t uid_rand;
} sy_proc;

typedef struct sy_cancer { int type, code; long date; } sy_cancer;

typedef struct sy_patient {
    long   index;
    int    centre, male, syndrome;      /* syndrome: 0 none 1 down 2 22q11 3 williams 4 noonan */
    long   birth, entry, exit, transplant;   /* transplant -1 if none */
    int    exit_reason;                 /* 0 study end, 1 death, 2 emigration, 3 lost */
    sy_proc procs[SY_MAX_PROCS];
    int    nprocs;
    sy_cancer cancers[SY_NTYPES];
    int    ncancers;
} sy_patient;

/* The truth for the outcome model. */
typedef struct sy_truth {
    double err_per_100mgy;
    int    err_organ;                   /* index in params organs */
    int    err_applies[SY_NTYPES];
} sy_truth;

/* Simulates patient `index`; shared realization errors are not needed here. */
void sy_simulate(const sy_params *p, const sy_truth *t, uint64_t seed, long index,
                 sy_patient *pt);
int  sy_age_class(const sy_params *p, long age_days);

extern const char *const sy_syndrome_codes[5];

/* truth.c: DIR/truth.json */
int sy_write_truth(const char *path, const hm_synth_opts *o, const sy_params *p,
                   const sy_truth *t, const hm_synth_summary *s, hm_error *err);

/* datatab.c: the column-by-name reader of the data/synth/ parameter files
 * (problems name file:line:field). */
typedef struct sy_tab {
    hm_csv *csv;
    char    path[4096];
    char  **head;
    size_t  nhead;
    char  **f;
    size_t  nf;
    long    line;
} sy_tab;

int  sy_tab_open(sy_tab *t, const char *name, hm_error *err);   /* name under data/synth/ */
int  sy_tab_next(sy_tab *t, hm_error *err);                     /* 1 row, 0 end, <0 error */
void sy_tab_close(sy_tab *t);
int  sy_tab_col(sy_tab *t, const char *name, const char **v, hm_error *err);
int  sy_tab_num(sy_tab *t, const char *name, double lo, double hi, double *out, hm_error *err);
int  sy_tab_int(sy_tab *t, const char *name, int lo, int hi, int *out, hm_error *err);
int  sy_tab_text(sy_tab *t, const char *name, int may_be_empty, char *out, size_t size,
                 hm_error *err);
int  sy_tab_too_many(sy_tab *t, int max, hm_error *err);

#endif
