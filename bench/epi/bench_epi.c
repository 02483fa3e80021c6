/*
 * bench_epi.c — harmonic's risk analysis against R in one run:
 *   1. linear ERR Poisson fit, 1,000 strata, 10^6 grouped rows   (R: gnm, eliminate=)
 *   2. the same model on 10^5 individuals (one row per person)  (R: gnm, eliminate=)
 *   3. person-year table of a 100,000-patient cohort            (R: survival tmerge/survSplit)
 * Each data set is simulated here, written to CSV, and read by both sides;
 * times are wall-clock seconds, the ratio is R / harmonic.
 * usage: bench_epi [--scale F] [--no-r]   (F < 1 shrinks every data set)
 */
#include "hm_epi.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Processor time of this process: robust to other load on the machine. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_s = 20261127;
static double unif(void)  /* splitmix64 */
{
    uint64_t z = (rng_s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (((z ^ (z >> 31)) >> 11) + 0.5) / 9007199254740992.0;
}
static double poisson(double mu)
{
    double L = exp(-mu), p = 1;
    int k = 0;
    do {
        k++;
        p *= unif();
    } while (p > L);
    return k - 1;
}

/* Runs an R script and picks `name,value` lines; returns 0 on success. */
static int run_r(const char *cmd, const char **names, double *vals, int n)
{
    FILE *fp = popen(cmd, "r");
    if (!fp)
        return -1;
    char line[512];
    for (int k = 0; k < n; k++)
        vals[k] = NAN;
    while (fgets(line, sizeof line, fp)) {
        char *c = strchr(line, ',');
        if (!c)
            continue;
        *c = '\0';
        for (int k = 0; k < n; k++)
            if (!strcmp(line, names[k]))
                vals[k] = strtod(c + 1, NULL);
    }
    return pclose(fp) == 0 ? 0 : -1;
}

static void table_cols(hm_epi_table *t, size_t n)
{
    hm_error err;
    hm_epi_table_init(t);
    const char *names[] = { "stratum", "dose", "pyr", "cases" };
    for (int c = 0; c < 4; c++)
        hm_epi_table_add_col(t, names[c], &err);
    hm_epi_table_resize(t, n, &err);
}

static void bench_fit(const char *label, hm_epi_table *t, const char *dir, const char *tag, int with_r)
{
    char csv[600], cmd[1400];
    snprintf(csv, sizeof csv, "%s/%s.csv", dir, tag);
    FILE *fp = fopen(csv, "w");
    hm_epi_table_write_csv(t, fp);
    fclose(fp);
    hm_error err;
    hm_epi_fit fit;
    hm_epi_fit_options o;
    hm_epi_fit_options_default(&o);
    o.profile_ci = 0;
    hm_epi_table rt;
    double t0 = hm_now_s();
    if (hm_epi_table_read_csv(csv, &rt, &err) < 0) {
        fprintf(stderr, "bench_epi: %s\n", err.msg);
        exit(1);
    }
    double t1 = hm_now_s(), c1 = cpu_s();
    if (hm_epi_fit_text(&rt, "cases ~ pyr(pyr) + strata(stratum) + err(dose)", &o, &fit, &err) < 0) {
        fprintf(stderr, "bench_epi: %s\n", err.msg);
        exit(1);
    }
    double t2 = hm_now_s(), c2 = cpu_s();
    o.profile_ci = 1;
    hm_epi_fit fci;
    hm_epi_fit_text(&rt, "cases ~ pyr(pyr) + strata(stratum) + err(dose)", &o, &fci, &err);
    double t3 = hm_now_s();
    hm_epi_table_free(&rt);
    printf("\n%s\n", label);
    printf("  harmonic: read %.3f s, fit %.3f s (CPU %.3f s, %d iterations; with profile CI %.3f s); "
           "beta %.6g per mGy, deviance %.6f\n", t1 - t0, t2 - t1, c2 - c1, fit.iterations, t3 - t1,
           fit.p[0].est, fit.deviance);
    if (!with_r)
        return;
    const char *names[] = { "r_read_s", "r_fit_s", "r_fit_cpu_s", "r_beta", "r_deviance" };
    double v[5];
    snprintf(cmd, sizeof cmd, "Rscript %s/bench_fit.R %s", BENCH_DIR, csv);
    if (run_r(cmd, names, v, 5) < 0) {
        printf("  R: failed (is r-cran-gnm installed?)\n");
        return;
    }
    printf("  R gnm:    read %.3f s, fit %.3f s (CPU %.3f s); beta %.6g per mGy, deviance %.6f\n", v[0], v[1], v[2],
           v[3], v[4]);
    printf("  ratio R/harmonic: fit %.1fx wall, %.1fx CPU; read+fit %.1fx wall   (beta rel. diff %.1e)\n",
           v[1] / (t2 - t1), v[2] / (c2 - c1), (v[0] + v[1]) / (t2 - t0), fabs(fit.p[0].est - v[3]) / fabs(v[3]));
}

static void bench_grouped(double scale, const char *dir, int with_r)
{
    size_t nstrata = 1000, per = (size_t)(1000 * scale) > 2 ? (size_t)(1000 * scale) : 2, n = nstrata * per;
    hm_epi_table t;
    table_cols(&t, n);
    for (size_t i = 0; i < n; i++) {
        size_t s = i / per;
        double d = 200 * unif() * unif(), py = 20 + 200 * unif();
        double lambda = 2e-4 * (1 + 4.0 * s / nstrata);
        t.cols[0][i] = (double)s;
        t.cols[1][i] = floor(d * 1000) / 1000;
        t.cols[2][i] = floor(py * 100) / 100;
        t.cols[3][i] = poisson(t.cols[2][i] * lambda * (1 + 0.005 * t.cols[1][i]));
    }
    char label[200];
    snprintf(label, sizeof label, "1. linear ERR fit: %zu grouped rows, %zu strata (true beta 0.005/mGy)", n, nstrata);
    bench_fit(label, &t, dir, "grouped", with_r);
    hm_epi_table_free(&t);
}

static void bench_individual(double scale, const char *dir, int with_r)
{
    size_t n = (size_t)(100000 * scale) > 2000 ? (size_t)(100000 * scale) : 2000;
    hm_epi_table t;
    table_cols(&t, n);
    for (size_t i = 0; i < n; i++) {
        size_t s = i % 1000;
        double d = -30 * log(unif()), py = 1 + 25 * unif();
        t.cols[0][i] = (double)s;
        t.cols[1][i] = floor(d * 1000) / 1000;
        t.cols[2][i] = floor(py * 1000) / 1000;
        double mu = t.cols[2][i] * 1e-3 * (1 + 2.0 * s / 1000) * (1 + 0.01 * t.cols[1][i]);
        t.cols[3][i] = unif() < 1 - exp(-mu);
    }
    char label[200];
    snprintf(label, sizeof label, "2. linear ERR fit: %zu individuals, 1000 strata (true beta 0.01/mGy)", n);
    bench_fit(label, &t, dir, "individual", with_r);
    hm_epi_table_free(&t);
}

static void bench_tabulate(double scale, const char *dir, int with_r)
{
    size_t n = (size_t)(100000 * scale) > 1000 ? (size_t)(100000 * scale) : 1000;
    char pp[600], dp[600], ep[600], cmd[2600];
    snprintf(pp, sizeof pp, "%s/persons.csv", dir);
    snprintf(dp, sizeof dp, "%s/doses.csv", dir);
    snprintf(ep, sizeof ep, "%s/events.csv", dir);
    FILE *fp = fopen(pp, "w"), *fd = fopen(dp, "w"), *fe = fopen(ep, "w");
    fprintf(fp, "id,sex,birth,end\n");
    fprintf(fd, "id,date,dose_mgy\n");
    fprintf(fe, "id,date,morphology,topography\n");
    double end = hm_epi_day_from_civil(2022, 1, 1), b0 = hm_epi_day_from_civil(1975, 1, 1);
    for (size_t i = 0; i < n; i++) {
        double birth = floor(b0 + 40 * 365.25 * unif());
        double stop = fmin(end, floor(birth + 365.25 * (5 + 40 * unif())));
        fprintf(fp, "P%zu,%s,%.0f,%.0f\n", i, unif() < 0.5 ? "M" : "F", birth, stop);
        int np = 1 + (int)(4 * unif());
        double day = birth + floor(365.25 * 3 * unif());
        for (int k = 0; k < np; k++) {
            fprintf(fd, "P%zu,%.0f,%.3f\n", i, day, 40 * unif() * unif());
            day += 30 + floor(365.25 * 2 * unif());
        }
        if (unif() < 0.01)
            fprintf(fe, "P%zu,%.0f,9861/3,C42.1\n", i, floor(birth + 365.25 * 2 + (stop - birth) * unif()));
    }
    fclose(fp);
    fclose(fd);
    fclose(fe);
    hm_error err;
    hm_epi_outcomes *oc;
    hm_epi_cohort *c;
    hm_epi_table t;
    hm_epi_tab_summary sum;
    hm_epi_tab_options o;
    memset(&o, 0, sizeof o);
    o.lag_years = 2;
    o.exclusion_years = 2;
    o.by_sex = 1;
    o.ngroups = 1;
    const char *agecuts = "0,1,5,10,15,20,25,30,40,50", *dosecuts = "0,1,5,10,20,50,100";
    if (hm_epi_outcomes_load(NULL, &oc, &err) < 0 || hm_epi_cuts_parse(agecuts, &o.age, "age", &err) < 0 ||
        hm_epi_cuts_parse(dosecuts, &o.dose, "dose", &err) < 0) {
        fprintf(stderr, "bench_epi: %s\n", err.msg);
        exit(1);
    }
    o.groups[0] = hm_epi_outcomes_find(oc, "leukaemia_excl_cll");
    double t0 = hm_now_s();
    if (hm_epi_cohort_read_csv(pp, dp, ep, NULL, &c, &err) < 0) {
        fprintf(stderr, "bench_epi: %s\n", err.msg);
        exit(1);
    }
    double t1 = hm_now_s(), c1 = cpu_s();
    if (hm_epi_tabulate(c, oc, &o, &t, &sum, &err) < 0) {
        fprintf(stderr, "bench_epi: %s\n", err.msg);
        exit(1);
    }
    double t2 = hm_now_s(), c2 = cpu_s();
    printf("\n3. person-year table: %zu patients, attained age x lagged dose category x sex (lag 2 y, exclusion 2 y)\n", n);
    printf("  harmonic: read %.3f s, tabulate %.3f s (CPU %.3f s); %zu cells, %.1f person-years, %.0f cases\n",
           t1 - t0, t2 - t1, c2 - c1, t.nrows, sum.pyr, sum.cases[0]);
    hm_epi_table_free(&t);
    hm_epi_cohort_free(c);
    hm_epi_outcomes_free(oc);
    if (!with_r)
        return;
    const char *names[] = { "r_read_s", "r_tab_s", "r_tab_cpu_s", "r_cells", "r_pyr", "r_cases" };
    double v[6];
    snprintf(cmd, sizeof cmd, "Rscript %s/bench_tab.R %s %s %s 2 2 %s %s", BENCH_DIR, pp, dp, ep, agecuts, dosecuts);
    if (run_r(cmd, names, v, 6) < 0) {
        printf("  R: failed (is r-cran-survival installed?)\n");
        return;
    }
    printf("  R survival: read %.3f s, tabulate %.3f s (CPU %.3f s); %.0f cells, %.1f person-years, %.0f cases\n",
           v[0], v[1], v[2], v[3], v[4], v[5]);
    printf("  ratio R/harmonic: tabulate %.1fx wall, %.1fx CPU; read+tabulate %.1fx wall\n", v[1] / (t2 - t1),
           v[2] / (c2 - c1), (v[0] + v[1]) / (t2 - t0));
}

int main(int argc, char **argv)
{
    double scale = 1;
    int with_r = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            scale = atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-r"))
            with_r = 0;
        else {
            fprintf(stderr, "usage: bench_epi [--scale F] [--no-r]\n");
            return 2;
        }
    }
    if (!(scale > 0 && scale <= 10)) {
        fprintf(stderr, "bench_epi: --scale must be in (0, 10]\n");
        return 2;
    }
    if (with_r && system("Rscript -e 'suppressMessages({library(gnm); library(survival)})' >/dev/null 2>&1") != 0) {
        printf("Rscript with gnm and survival not found: harmonic only\n");
        with_r = 0;
    }
    char dir[] = "/tmp/bench_epi.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench_epi: mkdtemp");
        return 1;
    }
    printf("bench_epi: harmonic vs R (wall-clock seconds; data in %s)\n", dir);
    bench_grouped(scale, dir, with_r);
    bench_individual(scale, dir, with_r);
    bench_tabulate(scale, dir, with_r);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_epi: could not remove %s\n", dir);
    return 0;
}
