/* test_model.c — the synthetic cohort against its model (release build only:
 * 20,000 patients).  Checks the published anchors it was built from (Kottou
 * KAP medians, Afroz era factor, Karambatsakidou E/KAP, Ubeda organ ratios),
 * the cohort structure (repeat procedures, infant-skewed ages, syndrome and
 * transplant rates, tiers by era), and that the true ERR acts exactly where
 * truth.json says: with the same seed, raising β leaves the unaffected
 * outcome groups unchanged and can only add or advance cases of the affected
 * ones. */
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

static char codes[64][16];
static size_t ncentres;

typedef void (*row_fn)(char **head, char **f, size_t n, int norway, void *ctx);

static void each_row(const char *dir, const char *table, row_fn fn, void *ctx)
{
    for (size_t c = 0; c < ncentres; c++) {
        char path[4300];
        int len = snprintf(path, sizeof path, "%s/%s/%s.csv", dir, codes[c], table);
        assert_true(len > 0 && (size_t)len < sizeof path);
        hm_error err;
        hm_csv *csv = hm_csv_open(path, 0, &err);
        assert_non_null(csv);
        char **f, *head[64];
        size_t n, nh;
        assert_int_equal(hm_csv_next(csv, &f, &n, &err), 1);
        nh = n;
        for (size_t i = 0; i < n; i++)
            head[i] = strdup(f[i]);
        while (hm_csv_next(csv, &f, &n, &err) == 1)
            fn(head, f, n, !strcmp(codes[c], "NO01"), ctx);
        for (size_t i = 0; i < nh; i++)
            free(head[i]);
        hm_csv_close(csv);
    }
}

static const char *get(char **head, char **f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(head[i], name))
            return f[i];
    fail_msg("no column %s", name);
    return "";
}

/* a <= b for two dates of the same kind: YYYY-MM-DD, or days since birth */
static int not_later(const char *a, const char *b)
{
    return strchr(a, '-') ? strcmp(a, b) <= 0 : atol(a) <= atol(b);
}

/* ---- patients ---- */
struct pstats { long n, down, transplant; };

static void patient_row(char **head, char **f, size_t n, int norway, void *ctx)
{
    struct pstats *s = ctx;
    s->n++;
    s->down += !strcmp(get(head, f, n, "syndrome"), "down");
    const char *tx = get(head, f, n, norway ? "transplant_day" : "transplant_date");
    s->transplant += tx[0] != '\0';
}

/* ---- procedures ---- */
#define MAXV 200000
struct prstats {
    long n, tier1_before_2000, first_infant, patients_seen;
    double *kap_infant_modern, *kap_teen_modern, *kap_infant_old;
    long n_im, n_tm, n_io;
    char last_patient[70];
};

static void proc_row(char **head, char **f, size_t n, int norway, void *ctx)
{
    struct prstats *s = ctx;
    s->n++;
    long age = atol(get(head, f, n, "age_days"));
    const char *pid = get(head, f, n, "pseudonym");
    if (strcmp(pid, s->last_patient)) {          /* rows come patient by patient */
        snprintf(s->last_patient, sizeof s->last_patient, "%s", pid);
        s->patients_seen++;
        s->first_infant += age < 365;
    }
    if (norway)
        return;                                   /* no calendar year there */
    int year = atoi(get(head, f, n, "proc_date"));
    const char *tier = get(head, f, n, "dose_tier");
    s->tier1_before_2000 += year < 2000 && !strcmp(tier, "1");
    const char *kap = get(head, f, n, "kap_total_gy_cm2");
    if (!kap[0] || strcmp(get(head, f, n, "exam_type"), "diag_cath"))
        return;
    double k = atof(kap);
    if (year >= 2000 && age < 365 && s->n_im < MAXV)
        s->kap_infant_modern[s->n_im++] = k;
    if (year >= 2000 && age >= 3652 && age < 5844 && s->n_tm < MAXV)
        s->kap_teen_modern[s->n_tm++] = k;
    if (year <= 1989 && age < 365 && s->n_io < MAXV)
        s->kap_infant_old[s->n_io++] = k;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, long n)
{
    assert_true(n > 20);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- organ dose vs KAP: dose = KAP × E/KAP(age class) × 0.42 (red marrow) ---- */
struct kapmap { char (*id)[65]; double *kap; long *age; long n; };

static void kap_row(char **head, char **f, size_t n, int norway, void *ctx)
{
    (void)norway;
    struct kapmap *m = ctx;
    snprintf(m->id[m->n], 65, "%s", get(head, f, n, "procedure_id"));
    const char *k = get(head, f, n, "kap_total_gy_cm2");
    m->kap[m->n] = k[0] ? atof(k) : -1;
    m->age[m->n] = atol(get(head, f, n, "age_days"));
    m->n++;
}

struct dosecheck { struct kapmap *m; long pos, checked; double worst; };

static double e_per_kap(long age_days)
{
    /* Karambatsakidou 2009 (data/synth/e_per_kap.csv), restated here */
    return age_days < 122 ? 3.7 : age_days < 944 ? 1.9 : age_days < 2770 ? 1.0
         : age_days < 6422 ? 0.6 : 0.4;
}

static void dose_row(char **head, char **f, size_t n, int norway, void *ctx)
{
    (void)norway;
    struct dosecheck *d = ctx;
    const char *src = get(head, f, n, "source_id");
    /* organ_dose rows follow the procedure order */
    while (d->pos < d->m->n && strcmp(d->m->id[d->pos], src))
        d->pos++;
    assert_true(d->pos < d->m->n);
    double kap = d->m->kap[d->pos];
    if (kap <= 0)
        return;
    double expect = kap * e_per_kap(d->m->age[d->pos]) * 0.42;
    double rel = fabs(atof(get(head, f, n, "dose_mgy")) / expect - 1);
    if (rel > d->worst)
        d->worst = rel;
    d->checked++;
}

static void test_cohort_structure(void **state)
{
    (void)state;
    char dir[4096];
    tu_fresh(dir, sizeof dir, "model");
    hm_synth_summary s;
    tu_synth(dir, 20000, 3, 0, 0, "red_marrow", 0, NULL, &s);

    struct pstats ps = { 0 };
    each_row(dir, "patient", patient_row, &ps);
    assert_int_equal(ps.n, 20000);
    double down = (double)ps.down / ps.n, tx = (double)ps.transplant / ps.n;
    printf("Down syndrome %.2f%%, transplant %.2f%%\n", 100 * down, 100 * tx);
    assert_true(down > 0.055 && down < 0.075);     /* params: 6.5% */
    assert_true(tx > 0.008 && tx < 0.02);          /* 1.5% of those followed > 30 d */

    struct prstats pr = { 0 };
    pr.kap_infant_modern = malloc(MAXV * sizeof(double));
    pr.kap_teen_modern = malloc(MAXV * sizeof(double));
    pr.kap_infant_old = malloc(MAXV * sizeof(double));
    each_row(dir, "procedure", proc_row, &pr);
    double per_patient = (double)pr.n / ps.n;
    double infants = (double)pr.first_infant / pr.patients_seen;
    printf("procedures/patient %.2f, first procedure in infancy %.1f%%\n", per_patient,
           100 * infants);
    assert_true(per_patient > 2.7 && per_patient < 3.3);     /* "mean ~3" */
    assert_true(infants > 0.45 && infants < 0.60);          /* 30% + 22% by design */
    assert_int_equal(pr.tier1_before_2000, 0);              /* no RDSR before 2000 */
    double m1 = median(pr.kap_infant_modern, pr.n_im), m2 = median(pr.kap_teen_modern, pr.n_tm),
           m3 = median(pr.kap_infant_old, pr.n_io);
    printf("median KAP diag_cath: <1 y %.2f (n %ld), 10-16 y %.2f (n %ld), <1 y 1975-89 %.2f (n %ld)\n",
           m1, pr.n_im, m2, pr.n_tm, m3, pr.n_io);
    assert_true(fabs(m1 / 2.0 - 1) < 0.12);                 /* Kottou 2018: 2.0 */
    assert_true(fabs(m2 / 14.0 - 1) < 0.15);                /* Kottou 2018: 14.0 */
    assert_true(fabs(m3 / (2.0 * 3.47) - 1) < 0.30);        /* × Afroz era factor */
    free(pr.kap_infant_modern);
    free(pr.kap_teen_modern);
    free(pr.kap_infant_old);

    struct kapmap m = { malloc((size_t)pr.n * 65), malloc((size_t)pr.n * sizeof(double)),
                        malloc((size_t)pr.n * sizeof(long)), 0 };
    each_row(dir, "procedure", kap_row, &m);
    struct dosecheck d = { &m, 0, 0, 0 };
    each_row(dir, "organ_dose", dose_row, &d);   /* centre by centre: reset below */
    printf("organ doses checked against KAP: %ld, worst relative error %.2e\n", d.checked,
           d.worst);
    assert_true(d.checked > pr.n / 2);
    assert_true(d.worst < 2e-3);                  /* only the CSV rounding */
    free(m.id);
    free(m.kap);
    free(m.age);
}

/* ---- the true ERR ---- */
struct outcomes { char id[4000][65]; char date[4000][16]; char group[4000][12]; long n; };

static const char *group_of(const char *morph)
{
    int m = atoi(morph);
    if (m >= 9800 && m <= 9989) return "haem_leuk";
    if (m >= 9590 && m <= 9729) return "lymphoma";
    if (m >= 9380 && m <= 9480) return "cns";
    return "solid";
}

static void outcome_row(char **head, char **f, size_t n, int norway, void *ctx)
{
    struct outcomes *o = ctx;
    assert_true(o->n < 4000);
    snprintf(o->id[o->n], 65, "%s", get(head, f, n, "outcome_id"));
    snprintf(o->date[o->n], 16, "%s", get(head, f, n, norway ? "event_day" : "event_date"));
    snprintf(o->group[o->n], 12, "%s", group_of(get(head, f, n, "icdo3_morphology")));
    o->n++;
}

static long find(const struct outcomes *o, const char *id)
{
    for (long i = 0; i < o->n; i++)
        if (!strcmp(o->id[i], id))
            return i;
    return -1;
}

static void test_true_err_acts_where_documented(void **state)
{
    (void)state;
    char a[4096], b[4096];
    tu_fresh(a, sizeof a, "err0");
    tu_fresh(b, sizeof b, "err50");
    hm_synth_summary s0, s1;
    tu_synth(a, 20000, 8, 0, 0, "red_marrow", 0, NULL, &s0);
    tu_synth(b, 20000, 8, 50, 0, "red_marrow", 0, NULL, &s1);
    struct outcomes *o0 = calloc(1, sizeof *o0), *o1 = calloc(1, sizeof *o1);
    each_row(a, "outcome", outcome_row, o0);
    each_row(b, "outcome", outcome_row, o1);
    long haem0 = 0, haem1 = 0;
    for (long i = 0; i < o0->n; i++) {
        int affected = strcmp(o0->group[i], "cns") && strcmp(o0->group[i], "solid");
        haem0 += affected;
        long j = find(o1, o0->id[i]);
        assert_true(j >= 0);                                /* never lost */
        if (affected)
            assert_true(not_later(o1->date[j], o0->date[i]));   /* same or earlier */
        else
            assert_string_equal(o1->date[j], o0->date[i]);  /* untouched */
    }
    for (long i = 0; i < o1->n; i++) {
        int affected = strcmp(o1->group[i], "cns") && strcmp(o1->group[i], "solid");
        haem1 += affected;
        if (!affected)
            assert_true(find(o0, o1->id[i]) >= 0);           /* no new solid/CNS case */
    }
    printf("leukaemia+lymphoma cases: %ld with beta 0, %ld with beta 50 per 100 mGy; "
           "CNS+solid unchanged (%ld)\n", haem0, haem1, o0->n - haem0);
    assert_true(haem1 > haem0);
    assert_int_equal(s0.cancers[2], s1.cancers[2]);
    assert_int_equal(s0.cancers[3], s1.cancers[3]);
    free(o0);
    free(o1);
}

/* ---- dose realizations: shared and unshared errors ---- */
#define NR 30
struct reals {
    long n;                       /* procedures seen */
    long age[20000]; int tier[20000];
    long pos; double d0;
    double sum_ln[NR + 1][5]; long cnt[NR + 1][5];   /* tier-2 ln ratios by (j, age class) */
    double within_ss; long within_n; double ratio_sum; long ratio_n;
    double lnr[NR + 1][20000];
};

static int age_class(long d)
{
    return d < 122 ? 0 : d < 944 ? 1 : d < 2770 ? 2 : d < 6422 ? 3 : 4;
}

static void reals_proc(char **head, char **f, size_t n, int norway, void *ctx)
{
    (void)norway;
    struct reals *r = ctx;
    assert_true(r->n < 20000);
    r->age[r->n] = atol(get(head, f, n, "age_days"));
    r->tier[r->n++] = atoi(get(head, f, n, "dose_tier"));
}

static void reals_dose(char **head, char **f, size_t n, int norway, void *ctx)
{
    (void)norway;
    struct reals *r = ctx;
    int j = atoi(get(head, f, n, "realization"));
    double d = atof(get(head, f, n, "dose_mgy"));
    if (j == 0) {
        r->d0 = d;
        r->pos++;
        return;
    }
    long k = r->pos - 1;               /* rows: procedure by procedure, j = 0..NR */
    double lr = log(d / r->d0);
    r->ratio_sum += d / r->d0;
    r->ratio_n++;
    if (r->tier[k] == 2) {
        int a = age_class(r->age[k]);
        r->sum_ln[j][a] += lr;
        r->cnt[j][a]++;
        r->lnr[j][k] = lr;
    }
}

static void test_realizations(void **state)
{
    (void)state;
    char dir[4096];
    tu_fresh(dir, sizeof dir, "reals");
    hm_synth_summary s;
    tu_synth(dir, 12000, 17, 0, 0, "red_marrow", NR, NULL, &s);
    struct reals *r = calloc(1, sizeof *r);
    /* one centre is enough: FR01 (index 6 of centres.csv) */
    size_t keep = ncentres;
    for (size_t c = 0; c < ncentres; c++)
        if (!strcmp(codes[c], "FR01"))
            keep = c;
    assert_true(keep < ncentres);
    char saved[16];
    memcpy(saved, codes[0], 16);
    memcpy(codes[0], codes[keep], 16);
    size_t nsaved = ncentres;
    ncentres = 1;
    each_row(dir, "procedure", reals_proc, r);
    each_row(dir, "organ_dose", reals_dose, r);
    ncentres = nsaved;
    memcpy(codes[0], saved, 16);
    assert_int_equal(r->pos, r->n);

    /* Unshared: spread of ln ratio within one (realization, age class),
     * tier 2, around its group mean — σ = 0.40 (params.csv). */
    for (int j = 1; j <= NR; j++)
        for (long k = 0; k < r->n; k++)
            if (r->tier[k] == 2) {
                int a = age_class(r->age[k]);
                double m = r->sum_ln[j][a] / r->cnt[j][a];
                r->within_ss += pow(r->lnr[j][k] - m, 2);
                r->within_n++;
            }
    double sd_within = sqrt(r->within_ss / (double)(r->within_n - 1));
    /* Shared: spread over realizations of the group means of the largest
     * age class — sqrt(0.30² + 0.10²) = 0.32 (coefficient and KAP meter). */
    int big = 0;
    for (int a = 1; a < 5; a++)
        if (r->cnt[1][a] > r->cnt[1][big])
            big = a;
    double mean = 0, ss = 0;
    for (int j = 1; j <= NR; j++)
        mean += r->sum_ln[j][big] / r->cnt[j][big] / NR;
    for (int j = 1; j <= NR; j++)
        ss += pow(r->sum_ln[j][big] / r->cnt[j][big] - mean, 2);
    double sd_between = sqrt(ss / (NR - 1));
    double mean_ratio = r->ratio_sum / (double)r->ratio_n;
    printf("realizations: unshared SD %.3f (0.40 expected), shared SD %.3f (0.32 expected, "
           "%d draws), mean realization/true %.3f\n", sd_within, sd_between, NR, mean_ratio);
    assert_true(fabs(sd_within - 0.40) < 0.03);
    assert_true(sd_between > 0.20 && sd_between < 0.46);
    assert_true(fabs(mean_ratio - 1) < 0.25);
    free(r);
}

int main(void)
{
    ncentres = tu_centres(codes, 64);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cohort_structure),
        cmocka_unit_test(test_true_err_acts_where_documented),
        cmocka_unit_test(test_realizations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
