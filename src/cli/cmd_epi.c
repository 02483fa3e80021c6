/*
 * cmd_epi.c — `harmonic epi tabulate|fit|cox|plot|outcomes`: parses options
 * and calls hm_epi (docs/epi.md).
 */
#include "cli.h"
#include "hm_epi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct opts {
    const char *persons, *doses, *events, *db, *organ, *outcome, *out, *model, *format, *store;
    const char *realizations_prefix, *dose_col, *base, *cat, *title, *strata, *syndromes;
    const char *cuts[5];    /* age calendar tsfe afe dose */
    const char *input;
    double lag, exclusion, ci, study_end;
    int have_lag, have_excl, no_sex, by_country, by_tx, by_syn, by_person, use_real, profile_all;
    int cox_tx, cox_syn, realization;
    hm_csv_dialect dialect;        /* of the CSV inputs (--delimiter ...) */
} opts;

/* The table entry of option name in this sub-command, or NULL: the
 * sub-commands share one opts struct but not all options. */
static const hm_cli_opt *table_opt(const hm_args *a, const char *name)
{
    for (const hm_cli_opt *t = a->cmd->opts; t->name; t++)
        if (!strcmp(t->name, name))
            return t;
    return NULL;
}

static int given(const hm_args *a, const char *name)
{
    return table_opt(a, name) && hm_args_count(a, name) > 0;
}

/* Returns 0 ok, 2 usage error (reported). */
static int from_args(const hm_args *a, opts *o)
{
    memset(o, 0, sizeof *o);
    o->ci = 0.95;
    o->realization = -1;
    o->study_end = NAN;
    struct { const char *name; const char **dst; } strs[] = {
        { "persons", &o->persons }, { "doses", &o->doses }, { "events", &o->events },
        { "db", &o->db }, { "organ", &o->organ }, { "outcome", &o->outcome },
        { "output", &o->out }, { "model", &o->model }, { "format", &o->format },
        { "store", &o->store }, { "dose-col", &o->dose_col }, { "base", &o->base },
        { "cat", &o->cat }, { "title", &o->title }, { "strata", &o->strata },
        { "syndrome-codes", &o->syndromes },
        { "age", &o->cuts[0] }, { "calendar", &o->cuts[1] }, { "tsfe", &o->cuts[2] },
        { "afe", &o->cuts[3] },
    };
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
        if (given(a, strs[k].name))
            *strs[k].dst = hm_args_str(a, strs[k].name, NULL);
    /* --dose: dose cut points of tabulate, the dose column of plot. */
    if (given(a, "dose"))
        *(table_opt(a, "base") ? &o->dose_col : &o->cuts[4]) = hm_args_str(a, "dose", NULL);
    if ((o->have_lag = given(a, "lag")))
        o->lag = hm_args_num(a, "lag", 0);
    if ((o->have_excl = given(a, "exclusion")))
        o->exclusion = hm_args_num(a, "exclusion", 0);
    if (given(a, "ci"))
        o->ci = hm_args_num(a, "ci", 0.95);
    const hm_cli_opt *r = table_opt(a, "realizations");
    if (r && r->type == HM_OPT_T_FLAG)
        o->use_real = given(a, "realizations");
    else if (r)
        o->realizations_prefix = hm_args_str(a, "realizations", NULL);
    if (given(a, "realization"))
        o->realization = (int)hm_args_int(a, "realization", 0) - 1;
    if (given(a, "study-end") && hm_epi_parse_day(hm_args_str(a, "study-end", ""), &o->study_end) < 0)
        return hm_cli_usage_error(a, "option '--study-end': expected YYYY-MM-DD, found '%s'",
                                  hm_args_str(a, "study-end", ""));
    o->no_sex = given(a, "no-sex");
    o->by_country = given(a, "by-country");
    o->by_tx = given(a, "by-transplant");
    o->by_syn = given(a, "by-syndrome");
    o->by_person = given(a, "by-person");
    o->profile_all = given(a, "profile-all");
    o->cox_tx = given(a, "transplant");
    o->cox_syn = given(a, "syndrome");
    o->input = a->npos ? a->pos[0] : NULL;
    return table_opt(a, "delimiter") ? hm_cli_dialect(a, &o->dialect) : 0;
}

/* The note on how each CSV input was read, when it was not plain CSV. */
static void dialect_notes(const opts *o, const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hm_csv_dialect seen;
        char how[96];
        if (paths[i] && !hm_csv_dialect_detect(paths[i], &o->dialect, &seen, NULL)
            && hm_csv_dialect_describe(&seen, how, sizeof how))
            hm_cli_dialect_note(paths[i], how);
    }
}

/* Output goes to PATH.tmp, renamed to PATH by close_out() only on success,
 * so a failed command leaves no partial file. */
static FILE *open_out(const char *path, char *tmp, size_t n)
{
    if (!path || !strcmp(path, "-"))
        return stdout;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        fprintf(stderr, "harmonic epi: cannot write %s\n", tmp);
    return fp;
}

/* Returns 0, or 1 after removing the temporary file. */
static int close_out(FILE *fp, const char *path, const char *tmp, int ok)
{
    if (fp == stdout)
        return fflush(stdout) == 0 && ok ? 0 : 1;
    if (fclose(fp) != 0 || !ok || rename(tmp, path) != 0) {
        remove(tmp);
        if (ok)
            fprintf(stderr, "harmonic epi: writing %s failed\n", path);
        return 1;
    }
    return 0;
}

/* Writes through a temporary file renamed at the end: no partial output. */
static int write_table(const hm_epi_table *t, const char *path)
{
    if (!path || !strcmp(path, "-"))
        return hm_epi_table_write_csv(t, stdout) == HM_OK ? 0 : 1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        fprintf(stderr, "harmonic epi: cannot write %s\n", tmp);
        return 1;
    }
    int rc = hm_epi_table_write_csv(t, fp);
    if (fclose(fp) != 0 || rc != HM_OK || rename(tmp, path) != 0) {
        remove(tmp);
        fprintf(stderr, "harmonic epi: writing %s failed\n", path);
        return 1;
    }
    return 0;
}

static int load_cohort(const opts *o, hm_epi_cohort **c, hm_error *err)
{
    if (o->db) {
#ifdef HM_EPI_HAVE_REGISTRY
        return hm_epi_cohort_from_registry(o->db, o->organ, o->use_real, o->syndromes, c, err);
#else
        return hm_error_set(err, HM_EUNSUPPORTED, o->db, 0, NULL, "built without the registry");
#endif
    }
    if (!o->persons || !o->doses)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "give --persons and --doses (and --events), or --db");
    const char *paths[3] = { o->persons, o->doses, o->events };
    dialect_notes(o, paths, 3);
    return hm_epi_cohort_read_csv_dialect(o->persons, o->doses, o->events, o->organ, &o->dialect,
                                          c, err);
}

static int outcome_groups(const hm_epi_outcomes *oc, const char *list, int *groups, int *n, hm_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    *n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int g = hm_epi_outcomes_find(oc, tok);
        if (g < 0)
            return hm_error_set(err, HM_EINVAL, NULL, 0, "outcome",
                                "unknown outcome group '%s' (see harmonic epi outcomes)", tok);
        if (*n >= 16)
            return hm_error_set(err, HM_EINVAL, NULL, 0, "outcome", "at most 16 groups");
        groups[(*n)++] = g;
    }
    return *n ? HM_OK : hm_error_set(err, HM_EINVAL, NULL, 0, "outcome", "no outcome group given");
}

static int cmd_tabulate(const opts *o)
{
    hm_error err;
    hm_epi_outcomes *oc = NULL;
    hm_epi_cohort *c = NULL;
    hm_epi_table t;
    hm_epi_table_init(&t);
    int groups[16], ng = 0, rc;
    hm_epi_tab_options to;
    hm_epi_tab_summary sum;
    if ((rc = hm_epi_outcomes_load(NULL, &oc, &err)) < 0 ||
        (rc = outcome_groups(oc, o->outcome ? o->outcome : "leukaemia_excl_cll", groups, &ng, &err)) < 0 ||
        (rc = hm_epi_tab_options_default(&to, oc, groups[0], &err)) < 0)
        goto done;
    to.ngroups = ng;
    memcpy(to.groups, groups, sizeof groups);
    hm_epi_cuts *cuts[5] = { &to.age, &to.calendar, &to.tsfe, &to.afe, &to.dose };
    static const char *names[5] = { "age", "calendar", "tsfe", "afe", "dose" };
    for (int k = 0; k < 5; k++)
        if (o->cuts[k]) {
            if (!strcmp(o->cuts[k], "none"))
                cuts[k]->n = 0;
            else if ((rc = hm_epi_cuts_parse(o->cuts[k], cuts[k], names[k], &err)) < 0)
                goto done;
        }
    if (o->have_lag)
        to.lag_years = o->lag;
    if (o->have_excl)
        to.exclusion_years = o->exclusion;
    to.by_sex = !o->no_sex;
    to.by_country = o->by_country;
    to.by_transplant = o->by_tx;
    to.by_syndrome = o->by_syn;
    to.by_person = o->by_person;
    to.study_end_day = o->study_end;
    if ((rc = load_cohort(o, &c, &err)) < 0 || (rc = hm_epi_tabulate(c, oc, &to, &t, &sum, &err)) < 0)
        goto done;
    fprintf(stderr, "epi tabulate: %zu persons, %zu followed, %zu prevalent cases excluded, %zu without exposure; "
                    "%.1f person-years, %zu cells, lag %g y, exclusion %g y\n",
            sum.persons, sum.followed, sum.excluded_prevalent, sum.unexposed, sum.pyr, t.nrows, to.lag_years,
            to.exclusion_years);
    for (int g = 0; g < ng; g++)
        fprintf(stderr, "  %-20s %.0f cases\n", hm_epi_outcomes_name(oc, groups[g]), sum.cases[g]);
    if (sum.outside_cuts)
        fprintf(stderr, "  note: %zu persons had time below the first cut point, not tabulated\n", sum.outside_cuts);
    if (o->store) {
#ifdef HM_EPI_HAVE_REGISTRY
        if (!o->db) {
            rc = hm_error_set(&err, HM_EINVAL, NULL, 0, "store", "--store needs --db");
            goto done;
        }
        if ((rc = hm_epi_table_store(o->db, o->store, &t, &err)) < 0)
            goto done;
        fprintf(stderr, "  stored as run '%s' in table epi_result\n", o->store);
#else
        rc = hm_error_set(&err, HM_EUNSUPPORTED, NULL, 0, "store", "built without the registry");
        goto done;
#endif
    }
    rc = write_table(&t, o->out);
    hm_epi_table_free(&t);
    hm_epi_cohort_free(c);
    hm_epi_outcomes_free(oc);
    return rc;
done:
    hm_epi_table_free(&t);
    hm_epi_cohort_free(c);
    hm_epi_outcomes_free(oc);
    return hm_cli_report(&err);
}

static void print_fit(const hm_epi_fit *fit, const char *format, const char *title, FILE *fp)
{
    if (format && !strcmp(format, "csv"))
        hm_epi_fit_print_csv(fit, fp);
    else if (format && !strcmp(format, "json"))
        hm_epi_fit_print_json(fit, fp);
    else
        hm_epi_fit_print_text(fit, title, fp);
}

static int cmd_fit(const opts *o)
{
    hm_error err;
    hm_epi_table t;
    hm_epi_model m;
    hm_epi_fit fit;
    hm_epi_fit_options fo;
    hm_epi_fit_options_default(&fo);
    fo.ci_level = o->ci;
    fo.profile_all = o->profile_all;
    if (!(o->ci > 0 && o->ci < 1)) {
        fprintf(stderr, "harmonic epi fit: --ci: expected a level in (0,1), e.g. 0.95\n");
        return 2;
    }
    dialect_notes(o, &o->input, 1);
    int rc = hm_epi_table_read_csv_dialect(o->input, &o->dialect, &t, &err);
    if (rc < 0)
        return hm_cli_report(&err);
    if ((rc = hm_epi_model_parse(o->model, &t, &m, &err)) < 0 ||
        (rc = hm_epi_fit_poisson(&t, &m, &fo, &fit, &err)) < 0) {
        hm_epi_table_free(&t);
        if (!err.file[0])  /* a data problem: rows are numbered as lines of the file */
            snprintf(err.file, sizeof err.file, "%.255s", o->input);
        return hm_cli_report(&err);
    }
    char tmp[4096];
    FILE *fp = open_out(o->out, tmp, sizeof tmp);
    if (!fp) {
        hm_epi_table_free(&t);
        return 1;
    }
    char title[600];
    snprintf(title, sizeof title, "Poisson regression: %.500s", o->model);
    print_fit(&fit, o->format, title, fp);
    if (o->realizations_prefix) {
        const char *dose = o->dose_col ? o->dose_col : m.nx ? m.x[0] : "dose_mgy";
        char *names[1000];
        int n = 0;
        for (int k = 1; k <= 1000; k++) {
            char name[256];
            snprintf(name, sizeof name, "%s%d", o->realizations_prefix, k);
            if (hm_epi_table_col(&t, name) < 0)
                break;
            names[n++] = strdup(name);
        }
        double *beta = malloc((n ? n : 1) * sizeof *beta);
        hm_epi_realization_summary s;
        if (n == 0)
            rc = hm_error_set(&err, HM_ENOTFOUND, o->input, 0, o->realizations_prefix,
                              "no realization columns %s1, %s2, ...", o->realizations_prefix, o->realizations_prefix);
        else
            rc = hm_epi_fit_realizations(&t, &m, dose, names, n, beta, &s, &err);
        if (rc == 0) {
            double b = fit.p[m.nz].est;
            if (o->format && !strcmp(o->format, "json"))
                fprintf(fp, "{\"realizations\": %d, \"failed\": %d, \"mean\": %.8g, \"median\": %.8g, "
                            "\"p2.5\": %.8g, \"p97.5\": %.8g, \"sd\": %.8g, \"mean_dose_fit\": %.8g}\n",
                        s.n, s.nfailed, s.mean, s.median, s.p025, s.p975, s.sd, b);
            else
                fprintf(fp, "dose realizations (%d fitted, %d failed): %s mean %.6g, median %.6g, "
                            "2.5%% %.6g, 97.5%% %.6g, SD %.4g; fit on the mean dose %.6g\n",
                        s.n, s.nfailed, fit.p[m.nz].name, s.mean, s.median, s.p025, s.p975, s.sd, b);
        }
        for (int k = 0; k < n; k++)
            free(names[k]);
        free(beta);
    }
    int wrc = close_out(fp, o->out, tmp, rc >= 0);
    hm_epi_table_free(&t);
    return rc < 0 ? hm_cli_report(&err) : wrc;
}

static int cmd_cox(const opts *o)
{
    hm_error err;
    hm_epi_outcomes *oc = NULL;
    hm_epi_cohort *c = NULL;
    int groups[16], ng, rc;
    hm_epi_cox_options co;
    memset(&co, 0, sizeof co);
    hm_epi_fit_options_default(&co.fit);
    co.fit.ci_level = o->ci;
    co.fit.profile_all = o->profile_all;
    co.realization = o->realization;
    co.use_transplant = o->cox_tx;
    co.use_syndrome = o->cox_syn;
    if (o->strata) {
        co.strata_sex = strstr(o->strata, "sex") != NULL;
        co.strata_country = strstr(o->strata, "country") != NULL;
    }
    hm_epi_fit fit;
    if ((rc = hm_epi_outcomes_load(NULL, &oc, &err)) < 0 ||
        (rc = outcome_groups(oc, o->outcome ? o->outcome : "leukaemia_excl_cll", groups, &ng, &err)) < 0)
        goto done;
    co.group = groups[0];
    co.lag_years = o->have_lag ? o->lag : hm_epi_outcomes_lag(oc, co.group);
    co.exclusion_years = o->have_excl ? o->exclusion : hm_epi_outcomes_exclusion(oc, co.group);
    if ((rc = load_cohort(o, &c, &err)) < 0 || (rc = hm_epi_fit_cox(c, oc, &co, &fit, &err)) < 0)
        goto done;
    char tmp[4096];
    FILE *fp = open_out(o->out, tmp, sizeof tmp);
    if (!fp) {
        rc = hm_error_set(&err, HM_EIO, o->out, 0, NULL, "cannot write");
        goto done;
    }
    char title[256];
    snprintf(title, sizeof title, "Cox linear ERR on attained age: %s, lag %g y, exclusion %g y",
             hm_epi_outcomes_name(oc, co.group), co.lag_years, co.exclusion_years);
    print_fit(&fit, o->format, title, fp);
    int R = hm_epi_cohort_realizations(c);
    if (o->use_real && R > 1) {
        /* Dose uncertainty: beta of each realization (no CIs), summarised. */
        double *b = malloc((size_t)R * sizeof *b);
        int n = 0, nb = fit.np - 1;
        co.fit.profile_ci = 0;
        for (int r = 0; b && r < R; r++) {
            hm_epi_fit fr;
            co.realization = r;
            if (hm_epi_fit_cox(c, oc, &co, &fr, &err) == 0 && fr.converged)
                b[n++] = fr.p[nb].est;
        }
        double mean = 0, lo = NAN, med = NAN, hi = NAN;
        for (int k = 0; k < n; k++)
            mean += b[k] / n;
        if (n > 0) {
            for (int k = 1; k < n; k++)  /* insertion sort: R is modest */
                for (int j = k; j > 0 && b[j] < b[j - 1]; j--) {
                    double t = b[j]; b[j] = b[j - 1]; b[j - 1] = t;
                }
            /* R type 7 quantiles (Hyndman & Fan 1996). */
            double qs[3] = { 0.025, 0.5, 0.975 }, *out[3] = { &lo, &med, &hi };
            for (int k = 0; k < 3; k++) {
                double h = (n - 1) * qs[k];
                int l = (int)h, u = l + 1 < n ? l + 1 : l;
                *out[k] = b[l] + (h - l) * (b[u] - b[l]);
            }
        }
        fprintf(fp, "dose realizations (%d of %d fitted): beta mean %.6g, median %.6g, 2.5%% %.6g, "
                    "97.5%% %.6g; fit on the mean dose %.6g\n", n, R, mean, med, lo, hi, fit.p[nb].est);
        free(b);
    }
    rc = close_out(fp, o->out, tmp, 1);
    hm_epi_cohort_free(c);
    hm_epi_outcomes_free(oc);
    return rc;
done:
    hm_epi_cohort_free(c);
    hm_epi_outcomes_free(oc);
    return hm_cli_report(&err);
}

static int cmd_plot(const opts *o)
{
    hm_error err;
    hm_epi_table t;
    hm_epi_plot_data d;
    dialect_notes(o, &o->input, 1);
    int rc = hm_epi_table_read_csv_dialect(o->input, &o->dialect, &t, &err);
    if (rc < 0)
        return hm_cli_report(&err);
    rc = hm_epi_plot_prepare(&t, o->base, o->cat ? o->cat : "dosecat", o->dose_col ? o->dose_col : "dose_mgy", &d,
                             &err);
    hm_epi_table_free(&t);
    if (rc < 0)
        return hm_cli_report(&err);
    snprintf(d.title, sizeof d.title, "%s", o->title ? o->title : "Dose-response");
    if ((rc = hm_epi_plot(&d, o->out, o->format, &err)) < 0)
        return hm_cli_report(&err);
    printf("%s: ERR per 100 mGy %.4g (95%% CI %.4g to %.4g), %d dose categories\n", o->out, 100 * d.beta,
           100 * d.beta_lo, 100 * d.beta_hi, d.ncat);
    return 0;
}

static int cmd_outcomes(void)
{
    hm_error err;
    hm_epi_outcomes *oc;
    if (hm_epi_outcomes_load(NULL, &oc, &err) < 0)
        return hm_cli_report(&err);
    printf("%-20s %9s %15s\n", "group", "lag (y)", "exclusion (y)");
    for (int i = 0; i < hm_epi_outcomes_count(oc); i++)
        printf("%-20s %9g %15g\n", hm_epi_outcomes_name(oc, i), hm_epi_outcomes_lag(oc, i),
               hm_epi_outcomes_exclusion(oc, i));
    hm_epi_outcomes_free(oc);
    return 0;
}

/* One run() for all: the table says which sub-command it is. */
static const hm_cli_cmd epi_tabulate, epi_fit, epi_cox, epi_plot;

static int run_epi(const hm_args *a)
{
    opts o;
    int rc = from_args(a, &o);
    if (rc)
        return rc;
    const hm_cli_cmd *c = a->cmd;
    if (c == &epi_fit && !(o.ci > 0 && o.ci < 1))
        return hm_cli_usage_error(a, "option '--ci': expected a level in (0,1), e.g. 0.95");
    return c == &epi_tabulate ? cmd_tabulate(&o) : c == &epi_fit ? cmd_fit(&o)
         : c == &epi_cox ? cmd_cox(&o) : cmd_plot(&o);
}

/* Options several sub-commands share, one line each. */
#define O_INPUTS                                                                              \
    HM_OPT_PATH("persons", "P.csv", "individual records: one row per person", NULL),         \
    HM_OPT_PATH("doses", "D.csv", "individual records: organ doses per procedure", NULL),    \
    HM_OPT_PATH("events", "E.csv", "individual records: outcome events", NULL),              \
    HM_OPT_STR("db", "PATH|URL", "read the cohort from the registry instead", NULL),         \
    HM_OPT_STR("organ", "ORGAN", "organ whose dose is used", "red_marrow"),                 \
    HM_OPT_DIALECT
#define O_OUTCOME HM_OPT_STR("outcome", "G1,G2", "outcome groups (harmonic epi outcomes)", \
                             "leukaemia_excl_cll")
#define O_LAG                                                                                 \
    HM_OPT_REAL("lag", "Y", "dose lag (years)", "the outcome's"),                            \
    HM_OPT_REAL("exclusion", "Y", "years after first exposure not counted", "the outcome's")
#define O_OUT(v, what) { "output", 'o', HM_OPT_T_PATH, v, what, "stdout", 0, 0, 0, NULL, 0, 0 }
#define O_FORMAT HM_OPT_CHOICE("format", "FORMAT", "output format", "text", "text|csv|json")
#define O_CI HM_OPT_REAL("ci", "L", "confidence level of the intervals, in (0,1)", "0.95")
#define O_REQ_STR(n, v, help) \
    { n, 0, HM_OPT_T_STRING, v, help, NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 }
#define O_CUTS(n, what) HM_OPT_STR(n, "CUTS", what " cut points, or none", "the outcome's")

static const hm_cli_opt tabulate_opts[] = {
    O_INPUTS, O_OUTCOME, O_LAG,
    O_CUTS("age", "attained age"), O_CUTS("calendar", "calendar year"),
    O_CUTS("tsfe", "time since first exposure"), O_CUTS("afe", "age at first exposure"),
    O_CUTS("dose", "lagged dose (mGy)"),
    HM_OPT_FLAG("no-sex", "do not split by sex"),
    HM_OPT_FLAG("by-country", "split by country"),
    HM_OPT_FLAG("by-transplant", "split by transplant status"),
    HM_OPT_FLAG("by-syndrome", "split by syndrome status"),
    HM_OPT_STR("study-end", "DATE", "end of follow-up (YYYY-MM-DD)", "each person's last date"),
    HM_OPT_FLAG("by-person", "individual records: one row per person and cell"),
    HM_OPT_FLAG("realizations", "registry: use dose realizations 1..N"),
    HM_OPT_STR("syndrome-codes", "LIST", "registry: patient.syndrome codes counted as syndrome=1",
               "down,22q11"),
    O_OUT("OUT.csv", "the person-year table"),
    HM_OPT_STR("store", "RUN_ID", "registry: also store the table as this run", NULL),
    HM_OPT_END
};
static const hm_cli_cmd epi_tabulate = {
    "tabulate", "person-year table from individual records",
    "Give --persons and --doses (and --events), or --db.  Cut points are comma separated.\n",
    tabulate_opts, NULL, run_epi, NULL, 0
};

static const hm_cli_pos data_pos[] = {
    { "DATA.csv", "a person-year table (harmonic epi tabulate)", 1, 1, HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_opt fit_opts[] = {
    O_REQ_STR("model", "MODEL", "the model formula (below)"),
    O_FORMAT, O_CI, HM_OPT_DIALECT,
    HM_OPT_FLAG("profile-all", "profile-likelihood intervals for every parameter"),
    HM_OPT_STR("realizations", "PREFIX", "refit with the dose replaced by PREFIX1..PREFIXn", NULL),
    HM_OPT_STR("dose-col", "COL", "the dose column --realizations replaces",
               "the first err() term"),
    O_OUT("OUT", "where to write the fit"),
    HM_OPT_END
};
static const hm_cli_cmd epi_fit = {
    "fit", "Poisson ERR/EAR model of a person-year table",
    "MODEL: cases ~ pyr(PY) [+ strata(a,b)] [+ loglin(z)] + err(d [| e1,e2])\n"
    "       (or lq(d), cat(c), ear(d), earlq(d)); see docs/epi.md.\n",
    fit_opts, data_pos, run_epi, NULL, 0
};

static const hm_cli_opt cox_opts[] = {
    O_INPUTS, O_OUTCOME, O_LAG,
    HM_OPT_STR("strata", "LIST", "baseline strata: sex, country (comma separated)", "none"),
    HM_OPT_FLAG("transplant", "adjust for transplant status"),
    HM_OPT_FLAG("syndrome", "adjust for syndrome status"),
    HM_OPT_INT("realization", "K", "use dose realization K", "the mean dose", 0, 1000000),
    HM_OPT_FLAG("realizations", "also fit every dose realization and summarise"),
    HM_OPT_STR("syndrome-codes", "LIST", "registry: patient.syndrome codes counted as syndrome=1",
               "down,22q11"),
    O_FORMAT, O_CI,
    HM_OPT_FLAG("profile-all", "profile-likelihood intervals for every parameter"),
    O_OUT("OUT", "where to write the fit"),
    HM_OPT_END
};
static const hm_cli_cmd epi_cox = {
    "cox", "Cox linear ERR model on attained age",
    "Give --persons, --doses and --events, or --db.\n",
    cox_opts, NULL, run_epi, NULL, 0
};

static const hm_cli_opt plot_opts[] = {
    O_REQ_STR("base", "MODEL", "the baseline model, e.g. \"cases ~ pyr(pyr) + strata(...)\""),
    HM_OPT_STR("cat", "COL", "the dose-category column", "dosecat"),
    HM_OPT_STR("dose", "COL", "the dose column", "dose_mgy"),
    HM_OPT_STR("dose-col", "COL", "the same as --dose", NULL),
    { "output", 'o', HM_OPT_T_PATH, "PLOT.png|PLOT.svg", "the plot to write", NULL,
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_STR("title", "TEXT", "plot title", "Dose-response"),
    HM_OPT_CHOICE("format", "FORMAT", "image format", "from the file name", "png|svg"),
    HM_OPT_DIALECT,
    HM_OPT_END
};
static const hm_cli_cmd epi_plot = {
    "plot", "dose-response plot: category risks and the fitted linear ERR", NULL, plot_opts,
    data_pos, run_epi, NULL, 0
};

static int run_outcomes(const hm_args *a)
{
    (void)a;
    return cmd_outcomes();
}
static const hm_cli_opt no_opts[] = { HM_OPT_END };
static const hm_cli_cmd epi_outcomes = {
    "outcomes", "list the outcome groups (data/epi/outcomes.csv)", NULL, no_opts, NULL,
    run_outcomes, NULL, 0
};

static const hm_cli_cmd *const epi_subs[] = { &epi_tabulate, &epi_fit, &epi_cox, &epi_plot,
                                              &epi_outcomes, NULL };
const hm_cli_cmd hm_cli_epi = {
    "epi", "person-years and excess relative risk models",
    "Person-years with lagged organ dose, Poisson and Cox ERR models, plots (docs/epi.md).\n",
    no_opts, NULL, NULL, epi_subs, 0
};
