/*
 * hm_epi.h — risk analysis: person-year tables, Poisson excess-relative-risk
 * regression with profiled strata, Cox linear ERR, dose-response plots.
 *
 * Data flow: individual records (CSV files or the registry) -> hm_epi_cohort
 * -> hm_epi_tabulate() -> hm_epi_table (grouped cells) -> hm_epi_fit_poisson()
 * -> hm_epi_fit (estimates, SEs, profile CIs) -> text/CSV/JSON and plots.
 * Formulas and the model language are documented in docs/epi.md.
 */
#ifndef HM_EPI_H
#define HM_EPI_H

#include "hm_core.h"

#include <stdio.h>

/* ------------------------------------------------------------------ tables */

/* A rectangular data set held by column.  A column read from text that is not
 * numeric is categorical: its values are level indices 0..nlevels-1 and
 * levels[] holds the labels (in order of first appearance). */
typedef struct hm_epi_table {
    size_t   nrows, ncols, cap;
    char   **names;
    double **cols;       /* cols[c][r] */
    char  ***levels;     /* levels[c] == NULL for a numeric column */
    size_t  *nlevels;
} hm_epi_table;

void hm_epi_table_init(hm_epi_table *t);
void hm_epi_table_free(hm_epi_table *t);
/* Index of a column, or -1. */
int  hm_epi_table_col(const hm_epi_table *t, const char *name);
/* Appends an all-zero numeric column of nrows values; returns its index or <0. */
int  hm_epi_table_add_col(hm_epi_table *t, const char *name, hm_error *err);
/* Makes column c categorical with the given labels (copied). */
int  hm_epi_table_set_levels(hm_epi_table *t, int c, char **labels, size_t n, hm_error *err);
/* Grows every column to hold at least n rows (new rows are zero). */
int  hm_epi_table_resize(hm_epi_table *t, size_t n, hm_error *err);
int  hm_epi_table_read_csv(const char *path, hm_epi_table *t, hm_error *err);
/* The same in a CSV dialect (hm_core.h; NULL: detect separator, decimal
 * mark and encoding).  So are the _dialect readers below. */
int  hm_epi_table_read_csv_dialect(const char *path, const hm_csv_dialect *dialect,
                                   hm_epi_table *t, hm_error *err);
int  hm_epi_table_write_csv(const hm_epi_table *t, FILE *fp);

/* ------------------------------------------------------------------ models */

#define HM_EPI_MAXTERMS 24
#define HM_EPI_NAMELEN  80

enum hm_epi_form { HM_EPI_ERR = 0, HM_EPI_EAR = 1 };

/*
 * A parsed model (see docs/epi.md):
 *   cases ~ pyr(PY) + strata(a, b) + loglin(z1, z2) + err(d | e1, e2)
 * err(...) linear ERR, lq(d | ...) linear-quadratic, cat(c | ...) one ERR
 * coefficient per non-reference level, ear(...)/earlq(...) excess absolute
 * rate (per person-year).  Every ERR/EAR covariate is a column or a derived
 * one (d^2, c==level), recorded in xcol/xpow/xlevel.
 */
typedef struct hm_epi_model {
    char cases[HM_EPI_NAMELEN], pyr[HM_EPI_NAMELEN];
    int  form;                              /* hm_epi_form */
    int  nstrata, nz, nx, ne;
    char strata[HM_EPI_MAXTERMS][HM_EPI_NAMELEN];
    char z[HM_EPI_MAXTERMS][HM_EPI_NAMELEN];     /* background log-linear */
    char x[HM_EPI_MAXTERMS][HM_EPI_NAMELEN];     /* excess-risk covariate columns */
    int  xpow[HM_EPI_MAXTERMS];                  /* 1 or 2 (quadratic) */
    int  xlevel[HM_EPI_MAXTERMS];                /* 0, or 1: indicator (column == xval) */
    double xval[HM_EPI_MAXTERMS];
    char e[HM_EPI_MAXTERMS][HM_EPI_NAMELEN];     /* log-linear effect modifiers */
} hm_epi_model;

/* Parses the model language; resolves cat() levels against t (may be NULL
 * when no cat() term is used). */
int hm_epi_model_parse(const char *text, const hm_epi_table *t, hm_epi_model *m, hm_error *err);

/* ---------------------------------------------------------------- fitting */

enum hm_epi_kind { HM_EPI_P_LOGLIN, HM_EPI_P_EXCESS, HM_EPI_P_MODIFIER };
enum hm_epi_bound { HM_EPI_B_OK = 0, HM_EPI_B_BOUNDARY = 1, HM_EPI_B_NONE = 2 };

typedef struct hm_epi_param {
    char   name[2 * HM_EPI_NAMELEN];
    int    kind;                  /* hm_epi_kind */
    double est, se;               /* se: Wald, from the observed information */
    double lo, hi;                /* profile-likelihood CI */
    int    lo_status, hi_status;  /* hm_epi_bound: BOUNDARY = not estimable (RR>0 hit) */
} hm_epi_param;

typedef struct hm_epi_fit_options {
    double ci_level;      /* 0.95 (3.841) or 0.90 (2.706); 0 -> 0.95 */
    int    profile_ci;    /* compute profile CIs for excess/modifier parameters */
    int    profile_all;   /* also for background log-linear parameters */
    int    max_iter;      /* 0 -> 100 */
} hm_epi_fit_options;

typedef struct hm_epi_fit {
    int          np;
    hm_epi_param p[3 * HM_EPI_MAXTERMS];
    double loglik;          /* full Poisson (or partial, for Cox) log-likelihood */
    double deviance;        /* Poisson: 2 sum[y ln(y/mu) - (y-mu)] */
    double aic;             /* -2 loglik + 2 (np + strata with cases) */
    size_t nobs;
    int    nstrata;         /* strata with at least one case */
    double cases, pyr;
    double lrt_chi2, lrt_p; /* dose trend: all excess parameters = 0 */
    int    lrt_df;
    int    iterations, converged;
    double ci_level;
} hm_epi_fit;

void hm_epi_fit_options_default(hm_epi_fit_options *o);
/* Poisson regression of table t with model m (strata profiled out). */
int hm_epi_fit_poisson(const hm_epi_table *t, const hm_epi_model *m,
                       const hm_epi_fit_options *o, hm_epi_fit *fit, hm_error *err);
/* Convenience: parse + fit. */
int hm_epi_fit_text(const hm_epi_table *t, const char *model,
                    const hm_epi_fit_options *o, hm_epi_fit *fit, hm_error *err);

/* Dose uncertainty: refits with column `dose_col` replaced by each of
 * `nreal` realization columns (names in real_cols); fills beta[k] with the
 * first excess parameter of each fit and the summary. */
typedef struct hm_epi_realization_summary {
    int    n, nfailed;
    double mean, median, p025, p975, sd;
} hm_epi_realization_summary;
int hm_epi_fit_realizations(const hm_epi_table *t, const hm_epi_model *m, const char *dose_col,
                            char **real_cols, int nreal, double *beta,
                            hm_epi_realization_summary *sum, hm_error *err);

/* Results as a table a person reads, CSV (one row per parameter) or JSON. */
void hm_epi_fit_print_text(const hm_epi_fit *fit, const char *title, FILE *fp);
void hm_epi_fit_print_csv(const hm_epi_fit *fit, FILE *fp);
void hm_epi_fit_print_json(const hm_epi_fit *fit, FILE *fp);

/* --------------------------------------------------------------- cohorts */

/* Outcome groups (data/epi/outcomes.csv): ICD-O-3 morphology/topography ranges. */
typedef struct hm_epi_outcome_def hm_epi_outcome_def;
typedef struct hm_epi_outcomes hm_epi_outcomes;
int  hm_epi_outcomes_load(const char *path, hm_epi_outcomes **out, hm_error *err);  /* NULL: data file */
int  hm_epi_outcomes_load_dialect(const char *path, const hm_csv_dialect *dialect,
                                  hm_epi_outcomes **out, hm_error *err);
void hm_epi_outcomes_free(hm_epi_outcomes *o);
int  hm_epi_outcomes_count(const hm_epi_outcomes *o);
const char *hm_epi_outcomes_name(const hm_epi_outcomes *o, int i);
int  hm_epi_outcomes_find(const hm_epi_outcomes *o, const char *name);
/* Default lag and exclusion (years) of a group. */
double hm_epi_outcomes_lag(const hm_epi_outcomes *o, int i);
double hm_epi_outcomes_exclusion(const hm_epi_outcomes *o, int i);
/* 1 if ICD-O-3 morphology ("9823/3" or "9823") and topography ("C71.9")
 * fall in group i; <0 on unparsable codes (err names the field). */
int  hm_epi_outcomes_match(const hm_epi_outcomes *o, int i, const char *morphology,
                           const char *topography, hm_error *err);

/* Individual records.  Times are days since 1970-01-01 (a date offset by the
 * registry's pseudonymisation shifts every date of a person alike, so only
 * differences and calendar years matter). */
typedef struct hm_epi_cohort hm_epi_cohort;

/* persons.csv: id,sex,birth,end[,country][,syndrome][,transplant]
 * doses.csv:   id,date,dose_mgy[,organ][,realization]
 * events.csv:  id,date,morphology,topography           (see docs/epi.md)
 * Dates are YYYY-MM-DD or a day number. */
int  hm_epi_cohort_read_csv(const char *persons, const char *doses, const char *events,
                            const char *organ, hm_epi_cohort **out, hm_error *err);
int  hm_epi_cohort_read_csv_dialect(const char *persons, const char *doses, const char *events,
                                    const char *organ, const hm_csv_dialect *dialect,
                                    hm_epi_cohort **out, hm_error *err);
void hm_epi_cohort_free(hm_epi_cohort *c);
size_t hm_epi_cohort_size(const hm_epi_cohort *c);
int  hm_epi_cohort_realizations(const hm_epi_cohort *c);

/* Building a cohort record by record (used by the CSV and registry readers). */
hm_epi_cohort *hm_epi_cohort_new(void);
int  hm_epi_cohort_add_person(hm_epi_cohort *c, const char *id, const char *sex, double birth_day,
                              double end_day, const char *country, int syndrome,
                              double transplant_day, hm_error *err);
int  hm_epi_cohort_add_dose(hm_epi_cohort *c, const char *id, double day, int realization,
                            double dose_mgy, hm_error *err);
int  hm_epi_cohort_add_event(hm_epi_cohort *c, const char *id, double day, const char *morphology,
                             const char *topography, hm_error *err);
/* A treatment other than radiation (docs/epi.md "Treatment covariates"):
 * its cyclophosphamide-equivalent dose and doxorubicin isotoxic equivalent
 * (mg/m2; 0 when it adds none) and sct = 1 for a stem-cell transplant,
 * counted from `day` on; day NaN (not known) counts from the start of
 * follow-up.  They become the tabulation's ced_mg_m2, die_mg_m2 and sct. */
int  hm_epi_cohort_add_treatment(hm_epi_cohort *c, const char *id, double day, double ced_mg_m2,
                                 double die_mg_m2, int sct, hm_error *err);
/* Sorts histories; call once after the last add. */
int  hm_epi_cohort_finish(hm_epi_cohort *c, hm_error *err);

#ifdef HM_EPI_HAVE_REGISTRY
/* From the registry (SQLite path or postgresql:// URL): patients with a
 * followup row, their procedures' doses to `organ` (realization 0, or 1..N
 * when `realizations`), cancers (outcome.kind = 'cancer'), their
 * chemotherapy (CED, DIE from data/rt/chemo_agents.csv) and stem-cell
 * transplants as treatments (hm_epi_cohort_add_treatment).  The 0/1
 * syndrome covariate is 1 for the patient.syndrome codes listed in
 * syndrome_codes (comma separated; NULL: "down"). */
int hm_epi_cohort_from_registry(const char *db_url, const char *organ, int realizations,
                                const char *syndrome_codes, hm_epi_cohort **out, hm_error *err);
/* Stores a table as run `run_id` in the results table epi_result (long
 * format: run_id, cell, name, value, label), replacing an earlier run. */
int hm_epi_table_store(const char *db_url, const char *run_id, const hm_epi_table *t, hm_error *err);
#endif

/* Dates: "YYYY-MM-DD" or a (possibly fractional) day number -> days since 1970-01-01. */
int    hm_epi_parse_day(const char *s, double *day);
double hm_epi_day_from_civil(int y, int m, int d);

#define HM_EPI_MAXCUTS 64
typedef struct hm_epi_cuts { int n; double v[HM_EPI_MAXCUTS]; } hm_epi_cuts;

typedef struct hm_epi_tab_options {
    double lag_years;        /* a dose counts lag_years after its procedure */
    double exclusion_years;  /* follow-up starts this long after first exposure */
    hm_epi_cuts age, calendar, tsfe, afe, dose;  /* n==0: not split (dose: mGy) */
    int by_sex, by_country, by_transplant, by_syndrome;
    int by_person;           /* one row per person and cell: individual (split) records */
    int ngroups;             /* outcome groups tabulated (indices into outcomes) */
    int groups[16];
    double study_end_day;    /* NaN or <=0: none */
} hm_epi_tab_options;

/* Defaults from data/epi/defaults.csv for outcome group `group`. */
int hm_epi_tab_options_default(hm_epi_tab_options *o, const hm_epi_outcomes *oc, int group,
                               hm_error *err);
/* Parses "0,5,10,20" into cuts. */
int hm_epi_cuts_parse(const char *s, hm_epi_cuts *c, const char *what, hm_error *err);

/* Person-year table: one row per non-empty cell with columns for each split
 * factor (labels), pyr, cases_<group>, dose_mgy (PY-weighted mean lagged
 * cumulative dose), age/calendar/tsfe/afe means, the PY-weighted means of
 * the treatment covariates ced_mg_m2, die_mg_m2 (cumulative, mg/m2) and sct
 * (0/1; a share in grouped cells), and dose_mgy_r<k> per realization when
 * the cohort has several. */
typedef struct hm_epi_tab_summary {
    size_t persons;             /* in the cohort */
    size_t followed;            /* contributing person-years */
    size_t excluded_prevalent;  /* outcome on or before the start of follow-up */
    size_t unexposed;           /* no procedure: no start of follow-up */
    size_t outside_cuts;        /* persons with time below the first cut point (dropped) */
    double pyr, cases[16];
} hm_epi_tab_summary;
int hm_epi_tabulate(const hm_epi_cohort *c, const hm_epi_outcomes *oc,
                    const hm_epi_tab_options *o, hm_epi_table *out, hm_epi_tab_summary *sum,
                    hm_error *err);

/* -------------------------------------------------------------------- Cox */

/* Cox model with linear ERR, r(t) = exp(gamma z) (1 + beta d(t)), attained
 * age as time scale, entry at first exposure + exclusion, dose lagged. */
typedef struct hm_epi_cox_options {
    int    group;             /* outcome group index */
    double lag_years, exclusion_years;
    int    strata_sex, strata_country;
    int    use_transplant, use_syndrome;  /* as log-linear covariates */
    int    realization;       /* -1 mean dose */
    hm_epi_fit_options fit;
} hm_epi_cox_options;
int hm_epi_fit_cox(const hm_epi_cohort *c, const hm_epi_outcomes *oc, const hm_epi_cox_options *o,
                   hm_epi_fit *fit, hm_error *err);

/* ------------------------------------------------------------------ plots */

/* Dose-response plot: categorical RRs (points with CIs) at the mean dose of
 * each category, fitted 1+beta d line with its profile CI band. */
typedef struct hm_epi_plot_data {
    int    ncat;
    double cat_dose_mgy[HM_EPI_MAXTERMS + 1], cat_rr[HM_EPI_MAXTERMS + 1];
    double cat_lo[HM_EPI_MAXTERMS + 1], cat_hi[HM_EPI_MAXTERMS + 1];
    double beta, beta_lo, beta_hi;   /* per mGy */
    double dose_max_mgy;
    char   title[160];
} hm_epi_plot_data;
/* format: "png" or "svg" (from the file name when NULL). */
int hm_epi_plot(const hm_epi_plot_data *d, const char *path, const char *format, hm_error *err);
/* Fills plot data from table t: categorical fit on cat_col and linear fit on dose_col. */
int hm_epi_plot_prepare(const hm_epi_table *t, const char *base_model, const char *cat_col,
                        const char *dose_col, hm_epi_plot_data *d, hm_error *err);

#endif
