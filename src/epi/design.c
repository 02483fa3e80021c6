/*
 * design.c — a model's design matrix from a table: rows with person-years
 * > 0, grouped by stratum (the cells of the strata() columns) so that the
 * likelihood can profile each stratum's baseline in one pass.  Stratum codes
 * are mixed-radix combinations of per-column ranks; rows are ordered by a
 * counting sort when the code space is small.
 */
#include "epi_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct code_pair { unsigned long long key; size_t row; } code_pair;

static int cmp_pair(const void *a, const void *b)
{
    const code_pair *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int numeric_col(const hm_epi_table *t, const char *name, const char *role, hm_error *err)
{
    int c = hm_epi_table_col(t, name);
    if (c < 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, name, "%s column not found in the data", role);
    if (t->levels && t->levels[c])
        return hm_error_set(err, HM_EINVAL, NULL, 0, name, "%s column must be numeric, found labels", role);
    return c;
}

void epi_design_free(epi_design *d)
{
    free(d->y);
    free(d->lpy);
    free(d->py);
    free(d->z);
    free(d->x);
    free(d->e);
    free(d->sbeg);
    free(d->O);
    memset(d, 0, sizeof *d);
}

/* Rank codes of one stratum column: index of each row's value among the
 * sorted distinct values.  Distinct values are found with a hash table, so
 * only they are sorted (O(n + k log k) for k distinct values). */
/* Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4) on the value's bits, keeping the high bits of the
 * product (small integers stored as doubles have all-zero low bits). */
static size_t hash_slot(double v, int bits)
{
    unsigned long long b;
    memcpy(&b, &v, sizeof b);
    b ^= b >> 29;
    return (size_t)((b * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

/* Fast path: every value a small non-negative integer (stratum codes, as
 * written by tabulate or by hand): ranks by direct indexing. */
static int rank_small_ints(const double *v, size_t n, unsigned long long *code, size_t *ndistinct)
{
    size_t limit = 4 * n + 1024, maxv = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] >= 0 && v[i] < (double)limit && v[i] == floor(v[i])))
            return 1;
        if ((size_t)v[i] > maxv)
            maxv = (size_t)v[i];
    }
    unsigned long long *rank = calloc(maxv + 1, sizeof *rank);
    if (!rank)
        return HM_ENOMEM;
    for (size_t i = 0; i < n; i++)
        rank[(size_t)v[i]] = 1;
    size_t nd = 0;
    for (size_t k = 0; k <= maxv; k++)
        rank[k] = rank[k] ? nd++ : 0;
    for (size_t i = 0; i < n; i++)
        code[i] = rank[(size_t)v[i]];
    *ndistinct = nd;
    free(rank);
    return HM_OK;
}

static int rank_codes(const double *v, size_t n, unsigned long long *code, size_t *ndistinct)
{
    int fast = rank_small_ints(v, n, code, ndistinct);
    if (fast <= 0)
        return fast;
    size_t cap = 1024;
    int bits = 10;
    while (cap < 2 * n + 2)
        cap *= 2, bits++;
    long *slot = malloc(cap * sizeof *slot);
    double *dv = malloc((n + 1) * sizeof *dv);
    unsigned long long *rank = NULL;
    if (!slot || !dv) {
        free(slot);
        free(dv);
        return HM_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        slot[i] = -1;
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        double x = v[i] == 0 ? 0 : v[i];  /* -0 and 0 alike */
        size_t k = hash_slot(x, bits);
        while (slot[k] >= 0 && dv[slot[k]] != x)
            k = (k + 1) & (cap - 1);
        if (slot[k] < 0) {
            slot[k] = (long)nd;
            dv[nd++] = x;
        }
        code[i] = (unsigned long long)slot[k];  /* order of first appearance for now */
    }
    /* Rank of each distinct value in sorted order. */
    double *sorted = malloc((nd + 1) * sizeof *sorted);
    rank = malloc((nd + 1) * sizeof *rank);
    if (!sorted || !rank) {
        free(slot);
        free(dv);
        free(sorted);
        free(rank);
        return HM_ENOMEM;
    }
    memcpy(sorted, dv, nd * sizeof *sorted);
    qsort(sorted, nd, sizeof *sorted, cmp_dbl);
    for (size_t a = 0; a < nd; a++) {
        size_t lo = 0, hi = nd;
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (sorted[mid] <= dv[a])
                lo = mid;
            else
                hi = mid;
        }
        rank[a] = lo;
    }
    for (size_t i = 0; i < n; i++)
        code[i] = rank[code[i]];
    *ndistinct = nd;
    free(slot);
    free(dv);
    free(sorted);
    free(rank);
    return HM_OK;
}

/* Orders rows by stratum key: a stable counting sort when the key space is
 * small (the usual case), else a comparison sort. */
static int sort_pairs(code_pair *pairs, size_t n, unsigned long long nkeys)
{
    int sorted = 1;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = pairs[i - 1].key <= pairs[i].key;
    if (sorted)
        return HM_OK;
    if (nkeys > 4 * (unsigned long long)n + 65536) {
        qsort(pairs, n, sizeof *pairs, cmp_pair);
        return HM_OK;
    }
    size_t *count = calloc((size_t)nkeys + 1, sizeof *count);
    code_pair *out = malloc(n * sizeof *out);
    if (!count || !out) {
        free(count);
        free(out);
        return HM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        count[pairs[i].key + 1]++;
    for (size_t k = 1; k <= nkeys; k++)
        count[k] += count[k - 1];
    for (size_t i = 0; i < n; i++)
        out[count[pairs[i].key]++] = pairs[i];
    memcpy(pairs, out, n * sizeof *out);
    free(count);
    free(out);
    return HM_OK;
}

int epi_design_build(const hm_epi_table *t, const hm_epi_model *m, epi_design *d, hm_error *err)
{
    memset(d, 0, sizeof *d);
    int cy = numeric_col(t, m->cases, "cases", err);
    int cp = cy < 0 ? cy : numeric_col(t, m->pyr, "person-years", err);
    if (cp < 0)
        return cp;
    int cz[HM_EPI_MAXTERMS], cx[HM_EPI_MAXTERMS], ce[HM_EPI_MAXTERMS], cs[HM_EPI_MAXTERMS];
    for (int k = 0; k < m->nz; k++)
        if ((cz[k] = numeric_col(t, m->z[k], "loglin", err)) < 0)
            return cz[k];
    for (int k = 0; k < m->nx; k++) {
        cx[k] = hm_epi_table_col(t, m->x[k]);
        if (cx[k] < 0)
            return hm_error_set(err, HM_ENOTFOUND, NULL, 0, m->x[k], "excess-risk column not found");
        if (!m->xlevel[k] && t->levels && t->levels[cx[k]])
            return hm_error_set(err, HM_EINVAL, NULL, 0, m->x[k],
                                "excess-risk column must be numeric (use cat() for labels)");
    }
    for (int k = 0; k < m->ne; k++)
        if ((ce[k] = numeric_col(t, m->e[k], "modifier", err)) < 0)
            return ce[k];
    for (int k = 0; k < m->nstrata; k++)
        if ((cs[k] = hm_epi_table_col(t, m->strata[k])) < 0)
            return hm_error_set(err, HM_ENOTFOUND, NULL, 0, m->strata[k], "stratum column not found");

    size_t N = t->nrows;
    const double *Y = t->cols[cy], *P = t->cols[cp];
    size_t n = 0;
    for (size_t r = 0; r < N; r++) {
        if (Y[r] < 0 || P[r] < 0)
            return hm_error_set(err, HM_EVALIDATE, NULL, (long)r + 2, Y[r] < 0 ? m->cases : m->pyr,
                                "negative value %g", Y[r] < 0 ? Y[r] : P[r]);
        if (P[r] == 0 && Y[r] > 0)
            return hm_error_set(err, HM_EVALIDATE, NULL, (long)r + 2, m->pyr,
                                "%g cases with zero person-years", Y[r]);
        n += P[r] > 0;
    }
    if (n == 0)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, m->pyr, "no rows with person-years > 0");

    /* Stratum of each row: mixed-radix code of the columns' rank codes. */
    code_pair *pairs = malloc(N * sizeof *pairs);
    unsigned long long *rc = malloc(N * sizeof *rc);
    if (!pairs || !rc) {
        free(pairs);
        free(rc);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    for (size_t r = 0; r < N; r++)
        pairs[r] = (code_pair){ 0, r };
    unsigned long long nkeys = 1;
    for (int k = 0; k < m->nstrata; k++) {
        size_t nd;
        if (rank_codes(t->cols[cs[k]], N, rc, &nd) < 0) {
            free(pairs);
            free(rc);
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        }
        for (size_t r = 0; r < N; r++) {
            if (pairs[r].key > (~0ULL) / (nd + 1)) {
                free(pairs);
                free(rc);
                return hm_error_set(err, HM_EINVAL, NULL, 0, m->strata[k], "too many stratum combinations");
            }
            pairs[r].key = pairs[r].key * nd + rc[r];
        }
        nkeys = nkeys > (~0ULL) / (nd ? nd : 1) ? ~0ULL : nkeys * nd;  /* saturate */
    }
    free(rc);
    if (sort_pairs(pairs, N, nkeys) < 0) {
        free(pairs);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }

    d->n = n;
    d->nz = m->nz, d->nx = m->nx, d->ne = m->ne;
    d->p = m->nz + m->nx + m->ne;
    d->form = m->form;
    d->y = malloc(n * sizeof *d->y);
    d->lpy = malloc(n * sizeof *d->lpy);
    d->py = malloc(n * sizeof *d->py);
    d->z = malloc((n * m->nz + 1) * sizeof *d->z);
    d->x = malloc((n * m->nx + 1) * sizeof *d->x);
    d->e = malloc((n * m->ne + 1) * sizeof *d->e);
    d->sbeg = malloc((n + 1) * sizeof *d->sbeg);
    d->O = malloc(n * sizeof *d->O);
    if (!d->y || !d->lpy || !d->py || !d->z || !d->x || !d->e || !d->sbeg || !d->O) {
        free(pairs);
        epi_design_free(d);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory (%zu rows)", n);
    }
    size_t i = 0, s = 0;
    for (size_t q = 0; q < N; q++) {
        size_t r = pairs[q].row;
        if (!(P[r] > 0))
            continue;
        if (i == 0 || pairs[q].key != d->last_key) {
            d->sbeg[s] = i;
            d->O[s] = 0;
            s++;
            d->last_key = pairs[q].key;
        }
        d->y[i] = Y[r];
        d->lpy[i] = log(P[r]);
        d->py[i] = P[r];
        d->O[s - 1] += Y[r];
        d->cases += Y[r];
        d->pyr += P[r];
        d->lfact += lgamma(Y[r] + 1);
        if (Y[r] > 0)
            d->ylogy += Y[r] * log(Y[r]) - Y[r];
        for (int k = 0; k < m->nz; k++)
            d->z[i * m->nz + k] = t->cols[cz[k]][r];
        for (int k = 0; k < m->nx; k++) {
            double v = t->cols[cx[k]][r];
            d->x[i * m->nx + k] = m->xlevel[k] ? (v == m->xval[k]) : (m->xpow[k] == 2 ? v * v : v);
        }
        for (int k = 0; k < m->ne; k++)
            d->e[i * m->ne + k] = t->cols[ce[k]][r];
        i++;
    }
    d->sbeg[s] = n;
    d->nstrata = s;
    for (size_t k = 0; k < s; k++)
        d->nstrata_cases += d->O[k] > 0;
    free(pairs);
    if (d->cases <= 0) {
        epi_design_free(d);
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, m->cases, "no cases: nothing to fit");
    }
    return HM_OK;
}

