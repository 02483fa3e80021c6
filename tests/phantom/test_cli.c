/*
 * test_cli.c — `harmonic phantom` end to end: the masses table as CSV, show
 * with its three PNGs, convert + read, dose, and usage errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_testcmd.h"

#define DIR HM_TEST_TMPDIR

static void test_masses_csv(void **state)
{
    (void)state;
    static char out[65536];
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " phantom masses --age newborn --csv", out, sizeof out, 0), 0);
    assert_true(!strncmp(out, "age,sex,group,phantom_g,reference_g,diff_percent,reference_kind\n", 64));
    int rows = 0;
    for (char *line = strtok(out + 64, "\n"); line; line = strtok(NULL, "\n")) {
        char age[16], sex[4], group[48], kind[16];
        double ph, ref, diff;
        assert_int_equal(sscanf(line, "%15[^,],%3[^,],%47[^,],%lf,%lf,%lf,%15s", age, sex, group, &ph, &ref, &diff, kind), 7);
        assert_string_equal(age, "newborn");
        assert_true(fabs(100 * (ph / ref - 1) - diff) < 0.05 + 0.01 * fabs(diff));
        assert_true(fabs(diff) <= 10);
        rows++;
    }
    assert_true(rows >= 29);   /* total body + skin + 28 organ groups of the hermaphrodite */
}

static void test_show_convert_read(void **state)
{
    (void)state;
    static char out[65536];
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " phantom show newborn --voxel-mm 3 --png-prefix " DIR "/nb --cache-dir " DIR "/c", out, sizeof out, 0), 0);
    assert_non_null(strstr(out, "brain"));
    assert_non_null(strstr(out, "nb_sagittal.png"));
    static const char *png[] = { DIR "/nb_axial.png", DIR "/nb_coronal.png", DIR "/nb_sagittal.png" };
    for (int i = 0; i < 3; i++) {
        FILE *fp = fopen(png[i], "rb");
        assert_non_null(fp);
        fclose(fp);
    }
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " phantom convert newborn --voxel-mm 4 --format raw --out " DIR "/nbr --cache-dir " DIR "/c", out, sizeof out, 0), 0);
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " phantom read --raw " DIR "/nbr.hdr", out, sizeof out, 0), 0);
    assert_non_null(strstr(out, "heart_wall"));
}

static void test_dose(void **state)
{
    (void)state;
    static char out[65536];
    int rc = hm_test_run(HM_HARMONIC_EXE " phantom dose 1y --voxel-mm 3 --histories 20000 --cache-dir " DIR "/c", out, sizeof out, 0);
    assert_int_equal(rc, 0);
    char *e = strstr(out, "E/KAP (ICRP 103) ");
    assert_non_null(e);
    double ekap = atof(e + strlen("E/KAP (ICRP 103) "));
    assert_true(ekap > 0.5 && ekap < 5);
}

static void test_usage_errors(void **state)
{
    (void)state;
    static char out[4096];
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " phantom show 7y 2>/dev/null", out, sizeof out, 0), 2);
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " phantom show 5y --sex Q 2>/dev/null", out, sizeof out, 0), 2);
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " phantom dose 5y --kvp 500 2>/dev/null", out, sizeof out, 0), 2);
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " phantom read --raw /no/such.hdr 2>/dev/null", out, sizeof out, 0), 1);
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " phantom frobnicate 2>/dev/null", out, sizeof out, 0), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masses_csv),
        cmocka_unit_test(test_show_convert_read),
        cmocka_unit_test(test_dose),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
