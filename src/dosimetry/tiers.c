/*
 * tiers.c — dose for procedures without irradiation events, from the
 * cohort's own tier-1 procedures (anchors.md section 1, the consortium's
 * tier scheme: tier 2 = KAP x coefficient(sex, age class, exam type, organ);
 * tier 3 = a dose from the distribution of its class).
 *
 * Classes are strings "a|b|c"; every procedure is added to each level of
 * its fallback chain, so a lookup is one search per level, most specific
 * first.  Estimators: the coefficient is the ratio of sums (each procedure
 * weighted by its KAP, the estimator of a dose proportional to KAP: Cochran,
 * Sampling Techniques, 3rd ed., 1977, section 6.2); its spread comes from
 * log(dose/KAP) of single procedures, a lognormal model of the
 * procedure-to-procedure variation.
 */
#include "hm_dosimetry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { KEY_LEN = 96, T2_LEVELS = 5, T3_LEVELS = 5 };

/* ------------------------------------------------------------ tier 2 */

typedef struct t2_class {
    char    key[KEY_LEN];
    long    n;
    double *sum_dose;      /* per organ */
    double *sum_log;       /* of dose/KAP, per organ, over procedures with dose > 0 */
    double *sum_log2;
    long   *n_log;
    double  sum_kap;
    /* after finish */
    double *coef, *gsd_ind, *gsd_cls;
} t2_class;

struct hm_tier2 {
    size_t    norgans;
    t2_class *c;
    size_t    n, cap;
    int       finished;
    long      min_n;
};

hm_tier2 *hm_tier2_new(size_t norgans)
{
    hm_tier2 *t = calloc(1, sizeof *t);
    if (t)
        t->norgans = norgans;
    return t;
}

void hm_tier2_free(hm_tier2 *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->c[i].sum_dose);
        free(t->c[i].sum_log);
        free(t->c[i].sum_log2);
        free(t->c[i].n_log);
        free(t->c[i].coef);
        free(t->c[i].gsd_ind);
        free(t->c[i].gsd_cls);
    }
    free(t->c);
    free(t);
}

static int cmp_t2(const void *a, const void *b)
{
    return strcmp(((const t2_class *)a)->key, ((const t2_class *)b)->key);
}

/* The fallback chain of a tier-2 class, most specific first. */
static void t2_keys(const char *age, char sex, const char *exam, char keys[T2_LEVELS][KEY_LEN])
{
    char sx = sex == 'M' || sex == 'F' ? sex : '*';
    snprintf(keys[0], KEY_LEN, "%s|%c|%s", age, sx, exam);
    snprintf(keys[1], KEY_LEN, "%s|*|%s", age, exam);
    snprintf(keys[2], KEY_LEN, "%s|%c|*", age, sx);
    snprintf(keys[3], KEY_LEN, "%s|*|*", age);
    snprintf(keys[4], KEY_LEN, "*|*|*");
}

/* Linear search while adding (classes are few: ages x sexes x exam types). */
static t2_class *t2_get(hm_tier2 *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->c[i].key, key))
            return &t->c[i];
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        t2_class *c = realloc(t->c, cap * sizeof *c);
        if (!c)
            return NULL;
        t->c = c;
        t->cap = cap;
    }
    t2_class *c = &t->c[t->n];
    memset(c, 0, sizeof *c);
    snprintf(c->key, sizeof c->key, "%.*s", KEY_LEN - 1, key);
    c->sum_dose = calloc(t->norgans, sizeof *c->sum_dose);
    c->sum_log = calloc(t->norgans, sizeof *c->sum_log);
    c->sum_log2 = calloc(t->norgans, sizeof *c->sum_log2);
    c->n_log = calloc(t->norgans, sizeof *c->n_log);
    if (!c->sum_dose || !c->sum_log || !c->sum_log2 || !c->n_log) {
        free(c->sum_dose);
        free(c->sum_log);
        free(c->sum_log2);
        free(c->n_log);
        return NULL;
    }
    t->n++;
    return c;
}

int hm_tier2_add(hm_tier2 *t, const char *age_class, char sex, const char *exam_type,
                 double kap_gy_cm2, const double *dose_mgy, hm_error *err)
{
    if (t->finished)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "tier-2 table already finished");
    if (!(kap_gy_cm2 > 0) || !age_class || !exam_type)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "kap_gy_cm2",
                            "a tier-1 procedure needs a KAP > 0, an age class and an exam type");
    char keys[T2_LEVELS][KEY_LEN];
    t2_keys(age_class, sex, exam_type, keys);
    for (int l = 0; l < T2_LEVELS; l++) {
        t2_class *c = t2_get(t, keys[l]);
        if (!c)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        c->n++;
        c->sum_kap += kap_gy_cm2;
        for (size_t o = 0; o < t->norgans; o++) {
            c->sum_dose[o] += dose_mgy[o];
            if (dose_mgy[o] > 0) {
                double lr = log(dose_mgy[o] / kap_gy_cm2);
                c->sum_log[o] += lr;
                c->sum_log2[o] += lr * lr;
                c->n_log[o]++;
            }
        }
    }
    return HM_OK;
}

int hm_tier2_finish(hm_tier2 *t, long min_n, hm_error *err)
{
    for (size_t i = 0; i < t->n; i++) {
        t2_class *c = &t->c[i];
        c->coef = calloc(t->norgans, sizeof *c->coef);
        c->gsd_ind = calloc(t->norgans, sizeof *c->gsd_ind);
        c->gsd_cls = calloc(t->norgans, sizeof *c->gsd_cls);
        if (!c->coef || !c->gsd_ind || !c->gsd_cls)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        for (size_t o = 0; o < t->norgans; o++) {
            c->coef[o] = c->sum_dose[o] / c->sum_kap;
            long m = c->n_log[o];
            double sd = 0;
            if (m > 1) {
                double mean = c->sum_log[o] / (double)m;
                double var = (c->sum_log2[o] - (double)m * mean * mean) / (double)(m - 1);
                sd = var > 0 ? sqrt(var) : 0;
            }
            c->gsd_ind[o] = exp(sd);
            c->gsd_cls[o] = m > 0 ? exp(sd / sqrt((double)m)) : 1;
        }
    }
    if (t->n > 1)          /* qsort of NULL, even of 0 elements, is undefined */
        qsort(t->c, t->n, sizeof *t->c, cmp_t2);
    t->finished = 1;
    t->min_n = min_n > 0 ? min_n : 1;
    return HM_OK;
}

int hm_tier2_lookup(const hm_tier2 *t, const char *age_class, char sex, const char *exam_type,
                    double *coef, double *gsd_individual, double *gsd_class,
                    const char **class_used, long *n, hm_error *err)
{
    if (!t->finished)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "tier-2 table not finished");
    char keys[T2_LEVELS][KEY_LEN];
    t2_keys(age_class ? age_class : "*", sex, exam_type ? exam_type : "*", keys);
    for (int l = 0; l < T2_LEVELS; l++) {
        t2_class probe;
        snprintf(probe.key, sizeof probe.key, "%s", keys[l]);
        const t2_class *c = t->n ? bsearch(&probe, t->c, t->n, sizeof *t->c, cmp_t2) : NULL;
        if (!c || (c->n < t->min_n && l < T2_LEVELS - 1))
            continue;
        for (size_t o = 0; o < t->norgans; o++) {
            coef[o] = c->coef[o];
            if (gsd_individual)
                gsd_individual[o] = c->gsd_ind[o];
            if (gsd_class)
                gsd_class[o] = c->gsd_cls[o];
        }
        if (class_used)
            *class_used = c->key;
        if (n)
            *n = c->n;
        return HM_OK;
    }
    return hm_error_set(err, HM_ENOTFOUND, NULL, 0, NULL,
                        "no tier-1 procedure to derive tier-2 coefficients from");
}

/* ------------------------------------------------------------ tier 3 */

typedef struct t3_class {
    char    key[KEY_LEN];
    double *kap;
    size_t  n, cap;
} t3_class;

struct hm_tier3 {
    t3_class *c;
    size_t    n, cap;
    int       finished;
    long      min_n;
};

hm_tier3 *hm_tier3_new(void)
{
    return calloc(1, sizeof(hm_tier3));
}

void hm_tier3_free(hm_tier3 *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->c[i].kap);
    free(t->c);
    free(t);
}

int hm_dosimetry_era(int year)
{
    return year < 1990 ? 0 : year < 2000 ? 1 : year < 2010 ? 2 : 3;
}

static void t3_keys(const char *age, const char *exam, const char *country, int era,
                    char keys[T3_LEVELS][KEY_LEN])
{
    snprintf(keys[0], KEY_LEN, "%s|%s|%s|%d", age, exam, country, era);
    snprintf(keys[1], KEY_LEN, "%s|%s|*|%d", age, exam, era);
    snprintf(keys[2], KEY_LEN, "%s|%s|*|*", age, exam);
    snprintf(keys[3], KEY_LEN, "%s|*|*|*", age);
    snprintf(keys[4], KEY_LEN, "*|*|*|*");
}

static int cmp_t3(const void *a, const void *b)
{
    return strcmp(((const t3_class *)a)->key, ((const t3_class *)b)->key);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int hm_tier3_add(hm_tier3 *t, const char *age_class, const char *exam_type,
                 const char *country, int era, double kap_gy_cm2, hm_error *err)
{
    if (t->finished)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "tier-3 table already finished");
    if (!(kap_gy_cm2 > 0) || !age_class || !exam_type || !country)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "kap_gy_cm2",
                            "a procedure with dose data needs a KAP > 0, an age class, an exam "
                            "type and a country");
    char keys[T3_LEVELS][KEY_LEN];
    t3_keys(age_class, exam_type, country, era, keys);
    for (int l = 0; l < T3_LEVELS; l++) {
        t3_class *c = NULL;
        for (size_t i = 0; i < t->n && !c; i++)
            if (!strcmp(t->c[i].key, keys[l]))
                c = &t->c[i];
        if (!c) {
            if (t->n == t->cap) {
                size_t cap = t->cap ? 2 * t->cap : 64;
                t3_class *nc = realloc(t->c, cap * sizeof *nc);
                if (!nc)
                    return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                t->c = nc;
                t->cap = cap;
            }
            c = &t->c[t->n++];
            memset(c, 0, sizeof *c);
            snprintf(c->key, sizeof c->key, "%.*s", KEY_LEN - 1, keys[l]);
        }
        if (c->n == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 16;
            double *k = realloc(c->kap, cap * sizeof *k);
            if (!k)
                return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
            c->kap = k;
            c->cap = cap;
        }
        c->kap[c->n++] = kap_gy_cm2;
    }
    return HM_OK;
}

int hm_tier3_finish(hm_tier3 *t, long min_n, hm_error *err)
{
    (void)err;
    for (size_t i = 0; i < t->n; i++)
        qsort(t->c[i].kap, t->c[i].n, sizeof(double), cmp_double);
    if (t->n > 1)
        qsort(t->c, t->n, sizeof *t->c, cmp_t3);
    t->finished = 1;
    t->min_n = min_n > 0 ? min_n : 1;
    return HM_OK;
}

int hm_tier3_kap(const hm_tier3 *t, const char *age_class, const char *exam_type,
                 const char *country, int era, double u, double *median_gy_cm2,
                 double *drawn_gy_cm2, const char **class_used, hm_error *err)
{
    if (!t->finished)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "tier-3 table not finished");
    char keys[T3_LEVELS][KEY_LEN];
    t3_keys(age_class ? age_class : "*", exam_type ? exam_type : "*", country ? country : "*",
            era, keys);
    for (int l = 0; l < T3_LEVELS; l++) {
        t3_class probe;
        snprintf(probe.key, sizeof probe.key, "%s", keys[l]);
        const t3_class *c = t->n ? bsearch(&probe, t->c, t->n, sizeof *t->c, cmp_t3) : NULL;
        if (!c || ((long)c->n < t->min_n && l < T3_LEVELS - 1))
            continue;
        size_t n = c->n;
        if (median_gy_cm2)
            *median_gy_cm2 = n % 2 ? c->kap[n / 2] : 0.5 * (c->kap[n / 2 - 1] + c->kap[n / 2]);
        if (drawn_gy_cm2) {
            size_t k = (size_t)(u * (double)n);
            *drawn_gy_cm2 = c->kap[k < n ? k : n - 1];
        }
        if (class_used)
            *class_used = c->key;
        return HM_OK;
    }
    return hm_error_set(err, HM_ENOTFOUND, NULL, 0, NULL,
                        "no procedure with dose data to sample a tier-3 KAP from");
}
