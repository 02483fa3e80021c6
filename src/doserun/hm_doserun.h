/*
 * hm_doserun.h — organ doses for the whole cohort: every procedure of the
 * registry, from its irradiation events (tier 1), its total KAP (tier 2) or
 * nothing (tier 3), with a 2-D Monte Carlo of the dose uncertainty, written
 * back to the registry (best estimates as organ_dose rows, realizations
 * packed per procedure and organ).  docs/dosimetry.md, "The cohort run".
 *
 * The run is a pure function of the registry, the engine (library or direct
 * simulation), the uncertainty file and the seed: procedure i's results do
 * not depend on which process, thread or order computed it, so the work can
 * be split across MPI ranks and a killed run resumed.
 */
#ifndef HM_DOSERUN_H
#define HM_DOSERUN_H

#include "hm_core.h"
#include "hm_dosimetry.h"
#include "hm_registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How beams become organ doses per KAP for one age class: a library lookup
 * or a direct simulation (the caller's; see src/cli/cmd_dose.c). */
typedef struct hm_doserun_engine {
    /* Fills *fn and *fn_ctx for age_class ("newborn" ... "15y") and a patient
     * lateral_scale times as wide and deep as the class's reference phantom
     * (hm_doserun_lateral_scale; 1: the reference).  The context stays valid
     * until the next call (the run computes one procedure at a time). */
    int (*for_age)(void *ctx, const char *age_class, double lateral_scale,
                   hm_dosimetry_beam_fn *fn, void **fn_ctx, hm_error *err);
    void       *ctx;
    const char *method;          /* "library" or "direct": written on dose_event */
    const char *id;              /* library id or "direct", for the run's provenance */
} hm_doserun_engine;

/* The engine of a conversion-coefficient library: one lookup context per
 * age class (hm_dose_library_beam), filled by hm_doserun_library_engine. */
typedef struct hm_doserun_library {
    hm_dose_library_beam age[5];
    char                 id[48];        /* the library id, usable in a run id */
} hm_doserun_library;
void hm_doserun_library_engine(const hm_dose_library *lib, hm_doserun_library *l,
                               hm_doserun_engine *engine);
/* Lookups over the age classes, and those with an axis clamped. */
long hm_doserun_library_out_of_grid(const hm_doserun_library *l, long *lookups);

typedef struct hm_doserun_opts {
    const char *run_id;          /* NULL: derived from the parameters */
    uint64_t    seed;
    int         realizations;    /* R (0: best estimates only) */
    const char *organs;          /* comma-separated organs to store; NULL: the default 15 */
    const char *uncertainty;     /* path; NULL: data/dosimetry/uncertainty.csv */
    hm_dosimetry_align align;
    long        tier2_min_n;     /* smallest class for tier-2 coefficients (default 10) */
    int         commit_every;    /* procedures per transaction (default 200) */
    int         rank, nranks;    /* this process computes procedures i % nranks == rank */
    long        max_procedures;  /* stop after this many (0: all): tests and benchmarks */
    int         skin;            /* 1: tier-1 skin dose map and peak skin dose per procedure */
    double      skin_cell_cm;    /* map cell (default 2 cm) */
    int         size;            /* 1: tier-1 doses for each patient's height and weight
                                  * (hm_doserun_lateral_scale), else the reference phantom */
    /* Called after every procedure (and once at the end): rate-limit display. */
    void      (*progress)(void *arg, long done, long total, double seconds);
    void       *progress_arg;
} hm_doserun_opts;

void hm_doserun_opts_default(hm_doserun_opts *o);

typedef struct hm_doserun_summary {
    char   run_id[128];
    long   procedures, skipped_done;     /* computed now; finished by an earlier run */
    long   tier[4];                      /* procedures per tier used (1..3) */
    long   events, events_imputed;
    long   rows_best, rows_realizations;
    long   skin_maps;                    /* procedures given a skin map */
    long   sized, size_unknown;          /* opts.size: tier-1 procedures scaled; without
                                          * height and weight (the reference phantom) */
    double seconds;
} hm_doserun_summary;

/* The lateral scale of a patient against the reference phantom of the age
 * class (below 15 y the hermaphrodite, from 15 y the patient's sex), the
 * factor hm_phantom_scale applies to x and y: sqrt((m/m_ref)/(h/h_ref)).
 * With the mass alone, isometric growth (h proportional to m^(1/3)) gives
 * (m/m_ref)^(1/3).  Without a mass (or with an implausible height or mass:
 * outside 20-250 cm, 0.3-300 kg) *scale is 1 and *known 0. */
int hm_doserun_lateral_scale(const char *age_class, char sex, double height_cm, double mass_kg,
                             double *scale, int *known, hm_error *err);

/* The whole run on the registry at db_url (SQLite path or postgresql://
 * URL; the run opens its own connections: one writer, two readers). */
int hm_doserun_cohort(const char *db_url, const hm_doserun_engine *engine,
                      const hm_doserun_opts *o, hm_doserun_summary *s, hm_error *err);

/* Organ dose and E per KAP by age class over a run's tier-1 procedures
 * (ratios of sums), for the comparison with published values (summary.c). */
#define HM_DOSERUN_SUMMARY_NORGANS 5
extern const char *const HM_DOSERUN_SUMMARY_ORGANS[HM_DOSERUN_SUMMARY_NORGANS];  /* lung ... */
typedef struct hm_doserun_age_row {
    char   age[16];                 /* "newborn" ... "15y" */
    long   procedures;
    double kap_gy_cm2, effective_msv;
    double organ_mgy[HM_DOSERUN_SUMMARY_NORGANS];
} hm_doserun_age_row;
int hm_doserun_summary_by_age(const char *db_url, const char *run_id, hm_doserun_age_row rows[5],
                              hm_error *err);
/* E/KAP by age class with data/dosimetry/anchors_e_per_kap.csv, as a PNG. */
int hm_doserun_plot_anchors(const hm_doserun_age_row rows[5], const char *png, const char *title,
                            hm_error *err);

/* The organs stored by default: the ICRP 103 tissues with their own weights
 * and the heart and thymus of cardiac work (anchors.md sections 2, 3). */
extern const char HM_DOSERUN_DEFAULT_ORGANS[];

#ifdef __cplusplus
}
#endif

#endif
