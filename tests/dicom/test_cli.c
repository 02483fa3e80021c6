/*
 * test_cli.c — `harmonic rdsr synth` and `harmonic rdsr show [--json]` as a
 * user runs them: exit codes, output content, one-line errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hm_testcmd.h"

#define T HM_TEST_TMPDIR

static void synth_and_show(void **state)
{
    (void)state;
    char out[65536];
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " rdsr synth --out " T "/cli.dcm --events 6 --biplane"
                         " --quirks gym2,implicit-vr --seed 4", out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "6 events"));
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " rdsr show " T "/cli.dcm", out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "modality:    RF biplane"));
    assert_non_null(strstr(out, "plane A"));
    assert_non_null(strstr(out, "plane B"));
    assert_non_null(strstr(out, "Gym2"));
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " rdsr show --json " T "/cli.dcm", out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "\"kap_total_gy_cm2\""));
    assert_non_null(strstr(out, "\"plane\": \"B\""));
}

static void errors(void **state)
{
    (void)state;
    char out[4096];
    FILE *fp = fopen(T "/notes.txt", "w");
    assert_non_null(fp);
    fputs("this is not DICOM\n", fp);
    fclose(fp);
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " rdsr show " T "/notes.txt", out, sizeof out, 1), 1);
    assert_non_null(strstr(out, "notes.txt: not a DICOM file"));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));   /* one line */
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " rdsr synth --out " T "/x.dcm --quirks nope",
                         out, sizeof out, 1), 2);
    assert_non_null(strstr(out, "unknown quirk"));
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " rdsr frobnicate", out, sizeof out, 1), 2);
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " rdsr show", out, sizeof out, 1), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(synth_and_show),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
