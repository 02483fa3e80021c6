/*
 * test_rt_import.c — `harmonic rt import` and `harmonic rt list` through the
 * program, the way a centre runs them: keygen, the patient CSV pseudonymised
 * with --offset-dates and imported, then the DICOM RT course (written by
 * tests/dicom/rt_fixtures.c) imported with the same key.  Checks that the
 * course joins the CSV's patient (one pseudonym namespace), that a second run
 * says "unchanged", that an unknown patient is refused naming the file and
 * PatientID with nothing stored, and that `rt list` shows the course with its
 * organ counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../dicom/rt_fixtures.h"

#define T HM_TEST_TMPDIR
#define H HM_HARMONIC_EXE

static void ok(int rc, const hm_error *err)
{
    if (rc)
        fprintf(stderr, "error %d: %s: %s: %s\n", rc, err->file, err->field, err->msg);
    assert_int_equal(rc, 0);
}

/* The fixture course of patient pid (CT, BODY/PTV/ISO structure set, IMRT
 * plan of 45 Gy in 25 fractions, a 5 x 4 x 3 dose grid). */
static void write_course(const char *dir, const char *pid)
{
    char cmd[1200], path[1100];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    assert_int_equal(system(cmd), 0);
    hm_error err;
    hm_rtdcm_ct ct;
    rtfx_ct(&ct);
    strcpy(ct.c.patient_id, pid);
    ok(hm_rtdcm_ct_write(dir, &ct, NULL, &err), &err);
    hm_rtdcm_struct ss;
    rtfx_struct(&ss, &ct);
    snprintf(path, sizeof path, "%s/RS.dcm", dir);
    ok(hm_rtdcm_struct_write(path, &ss, &err), &err);
    hm_rtdcm_plan plan;
    rtfx_plan(&plan, HM_RTDCM_TECH_IMRT, ss.c.sop_instance_uid);
    strcpy(plan.c.patient_id, pid);
    snprintf(path, sizeof path, "%s/RP.dcm", dir);
    ok(hm_rtdcm_plan_write(path, &plan, &err), &err);
    hm_rtdcm_dose d;
    rtfx_dose(&d, &ct, 16, plan.c.sop_instance_uid);
    snprintf(path, sizeof path, "%s/RD.dcm", dir);
    ok(hm_rtdcm_dose_write(path, &d, &err), &err);
    hm_rtdcm_dose_free(&d);
    hm_rtdcm_plan_free(&plan);
    hm_rtdcm_struct_free(&ss);
    hm_rtdcm_ct_free(&ct);
}

static char *run(const char *cmd, int *status)
{
    FILE *fp = popen(cmd, "r");
    assert_non_null(fp);
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((k = fread(buf + n, 1, cap - 1 - n, fp)) > 0)
        n += k;
    buf[n] = '\0';
    int st = pclose(fp);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    fprintf(stderr, "$ %s\n%s", cmd, buf);
    return buf;
}

static void sh(const char *cmd)
{
    int st;
    free(run(cmd, &st));
    assert_int_equal(st, 0);
}

static void test_import_list(void **state)
{
    (void)state;
    sh("rm -f " T "/rt.db " T "/study.key && " H " keygen --out " T "/study.key");
    FILE *fp = fopen(T "/centre.csv", "w");
    fputs("centre_code,country,name,cohort\nFR01,FR,Institut,both\n", fp);
    fclose(fp);
    fp = fopen(T "/patient_hosp.csv", "w");
    fputs("centre_code,local_patient_id,cohort,sex,birth_date,syndrome,consent,last_name\n"
          "FR01,RT-0001,radiotherapy,F,2015-07-04,none,given,Dupont\n", fp);
    fclose(fp);
    sh(H " pseudonymise --key " T "/study.key --table patient --offset-dates " T
         "/patient_hosp.csv " T "/patient.csv 2>&1");
    sh(H " import --db " T "/rt.db --centre FR01 centre " T "/centre.csv 2>&1");
    sh(H " import --db " T "/rt.db --centre FR01 patient " T "/patient.csv 2>&1");
    write_course(T "/courses/c1", "RT-0001");
    const char *imp = H " rt import --db " T "/rt.db --centre FR01 --key " T "/study.key "
                      "--target brain --diag-topography C71.9 --diag-morphology 9470/3 "
                      "--diag-date 2023-12-01 " T "/courses 2>&1";
    int st;
    char *out = run(imp, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "new course"));
    assert_non_null(strstr(out, "1 stored, 0 unchanged"));
    free(out);
    out = run(imp, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "unchanged"));
    assert_non_null(strstr(out, "nothing changed"));
    assert_non_null(strstr(out, "0 stored, 1 unchanged"));
    free(out);
    /* A patient not in the registry: refused, named, nothing stored. */
    write_course(T "/other", "RT-0777");
    out = run(H " rt import --db " T "/rt.db --centre FR01 --key " T "/study.key --target brain "
              "--diag-topography C71.9 --diag-morphology 9470/3 --diag-date 2023-12-01 " T
              "/other 2>&1", &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "RP.dcm"));
    assert_non_null(strstr(out, "PatientID (0010,0020)"));
    assert_non_null(strstr(out, "nothing stored"));
    free(out);
    out = run(H " rt list --db " T "/rt.db", &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "1 course"));
    assert_non_null(strstr(out, "imrt"));
    /* versions 1, current 1; the 5 x 4 x 3 grid holds no organ ROI: 0 tps */
    char *line = strstr(out, "FR01");
    assert_non_null(line);
    int fx, start, versions, current, tps, model, dvhs;
    double rx;
    char course[32], tech[16], part[16];
    assert_int_equal(sscanf(line, "FR01 %31s %15s %15s %lf %d %d %d %d %d %d %d", course, tech,
                            part, &rx, &fx, &start, &versions, &current, &tps, &model, &dvhs), 11);
    assert_true(rx == 45);
    assert_int_equal(fx, 25);
    assert_int_equal(start, 3113);       /* 2024-01-11 - 2015-07-04 */
    assert_int_equal(versions, 1);
    assert_int_equal(current, 1);
    assert_int_equal(tps, 0);
    assert_true(model > 20);
    assert_int_equal(dvhs, 2);           /* BODY and PTV_45 (ISO is a point) */
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_import_list) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
