/* bio_int.h — private to src/synth: the synthetic biobank sub-study and
 * questionnaires (`harmonic synth --biobank`, docs/synth.md "Biobank and
 * questionnaires").  Every random number comes from Philox streams of
 * their own (SY_S_BIO_*, far from the cardiac and RT purposes), so
 * --biobank never moves a draw of the cohort: its files are unchanged. */
#ifndef HM_SYNTH_BIO_INT_H
#define HM_SYNTH_BIO_INT_H

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

/* The whole --biobank part of hm_synth_run (bio_synth.c). */
int sy_bio_run(const hm_synth_opts *o, const sy_params *sp, const hm_pseudo_key *key,
               const char *dir, hm_synth_summary *s, hm_error *err);

#endif
