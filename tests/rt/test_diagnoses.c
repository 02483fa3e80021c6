/*
 * test_diagnoses.c — the diagnoses file of `rt import --diagnoses`
 * (hm_rt_diagnoses_read, docs/rt.md "Import"): the hospital form's local id
 * becomes the pseudonym hm_pseudo_id gives for namespace "patient" (what
 * rt_import.c makes of the DICOM PatientID); the pooled form with diag_day;
 * a repeated identical row kept once; every bad row refused with its
 * file:line:field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "hm_pseudo.h"
#include "hm_rt.h"

#define F HM_TEST_TMPDIR "/diag.csv"

static void put(const char *text)
{
    FILE *fp = fopen(F, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static hm_pseudo_key key(void)
{
    hm_pseudo_key k;
    memset(&k, 0, sizeof k);
    k.key_len = 32;
    for (int i = 0; i < 32; i++)
        k.key[i] = (unsigned char)(7 * i + 1);
    k.version = 1;
    return k;
}

static void test_forms(void **state)
{
    (void)state;
    hm_pseudo_key k = key();
    hm_error err;
    hm_rt_diagnoses ds;
    put("centre_code,local_patient_id,diag_topography,diag_morphology,diag_date\n"
        "FR11,FR11-R0000001,C71.6,9470/3,2017-04-02\n"
        "FR11,FR11-R0000002,C64.9,8960/3,2019-12-31\n"
        "FR11,FR11-R0000001,C71.6,9470/3,2017-04-02\n");
    assert_int_equal(hm_rt_diagnoses_read(F, "FR11", &k, &ds, &err), 0);
    assert_int_equal(ds.n, 2);                       /* the repeated row once */
    char p1[HM_PSEUDO_HEX_SIZE];
    assert_int_equal(hm_pseudo_id(&k, "patient", "FR11-R0000001", p1, &err), 0);
    const hm_rt_diagnosis *d = hm_rt_diagnoses_find(&ds, p1);
    assert_non_null(d);
    assert_string_equal(d->topography, "C71.6");
    assert_string_equal(d->morphology, "9470/3");
    assert_true(d->has_date);
    assert_int_equal(d->date_days, hm_date_from_ymd(2017, 4, 2));
    assert_int_equal(d->line, 2);
    hm_rt_diagnoses_free(&ds);

    char text[400];
    snprintf(text, sizeof text, "pseudonym,diag_topography,diag_morphology,diag_day\n"
                                "%s,C71.6,9470/3,3072\n", p1);
    put(text);
    assert_int_equal(hm_rt_diagnoses_read(F, "FR11", &k, &ds, &err), 0);
    assert_int_equal(ds.n, 1);
    d = hm_rt_diagnoses_find(&ds, p1);
    assert_non_null(d);
    assert_false(d->has_date);
    assert_int_equal(d->day, 3072);
    hm_rt_diagnoses_free(&ds);
}

static void refused(const char *text, long line, const char *field)
{
    hm_pseudo_key k = key();
    hm_error err;
    hm_error_clear(&err);
    hm_rt_diagnoses ds;
    put(text);
    assert_true(hm_rt_diagnoses_read(F, "FR11", &k, &ds, &err) < 0);
    fprintf(stderr, "%s:%ld:%s: %s\n", err.file, err.line, err.field, err.msg);
    assert_string_equal(err.file, F);
    assert_int_equal(err.line, line);
    assert_string_equal(err.field, field);
    assert_null(ds.rows);
    assert_int_equal(ds.n, 0);
}

static void test_bad_rows(void **state)
{
    (void)state;
    const char *h = "local_patient_id,diag_topography,diag_morphology,diag_date\n";
    char t[600];
    snprintf(t, sizeof t, "%sA,C71.6,9470/3,2017-04-02\nB,C71,9470/3,2017-04-02\n", h);
    refused(t, 3, "diag_topography");
    snprintf(t, sizeof t, "%sA,C71.6,9470/7,2017-04-02\n", h);
    refused(t, 2, "diag_morphology");
    snprintf(t, sizeof t, "%sA,C71.6,9470/3,2017-13-02\n", h);
    refused(t, 2, "diag_date");
    snprintf(t, sizeof t, "%sA,C71.6,9470/3,\n", h);
    refused(t, 2, "diag_date");
    snprintf(t, sizeof t, "%s,C71.6,9470/3,2017-04-02\n", h);
    refused(t, 2, "local_patient_id");
    /* the same patient with another diagnosis */
    snprintf(t, sizeof t, "%sA,C71.6,9470/3,2017-04-02\nA,C64.9,8960/3,2017-04-02\n", h);
    refused(t, 3, "diag_topography");
    refused("centre_code,local_patient_id,diag_topography,diag_morphology,diag_date\n"
            "DE11,A,C71.6,9470/3,2017-04-02\n", 2, "centre_code");
    refused("pseudonym,diag_topography,diag_morphology,diag_day\nABC,C71.6,9470/3,10\n", 2,
            "pseudonym");
    refused("pseudonym,diag_topography,diag_morphology,diag_day\n"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,C71.6,9470/3,-3\n",
            2, "diag_day");
    refused("local_patient_id,diag_topography,diag_date\nA,C71.6,2017-04-02\n", 1,
            "diag_morphology");
    refused("local_patient_id,pseudonym,diag_topography,diag_morphology,diag_date\n", 1,
            "local_patient_id");
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_forms),
                                        cmocka_unit_test(test_bad_rows) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
