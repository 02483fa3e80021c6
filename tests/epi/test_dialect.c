/* test_dialect.c — the epi readers on files as they come: a RERF-style
 * table (blanks after every separator, header and data) and an Excel copy
 * (';', decimal comma, Windows-1252 labels, CRLF) give the same table and
 * the same fit as the plain file; a forced wrong separator says which to use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_epi.h"

#define NROWS 40

enum style { PLAIN, RERF, EXCEL };

/* Writes the same table in one of three styles; returns the path. */
static void write_table(enum style st, const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", HM_TEST_TMPDIR, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    const char *sep = st == PLAIN ? "," : st == RERF ? ", " : ";";
    const char *eol = st == EXCEL ? "\r\n" : "\n";
    fprintf(fp, "city%ssex%sdose%spyr%scases%s", sep, sep, sep, sep, eol);
    for (int i = 0; i < NROWS; i++) {
        /* city labels with an e-acute: UTF-8 in the plain files, 0xE9 in Excel's */
        const char *city = i % 2 ? (st == EXCEL ? "Nagasaki-\xE9" : "Nagasaki-\xC3\xA9") : "Hiroshima";
        char dose[32], pyr[32];
        snprintf(dose, sizeof dose, "%.3f", 0.05 * i);
        snprintf(pyr, sizeof pyr, "%.1f", 1000.0 + 37.5 * i);
        if (st == EXCEL) {
            *strchr(dose, '.') = ',';
            *strchr(pyr, '.') = ',';
        }
        if (st == RERF)
            fprintf(fp, "  %s, %d,  %s, %s,  %d %s", city, 1 + i % 2, dose, pyr, 2 + (i * 7) % 13, eol);
        else
            fprintf(fp, "%s%s%d%s%s%s%s%s%d%s", city, sep, 1 + i % 2, sep, dose, sep, pyr, sep,
                    2 + (i * 7) % 13, eol);
    }
    fclose(fp);
}

static void read_and_fit(const char *path, hm_epi_table *t, hm_epi_fit *fit)
{
    hm_error err;
    hm_error_clear(&err);
    if (hm_epi_table_read_csv(path, t, &err))
        fail_msg("%s:%ld:%s: %s", err.file, err.line, err.field, err.msg);
    if (hm_epi_fit_text(t, "cases ~ pyr(pyr) + err(dose)", NULL, fit, &err))
        fail_msg("fit %s: %s", path, err.msg);
    assert_true(fit->converged);
}

static void test_same_fit(void **state)
{
    (void)state;
    char plain[4200], rerf[4200], excel[4200];
    write_table(PLAIN, "plain.csv", plain, sizeof plain);
    write_table(RERF, "rerf.csv", rerf, sizeof rerf);
    write_table(EXCEL, "excel.csv", excel, sizeof excel);
    hm_epi_table tp, tr, tx;
    hm_epi_fit fp, fr, fx;
    read_and_fit(plain, &tp, &fp);
    read_and_fit(rerf, &tr, &fr);
    read_and_fit(excel, &tx, &fx);
    const hm_epi_table *other[2] = { &tr, &tx };
    const hm_epi_fit *ofit[2] = { &fr, &fx };
    for (int k = 0; k < 2; k++) {
        const hm_epi_table *o = other[k];
        assert_int_equal(o->ncols, tp.ncols);
        assert_int_equal(o->nrows, NROWS);
        for (size_t c = 0; c < tp.ncols; c++) {
            assert_string_equal(o->names[c], tp.names[c]);     /* "sex", not " sex" */
            for (size_t r = 0; r < tp.nrows; r++)
                assert_true(o->cols[c][r] == tp.cols[c][r]);
        }
        int city = hm_epi_table_col(o, "city");
        assert_true(city >= 0);
        assert_int_equal(o->nlevels[city], 2);
        assert_string_equal(o->levels[city][1], "Nagasaki-\xC3\xA9");
        assert_int_equal(ofit[k]->np, fp.np);
        assert_true(ofit[k]->p[0].est == fp.p[0].est);
        assert_true(ofit[k]->p[0].lo == fp.p[0].lo && ofit[k]->p[0].hi == fp.p[0].hi);
        assert_true(ofit[k]->loglik == fp.loglik);
    }
    assert_true(fp.p[0].est > -0.5 && isfinite(fp.p[0].est));
    hm_epi_table_free(&tp);
    hm_epi_table_free(&tr);
    hm_epi_table_free(&tx);
}

static void test_wrong_separator(void **state)
{
    (void)state;
    char excel[4200];
    write_table(EXCEL, "excel2.csv", excel, sizeof excel);
    hm_csv_dialect comma = { ',', 0, 0, 0 };
    hm_epi_table t;
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(hm_epi_table_read_csv_dialect(excel, &comma, &t, &err), HM_EPARSE);
    assert_int_equal(err.line, 1);
    if (!strstr(err.msg, "'city;sex;dose;pyr;cases'") || !strstr(err.msg, "use --delimiter ';'"))
        fail_msg("message: %s", err.msg);
    /* The cohort reader: a ';' persons file with blanks is read when detected,
     * and named with the right --delimiter when ',' is forced. */
    char persons[4200];
    snprintf(persons, sizeof persons, "%s/persons.csv", HM_TEST_TMPDIR);
    FILE *fp = fopen(persons, "wb");
    fputs("id; sex; birth; end\r\np1; F; 2001-02-03; 2020-01-01\r\np2; M; 1999-05-06; 2021-06-30\r\n", fp);
    fclose(fp);
    hm_epi_cohort *c;
    assert_int_equal(hm_epi_cohort_read_csv(persons, NULL, NULL, NULL, &c, &err), 0);
    assert_int_equal(hm_epi_cohort_size(c), 2);
    hm_epi_cohort_free(c);
    assert_int_equal(hm_epi_cohort_read_csv_dialect(persons, NULL, NULL, NULL, &comma, &c, &err),
                     HM_EPARSE);
    assert_non_null(strstr(err.msg, "use --delimiter ';'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_fit),
        cmocka_unit_test(test_wrong_separator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
