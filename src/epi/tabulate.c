/*
 * tabulate.c — person-year tables (as Epicure DATAB; Preston et al., Epicure
 * User's Guide, 1993; Breslow & Day vol. II, ch. 2, IARC 1987).
 *
 * Follow-up of a person starts at first exposure + exclusion period and
 * ends at the earliest of the first qualifying outcome (any tabulated
 * group), the end of follow-up (death, loss, end of linkage) and the end of
 * study.  A person whose outcome falls on or before the start is excluded
 * (prevalent case).  Follow-up is cut at every change of a split factor:
 * attained age, calendar year, time since first exposure, category of
 * cumulative lagged dose (a procedure's dose counts from day + lag on) and
 * transplant (a time-dependent 0/1 covariate), and at the start day of
 * every treatment (chemotherapy, stem-cell transplant: the covariates
 * ced_mg_m2, die_mg_m2 and sct, not lagged; a treatment without a day counts
 * from the start of follow-up).  Each piece adds its
 * person-years to its cell together with PY x covariate sums, so cells
 * carry PY-weighted means; a case goes to the cell of the last piece.
 */
#include "cohort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* F_ID first: with --by-person the rows come out person by person. */
enum { F_ID, F_AGE, F_CAL, F_TSFE, F_AFE, F_DOSE, F_SEX, F_COUNTRY, F_TX, F_SYN, NF };
static const char *FACTOR[NF] = { "id", "age", "calendar", "tsfe", "afe", "dosecat", "sex", "country",
                                  "transplant", "syndrome" };
/* Sums per cell after person-years and cases. */
enum { S_DOSE, S_AGE, S_CAL, S_TSFE, S_AFE, S_TX, S_SYN, S_CED, S_DIE, S_SCT, NS };
static const char *SUMNAME[NS] = { "dose_mgy", "age_mean", "calendar_mean", "tsfe_mean", "afe_mean",
                                   "transplant_mean", "syndrome_mean", "ced_mg_m2", "die_mg_m2",
                                   "sct" };

int hm_epi_cuts_parse(const char *s, hm_epi_cuts *c, const char *what, hm_error *err)
{
    c->n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v))
            return hm_error_set(err, HM_EINVAL, NULL, 0, what, "'%s': expected increasing numbers separated by ',' or ';'", s);
        if (c->n >= HM_EPI_MAXCUTS)
            return hm_error_set(err, HM_EINVAL, NULL, 0, what, "at most %d cut points", HM_EPI_MAXCUTS);
        if (c->n > 0 && !(v > c->v[c->n - 1]))
            return hm_error_set(err, HM_EINVAL, NULL, 0, what, "'%s': cut points must increase", s);
        c->v[c->n++] = v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',' || *p == ';')
            p++;
        else if (*p)
            return hm_error_set(err, HM_EINVAL, NULL, 0, what, "'%s': expected increasing numbers separated by ',' or ';'", s);
    }
    return HM_OK;
}

int hm_epi_tab_options_default(hm_epi_tab_options *o, const hm_epi_outcomes *oc, int group, hm_error *err)
{
    memset(o, 0, sizeof *o);
    o->study_end_day = NAN;
    if (oc && group >= 0 && group < hm_epi_outcomes_count(oc)) {
        o->lag_years = hm_epi_outcomes_lag(oc, group);
        o->exclusion_years = hm_epi_outcomes_exclusion(oc, group);
        o->ngroups = 1;
        o->groups[0] = group;
    }
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("epi/defaults.csv", path, sizeof path, &csv, err);
    if (rc < 0)
        return rc;
    char **f;
    size_t nf;
    rc = hm_csv_next(csv, &f, &nf, err);  /* header */
    while (rc >= 0 && (rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        hm_epi_cuts *c = !strcmp(f[0], "age") ? &o->age : !strcmp(f[0], "calendar") ? &o->calendar
                       : !strcmp(f[0], "tsfe") ? &o->tsfe : !strcmp(f[0], "afe") ? &o->afe
                       : !strcmp(f[0], "dose") ? &o->dose : NULL;
        if (!c || nf < 2) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), "key",
                              "expected age, calendar, tsfe, afe or dose with a list of cut points");
            break;
        }
        if ((rc = hm_epi_cuts_parse(f[1], c, f[0], err)) < 0) {
            err->line = hm_csv_line(csv);
            snprintf(err->file, sizeof err->file, "%.255s", path);
        }
    }
    hm_csv_close(csv);
    o->by_sex = 1;
    return rc < 0 ? rc : HM_OK;
}

static int category(const hm_epi_cuts *c, double v)
{
    if (c->n == 0)
        return 0;
    if (v < c->v[0])
        return -1;
    int lo = 0, hi = c->n;  /* c->v[lo] <= v < c->v[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (c->v[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static double jan1(double year)
{
    return hm_epi_day_from_civil((int)year, 1, 1);
}

/* Calendar year c (possibly fractional) as a day. */
static double cal_day(double c)
{
    double y = floor(c), d0 = jan1(y);
    return d0 + (c - y) * (jan1(y + 1) - d0);
}

static double decimal_year(double day)
{
    double y = floor(1970 + day / 365.2425);
    while (jan1(y) > day)
        y--;
    while (jan1(y + 1) <= day)
        y++;
    double d0 = jan1(y);
    return y + (day - d0) / (jan1(y + 1) - d0);
}

typedef struct cells {
    size_t n, cap, width;
    unsigned long long *key;
    double *v;            /* n x width */
    long *hash;
    size_t hcap;
} cells;

static int cells_grow_hash(cells *t)
{
    size_t cap = t->hcap ? 2 * t->hcap : 4096;
    long *h = malloc(cap * sizeof *h);
    if (!h)
        return -1;
    for (size_t i = 0; i < cap; i++)
        h[i] = -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = (t->key[i] * 0x9E3779B97F4A7C15ULL) >> 20 & (cap - 1);
        while (h[k] >= 0)
            k = (k + 1) & (cap - 1);
        h[k] = (long)i;
    }
    free(t->hash);
    t->hash = h;
    t->hcap = cap;
    return 0;
}

/* Row of the cell with this key, created when new; NULL on no memory. */
static double *cell(cells *t, unsigned long long key)
{
    if (2 * (t->n + 1) > t->hcap && cells_grow_hash(t) < 0)
        return NULL;
    size_t k = (key * 0x9E3779B97F4A7C15ULL) >> 20 & (t->hcap - 1);
    while (t->hash[k] >= 0) {
        if (t->key[t->hash[k]] == key)
            return t->v + (size_t)t->hash[k] * t->width;
        k = (k + 1) & (t->hcap - 1);
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        unsigned long long *kk = realloc(t->key, cap * sizeof *kk);
        if (!kk)
            return NULL;
        t->key = kk;
        double *v = realloc(t->v, cap * t->width * sizeof *v);
        if (!v)
            return NULL;
        t->v = v;
        t->cap = cap;
    }
    t->key[t->n] = key;
    t->hash[k] = (long)t->n;
    double *row = t->v + t->n * t->width;
    memset(row, 0, t->width * sizeof *row);
    t->n++;
    return row;
}

static const cells *sort_cells;
static int cmp_cell(const void *a, const void *b)
{
    unsigned long long x = sort_cells->key[*(const size_t *)a], y = sort_cells->key[*(const size_t *)b];
    return (x > y) - (x < y);
}

static void cut_labels(const hm_epi_cuts *c, char **lab, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        lab[k] = malloc(48);
        if (!lab[k])
            continue;
        if (c->n == 0)
            snprintf(lab[k], 48, "all");
        else if ((int)k + 1 < c->n)
            snprintf(lab[k], 48, "%g-%g", c->v[k], c->v[k + 1]);
        else
            snprintf(lab[k], 48, "%g+", c->v[k]);
    }
}

/* Writes the cells into out: factor columns (labels), pyr, cases, means. */
static int build_table(const hm_epi_cohort *c, const hm_epi_outcomes *oc, const hm_epi_tab_options *o,
                       const int *use, const size_t *radix, cells *t, int R, hm_epi_table *out,
                       hm_error *err)
{
    hm_epi_table_init(out);
    size_t *order = malloc((t->n + 1) * sizeof *order);
    if (!order)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t i = 0; i < t->n; i++)
        order[i] = i;
    sort_cells = t;
    qsort(order, t->n, sizeof *order, cmp_cell);
    int rc = hm_epi_table_resize(out, 0, err);
    const hm_epi_cuts *cuts[NF] = { NULL, &o->age, &o->calendar, &o->tsfe, &o->afe, &o->dose };
    int fcol[NF];
    for (int f = 0; f < NF && rc >= 0; f++) {
        if (!use[f])
            continue;
        if ((fcol[f] = rc = hm_epi_table_add_col(out, FACTOR[f], err)) < 0)
            break;
        char *lab[HM_EPI_MAXCUTS + 2] = { 0 };
        char **src = lab;
        size_t n = radix[f];
        char **ids = NULL;
        if (f == F_ID) {
            /* Person ids as labels (a temporary array of pointers into the cohort). */
            if (!(ids = malloc((n ? n : 1) * sizeof *ids))) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            for (size_t k = 0; k < n; k++)
                ids[k] = c->p[k].id;
            rc = hm_epi_table_set_levels(out, fcol[f], ids, n, err);
            free(ids);
            continue;
        }
        if (f <= F_DOSE)
            cut_labels(cuts[f], lab, n);
        else if (f == F_SEX)
            src = c->sex_levels;
        else if (f == F_COUNTRY)
            src = c->country_levels;
        if (f == F_TX || f == F_SYN) {
            continue;  /* numeric 0/1 */
        }
        for (size_t k = 0; k < n && src == lab; k++)
            if (!lab[k])
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        if (rc >= 0)
            rc = hm_epi_table_set_levels(out, fcol[f], src, n, err);
        for (size_t k = 0; k < n && src == lab; k++)
            free(lab[k]);
    }
    int c_py = rc < 0 ? rc : hm_epi_table_add_col(out, "pyr", err);
    int c_cases[16];
    for (int g = 0; g < o->ngroups && c_py >= 0; g++) {
        char name[96];
        snprintf(name, sizeof name, "cases_%s", hm_epi_outcomes_name(oc, o->groups[g]));
        if ((c_cases[g] = hm_epi_table_add_col(out, name, err)) < 0)
            c_py = c_cases[g];
    }
    int c_sum[NS];
    for (int s = 0; s < NS && c_py >= 0; s++)
        if ((c_sum[s] = hm_epi_table_add_col(out, SUMNAME[s], err)) < 0)
            c_py = c_sum[s];
    int c_real0 = -1;
    for (int r = 0; R > 1 && r < R && c_py >= 0; r++) {
        char name[48];
        snprintf(name, sizeof name, "dose_mgy_r%d", r + 1);
        int cc = hm_epi_table_add_col(out, name, err);
        if (cc < 0)
            c_py = cc;
        else if (r == 0)
            c_real0 = cc;
    }
    if (c_py < 0 || hm_epi_table_resize(out, t->n, err) < 0) {
        free(order);
        hm_epi_table_free(out);
        return c_py < 0 ? c_py : HM_ENOMEM;
    }
    int ng = o->ngroups;
    for (size_t q = 0; q < t->n; q++) {
        size_t i = order[q];
        const double *row = t->v + i * t->width;
        unsigned long long key = t->key[i];
        for (int f = NF - 1; f >= 0; f--) {
            if (!use[f])
                continue;
            out->cols[fcol[f]][q] = (double)(key % radix[f]);
            key /= radix[f];
        }
        double py = row[0];
        out->cols[c_py][q] = py;
        for (int g = 0; g < ng; g++)
            out->cols[c_cases[g]][q] = row[1 + g];
        for (int s = 0; s < NS; s++)
            out->cols[c_sum[s]][q] = py > 0 ? row[1 + ng + s] / py : 0;
        for (int r = 0; R > 1 && r < R; r++)
            out->cols[c_real0 + r][q] = py > 0 ? row[1 + ng + NS + r] / py : 0;
    }
    free(order);
    return HM_OK;
}

int hm_epi_tabulate(const hm_epi_cohort *c, const hm_epi_outcomes *oc, const hm_epi_tab_options *o,
                    hm_epi_table *out, hm_epi_tab_summary *sum, hm_error *err)
{
    hm_epi_tab_summary dummy;
    if (!sum)
        sum = &dummy;
    memset(sum, 0, sizeof *sum);
    if (!c->finished)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "cohort not finished (call hm_epi_cohort_finish)");
    if (o->ngroups < 1 || o->ngroups > 16)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "outcome", "expected 1 to 16 outcome groups");
    if (o->lag_years < 0 || o->exclusion_years < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "lag", "lag and exclusion must be >= 0 years");
    int ng = o->ngroups, R = c->nreal;
    int use[NF] = { o->by_person, o->age.n > 0, o->calendar.n > 0, o->tsfe.n > 0, o->afe.n > 0, o->dose.n > 0,
                    o->by_sex, o->by_country, o->by_transplant, o->by_syndrome };
    size_t radix[NF] = { c->np, (size_t)o->age.n, (size_t)o->calendar.n, (size_t)o->tsfe.n, (size_t)o->afe.n,
                         (size_t)o->dose.n, (size_t)c->nsex, (size_t)c->ncountry, 2, 2 };
    double prod = 1;
    for (int f = 0; f < NF; f++) {
        if (!use[f] || radix[f] == 0)
            radix[f] = 1, use[f] = use[f] && radix[f];
        prod *= (double)radix[f];
    }
    if (prod > 1e18)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "too many cells (%g)", prod);
    cells t = { .width = 1 + (size_t)ng + NS + (R > 1 ? (size_t)R : 0) };
    const double Y = EPI_DAYS_PER_YEAR, lagd = o->lag_years * Y;
    size_t tcap = 0;
    double *times = NULL, *cum_r = calloc((size_t)R, sizeof *cum_r);
    int rc = cum_r ? HM_OK : hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    sum->persons = c->np;
    for (size_t pi = 0; pi < c->np && rc >= 0; pi++) {
        const epi_person *p = &c->p[pi];
        epi_fu fu;
        int st = epi_followup(c, oc, o->groups, ng, pi, o->exclusion_years, o->study_end_day, &fu, err);
        if (st < 0) {
            rc = st;
            break;
        }
        sum->unexposed += st == EPI_FU_UNEXPOSED;
        sum->excluded_prevalent += st == EPI_FU_PREVALENT;
        if (st != EPI_FU_OK)
            continue;
        double first = fu.first_day, start = fu.start_day, exit = fu.exit_day;
        unsigned mask = fu.mask;
        int is_case = fu.is_case;
        /* Breakpoints inside (start, exit). */
        size_t need = 2 + (size_t)(o->age.n + o->calendar.n + o->tsfe.n) + p->nproc + 1 + p->ntreat;
        if (need > tcap) {
            double *nt = realloc(times, need * 2 * sizeof *nt);
            if (!nt) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            times = nt;
            tcap = need * 2;
        }
        size_t nt = 0;
        times[nt++] = start;
        times[nt++] = exit;
#define ADD(tv) do { double t_ = (tv); if (t_ > start && t_ < exit) times[nt++] = t_; } while (0)
        for (int k = 0; k < o->age.n; k++)
            ADD(p->birth_day + o->age.v[k] * Y);
        for (int k = 0; k < o->calendar.n; k++)
            ADD(cal_day(o->calendar.v[k]));
        for (int k = 0; k < o->tsfe.n; k++)
            ADD(first + o->tsfe.v[k] * Y);
        for (size_t q = 0; q < p->nproc; q++)
            ADD(c->proc_day[p->proc0 + q] + lagd);
        if (isfinite(p->transplant_day))
            ADD(p->transplant_day);
        for (size_t k = 0; k < p->ntreat; k++)
            ADD(c->treats[p->treat0 + k].day);   /* -INFINITY (no day) is never inside */
#undef ADD
        for (size_t a = 1; a < nt; a++) {  /* insertion sort: few points */
            double v = times[a];
            size_t b = a;
            while (b > 0 && times[b - 1] > v) {
                times[b] = times[b - 1];
                b--;
            }
            times[b] = v;
        }
        double afe = (first - p->birth_day) / Y, cum = 0;
        double ced = 0, die = 0;
        int sct = 0;
        memset(cum_r, 0, (size_t)R * sizeof *cum_r);
        size_t q = 0, qt = 0;
        long last = -1;   /* row index: t.v may move when the table grows */
        int dropped = 0;
        for (size_t a = 0; a + 1 < nt; a++) {
            double t0 = times[a], t1 = times[a + 1];
            if (!(t1 > t0))
                continue;
            double mid = 0.5 * (t0 + t1), py = (t1 - t0) / Y;
            while (q < p->nproc && c->proc_day[p->proc0 + q] + lagd <= mid) {
                cum += c->proc_mean[p->proc0 + q];
                for (int r = 0; R > 1 && r < R; r++)
                    cum_r[r] += c->proc_dose[(p->proc0 + q) * R + r];
                q++;
            }
            while (qt < p->ntreat && c->treats[p->treat0 + qt].day <= mid) {
                const epi_treat *tr = &c->treats[p->treat0 + qt++];
                ced += tr->ced;
                die += tr->die;
                sct |= tr->sct;
            }
            double age = (mid - p->birth_day) / Y, cal = decimal_year(mid), tsfe = (mid - first) / Y;
            int tx = isfinite(p->transplant_day) && mid >= p->transplant_day;
            int cat[NF] = { (int)pi, category(&o->age, age), category(&o->calendar, cal), category(&o->tsfe, tsfe),
                            category(&o->afe, afe), category(&o->dose, cum), p->sex, p->country, tx,
                            p->syndrome };
            unsigned long long key = 0;
            int skip = 0;
            for (int f = 0; f < NF; f++) {
                if (!use[f])
                    continue;
                skip |= cat[f] < 0;
                key = key * radix[f] + (unsigned long long)(cat[f] < 0 ? 0 : cat[f]);
            }
            if (skip) {
                dropped = 1;
                last = -1;
                continue;
            }
            double *row = cell(&t, key);
            if (!row) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            row[0] += py;
            double *s = row + 1 + ng;
            s[S_DOSE] += py * cum;
            s[S_AGE] += py * age;
            s[S_CAL] += py * cal;
            s[S_TSFE] += py * tsfe;
            s[S_AFE] += py * afe;
            s[S_TX] += py * tx;
            s[S_SYN] += py * p->syndrome;
            s[S_CED] += py * ced;
            s[S_DIE] += py * die;
            s[S_SCT] += py * sct;
            for (int r = 0; R > 1 && r < R; r++)
                s[NS + r] += py * cum_r[r];
            sum->pyr += py;
            last = (long)((row - t.v) / (long)t.width);
        }
        if (rc < 0)
            break;
        sum->outside_cuts += dropped;
        sum->followed++;
        if (is_case && last >= 0) {
            for (int g = 0; g < ng; g++)
                if (mask & (1u << g)) {
                    t.v[(size_t)last * t.width + 1 + g] += 1;
                    sum->cases[g] += 1;
                }
        }
    }
    free(times);
    free(cum_r);
    if (rc >= 0)
        rc = build_table(c, oc, o, use, radix, &t, R, out, err);
    free(t.key);
    free(t.v);
    free(t.hash);
    return rc;
}
