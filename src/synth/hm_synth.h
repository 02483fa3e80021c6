/*
 * hm_synth.h — synthetic multi-centre cardiac catheterization cohorts with a
 * known truth, for testing import, dosimetry and (above all) the risk
 * analysis: with a true excess relative risk per 100 mGy the analysis must
 * recover it.
 *
 * Every random quantity of patient i comes from Philox4x32-10 (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011; Random123) keyed by
 * the seed with the counter (i, purpose, index, draw): a cohort is a pure
 * function of (parameters, seed), independent of the order patients are
 * generated in, and patients are streamed to the output one at a time.
 * The model and every parameter's source are in docs/synth.md and
 * the CSV files of data/synth/.
 */
#ifndef HM_SYNTH_H
#define HM_SYNTH_H

#include <stdint.h>

#include "hm_core.h"
#include "hm_pseudo.h"

#define HM_SYNTH_MAX_ORGANS 16

typedef struct hm_synth_opts {
    long        n_patients;          /* >= 1 */
    uint64_t    seed;
    const char *out_dir;             /* created; must not already hold a cohort */
    double      err_per_100mgy;      /* true ERR per 100 mGy (0: no effect) */
    const char *err_organ;           /* organ whose dose drives the ERR; NULL: red_marrow */
    const char *err_outcomes;        /* comma list of leukaemia,lymphoma,cns,solid;
                                        NULL: by organ (see docs/synth.md) */
    const char *organs;              /* comma list of organs written; NULL: all of
                                        data/synth/organ_ratios.csv */
    int         realizations;        /* dose realizations 1..R besides 0 */
    int         hospital_format;     /* local ids, names, dates: input of pseudonymise */
    int         no_events;           /* no irradiation events for tier-1 procedures */
    int         doses_to_truth;      /* 1: the true organ doses go to <centre>/truth_organ_dose.csv
                                      * (not a registry table: `import --dir` leaves it), so the
                                      * registry's doses come from `harmonic dose cohort` */
    long        rt_patients;         /* radiotherapy patients besides the cardiac ones (0: none;
                                        docs/synth.md "Radiotherapy patients"); n_patients may
                                        then be 0 */
    int         biobank;             /* 1: the biobank sub-study and questionnaires too
                                        (DIR/biobank/, <centre>/qol_item.csv; bio_synth.c) */
} hm_synth_opts;

typedef struct hm_synth_summary {
    long   patients, procedures, events, organ_dose_rows, outcome_rows;
    long   tier[4];                  /* procedures by dose tier 1..3 */
    long   cancers[4];               /* leukaemia, lymphoma, cns, solid */
    long   deaths, transplants, down;
    double person_years;             /* entry (first procedure) to end of follow-up */
    double seconds;
    long   rt_patients, rt_treatment_rows, rt_dicom_files;   /* --rt-patients */
    long   bio_patients, bio_samples, bio_aliquots, bio_events, bio_shipments,
           bio_withdrawals, bio_qol_rows;                    /* --biobank */
} hm_synth_summary;

/* Generates the cohort into opts->out_dir:
 *   centres.csv                       every centre (table centre)
 *   <centre>/centre.csv               the centre's own row
 *   <centre>/patient.csv procedure.csv irradiation_event.csv organ_dose.csv
 *            outcome.csv followup.csv
 *   truth.json                        the true model, for the analysis to recover
 * and, with rt_patients, the radiotherapy centres (rt_out.c):
 *   <centre>/patient.csv chemotherapy.csv surgery.csv stem_cell_transplant.csv followup.csv
 *   <centre>/rt/<course>/             CT, RT Structure Set, RT (Ion) Plan, RT Dose
 *   rt_truth.csv                      per course and ROI the exact mean of the dose field
 * Columns follow data/dictionary.csv (pseudonymised format) or, with
 * hospital_format, the hospital-side layout that `harmonic pseudonymise`
 * turns into it.  Returns HM_OK or an hm_status with err filled. */
int hm_synth_run(const hm_synth_opts *opts, hm_synth_summary *summary, hm_error *err);

/* The same with a given study key for the pseudonymised format (NULL: the
 * seed-derived key of docs/synth.md). */
int hm_synth_run_with_key(const hm_synth_opts *opts, const hm_pseudo_key *key,
                          hm_synth_summary *summary, hm_error *err);

#endif
