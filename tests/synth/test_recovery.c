/* test_recovery.c — the truth of truth.json is recoverable from the files
 * alone.  This test re-implements the documented risk model (docs/synth.md,
 * "What the true ERR applies to") from the hospital-format CSVs and the
 * background rates of data/synth/, and fits β by maximum likelihood:
 *   ℓ(β) = Σ_cases [log h0(t) + log(1 + β D(t)/100)] − Σ_patients [A + β B]
 * with A = ∫ h0 dt and B = ∫ h0 D/100 dt over each patient's time at risk
 * (entry = first procedure, to the first case of the group or end of
 * follow-up), h0 = background rate × Down/transplant RR, D = red-marrow
 * dose lagged 2 years.  β̂ must cover the true β, and with β = 0 the
 * observed cases must match the expected A.  Release build only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_test_util.h"

#define NPAT 20000
#define MAXP 64

typedef struct pat {
    long birth, exit, tx, first;      /* days since 1970; tx -1 if none */
    int  down, np;
    long pdate[MAXP];
    double dose[MAXP];
    long case_date[2];                /* leukaemia, lymphoma; -1 if none */
} pat;

static pat *P;

static long day_of(const char *s)
{
    long d;
    assert_int_equal(hm_date_parse(s, &d), 0);
    return d;
}

static void read_table(const char *dir, const char *code, const char *table,
                       void (*fn)(char **h, char **f, size_t n))
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s/%s.csv", dir, code, table);
    hm_error err;
    hm_csv *c = hm_csv_open(path, 0, &err);
    assert_non_null(c);
    char **f, *h[64];
    size_t n, nh;
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    nh = n;
    for (size_t i = 0; i < n; i++)
        h[i] = strdup(f[i]);
    while (hm_csv_next(c, &f, &n, &err) == 1)
        fn(h, f, n);
    for (size_t i = 0; i < nh; i++)
        free(h[i]);
    hm_csv_close(c);
}

static const char *col(char **h, char **f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(h[i], name))
            return f[i];
    fail_msg("no column %s", name);
    return "";
}

/* Local ids are <centre>-<8-digit patient number>, ACC<8 digits><2-digit k>,
 * ONC<8 digits><group 1-4> (docs/synth.md, hospital format). */
static long patient_of(const char *id)
{
    const char *dash = strchr(id, '-');
    assert_non_null(dash);
    return atol(dash + 1) - 1;
}

static void on_patient(char **h, char **f, size_t n)
{
    pat *p = &P[patient_of(col(h, f, n, "local_patient_id"))];
    p->birth = day_of(col(h, f, n, "birth_date"));
    p->down = !strcmp(col(h, f, n, "syndrome"), "down");
    const char *tx = col(h, f, n, "transplant_date");
    p->tx = tx[0] ? day_of(tx) : -1;
    p->case_date[0] = p->case_date[1] = -1;
}

static void on_procedure(char **h, char **f, size_t n)
{
    pat *p = &P[patient_of(col(h, f, n, "local_patient_id"))];
    const char *acc = col(h, f, n, "local_procedure_id");
    int k = atoi(acc + 11) - 1;
    assert_true(k >= 0 && k < MAXP);
    p->pdate[k] = day_of(col(h, f, n, "proc_date"));
    if (k + 1 > p->np)
        p->np = k + 1;
}

static void on_dose(char **h, char **f, size_t n)
{
    if (strcmp(col(h, f, n, "organ"), "red_marrow") || strcmp(col(h, f, n, "realization"), "0"))
        return;
    const char *acc = col(h, f, n, "local_procedure_id");
    char num[9];
    memcpy(num, acc + 3, 8);
    num[8] = '\0';
    P[atol(num) - 1].dose[atoi(acc + 11) - 1] = atof(col(h, f, n, "dose_mgy"));
}

static void on_outcome(char **h, char **f, size_t n)
{
    const char *id = col(h, f, n, "local_outcome_id");
    int group = id[strlen(id) - 1] - '1';         /* 0 leukaemia, 1 lymphoma, 2 cns, 3 solid */
    if (group > 1)
        return;
    P[patient_of(col(h, f, n, "local_patient_id"))].case_date[group] =
        day_of(col(h, f, n, "event_date"));
}

static void on_followup(char **h, char **f, size_t n)
{
    P[patient_of(col(h, f, n, "local_patient_id"))].exit = day_of(col(h, f, n, "end_date"));
}

/* Background rates (per person-year) by age band, read from the data file. */
static double rate_from[2][16], rate_to[2][16], rate[2][16];
static int nrate[2];
static double down_0_4, down_5_29, tx_lymph, tx_other;

static void load_background(void)
{
    char path[4096];
    hm_error err;
    assert_int_equal(hm_data_path("synth/cancer_incidence.csv", path, sizeof path, &err), 0);
    hm_csv *c = hm_csv_open(path, 1, &err);
    char **f;
    size_t n;
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);     /* header */
    while (hm_csv_next(c, &f, &n, &err) == 1) {
        int g = !strcmp(f[0], "leukaemia") ? 0 : !strcmp(f[0], "lymphoma") ? 1 : -1;
        if (g < 0)
            continue;
        rate_from[g][nrate[g]] = atof(f[1]);
        rate_to[g][nrate[g]] = atof(f[2]);
        rate[g][nrate[g]++] = atof(f[3]) * 1e-6;
    }
    hm_csv_close(c);
    assert_int_equal(hm_data_path("synth/params.csv", path, sizeof path, &err), 0);
    c = hm_csv_open(path, 1, &err);
    while (hm_csv_next(c, &f, &n, &err) == 1) {
        if (!strcmp(f[0], "down_leuk_rr_0_4")) down_0_4 = atof(f[1]);
        if (!strcmp(f[0], "down_leuk_rr_5_29")) down_5_29 = atof(f[1]);
        if (!strcmp(f[0], "transplant_lymphoma_rr")) tx_lymph = atof(f[1]);
        if (!strcmp(f[0], "transplant_all_rr")) tx_other = atof(f[1]);
    }
    hm_csv_close(c);
    assert_true(down_0_4 > 0 && tx_lymph > 0);
}

/* Background hazard per year for group g of patient p on day t. */
static double h0(const pat *p, int g, long t)
{
    double age = (double)(t - p->birth) / 365.25, h = 0;
    for (int i = 0; i < nrate[g]; i++)
        if (age >= rate_from[g][i] && age < rate_to[g][i])
            h = rate[g][i];
    if (p->down && g == 0)
        h *= age < 5 ? down_0_4 : age < 30 ? down_5_29 : 1;
    if (p->tx >= 0 && t >= p->tx)
        h *= g == 1 ? tx_lymph : tx_other;
    return h;
}

static double lagged_dose(const pat *p, long t)
{
    long lag = (long)llround(2 * 365.25);        /* 2 years: leukaemia and lymphoma */
    double d = 0;
    for (int k = 0; k < p->np; k++)
        if (p->pdate[k] + lag <= t)
            d += p->dose[k];
    return d;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

typedef struct fit { double A, B; long cases; double *dcase; } fit;

static void accumulate(fit *F)
{
    long lag = (long)llround(2 * 365.25);
    for (long i = 0; i < NPAT; i++) {
        pat *p = &P[i];
        for (int g = 0; g < 2; g++) {
            long end = p->case_date[g] >= 0 ? p->case_date[g] : p->exit;
            long bp[MAXP + 64];
            int nb = 0;
            bp[nb++] = end;
            for (int k = 0; k < p->np; k++)
                bp[nb++] = p->pdate[k] + lag;
            for (int a = 0; a <= 120; a += 5)
                bp[nb++] = p->birth + (long)ceil(a * 365.25);
            if (p->tx >= 0)
                bp[nb++] = p->tx;
            qsort(bp, (size_t)nb, sizeof *bp, cmp_long);
            long prev = p->pdate[0];                  /* entry: the first procedure */
            for (int j = 0; j < nb && prev < end; j++) {
                long next = bp[j] < end ? bp[j] : end;
                if (next <= prev)
                    continue;
                double dt = (double)(next - prev) / 365.25, h = h0(p, g, prev);
                F->A += h * dt;
                F->B += h * lagged_dose(p, prev) / 100 * dt;
                prev = next;
            }
            if (p->case_date[g] >= 0)
                F->dcase[F->cases++] = lagged_dose(p, p->case_date[g]) / 100;
        }
    }
}

/* Score of β: Σ d/(1+βd) − B, decreasing in β; root by bisection. */
static double fit_beta(const fit *F, double *se)
{
    double lo = 0, hi = 1000;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi), u = -F->B;
        for (long i = 0; i < F->cases; i++)
            u += F->dcase[i] / (1 + mid * F->dcase[i]);
        *(u > 0 ? &lo : &hi) = mid;
    }
    double b = 0.5 * (lo + hi), info = 0;
    for (long i = 0; i < F->cases; i++)
        info += pow(F->dcase[i] / (1 + b * F->dcase[i]), 2);
    *se = 1 / sqrt(info);
    return b;
}

static fit run_cohort(long seed, double beta)
{
    char dir[4096], name[64];
    snprintf(name, sizeof name, "recover_%ld", seed);
    tu_fresh(dir, sizeof dir, name);
    hm_synth_summary s;
    hm_synth_opts o;
    memset(&o, 0, sizeof o);
    o.n_patients = NPAT;
    o.seed = (uint64_t)seed;
    o.out_dir = dir;
    o.err_per_100mgy = beta;
    o.hospital_format = 1;
    o.organs = "red_marrow";
    o.no_events = 1;
    hm_error err;
    assert_int_equal(hm_synth_run(&o, &s, &err), 0);
    memset(P, 0, NPAT * sizeof *P);
    char codes[64][16];
    size_t nc = tu_centres(codes, 64);
    for (size_t c = 0; c < nc; c++) {
        read_table(dir, codes[c], "patient", on_patient);
        read_table(dir, codes[c], "procedure", on_procedure);
        read_table(dir, codes[c], "organ_dose", on_dose);
        read_table(dir, codes[c], "outcome", on_outcome);
        read_table(dir, codes[c], "followup", on_followup);
    }
    fit F = { 0, 0, 0, calloc(2 * NPAT, sizeof(double)) };
    accumulate(&F);
    return F;
}

static void test_background_only(void **state)
{
    (void)state;
    fit F = run_cohort(31, 0);
    double z = (F.cases - F.A) / sqrt(F.A);
    printf("beta 0: %ld leukaemia+lymphoma cases, %.1f expected (z = %.2f)\n", F.cases, F.A, z);
    assert_true(fabs(z) < 3.5);
    free(F.dcase);
}

static void test_beta_recovered(void **state)
{
    (void)state;
    const double beta = 30;
    fit F = run_cohort(32, beta);
    double se, b = fit_beta(&F, &se);
    printf("true beta %.1f per 100 mGy: %ld cases, fitted %.1f (SE %.1f)\n", beta, F.cases, b, se);
    assert_true(fabs(b - beta) < 3.5 * se);
    assert_true(se < beta / 2);                      /* the check has power */
    free(F.dcase);
}

int main(void)
{
    P = calloc(NPAT, sizeof *P);
    load_background();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_background_only),
        cmocka_unit_test(test_beta_recovered),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(P);
    return rc;
}
