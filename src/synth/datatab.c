/* datatab.c — the column-by-name reader of the parameter files of
 * data/synth/ (params.c, rt_model.c).
 *
 * Each file has a header; columns are found by name so files can gain
 * columns (sources, notes) freely.  Every value is checked, and a problem
 * names file:line:field. */
#include "synth_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sy_tab_close(sy_tab *t)
{
    for (size_t i = 0; i < t->nhead; i++)
        free(t->head[i]);
    free(t->head);
    hm_csv_close(t->csv);
    memset(t, 0, sizeof *t);
}

int sy_tab_open(sy_tab *t, const char *name, hm_error *err)
{
    memset(t, 0, sizeof *t);
    char rel[256];
    snprintf(rel, sizeof rel, "synth/%s", name);
    int rc = hm_data_csv_open(rel, t->path, sizeof t->path, &t->csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    rc = hm_csv_next(t->csv, &f, &nf, err);
    if (rc <= 0) {
        hm_csv_close(t->csv);
        t->csv = NULL;
        return rc < 0 ? rc : hm_error_set(err, HM_EPARSE, t->path, 0, NULL, "no header");
    }
    t->head = calloc(nf, sizeof *t->head);
    if (!t->head)
        return hm_error_set(err, HM_ENOMEM, t->path, 0, NULL, "out of memory");
    t->nhead = nf;
    for (size_t i = 0; i < nf; i++)
        if (!(t->head[i] = strdup(f[i])))
            return hm_error_set(err, HM_ENOMEM, t->path, 0, NULL, "out of memory");
    return HM_OK;
}

int sy_tab_next(sy_tab *t, hm_error *err)
{
    int rc = hm_csv_next(t->csv, &t->f, &t->nf, err);
    t->line = hm_csv_line(t->csv);
    if (rc == 1 && t->nf != t->nhead)
        return hm_error_set(err, HM_EPARSE, t->path, t->line, NULL,
                            "%zu fields, expected %zu as in the header", t->nf, t->nhead);
    return rc;
}

int sy_tab_col(sy_tab *t, const char *name, const char **v, hm_error *err)
{
    *v = "";    /* callers read *v only on success, but gcc -O3 cannot see that */
    for (size_t i = 0; i < t->nhead; i++)
        if (!strcmp(t->head[i], name)) {
            *v = t->f[i];
            return HM_OK;
        }
    return hm_error_set(err, HM_EPARSE, t->path, 1, name, "missing column");
}

int sy_tab_num(sy_tab *t, const char *name, double lo, double hi, double *out, hm_error *err)
{
    const char *v;
    int rc = sy_tab_col(t, name, &v, err);
    if (rc)
        return rc;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!v[0] || *end || errno || !isfinite(x) || x < lo || x > hi)
        return hm_error_set(err, HM_EPARSE, t->path, t->line, name,
                            "'%s': expected a number in [%g, %g]", v, lo, hi);
    *out = x;
    return HM_OK;
}

int sy_tab_int(sy_tab *t, const char *name, int lo, int hi, int *out, hm_error *err)
{
    double v = 0;
    int rc = sy_tab_num(t, name, lo, hi, &v, err);
    if (rc == HM_OK && v != floor(v))
        rc = hm_error_set(err, HM_EPARSE, t->path, t->line, name, "%g: expected an integer", v);
    *out = (int)v;
    return rc;
}

int sy_tab_text(sy_tab *t, const char *name, int may_be_empty, char *out, size_t size,
                hm_error *err)
{
    const char *v;
    int rc = sy_tab_col(t, name, &v, err);
    if (rc)
        return rc;
    if ((!v[0] && !may_be_empty) || strlen(v) >= size)
        return hm_error_set(err, HM_EPARSE, t->path, t->line, name,
                            "'%s': expected %d..%zu characters", v, !may_be_empty, size - 1);
    snprintf(out, size, "%s", v);
    return HM_OK;
}

int sy_tab_too_many(sy_tab *t, int max, hm_error *err)
{
    return hm_error_set(err, HM_EPARSE, t->path, t->line, NULL, "more than %d rows", max);
}
