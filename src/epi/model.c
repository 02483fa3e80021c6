/*
 * model.c — the model language (docs/epi.md):
 *
 *   model := NAME '~' term { '+' term }
 *   term  := 'pyr' '(' NAME ')'            person-years (offset)
 *          | 'strata' '(' names ')'        baseline per cell of these columns, profiled out
 *          | 'loglin' '(' names ')'        background exp(gamma . z)
 *          | 'err'  '(' names [ '|' names ] ')'   RR = 1 + (beta . x) exp(tau . e)
 *          | 'lq'   '(' NAME  [ '|' names ] ')'   x = (d, d^2)
 *          | 'cat'  '(' NAME  [ '|' names ] ')'   x = indicators of non-reference levels
 *          | 'ear'  '(' names [ '|' names ] ')'   rate = baseline + (beta . x) exp(tau . e)
 *          | 'earlq' '(' NAME [ '|' names ] ')'
 *
 * The form follows Epicure's AMFIT (Preston, Lubin, Pierce, McConney,
 * Epicure User's Guide, Hirosoft 1993): a log-linear background times a
 * linear excess relative risk with log-linear modifiers.
 */
#include "hm_epi.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct lexer {
    const char *s, *p;
    hm_error   *err;
} lexer;

static void skip_ws(lexer *l)
{
    while (isspace((unsigned char)*l->p))
        l->p++;
}

static int is_name_char(int c)
{
    return isalnum(c) || c == '_' || c == '.';
}

/* Reads a name (letters, digits, '_', '.'), or fails naming the position. */
static int name(lexer *l, char *out, const char *what)
{
    skip_ws(l);
    size_t n = 0;
    while (is_name_char((unsigned char)l->p[n]))
        n++;
    if (n == 0 || n >= HM_EPI_NAMELEN)
        return hm_error_set(l->err, HM_EPARSE, "model", 0, NULL,
                            "at character %d: expected %s%s", (int)(l->p - l->s) + 1, what,
                            n ? " (name too long)" : "");
    memcpy(out, l->p, n);
    out[n] = '\0';
    l->p += n;
    return HM_OK;
}

static int expect(lexer *l, char c)
{
    skip_ws(l);
    if (*l->p != c)
        return hm_error_set(l->err, HM_EPARSE, "model", 0, NULL, "at character %d: expected '%c'%s%s",
                            (int)(l->p - l->s) + 1, c, *l->p ? ", found '" : " at the end",
                            *l->p ? (char[]){ *l->p, '\'', 0 } : "");
    l->p++;
    return HM_OK;
}

/* names := NAME { ',' NAME }, stopping before ')' or '|'. */
static int names(lexer *l, char out[][HM_EPI_NAMELEN], int *n, const char *what)
{
    for (;;) {
        if (*n >= HM_EPI_MAXTERMS)
            return hm_error_set(l->err, HM_EINVAL, "model", 0, NULL, "too many %s terms (max %d)",
                                what, HM_EPI_MAXTERMS);
        int rc = name(l, out[*n], what);
        if (rc < 0)
            return rc;
        (*n)++;
        skip_ws(l);
        if (*l->p != ',')
            return HM_OK;
        l->p++;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* cat(c): one indicator per level but the first (the reference). */
static int add_levels(lexer *l, hm_epi_model *m, const char *col, const hm_epi_table *t)
{
    int c = t ? hm_epi_table_col(t, col) : -1;
    if (c < 0)
        return hm_error_set(l->err, HM_ENOTFOUND, "model", 0, col, "cat(): no such column in the data");
    double *v = malloc((t->nrows ? t->nrows : 1) * sizeof *v);
    if (!v)
        return hm_error_set(l->err, HM_ENOMEM, "model", 0, col, "out of memory");
    /* Levels present in the data (a label column's codes follow the label
     * order, so the first label present is the reference). */
    size_t nd = 0;
    memcpy(v, t->cols[c], t->nrows * sizeof *v);
    qsort(v, t->nrows, sizeof *v, cmp_double);
    for (size_t i = 0; i < t->nrows; i++)
        if (nd == 0 || v[i] != v[nd - 1])
            v[nd++] = v[i];
    int rc = HM_OK;
    if (nd < 2)
        rc = hm_error_set(l->err, HM_EINVAL, "model", 0, col, "cat(): needs at least 2 levels");
    else if (m->nx + (int)nd - 1 > HM_EPI_MAXTERMS)
        rc = hm_error_set(l->err, HM_EINVAL, "model", 0, col, "cat(): %zu levels, at most %d allowed",
                          nd, HM_EPI_MAXTERMS + 1);
    for (size_t i = 1; rc == HM_OK && i < nd; i++) {
        snprintf(m->x[m->nx], HM_EPI_NAMELEN, "%s", col);
        m->xpow[m->nx] = 1;
        m->xlevel[m->nx] = 1;
        m->xval[m->nx] = v[i];
        m->nx++;
    }
    free(v);
    return rc;
}

static int excess_term(lexer *l, hm_epi_model *m, const char *kw, const hm_epi_table *t)
{
    if (m->nx > 0)
        return hm_error_set(l->err, HM_EINVAL, "model", 0, NULL,
                            "only one excess-risk term (err, lq, cat, ear, earlq) is allowed");
    int rc;
    int ear = !strncmp(kw, "ear", 3);
    m->form = ear ? HM_EPI_EAR : HM_EPI_ERR;
    if (!strcmp(kw, "err") || !strcmp(kw, "ear")) {
        if ((rc = names(l, m->x, &m->nx, "a dose/covariate column")) < 0)
            return rc;
        for (int i = 0; i < m->nx; i++)
            m->xpow[i] = 1;
    } else {
        char col[HM_EPI_NAMELEN];
        if ((rc = name(l, col, "a column")) < 0)
            return rc;
        if (!strcmp(kw, "cat")) {
            if ((rc = add_levels(l, m, col, t)) < 0)
                return rc;
        } else {  /* lq, earlq */
            for (int i = 0; i < 2; i++) {
                snprintf(m->x[i], HM_EPI_NAMELEN, "%s", col);
                m->xpow[i] = i + 1;
            }
            m->nx = 2;
        }
    }
    skip_ws(l);
    if (*l->p == '|') {
        l->p++;
        if ((rc = names(l, m->e, &m->ne, "a modifier column")) < 0)
            return rc;
    }
    return expect(l, ')');
}

int hm_epi_model_parse(const char *text, const hm_epi_table *t, hm_epi_model *m, hm_error *err)
{
    memset(m, 0, sizeof *m);
    lexer l = { text, text, err };
    int rc;
    if ((rc = name(&l, m->cases, "the cases column")) < 0 || (rc = expect(&l, '~')) < 0)
        return rc;
    for (;;) {
        char kw[HM_EPI_NAMELEN];
        if ((rc = name(&l, kw, "a term (pyr, strata, loglin, err, lq, cat, ear, earlq)")) < 0 ||
            (rc = expect(&l, '(')) < 0)
            return rc;
        if (!strcmp(kw, "pyr")) {
            if ((rc = name(&l, m->pyr, "the person-years column")) < 0 || (rc = expect(&l, ')')) < 0)
                return rc;
        } else if (!strcmp(kw, "strata")) {
            if ((rc = names(&l, m->strata, &m->nstrata, "a stratum column")) < 0 ||
                (rc = expect(&l, ')')) < 0)
                return rc;
        } else if (!strcmp(kw, "loglin")) {
            if ((rc = names(&l, m->z, &m->nz, "a covariate column")) < 0 || (rc = expect(&l, ')')) < 0)
                return rc;
        } else if (!strcmp(kw, "err") || !strcmp(kw, "lq") || !strcmp(kw, "cat") ||
                   !strcmp(kw, "ear") || !strcmp(kw, "earlq")) {
            if ((rc = excess_term(&l, m, kw, t)) < 0)
                return rc;
        } else {
            return hm_error_set(err, HM_EPARSE, "model", 0, kw,
                                "unknown term: expected pyr, strata, loglin, err, lq, cat, ear or earlq");
        }
        skip_ws(&l);
        if (!*l.p)
            break;
        if ((rc = expect(&l, '+')) < 0)
            return rc;
    }
    if (!m->pyr[0])
        return hm_error_set(err, HM_EINVAL, "model", 0, NULL, "missing pyr(COLUMN) term");
    if (m->ne > 0 && m->nx == 0)
        return hm_error_set(err, HM_EINVAL, "model", 0, NULL, "modifiers need an excess-risk term");
    if (m->form == HM_EPI_EAR && m->nx == 0)
        return hm_error_set(err, HM_EINVAL, "model", 0, NULL, "ear() needs covariates");
    return HM_OK;
}
