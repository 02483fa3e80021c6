/*
 * table.c — column-wise data sets: grouped person-year cells or individual
 * rows, read from and written to CSV.  Reading takes two passes over the
 * file: the first decides which columns are numeric (every value parses as a
 * number), the second stores values, so a label in row 10^6 does not force
 * re-coding what was read before.
 */
#include "hm_epi.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void hm_epi_table_init(hm_epi_table *t)
{
    memset(t, 0, sizeof *t);
}

static void free_levels(char **lv, size_t n)
{
    if (!lv)
        return;
    for (size_t i = 0; i < n; i++)
        free(lv[i]);
    free(lv);
}

void hm_epi_table_free(hm_epi_table *t)
{
    if (!t)
        return;
    for (size_t c = 0; c < t->ncols; c++) {
        free(t->names[c]);
        free(t->cols[c]);
        if (t->levels)
            free_levels(t->levels[c], t->nlevels[c]);
    }
    free(t->names);
    free(t->cols);
    free(t->levels);
    free(t->nlevels);
    memset(t, 0, sizeof *t);
}

int hm_epi_table_col(const hm_epi_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (!strcmp(t->names[c], name))
            return (int)c;
    return -1;
}

int hm_epi_table_resize(hm_epi_table *t, size_t n, hm_error *err)
{
    if (n <= t->cap) {
        if (n > t->nrows)
            for (size_t c = 0; c < t->ncols; c++)
                memset(t->cols[c] + t->nrows, 0, (n - t->nrows) * sizeof(double));
        t->nrows = n > t->nrows ? n : t->nrows;
        return HM_OK;
    }
    size_t cap = t->cap ? t->cap : 64;
    while (cap < n)
        cap *= 2;
    for (size_t c = 0; c < t->ncols; c++) {
        double *p = realloc(t->cols[c], cap * sizeof(double));
        if (!p)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory (table of %zu rows)", n);
        memset(p + t->nrows, 0, (cap - t->nrows) * sizeof(double));
        t->cols[c] = p;
    }
    t->cap = cap;
    t->nrows = n;
    return HM_OK;
}

int hm_epi_table_add_col(hm_epi_table *t, const char *name, hm_error *err)
{
    if (hm_epi_table_col(t, name) >= 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, name, "duplicate column name");
    size_t n = t->ncols + 1;
    char **names = realloc(t->names, n * sizeof *names);
    if (names)
        t->names = names;
    double **cols = realloc(t->cols, n * sizeof *cols);
    if (cols)
        t->cols = cols;
    char ***lv = realloc(t->levels, n * sizeof *lv);
    if (lv)
        t->levels = lv;
    size_t *nl = realloc(t->nlevels, n * sizeof *nl);
    if (nl)
        t->nlevels = nl;
    if (!names || !cols || !lv || !nl)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, name, "out of memory");
    size_t cap = t->cap ? t->cap : 1;
    t->cols[t->ncols] = calloc(cap, sizeof(double));
    t->names[t->ncols] = strdup(name);
    t->levels[t->ncols] = NULL;
    t->nlevels[t->ncols] = 0;
    if (!t->cols[t->ncols] || !t->names[t->ncols]) {
        free(t->cols[t->ncols]);
        free(t->names[t->ncols]);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, name, "out of memory");
    }
    t->ncols = n;
    return (int)(n - 1);
}

int hm_epi_table_set_levels(hm_epi_table *t, int c, char **labels, size_t n, hm_error *err)
{
    char **lv = calloc(n ? n : 1, sizeof *lv);
    if (!lv)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!(lv[i] = strdup(labels[i]))) {
            free_levels(lv, i);
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        }
    free_levels(t->levels[c], t->nlevels[c]);
    t->levels[c] = lv;
    t->nlevels[c] = n;
    return HM_OK;
}

static int parse_number(const char *s, double *v)
{
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    while (*end == ' ')
        end++;
    return *end == '\0' && errno != ERANGE && isfinite(*v);
}

/* Level index of label in column c, added when new. */
static int level_of(hm_epi_table *t, int c, const char *s, double *v, hm_error *err)
{
    for (size_t i = t->nlevels[c]; i-- > 0;)
        if (!strcmp(t->levels[c][i], s)) {
            *v = (double)i;
            return HM_OK;
        }
    char **lv = realloc(t->levels[c], (t->nlevels[c] + 1) * sizeof *lv);
    if (!lv || !(lv[t->nlevels[c]] = strdup(s))) {
        if (lv)
            t->levels[c] = lv;
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    t->levels[c] = lv;
    *v = (double)t->nlevels[c]++;
    return HM_OK;
}

int hm_epi_table_read_csv(const char *path, hm_epi_table *t, hm_error *err)
{
    return hm_epi_table_read_csv_dialect(path, NULL, t, err);
}

int hm_epi_table_read_csv_dialect(const char *path, const hm_csv_dialect *dialect, hm_epi_table *t,
                                  hm_error *err)
{
    hm_epi_table_init(t);
    hm_csv *csv = hm_csv_open_dialect(path, 1, dialect, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    char **f;
    size_t nf;
    int rc = hm_csv_next(csv, &f, &nf, err);
    if (rc > 0 && hm_csv_header_check(csv, f, nf, err))
        rc = HM_EPARSE;
    if (rc <= 0) {
        hm_csv_close(csv);
        return rc < 0 ? rc : hm_error_set(err, HM_EPARSE, path, 1, NULL, "empty file: expected a header line");
    }
    size_t ncols = nf;
    for (size_t c = 0; c < nf; c++)
        if (!f[c][0] || hm_epi_table_col(t, f[c]) >= 0 || hm_epi_table_add_col(t, f[c], err) < 0) {
            rc = !f[c][0] ? hm_error_set(err, HM_EPARSE, path, 1, NULL, "column %zu has an empty name", c + 1)
                          : hm_error_set(err, HM_EPARSE, path, 1, f[c], "duplicate (or unstorable) column name");
            hm_csv_close(csv);
            hm_epi_table_free(t);
            return rc;
        }
    /* Pass 1: types and row count. */
    char *numeric = malloc(ncols);
    if (!numeric) {
        hm_csv_close(csv);
        hm_epi_table_free(t);
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
    }
    memset(numeric, 1, ncols);
    size_t nrows = 0;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        if (nf == 1 && !f[0][0])
            continue;  /* blank line */
        if (nf != ncols) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NULL,
                              "expected %zu fields as in the header, found %zu", ncols, nf);
            break;
        }
        for (size_t c = 0; c < ncols; c++) {
            double v;
            if (!f[c][0]) {
                rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), t->names[c],
                                  "empty value: expected a number or a label");
                break;
            }
            if (numeric[c] && !parse_number(f[c], &v))
                numeric[c] = 0;
        }
        if (rc < 0)
            break;
        nrows++;
    }
    hm_csv_close(csv);
    if (rc < 0) {
        free(numeric);
        hm_epi_table_free(t);
        return rc;
    }
    for (size_t c = 0; c < ncols; c++)
        if (!numeric[c] && hm_epi_table_set_levels(t, (int)c, NULL, 0, err) < 0)
            rc = HM_ENOMEM;
    if (rc < 0 || hm_epi_table_resize(t, nrows, err) < 0) {
        free(numeric);
        hm_epi_table_free(t);
        return HM_ENOMEM;
    }
    /* Pass 2: values. */
    csv = hm_csv_open_dialect(path, 1, dialect, err);
    if (!csv) {
        free(numeric);
        hm_epi_table_free(t);
        return err ? err->code : HM_EIO;
    }
    hm_csv_next(csv, &f, &nf, err);
    size_t r = 0;
    while (r < nrows && (rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        if (nf == 1 && !f[0][0])
            continue;
        for (size_t c = 0; c < ncols && rc >= 0; c++) {
            if (numeric[c])
                parse_number(f[c], &t->cols[c][r]);
            else
                rc = level_of(t, (int)c, f[c], &t->cols[c][r], err);
        }
        if (rc < 0)
            break;
        r++;
    }
    hm_csv_close(csv);
    free(numeric);
    if (rc < 0 || r != nrows) {
        hm_epi_table_free(t);
        return rc < 0 ? rc : hm_error_set(err, HM_EIO, path, 0, NULL, "file changed while being read");
    }
    return HM_OK;
}

int hm_epi_table_write_csv(const hm_epi_table *t, FILE *fp)
{
    for (size_t c = 0; c < t->ncols; c++) {
        if (c)
            fputc(',', fp);
        hm_csv_write_field(fp, t->names[c]);
    }
    fputc('\n', fp);
    char buf[64];
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                fputc(',', fp);
            double v = t->cols[c][r];
            if (t->levels && t->levels[c] && v >= 0 && (size_t)v < t->nlevels[c])
                hm_csv_write_field(fp, t->levels[c][(size_t)v]);
            else {
                snprintf(buf, sizeof buf, "%.10g", v);
                fputs(buf, fp);
            }
        }
        fputc('\n', fp);
    }
    return ferror(fp) ? HM_EIO : HM_OK;
}
