/*
 * test_dose.c — `harmonic dose rdsr|event` through the program: organ doses
 * per event and per procedure add up, effective dose is their sum, imputed
 * fields are named per event, the sign conventions reach the command line,
 * and every projection RDSR of ../shared/data/rdsr gives doses per event
 * (that part skips when the folder is absent; the synthetic reports are the
 * project's own fixtures).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hm_testcmd.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H HM_HARMONIC_EXE
#define T HM_TEST_TMPDIR
/* Small and fast: these check bookkeeping and signs, not doses to 1 %. */
#define FAST "--histories 20000 --voxel-mm 6 --threads 2"

static char out[1 << 20], err[1 << 14];

static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", H, args);
    return hm_test_run_in(T, cmd, out, sizeof out, err, sizeof err);
}

static json_t *run_json(const char *args)
{
    int rc = run(args);
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    return j;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_non_null(v);
    return json_number_value(v);
}

/* Per-event organ doses and effective doses add up to the procedure's. */
static void check_sums(json_t *j, size_t nevents)
{
    json_t *ev = json_object_get(j, "events"), *p = json_object_get(j, "procedure");
    assert_int_equal(json_array_size(ev), nevents);
    json_t *pd = json_object_get(p, "organ_dose_mgy");
    const char *organ;
    json_t *val;
    json_object_foreach(pd, organ, val) {
        double sum = 0;
        for (size_t i = 0; i < nevents; i++)
            sum += num(json_object_get(json_array_get(ev, i), "organ_dose_mgy"), organ);
        /* 10 significant digits in the JSON: each term rounded by 5e-11. */
        assert_true(fabs(sum - json_number_value(val)) <= 1e-8 * fabs(sum) + 1e-15);
    }
    double e = 0, kap = 0;
    for (size_t i = 0; i < nevents; i++) {
        e += num(json_array_get(ev, i), "effective_dose_msv");
        kap += num(json_array_get(ev, i), "kap_gy_cm2");
    }
    assert_true(fabs(e - num(p, "effective_dose_msv")) <= 1e-8 * e);
    assert_true(fabs(kap - num(p, "kap_gy_cm2")) <= 1e-8 * kap);
    assert_true(e > 0);
}

static void test_synthetic_report(void **state)
{
    (void)state;
    assert_int_equal(run("rdsr synth --out syn.dcm --events 4 --seed 3"), 0);
    json_t *j = run_json("dose rdsr syn.dcm --json --age-years 3 " FAST);
    assert_string_equal(json_string_value(json_object_get(j, "age_class")), "5y");
    check_sums(j, 4);
    /* The synthetic report has every field: nothing imputed. */
    json_t *ev = json_object_get(j, "events");
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(ev, i), "imputed")), "");
    /* E/KAP of a 5-year-old in cardiac work: about 1 mSv per Gy cm2
     * (Karambatsakidou 2009: 1.0; Ubeda 2017: 0.58-0.89 at 1-10 y): within 0.4-2.5. */
    json_t *p = json_object_get(j, "procedure");
    double e_per_kap = num(p, "effective_dose_msv") / num(p, "kap_gy_cm2");
    fprintf(stderr, "synthetic report, 5y: E/KAP %.3f mSv/(Gy cm2)\n", e_per_kap);
    assert_true(e_per_kap > 0.4 && e_per_kap < 2.5);
    json_decref(j);
    /* Empty kVp values: the kVp is imputed, and the event says so. */
    assert_int_equal(run("rdsr synth --out empty.dcm --events 3 --quirks empty-values"), 0);
    j = run_json("dose rdsr empty.dcm --json --age-years 3 " FAST);
    check_sums(j, 3);
    ev = json_object_get(j, "events");
    for (size_t i = 0; i < 3; i++)
        assert_non_null(strstr(json_string_value(json_object_get(json_array_get(ev, i), "imputed")), "kvp"));
    json_decref(j);
}

/* One event: LAO 90 enters on the patient's right (liver), RAO 90 on the
 * left (spleen); feet first reverses it. */
static void test_event_signs(void **state)
{
    (void)state;
    const char *base = "dose event --json --age-years 5 --kvp 70 --field-mm 250 250 --kap 1 " FAST;
    char cmd[1024];
    double ratio[3];
    const char *extra[3] = { "--primary 90", "--primary -90", "--primary 90 --position FFS" };
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd, "%s %s", base, extra[k]);
        json_t *j = run_json(cmd);
        json_t *d = json_object_get(json_object_get(j, "procedure"), "organ_dose_mgy");
        ratio[k] = num(d, "liver") / num(d, "spleen");
        json_decref(j);
    }
    fprintf(stderr, "liver/spleen: LAO 90 %.2f, RAO 90 %.2f, LAO 90 feet first %.2f\n", ratio[0],
            ratio[1], ratio[2]);
    assert_true(ratio[0] > 2 * ratio[1]);
    assert_true(ratio[2] < 0.5 * ratio[0]);
    /* Per Gy cm2 without --kap; a usage error without an age. */
    assert_int_equal(run("dose event --primary 0 " FAST), 2);
    assert_non_null(strstr(err, "--age-years"));
    assert_int_equal(run("dose event --age-years 5 --position sideways " FAST), 2);
    assert_non_null(strstr(err, "sideways"));
}

/* Every projection RDSR of the shared corpus gives doses per event. */
static void test_shared_reports(void **state)
{
    (void)state;
    DIR *d = opendir(HM_SHARED_DATA_DIR "/rdsr");
    if (!d) {
        fprintf(stderr, "../shared/data/rdsr absent: shared RDSR part skipped\n");
        skip();
    }
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".dcm") || !strncmp(de->d_name, "CT-", 3))
            continue;
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "dose rdsr %s/rdsr/%s --json --age-years 8 --histories 3000 "
                 "--voxel-mm 8", HM_SHARED_DATA_DIR, de->d_name);
        json_t *j = run_json(cmd);
        size_t ne = json_array_size(json_object_get(j, "events"));
        fprintf(stderr, "%s: %zu events, E %.3g mSv\n", de->d_name, ne,
                num(json_object_get(j, "procedure"), "effective_dose_msv"));
        assert_true(ne > 0);
        check_sums(j, ne);
        json_decref(j);
        files++;
    }
    closedir(d);
    assert_true(files >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_report),
        cmocka_unit_test(test_event_signs),
        cmocka_unit_test(test_shared_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
