/*
 * cohort.c — individual records for the risk analysis: persons, their
 * dose history (one value per procedure and dose realization) and their
 * tumour diagnoses; read from CSV or added record by record (registry).
 */
#include "cohort.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil). */
double hm_epi_day_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (double)(era * 146097 + doe - 719468);
}

int hm_epi_parse_day(const char *s, double *day)
{
    int y, m, d, n = 0;
    if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10) {
        static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
            return -1;
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (m == 2 && d == 29 && !leap)
            return -1;
        *day = hm_epi_day_from_civil(y, m, d);
        return 0;
    }
    char *end;
    *day = strtod(s, &end);
    return (*s && !*end && isfinite(*day)) ? 0 : -1;
}

/* ----------------------------------------------------------- id lookup */

static unsigned long hash_str(const char *s)
{
    unsigned long h = 1469598103934665603UL;  /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211UL;
    return h;
}

static int grow_index(hm_epi_cohort *c)
{
    size_t cap = c->hcap ? c->hcap * 2 : 1024;
    long *h = malloc(cap * sizeof *h);
    if (!h)
        return HM_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        h[i] = -1;
    for (size_t i = 0; i < c->np; i++) {
        size_t k = hash_str(c->p[i].id) & (cap - 1);
        while (h[k] >= 0)
            k = (k + 1) & (cap - 1);
        h[k] = (long)i;
    }
    free(c->hash);
    c->hash = h;
    c->hcap = cap;
    return HM_OK;
}

long epi_cohort_find(const hm_epi_cohort *c, const char *id)
{
    if (!c->hcap)
        return -1;
    size_t k = hash_str(id) & (c->hcap - 1);
    while (c->hash[k] >= 0) {
        if (!strcmp(c->p[c->hash[k]].id, id))
            return c->hash[k];
        k = (k + 1) & (c->hcap - 1);
    }
    return -1;
}

static int level(char ***lv, int *n, const char *s)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp((*lv)[i], s))
            return i;
    char **p = realloc(*lv, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    *lv = p;
    if (!(p[*n] = strdup(s)))
        return -1;
    return (*n)++;
}

/* ----------------------------------------------------------- building */

hm_epi_cohort *hm_epi_cohort_new(void)
{
    return calloc(1, sizeof(hm_epi_cohort));
}

void hm_epi_cohort_free(hm_epi_cohort *c)
{
    if (!c)
        return;
    free(c->p);
    free(c->hash);
    free(c->doses);
    free(c->events);
    free(c->treats);
    free(c->proc_day);
    free(c->proc_dose);
    free(c->proc_mean);
    for (int i = 0; i < c->nsex; i++)
        free(c->sex_levels[i]);
    for (int i = 0; i < c->ncountry; i++)
        free(c->country_levels[i]);
    free(c->sex_levels);
    free(c->country_levels);
    free(c);
}

size_t hm_epi_cohort_size(const hm_epi_cohort *c) { return c->np; }
int hm_epi_cohort_realizations(const hm_epi_cohort *c) { return c->nreal; }

int hm_epi_cohort_add_person(hm_epi_cohort *c, const char *id, const char *sex, double birth_day,
                             double end_day, const char *country, int syndrome,
                             double transplant_day, hm_error *err)
{
    if (!id || !*id || strlen(id) >= sizeof c->p[0].id)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "id", "expected a non-empty id of at most %zu characters",
                            sizeof c->p[0].id - 1);
    if (epi_cohort_find(c, id) >= 0)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "id", "person '%s' appears twice", id);
    if (!(end_day >= birth_day))
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "end", "person '%s': end of follow-up before birth", id);
    if (c->np == c->capp) {
        size_t cap = c->capp ? 2 * c->capp : 256;
        epi_person *p = realloc(c->p, cap * sizeof *p);
        if (!p)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        c->p = p;
        c->capp = cap;
    }
    epi_person *p = &c->p[c->np];
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", id);
    p->sex = level(&c->sex_levels, &c->nsex, sex && *sex ? sex : "unknown");
    p->country = level(&c->country_levels, &c->ncountry, country && *country ? country : "all");
    if (p->sex < 0 || p->country < 0)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    p->birth_day = birth_day;
    p->end_day = end_day;
    p->syndrome = syndrome;
    p->transplant_day = transplant_day;
    c->np++;
    if (c->np * 2 > c->hcap && grow_index(c) < 0)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    size_t k = hash_str(id) & (c->hcap - 1);
    while (c->hash[k] >= 0 && c->hash[k] != (long)(c->np - 1))
        k = (k + 1) & (c->hcap - 1);
    c->hash[k] = (long)(c->np - 1);
    return HM_OK;
}

int hm_epi_cohort_add_dose(hm_epi_cohort *c, const char *id, double day, int realization,
                           double dose_mgy, hm_error *err)
{
    long i = epi_cohort_find(c, id);
    if (i < 0)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "id", "dose for unknown person '%s'", id);
    if (!(dose_mgy >= 0) || !isfinite(dose_mgy))
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "dose_mgy", "expected a dose >= 0 mGy, found %g", dose_mgy);
    if (realization < 0 || realization > 100000)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "realization", "expected 0..100000, found %d", realization);
    if (c->nd == c->capd) {
        size_t cap = c->capd ? 2 * c->capd : 1024;
        epi_dose *d = realloc(c->doses, cap * sizeof *d);
        if (!d)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        c->doses = d;
        c->capd = cap;
    }
    c->doses[c->nd++] = (epi_dose){ (size_t)i, day, realization, dose_mgy };
    return HM_OK;
}

int hm_epi_cohort_add_event(hm_epi_cohort *c, const char *id, double day, const char *morphology,
                            const char *topography, hm_error *err)
{
    long i = epi_cohort_find(c, id);
    if (i < 0)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "id", "event for unknown person '%s'", id);
    if (c->ne == c->cape) {
        size_t cap = c->cape ? 2 * c->cape : 256;
        epi_event *e = realloc(c->events, cap * sizeof *e);
        if (!e)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        c->events = e;
        c->cape = cap;
    }
    epi_event *e = &c->events[c->ne];
    memset(e, 0, sizeof *e);
    e->person = (size_t)i;
    e->day = day;
    snprintf(e->morph, sizeof e->morph, "%s", morphology ? morphology : "");
    snprintf(e->topo, sizeof e->topo, "%s", topography ? topography : "");
    c->ne++;
    return HM_OK;
}

int hm_epi_cohort_add_treatment(hm_epi_cohort *c, const char *id, double day, double ced_mg_m2,
                                double die_mg_m2, int sct, hm_error *err)
{
    long i = epi_cohort_find(c, id);
    if (i < 0)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "id", "treatment for unknown person '%s'", id);
    if (!(ced_mg_m2 >= 0) || !(die_mg_m2 >= 0) || !isfinite(ced_mg_m2) || !isfinite(die_mg_m2))
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "ced_mg_m2",
                            "person '%s': expected CED and DIE >= 0 mg/m2, found %g and %g", id,
                            ced_mg_m2, die_mg_m2);
    if (c->nt == c->capt) {
        size_t cap = c->capt ? 2 * c->capt : 256;
        epi_treat *t = realloc(c->treats, cap * sizeof *t);
        if (!t)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        c->treats = t;
        c->capt = cap;
    }
    c->treats[c->nt++] = (epi_treat){ (size_t)i, isfinite(day) ? day : -INFINITY, ced_mg_m2,
                                      die_mg_m2, sct != 0 };
    return HM_OK;
}

static int cmp_treat(const void *a, const void *b)
{
    const epi_treat *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

static int cmp_dose(const void *a, const void *b)
{
    const epi_dose *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return (x->real > y->real) - (x->real < y->real);
}

static int cmp_event(const void *a, const void *b)
{
    const epi_event *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

/* Groups dose rows into procedures (person, day) with one dose per
 * realization; realization 0 alone means a single (best-estimate) dose,
 * realizations 1..R are summarised by their mean. */
int hm_epi_cohort_finish(hm_epi_cohort *c, hm_error *err)
{
    if (c->nd)        /* qsort's array may not be NULL, even when empty (C11 7.22.5) */
        qsort(c->doses, c->nd, sizeof *c->doses, cmp_dose);
    if (c->ne)
        qsort(c->events, c->ne, sizeof *c->events, cmp_event);
    if (c->nt)
        qsort(c->treats, c->nt, sizeof *c->treats, cmp_treat);
    int maxr = 0, has0 = 0;
    for (size_t k = 0; k < c->nd; k++) {
        maxr = c->doses[k].real > maxr ? c->doses[k].real : maxr;
        has0 |= c->doses[k].real == 0;
    }
    if (has0 && maxr > 0)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "realization",
                            "mixes realization 0 (single dose) with realizations 1..%d", maxr);
    c->nreal = maxr > 0 ? maxr : 1;
    int R = c->nreal;
    /* Count procedures. */
    size_t nproc = 0;
    for (size_t k = 0; k < c->nd; k++)
        if (k == 0 || c->doses[k].person != c->doses[k - 1].person || c->doses[k].day != c->doses[k - 1].day)
            nproc++;
    c->proc_day = malloc((nproc + 1) * sizeof *c->proc_day);
    c->proc_mean = malloc((nproc + 1) * sizeof *c->proc_mean);
    c->proc_dose = calloc((nproc + 1) * (size_t)R, sizeof *c->proc_dose);
    if (!c->proc_day || !c->proc_mean || !c->proc_dose)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t i = 0; i < c->np; i++)
        c->p[i].nproc = 0;
    size_t q = 0;
    for (size_t k = 0; k < c->nd;) {
        size_t k2 = k;
        int seen = 0;
        while (k2 < c->nd && c->doses[k2].person == c->doses[k].person && c->doses[k2].day == c->doses[k].day) {
            int r = R > 1 ? c->doses[k2].real - 1 : 0;
            /* Several rows of one realization on one day are summed (two procedures that day). */
            if (k2 == k || c->doses[k2].real != c->doses[k2 - 1].real)
                seen++;
            c->proc_dose[q * R + r] += c->doses[k2].dose;
            k2++;
        }
        epi_person *p = &c->p[c->doses[k].person];
        if (R > 1 && seen != R)
            return hm_error_set(err, HM_EVALIDATE, NULL, 0, "realization",
                                "person '%s', day %.0f: doses for %d of %d realizations", p->id,
                                c->doses[k].day, seen, R);
        double s = 0;
        for (int r = 0; r < R; r++)
            s += c->proc_dose[q * R + r];
        c->proc_mean[q] = s / R;
        c->proc_day[q] = c->doses[k].day;
        if (p->nproc == 0)
            p->proc0 = q;
        p->nproc++;
        q++;
        k = k2;
    }
    for (size_t i = 0; i < c->np; i++)
        c->p[i].nevent = 0;
    for (size_t k = 0; k < c->ne; k++) {
        epi_person *p = &c->p[c->events[k].person];
        if (p->nevent == 0)
            p->event0 = k;
        p->nevent++;
    }
    for (size_t i = 0; i < c->np; i++)
        c->p[i].ntreat = 0;
    for (size_t k = 0; k < c->nt; k++) {
        epi_person *p = &c->p[c->treats[k].person];
        if (p->ntreat == 0)
            p->treat0 = k;
        p->ntreat++;
    }
    c->finished = 1;
    return HM_OK;
}

/* ---------------------------------------------------------- follow-up */

int epi_followup(const hm_epi_cohort *c, const hm_epi_outcomes *oc, const int *groups, int ng,
                 size_t person, double exclusion_years, double study_end_day, epi_fu *fu, hm_error *err)
{
    const epi_person *p = &c->p[person];
    memset(fu, 0, sizeof *fu);
    if (p->nproc == 0)
        return EPI_FU_UNEXPOSED;
    fu->first_day = c->proc_day[p->proc0];
    fu->start_day = fu->first_day + exclusion_years * EPI_DAYS_PER_YEAR;
    /* First event in any of the groups, and the groups it belongs to. */
    double ev_day = INFINITY;
    for (size_t k = p->event0; k < p->event0 + p->nevent; k++) {
        const epi_event *e = &c->events[k];
        if (e->day > ev_day)
            break;
        for (int g = 0; g < ng; g++) {
            int m = hm_epi_outcomes_match(oc, groups[g], e->morph, e->topo, err);
            if (m < 0) {
                size_t l = strlen(err->msg);
                snprintf(err->msg + l, sizeof err->msg - l, " (person '%s')", p->id);
                return m;
            }
            if (m) {
                ev_day = e->day;
                fu->mask |= 1u << g;
            }
        }
    }
    if (ev_day <= fu->start_day)
        return EPI_FU_PREVALENT;
    fu->exit_day = fmin(p->end_day, ev_day);
    if (study_end_day > 0)
        fu->exit_day = fmin(fu->exit_day, study_end_day);
    if (!(fu->exit_day > fu->start_day))
        return EPI_FU_NONE;
    fu->is_case = ev_day <= fu->exit_day;
    if (!fu->is_case)
        fu->mask = 0;
    return EPI_FU_OK;
}
