/*
 * test_uncertainty.c — age classes, the error-source file, the counter-based
 * streams of the 2-D Monte Carlo (deterministic, standard normal, shared
 * draws shared and unshared ones independent), and tiers 2 and 3.
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

#include "hm_dosimetry.h"

static void test_age_classes(void **state)
{
    (void)state;
    /* anchors.md: < 4, 4-30, 31-90, 91-210, >= 211 months (30.4375 days). */
    assert_string_equal(hm_dosimetry_age_class(0), "newborn");
    assert_string_equal(hm_dosimetry_age_class(4 * 30.4375 - 0.5), "newborn");
    assert_string_equal(hm_dosimetry_age_class(4 * 30.4375), "1y");
    assert_string_equal(hm_dosimetry_age_class(31 * 30.4375 - 0.5), "1y");
    assert_string_equal(hm_dosimetry_age_class(31 * 30.4375), "5y");
    assert_string_equal(hm_dosimetry_age_class(91 * 30.4375), "10y");
    assert_string_equal(hm_dosimetry_age_class(211 * 30.4375 - 0.5), "10y");
    assert_string_equal(hm_dosimetry_age_class(211 * 30.4375), "15y");
    assert_string_equal(hm_dosimetry_age_class(8000), "15y");
    assert_null(hm_dosimetry_age_class(-1));
    assert_null(hm_dosimetry_age_class(NAN));
    assert_int_equal(hm_dosimetry_era(1989), 0);
    assert_int_equal(hm_dosimetry_era(1990), 1);
    assert_int_equal(hm_dosimetry_era(2009), 2);
    assert_int_equal(hm_dosimetry_era(2010), 3);
}

static void test_config(void **state)
{
    (void)state;
    hm_dose_uncertainty u;
    hm_error err;
    assert_int_equal(hm_dose_uncertainty_load(NULL, &u, &err), 0);
    assert_true(fabs(u.gsd[HM_UNC_KAP_CALIBRATION] - 1.35) < 1e-12);
    assert_true(fabs(u.gsd_known[HM_UNC_KAP_CALIBRATION] - 1.12) < 1e-12);
    assert_string_equal(u.shared_by[HM_UNC_KAP_CALIBRATION], "device");
    assert_string_equal(u.shared_by[HM_UNC_ANATOMY_INDIVIDUAL], "procedure");
    for (int s = 0; s < HM_UNC_NSOURCES; s++)
        assert_true(u.gsd[s] >= 1 && u.gsd_known[s] >= 1);
    /* Bad files: line and field named. */
    const char *path = HM_TEST_TMPDIR "/unc.csv";
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("name,shared_by,gsd,gsd_known\nkap_calibration,device,0.8,1.1\n", fp);
    fclose(fp);
    assert_int_equal(hm_dose_uncertainty_load(path, &u, &err), HM_EPARSE);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.field, "gsd");
    fp = fopen(path, "w");
    fputs("name,shared_by,gsd,gsd_known\nkap_calibration,device,1.3,1.1\n", fp);
    fclose(fp);
    assert_int_equal(hm_dose_uncertainty_load(path, &u, &err), HM_EPARSE);
    assert_string_equal(err.field, "table_transmission");     /* a source without a row */
    fp = fopen(path, "w");
    fputs("name,shared_by,gsd,gsd_known\nkap_calibraton,device,1.3,1.1\n", fp);
    fclose(fp);
    assert_int_equal(hm_dose_uncertainty_load(path, &u, &err), HM_EPARSE);
    assert_string_equal(err.field, "name");
    assert_non_null(strstr(err.msg, "kap_calibraton"));
}

static void test_streams(void **state)
{
    (void)state;
    /* Deterministic and keyed by every argument. */
    double a = hm_unc_normal(7, HM_UNC_KAP_CALIBRATION, "BE01/artis", 3);
    assert_true(a == hm_unc_normal(7, HM_UNC_KAP_CALIBRATION, "BE01/artis", 3));
    assert_true(a != hm_unc_normal(8, HM_UNC_KAP_CALIBRATION, "BE01/artis", 3));
    assert_true(a != hm_unc_normal(7, HM_UNC_TABLE, "BE01/artis", 3));
    assert_true(a != hm_unc_normal(7, HM_UNC_KAP_CALIBRATION, "BE01/allura", 3));
    assert_true(a != hm_unc_normal(7, HM_UNC_KAP_CALIBRATION, "BE01/artis", 4));
    /* Standard normal over realizations: mean 0, variance 1, and 2.5 % above 1.96. */
    int n = 200000;
    double s1 = 0, s2 = 0, u1 = 0;
    long tail = 0;
    for (int r = 0; r < n; r++) {
        double z = hm_unc_normal(11, HM_UNC_GEOMETRY_IMPUTED, "P1", r);
        s1 += z;
        s2 += z * z;
        tail += z > 1.959964;
        double u = hm_unc_uniform(11, HM_UNC_TIER3_SAMPLE, "P1", r);
        assert_true(u > 0 && u < 1);
        u1 += u;
    }
    double mean = s1 / n, var = s2 / n - mean * mean;
    assert_true(fabs(mean) < 0.01);                  /* sigma of the mean: 0.0022 */
    assert_true(fabs(var - 1) < 0.015);              /* sigma: 0.0032 */
    assert_true(fabs((double)tail / n - 0.025) < 0.002);
    assert_true(fabs(u1 / n - 0.5) < 0.003);
}

static double corr(const double *x, const double *y, int n)
{
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

/* Two procedures' log doses across 200 realizations: a large shared error
 * (one device) correlates them; the same error drawn per device does not. */
static void test_shared_is_shared(void **state)
{
    (void)state;
    enum { R = 200 };
    double a[R], b[R], c[R];
    for (int r = 0; r < R; r++) {
        double dev1 = hm_unc_normal(5, HM_UNC_KAP_CALIBRATION, "FR01/device-1", r);
        double dev2 = hm_unc_normal(5, HM_UNC_KAP_CALIBRATION, "FR01/device-2", r);
        a[r] = log(3.0 * hm_unc_factor(dev1, 1.35)
                   * hm_unc_factor(hm_unc_normal(5, HM_UNC_ANATOMY_INDIVIDUAL, "P-a", r), 1.10));
        b[r] = log(7.0 * hm_unc_factor(dev1, 1.35)
                   * hm_unc_factor(hm_unc_normal(5, HM_UNC_ANATOMY_INDIVIDUAL, "P-b", r), 1.10));
        c[r] = log(7.0 * hm_unc_factor(dev2, 1.35)
                   * hm_unc_factor(hm_unc_normal(5, HM_UNC_ANATOMY_INDIVIDUAL, "P-c", r), 1.10));
    }
    double same = corr(a, b, R), other = corr(a, c, R);
    fprintf(stderr, "correlation, same device %.3f, other device %.3f\n", same, other);
    /* Expected: var shared / (var shared + var unshared) = ln(1.35)^2 / (ln(1.35)^2 + ln(1.1)^2) = 0.908. */
    assert_true(same > 0.8);
    assert_true(fabs(other) < 0.2);       /* sd of a null correlation at R = 200: 0.07 */
}

static void test_tier2(void **state)
{
    (void)state;
    hm_tier2 *t = hm_tier2_new(2);
    assert_non_null(t);
    hm_error err;
    /* 5y girls, diag_cath: dose/KAP of organ 0 = 2, 3, 4 (KAP 1, 2, 3):
     * ratio of sums (2 + 6 + 12) / 6 = 3.333; organ 1 = 0.5 x KAP. */
    double kaps[3] = { 1, 2, 3 }, r0[3] = { 2, 3, 4 };
    for (int i = 0; i < 3; i++) {
        double d[2] = { r0[i] * kaps[i], 0.5 * kaps[i] };
        assert_int_equal(hm_tier2_add(t, "5y", 'F', "diag_cath", kaps[i], d, &err), 0);
    }
    /* One 5y boy with another exam: his own class is too small. */
    double d[2] = { 10, 1 };
    assert_int_equal(hm_tier2_add(t, "5y", 'M', "asd_closure", 1, d, &err), 0);
    assert_int_equal(hm_tier2_add(t, "5y", 'M', "asd_closure", 0, d, &err), HM_EINVAL);
    assert_int_equal(hm_tier2_finish(t, 3, &err), 0);
    double coef[2], gi[2], gc[2];
    const char *cls;
    long n;
    assert_int_equal(hm_tier2_lookup(t, "5y", 'F', "diag_cath", coef, gi, gc, &cls, &n, &err), 0);
    assert_string_equal(cls, "5y|F|diag_cath");
    assert_int_equal(n, 3);
    assert_true(fabs(coef[0] - 20.0 / 6.0) < 1e-12);
    assert_true(fabs(coef[1] - 0.5) < 1e-12);
    /* log-sd of (2, 3, 4) and its standard error. */
    double l[3] = { log(2), log(3), log(4) }, m = (l[0] + l[1] + l[2]) / 3;
    double sd = sqrt(((l[0] - m) * (l[0] - m) + (l[1] - m) * (l[1] - m) + (l[2] - m) * (l[2] - m)) / 2);
    assert_true(fabs(gi[0] - exp(sd)) < 1e-12);
    assert_true(fabs(gc[0] - exp(sd / sqrt(3))) < 1e-12);
    assert_true(fabs(gi[1] - 1) < 1e-12);       /* organ 1 is exactly proportional */
    /* The boy falls back to "5y, any sex, any exam": all four. */
    assert_int_equal(hm_tier2_lookup(t, "5y", 'M', "asd_closure", coef, gi, gc, &cls, &n, &err), 0);
    assert_string_equal(cls, "5y|*|*");
    assert_int_equal(n, 4);
    assert_true(fabs(coef[0] - 30.0 / 7.0) < 1e-12);
    /* An age without tier-1 data: everyone. */
    assert_int_equal(hm_tier2_lookup(t, "10y", 'U', "stent", coef, gi, gc, &cls, &n, &err), 0);
    assert_string_equal(cls, "*|*|*");
    hm_tier2_free(t);
    /* No data at all: a clear error. */
    t = hm_tier2_new(1);
    assert_int_equal(hm_tier2_finish(t, 3, &err), 0);
    assert_int_equal(hm_tier2_lookup(t, "5y", 'F', "x", coef, gi, gc, &cls, &n, &err), HM_ENOTFOUND);
    hm_tier2_free(t);
}

static void test_tier3(void **state)
{
    (void)state;
    hm_tier3 *t = hm_tier3_new();
    hm_error err;
    for (int i = 1; i <= 5; i++)
        assert_int_equal(hm_tier3_add(t, "1y", "diag_cath", "IT", 2, i, &err), 0);
    assert_int_equal(hm_tier3_add(t, "1y", "diag_cath", "FR", 2, 100, &err), 0);
    assert_int_equal(hm_tier3_finish(t, 3, &err), 0);
    double med, drawn;
    const char *cls;
    assert_int_equal(hm_tier3_kap(t, "1y", "diag_cath", "IT", 2, 0.01, &med, &drawn, &cls, &err), 0);
    assert_string_equal(cls, "1y|diag_cath|IT|2");
    assert_true(med == 3 && drawn == 1);
    assert_int_equal(hm_tier3_kap(t, "1y", "diag_cath", "IT", 2, 0.999, &med, &drawn, &cls, &err), 0);
    assert_true(drawn == 5);
    /* France has one procedure: falls back to every country of the era. */
    assert_int_equal(hm_tier3_kap(t, "1y", "diag_cath", "FR", 2, 0.5, &med, &drawn, &cls, &err), 0);
    assert_string_equal(cls, "1y|diag_cath|*|2");
    assert_true(med == 3.5);
    /* The draws follow the class: over many u, the mean of the six KAPs. */
    double sum = 0;
    int n = 60000;
    for (int r = 0; r < n; r++) {
        assert_int_equal(hm_tier3_kap(t, "1y", "diag_cath", "FR", 2,
                                      hm_unc_uniform(3, HM_UNC_TIER3_SAMPLE, "P9", r), NULL, &drawn,
                                      NULL, &err), 0);
        sum += drawn;
    }
    assert_true(fabs(sum / n - 115.0 / 6) < 0.6);     /* sigma of the mean: 0.15 */
    hm_tier3_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age_classes),  cmocka_unit_test(test_config),
        cmocka_unit_test(test_streams),      cmocka_unit_test(test_shared_is_shared),
        cmocka_unit_test(test_tier2),        cmocka_unit_test(test_tier3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
