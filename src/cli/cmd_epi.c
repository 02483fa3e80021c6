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

static void usage(FILE *fp)
{
    fprintf(fp,
        "usage: harmonic epi COMMAND [OPTIONS]   (docs/epi.md)\n\n"
        "  tabulate  person-year table from individual records\n"
        "      (--persons P.csv --doses D.csv [--events E.csv] | --db PATH|URL)\n"
        "      [--organ ORGAN] [--outcome G1,G2] [--lag Y] [--exclusion Y]\n"
        "      [--age CUTS] [--calendar CUTS] [--tsfe CUTS] [--afe CUTS] [--dose CUTS] (\"none\" to not split)\n"
        "      [--no-sex] [--by-country] [--by-transplant] [--by-syndrome] [--study-end DATE]\n"
        "      [--by-person] (individual records: one row per person and cell)\n"
        "      [--realizations] (registry: use dose realizations 1..N)\n"
        "      [--syndrome-codes down,22q11] (registry: patient.syndrome codes counted as syndrome=1)\n"
        "      [-o OUT.csv] [--store RUN_ID] (registry: also store the table)\n"
        "  fit DATA.csv --model MODEL [--format text|csv|json] [--ci 0.95|0.90] [--profile-all]\n"
        "      [--realizations PREFIX] (refit with DOSE replaced by PREFIX1..PREFIXn)\n"
        "      [--dose-col dose_mgy] [-o OUT]\n"
        "      MODEL: cases ~ pyr(PY) [+ strata(a,b)] [+ loglin(z)] + err(d [| e1,e2])\n"
        "             (or lq(d), cat(c), ear(d), earlq(d))\n"
        "  cox  (--persons ... --doses ... --events ... | --db ...) [--organ O] --outcome G\n"
        "      [--lag Y] [--exclusion Y] [--strata sex,country] [--transplant] [--syndrome]\n"
        "      [--realization K | --realizations] [--format text|csv|json] [--ci L]\n"
        "  plot DATA.csv --base \"cases ~ pyr(pyr) + strata(...)\" [--cat dosecat] [--dose dose_mgy]\n"
        "      -o PLOT.png|PLOT.svg [--title TEXT]\n"
        "  outcomes  list the outcome groups (data/epi/outcomes.csv)\n");
}

typedef struct opts {
    const char *persons, *doses, *events, *db, *organ, *outcome, *out, *model, *format, *store;
    const char *realizations_prefix, *dose_col, *base, *cat, *title, *strata, *syndromes;
    const char *cuts[5];    /* age calendar tsfe afe dose */
    const char *input;
    double lag, exclusion, ci, study_end;
    int have_lag, have_excl, no_sex, by_country, by_tx, by_syn, by_person, use_real, profile_all;
    int cox_tx, cox_syn, realization;
} opts;

static int need_value(int i, int argc, char **argv)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "harmonic epi: option %s needs a value\n", argv[i]);
        return 0;
    }
    return 1;
}

static int number(const char *s, const char *opt, double *v)
{
    char *end;
    *v = strtod(s, &end);
    if (!*s || *end || !isfinite(*v)) {
        fprintf(stderr, "harmonic epi: %s: expected a number, found '%s'\n", opt, s);
        return 0;
    }
    return 1;
}

/* Returns 0 ok, 2 usage error. */
static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->ci = 0.95;
    o->realization = -1;
    o->study_end = NAN;
    static const char *cutopt[5] = { "--age", "--calendar", "--tsfe", "--afe", "--dose" };
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **sv = NULL;
        if (!strcmp(a, "--persons")) sv = &o->persons;
        else if (!strcmp(a, "--doses")) sv = &o->doses;
        else if (!strcmp(a, "--events")) sv = &o->events;
        else if (!strcmp(a, "--db")) sv = &o->db;
        else if (!strcmp(a, "--organ")) sv = &o->organ;
        else if (!strcmp(a, "--outcome")) sv = &o->outcome;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) sv = &o->out;
        else if (!strcmp(a, "--model")) sv = &o->model;
        else if (!strcmp(a, "--format")) sv = &o->format;
        else if (!strcmp(a, "--store")) sv = &o->store;
        else if (!strcmp(a, "--dose-col")) sv = &o->dose_col;
        else if (!strcmp(a, "--base")) sv = &o->base;
        else if (!strcmp(a, "--cat")) sv = &o->cat;
        else if (!strcmp(a, "--title")) sv = &o->title;
        else if (!strcmp(a, "--strata")) sv = &o->strata;
        else if (!strcmp(a, "--syndrome-codes")) sv = &o->syndromes;
        if (sv) {
            if (!need_value(i, argc, argv))
                return 2;
            *sv = argv[++i];
            continue;
        }
        int k;
        for (k = 0; k < 5 && strcmp(a, cutopt[k]); k++)
            ;
        if (k < 5) {
            if (!need_value(i, argc, argv))
                return 2;
            o->cuts[k] = argv[++i];
            continue;
        }
        if (!strcmp(a, "--lag") || !strcmp(a, "--exclusion") || !strcmp(a, "--ci")) {
            double v;
            if (!need_value(i, argc, argv) || !number(argv[i + 1], a, &v))
                return 2;
            i++;
            if (a[2] == 'l')
                o->lag = v, o->have_lag = 1;
            else if (a[2] == 'e')
                o->exclusion = v, o->have_excl = 1;
            else
                o->ci = v;
        } else if (!strcmp(a, "--realizations")) {
            /* fit: takes a prefix; tabulate/cox: a flag. */
            if (!strcmp(argv[1], "fit")) {
                if (!need_value(i, argc, argv))
                    return 2;
                o->realizations_prefix = argv[++i];
            } else {
                o->use_real = 1;
            }
        } else if (!strcmp(a, "--realization")) {
            double v;
            if (!need_value(i, argc, argv) || !number(argv[i + 1], a, &v))
                return 2;
            o->realization = (int)v - 1;
            i++;
        } else if (!strcmp(a, "--study-end")) {
            if (!need_value(i, argc, argv))
                return 2;
            if (hm_epi_parse_day(argv[++i], &o->study_end) < 0) {
                fprintf(stderr, "harmonic epi: --study-end: expected YYYY-MM-DD, found '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--no-sex")) o->no_sex = 1;
        else if (!strcmp(a, "--by-country")) o->by_country = 1;
        else if (!strcmp(a, "--by-transplant")) o->by_tx = 1;
        else if (!strcmp(a, "--by-syndrome")) o->by_syn = 1;
        else if (!strcmp(a, "--by-person")) o->by_person = 1;
        else if (!strcmp(a, "--profile-all")) o->profile_all = 1;
        else if (!strcmp(a, "--transplant")) o->cox_tx = 1;
        else if (!strcmp(a, "--syndrome")) o->cox_syn = 1;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "harmonic epi %s: unknown option '%s'\n", argv[1], a);
            return 2;
        } else if (!o->input) {
            o->input = a;
        } else {
            fprintf(stderr, "harmonic epi %s: unexpected argument '%s'\n", argv[1], a);
            return 2;
        }
    }
    return 0;
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
    return hm_epi_cohort_read_csv(o->persons, o->doses, o->events, o->organ, c, err);
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

static int check_format(const char *f)
{
    if (f && strcmp(f, "text") && strcmp(f, "csv") && strcmp(f, "json")) {
        fprintf(stderr, "harmonic epi: --format: expected text, csv or json, found '%s'\n", f);
        return 0;
    }
    return 1;
}

static int cmd_fit(const opts *o)
{
    if (!o->input || !o->model) {
        fprintf(stderr, "harmonic epi fit: give DATA.csv and --model\n");
        return 2;
    }
    if (!check_format(o->format))
        return 2;
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
    int rc = hm_epi_table_read_csv(o->input, &t, &err);
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
    if (!check_format(o->format))
        return 2;
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
    if (!o->input || !o->base || !o->out) {
        fprintf(stderr, "harmonic epi plot: give DATA.csv, --base MODEL and -o PLOT.png|svg\n");
        return 2;
    }
    hm_error err;
    hm_epi_table t;
    hm_epi_plot_data d;
    int rc = hm_epi_table_read_csv(o->input, &t, &err);
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

int hm_cmd_epi(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    if (!strcmp(argv[1], "tabulate"))
        return cmd_tabulate(&o);
    if (!strcmp(argv[1], "fit"))
        return cmd_fit(&o);
    if (!strcmp(argv[1], "cox"))
        return cmd_cox(&o);
    if (!strcmp(argv[1], "plot"))
        return cmd_plot(&o);
    if (!strcmp(argv[1], "outcomes"))
        return cmd_outcomes();
    fprintf(stderr, "harmonic epi: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
