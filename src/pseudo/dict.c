/* dict.c — which columns the pooled database knows for a table: the
 * `field` entries of data/dictionary.csv (the registry's dictionary), read
 * directly so that pseudonymisation, which runs at the hospital, needs no
 * database. */
#include "hm_pseudo.h"

#include <stdlib.h>
#include <string.h>

void hm_pseudo_dict_free(char **cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cols[i]);
    free(cols);
}

int hm_pseudo_dict_columns(const char *table, char ***cols_out, size_t *n_out, hm_error *err)
{
    char path[4096];
    *cols_out = NULL;
    *n_out = 0;
    hm_csv *csv;
    int rc = hm_data_csv_open("dictionary.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf, n = 0, cap = 0;
    long ti = -1, fi = -1;
    char **cols = NULL;
    rc = hm_csv_next(csv, &f, &nf, err);
    if (rc == 1) {
        for (size_t i = 0; i < nf; i++) {
            if (!strcmp(f[i], "table")) ti = (long)i;
            if (!strcmp(f[i], "field")) fi = (long)i;
        }
        rc = ti < 0 || fi < 0
             ? hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NULL,
                            "header lacks the 'table' and 'field' columns")
             : HM_OK;
    } else if (rc == 0) {
        rc = hm_error_set(err, HM_EPARSE, path, 0, NULL, "empty dictionary");
    }
    while (rc == HM_OK && (rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        rc = HM_OK;
        if ((size_t)ti >= nf || (size_t)fi >= nf || strcmp(f[ti], table))
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 32;
            char **p = realloc(cols, ncap * sizeof *p);
            if (!p) {
                rc = hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
                break;
            }
            cols = p;
            cap = ncap;
        }
        if (!(cols[n] = strdup(f[fi]))) {
            rc = hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
            break;
        }
        n++;
    }
    hm_csv_close(csv);
    if (rc == HM_OK && n == 0)
        rc = hm_error_set(err, HM_ENOTFOUND, path, 0, "table",
                          "no table '%s' in the data dictionary", table);
    if (rc != HM_OK) {
        hm_pseudo_dict_free(cols, n);
        return rc;
    }
    *cols_out = cols;
    *n_out = n;
    return HM_OK;
}
