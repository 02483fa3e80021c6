/*
 * test_dialect.c — the CSV dialect options through the program: an
 * Excel-style file (';'-separated, decimal comma, Windows-1252, CRLF)
 * imports as detected, with a note on stderr saying how it was read; forced
 * wrong options give one message each, naming what was seen and what to do;
 * bad option values are usage errors; pseudonymise and mc hvl read the same
 * kind of file as their plain copies.  The files are written by the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hm_testcmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H HM_HARMONIC_EXE
#define T HM_TEST_TMPDIR

static char out[1 << 16], err[1 << 14];

/* Runs `harmonic ARGS` in the scratch folder; stdout in out, stderr in err. */
static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", H, args);
    return hm_test_run_in(T, cmd, out, sizeof out, err, sizeof err);
}

static void write_file(const char *name, const char *bytes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", T, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(bytes, fp);
    fclose(fp);
}

/* "Hôpital" with 0xF4 for ô: Windows-1252, invalid as UTF-8. */
static const char CENTRE_EU[] =
    "centre_code;country;name;cohort\r\n"
    "BE01;BE;H\xF4pital des enfants;cardiac\r\n";
static const char CENTRE_PLAIN[] =
    "centre_code,country,name,cohort\n"
    "BE01,BE,H\xC3\xB4pital des enfants,cardiac\n";

static void test_import(void **state)
{
    (void)state;
    write_file("centre_eu.csv", CENTRE_EU);
    write_file("centre.csv", CENTRE_PLAIN);
    remove(T "/eu.db");
    remove(T "/plain.db");
    /* Detected: imported, with the note. */
    assert_int_equal(run("import --db eu.db --centre BE01 centre centre_eu.csv"), 0);
    assert_non_null(strstr(err, "centre_eu.csv: read as ';'-separated"));
    assert_non_null(strstr(err, "Windows-1252"));
    assert_int_equal(run("import --db plain.db --centre BE01 centre centre.csv"), 0);
    assert_null(strstr(err, "read as"));      /* plain CSV: no note */
    /* The same content in both registries. */
    assert_int_equal(run("export --db eu.db --out exp_eu"), 0);
    assert_int_equal(run("export --db plain.db --out exp_plain"), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp %s/exp_eu/centre.csv %s/exp_plain/centre.csv", T, T);
    assert_int_equal(system(cmd), 0);
    /* Forced ',' on a ';' file: one message, saying which --delimiter. */
    remove(T "/bad.db");
    assert_int_equal(run("import --db bad.db --centre BE01 --delimiter , centre centre_eu.csv"), 1);
    assert_non_null(strstr(err, "the file looks ';'-separated; use --delimiter ';'"));
    assert_null(strstr(err, "required column is missing"));
    /* Forced UTF-8 on Windows-1252 bytes: the line, the byte, the hint. */
    assert_int_equal(run("import --db bad.db --centre BE01 --encoding utf-8 centre centre_eu.csv"), 1);
    assert_non_null(strstr(err, "centre_eu.csv:2"));
    assert_non_null(strstr(err, "0xF4"));
    assert_non_null(strstr(err, "--encoding"));
    /* Forced right: imported without complaint. */
    remove(T "/forced.db");
    assert_int_equal(run("import --db forced.db --centre BE01 --delimiter ';' --decimal , "
                         "--encoding windows-1252 centre centre_eu.csv"), 0);
    /* Bad values are usage errors naming the option. */
    assert_int_equal(run("import --db bad.db --centre BE01 --delimiter x centre centre_eu.csv"), 2);
    assert_non_null(strstr(err, "--delimiter"));
    assert_int_equal(run("import --db bad.db --centre BE01 --encoding klingon centre centre_eu.csv"), 2);
    assert_non_null(strstr(err, "--encoding"));
}

static void test_hvl(void **state)
{
    (void)state;
    /* The same spectrum as plain CSV and as an Excel export. */
    FILE *a = fopen(T "/spec.csv", "w"), *b = fopen(T "/spec_eu.csv", "w");
    assert_non_null(a);
    assert_non_null(b);
    fputs("energy_keV,relative_fluence\n", a);
    fputs("energy_keV;relative_fluence\r\n", b);
    for (int e = 10; e <= 80; e++) {
        double f = (80.0 - e) * e * 1e-3;
        char num[64];
        snprintf(num, sizeof num, "%.6f", f);
        fprintf(a, "%d.5,%s\n", e, num);
        for (char *c = num; *c; c++)
            if (*c == '.')
                *c = ',';
        fprintf(b, "%d,5;%s\r\n", e, num);
    }
    fclose(a);
    fclose(b);
    assert_int_equal(run("mc hvl spec.csv"), 0);
    char *plain = strdup(out);
    assert_non_null(plain);
    assert_non_null(strstr(plain, "HVL1"));
    assert_int_equal(run("mc hvl spec_eu.csv"), 0);
    assert_string_equal(out, plain);
    free(plain);
    assert_non_null(strstr(err, "decimal comma"));
    assert_int_equal(run("mc hvl --decimal . --delimiter ';' spec_eu.csv"), 1);
}

static void test_pseudonymise(void **state)
{
    (void)state;
    remove(T "/k.key");
    assert_int_equal(run("keygen --out k.key"), 0);
    write_file("pat_eu.csv",
               "centre_code;local_patient_id;cohort;sex;birth_date;name\r\n"
               "BE01;12345;cardiac;F;2019-03-04;Ren\xE9\r\n");
    write_file("pat.csv",
               "centre_code,local_patient_id,cohort,sex,birth_date,name\n"
               "BE01,12345,cardiac,F,2019-03-04,Ren\xC3\xA9\n");
    assert_int_equal(run("pseudonymise --key k.key --table patient pat_eu.csv out_eu.csv"), 0);
    assert_non_null(strstr(err, "pat_eu.csv: read as ';'-separated"));
    assert_int_equal(run("pseudonymise --key k.key --table patient pat.csv out.csv"), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp %s/out_eu.csv %s/out.csv", T, T);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_hvl),
        cmocka_unit_test(test_pseudonymise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
