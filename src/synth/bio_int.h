/* bio_int.h — private to src/synth: the synthetic biobank sub-study and
 * questionnaires (`harmonic synth --biobank`, docs/synth.md "Biobank and
 * questionnaires").  Every random number comes from Philox streams of
 * their own (SY_S_BIO_*, far from the cardiac and RT purposes), so
 * --biobank never moves a draw of the cohort: its files are unchanged. */
#ifndef HM_SYNTH_BIO_INT_H
#define HM_SYNTH_BIO_INT_H

#include "hm_biobank.h"
#include "rt_int.h"
#include "synth_int.h"

enum { SY_S_BIO_ENROL = 201, SY_S_BIO_SAMPLE, SY_S_BIO_SHIP, SY_S_BIO_QOL };

typedef struct bio_params {
    int    first_year;
    double p_sampled_cardiac, p_sampled_rt, p_tube_missed, p_visit_missed, p_late_processing,
           p_cold_processing, p_second_spin, p_excursion, p_long_transport, p_qc_low,
           p_genetic_refused, p_sharing_refused, p_withdrawal, logger_interval_min,
           p_item_missing, p_form_mostly_missing;
} bio_params;

/* One enrolled patient, cardiac or radiotherapy. */
typedef struct bio_subject {
    char   centre[16];
    char   local_id[48];                /* hospital format */
    char   pseudonym[80];               /* pseudonymised format */
    long   index;                       /* patient index in its cohort */
    int    rt;                          /* 0 cardiac, 1 radiotherapy */
    long   birth;                       /* days since 1970 */
    long   baseline;                    /* day of the baseline collection */
    double day_offsets;                 /* Norway: dates as days since birth (hospital only) */
} bio_subject;

/* The visits a subject attended: timepoint name and day (filled by bio_synth.c). */
typedef struct bio_visit { char timepoint[32]; long day; } bio_visit;

/* The questionnaire writer (bio_qol.c): one file per centre,
 * DIR/<centre>/qol_item.csv, hospital or pseudonymised format. */
typedef struct bio_qol bio_qol;
int  bio_qol_open(bio_qol **q, const char *dir, int hospital, const hm_pseudo_key *key,
                  hm_error *err);
int  bio_qol_subject(bio_qol *q, const bio_params *bp, uint64_t seed, const bio_subject *s,
                     const bio_visit *visits, int nvisits, long *rows, hm_error *err);
int  bio_qol_close(bio_qol *q, hm_error *err);

/* ---- the generator's state (bio_synth.c, bio_ship.c) ---- */

#define CB_SITE "CB"                     /* the central biobank */

/* The columns of events.csv; pseudonym is local_patient_id in hospital format. */
enum { E_EVENT, E_TIME, E_CENTRE, E_USER, E_SITE, E_PATIENT, E_SAMPLE, E_ALIQUOT, E_PROTOCOL,
       E_TIMEPOINT, E_TYPE, E_LOCATION, E_METRIC, E_VALUE, E_DETAIL, E_LOGGER, E_N };

typedef struct bio_ev { double t; long ord; char *line; } bio_ev;

typedef struct pending {                /* a stored first aliquot, to ship */
    char   aliquot[24], sample[24], type[32];
    double stored_s;
} pending;

typedef struct centre_out {
    char     code[16];
    bio_ev  *ev;   size_t nev, cap;
    pending *pend; size_t npend, capp;
    long     nsample, naliquot, nposition;
} centre_out;

typedef struct bio_run {
    const hm_synth_opts *o;
    const sy_params *sp;
    const hm_pseudo_key *key;
    bio_params bp;
    hm_bb_protocol proto[2];            /* cardiac, radiotherapy */
    centre_out c[SY_MAX_CENTRES + RT_MAX_CENTRES];
    int        nc;
    long       ord, cb_positions;
    double     end_s;                   /* end of the study: nothing happens after it */
    char       dir[4096];
    bio_qol   *qol;
    hm_synth_summary *s;
} bio_run;

/* Appends one event (columns E_*, NULL = empty) to centre c's list. */
int    bio_add(bio_run *r, centre_out *c, double t, const char *const v[E_N], hm_error *err);
/* Storage position k of a site: 9 x 9 boxes, 20 per rack, 10 racks per freezer. */
void   bio_position(const char *site, long k, char out[64]);
double bio_uni(sy_rng *g, double a, double b);
/* Centre c's shipments, receipts, CB storage and QC. */
int    bio_shipments(bio_run *r, centre_out *c, hm_error *err);

/* The whole --biobank part of hm_synth_run (bio_synth.c). */
int sy_bio_run(const hm_synth_opts *o, const sy_params *sp, const hm_pseudo_key *key,
               const char *dir, hm_synth_summary *s, hm_error *err);

#endif
