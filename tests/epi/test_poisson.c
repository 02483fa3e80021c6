/* test_poisson.c — Poisson ERR fits: exact small cases, coverage of the
 * profile CI over repeated simulations, boundary reporting, realizations. */
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
#include "sim.h"

/* Builds a table from rows of doubles. */
static void table_from(hm_epi_table *t, const char **names, int nc, const double *v, int nr)
{
    hm_error err;
    hm_epi_table_init(t);
    for (int c = 0; c < nc; c++)
        assert_true(hm_epi_table_add_col(t, names[c], &err) >= 0);
    assert_int_equal(hm_epi_table_resize(t, (size_t)nr, &err), 0);
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < nc; c++)
            t->cols[c][r] = v[r * nc + c];
}

/* One stratum, two cells: RR = (30/1000)/(10/1000) = 3 = 1 + 100 beta, so
 * beta = 0.02 exactly and the model is saturated (deviance 0).  The profile
 * likelihood is then the binomial likelihood of 30 of 40 cases falling in
 * the exposed cell with p = RR/(1+RR); its 95% limits solve
 * 2[l(p^) - l(p)] = 3.841 and are checked by their defining property. */
static void test_two_cells_exact(void **state)
{
    (void)state;
    const char *names[] = { "dose", "pyr", "cases" };
    double v[] = { 0, 1000, 10, 100, 1000, 30 };
    hm_epi_table t;
    table_from(&t, names, 3, v, 2);
    hm_epi_fit fit;
    hm_error err;
    assert_int_equal(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + err(dose)", NULL, &fit, &err), 0);
    assert_true(fit.converged);
    assert_int_equal(fit.np, 1);
    assert_true(fabs(fit.p[0].est - 0.02) < 1e-9);
    assert_true(fabs(fit.deviance) < 1e-9);
    /* Binomial profile: l(p) = 30 ln p + 10 ln(1-p). */
    double lhat = 30 * log(0.75) + 10 * log(0.25);
    for (int side = 0; side < 2; side++) {
        double b = side ? fit.p[0].hi : fit.p[0].lo;
        double rr = 1 + 100 * b, p = rr / (1 + rr);
        double dev = 2 * (lhat - (30 * log(p) + 10 * log(1 - p)));
        assert_true(fabs(dev - 3.841458820694124) < 1e-6);
        assert_int_equal(side ? fit.p[0].hi_status : fit.p[0].lo_status, HM_EPI_B_OK);
    }
    assert_true(fit.p[0].lo < 0.02 && fit.p[0].hi > 0.02);
    /* 90% limits: the drop is 2.706 instead. */
    hm_epi_fit_options o;
    hm_epi_fit_options_default(&o);
    o.ci_level = 0.90;
    hm_epi_fit f90;
    assert_int_equal(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + err(dose)", &o, &f90, &err), 0);
    for (int side = 0; side < 2; side++) {
        double b = side ? f90.p[0].hi : f90.p[0].lo;
        double rr = 1 + 100 * b, p = rr / (1 + rr);
        assert_true(fabs(2 * (lhat - (30 * log(p) + 10 * log(1 - p))) - 2.705543454095404) < 1e-6);
    }
    assert_true(f90.p[0].lo > fit.p[0].lo && f90.p[0].hi < fit.p[0].hi);
    /* LRT of trend: 2 [l(p^) - l(1/2)]. */
    double lrt = 2 * (lhat - 40 * log(0.5));
    assert_true(fabs(fit.lrt_chi2 - lrt) < 1e-7);
    hm_epi_table_free(&t);
}

/* With no cases at the highest dose the likelihood stays finite as
 * 1 + beta d_max -> 0: the lower limit is reported as not estimable. */
static void test_boundary_not_estimable(void **state)
{
    (void)state;
    const char *names[] = { "dose", "pyr", "cases" };
    double v[] = { 0, 1000, 3, 10, 1000, 2, 50, 200, 0 };
    hm_epi_table t;
    table_from(&t, names, 3, v, 3);
    hm_epi_fit fit;
    hm_error err;
    assert_int_equal(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + err(dose)", NULL, &fit, &err), 0);
    assert_int_equal(fit.p[0].lo_status, HM_EPI_B_BOUNDARY);
    assert_true(fabs(fit.p[0].lo - (-1.0 / 50)) < 1e-6);   /* the RR > 0 edge */
    assert_int_equal(fit.p[0].hi_status, HM_EPI_B_OK);
    hm_epi_table_free(&t);
}

/* cat(): in one stratum each category's RR is its rate ratio to the reference. */
static void test_categorical_rr(void **state)
{
    (void)state;
    const char *names[] = { "dgrp", "pyr", "cases" };
    double v[] = { 0, 2000, 20, 1, 1000, 15, 2, 500, 20 };
    hm_epi_table t;
    table_from(&t, names, 3, v, 3);
    hm_epi_fit fit;
    hm_error err;
    assert_int_equal(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + cat(dgrp)", NULL, &fit, &err), 0);
    assert_int_equal(fit.np, 2);
    assert_true(fabs(1 + fit.p[0].est - (15.0 / 1000) / (20.0 / 2000)) < 1e-8);
    assert_true(fabs(1 + fit.p[1].est - (20.0 / 500) / (20.0 / 2000)) < 1e-8);
    assert_int_equal(fit.lrt_df, 2);
    hm_epi_table_free(&t);
}

/* Saturated fits have closed forms: EAR rate B + beta d through two cells,
 * linear-quadratic RR through three. */
static void test_ear_lq_exact(void **state)
{
    (void)state;
    const char *names[] = { "dose", "pyr", "cases" };
    double v[] = { 0, 1000, 10, 100, 1000, 30, 200, 500, 40 };
    hm_epi_table t;
    table_from(&t, names, 3, v, 2);
    hm_epi_fit fit;
    hm_error err;
    assert_int_equal(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + ear(dose)", NULL, &fit, &err), 0);
    assert_true(fit.converged);
    assert_true(fabs(fit.p[0].est - (0.03 - 0.01) / 100) < 1e-10);   /* per PY per mGy */
    assert_true(fabs(fit.deviance) < 1e-8);
    hm_epi_table_free(&t);
    /* RR = 3 at 100 mGy and 8 at 200 mGy: b1 100 + b2 1e4 = 2, b1 200 + b2 4e4 = 7. */
    table_from(&t, names, 3, v, 3);
    assert_int_equal(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + lq(dose)", NULL, &fit, &err), 0);
    assert_true(fit.converged);
    double b2 = (7 - 2 * 2) / (4e4 - 2e4), b1 = (2 - b2 * 1e4) / 100;
    assert_true(fabs(fit.p[0].est - b1) < 1e-8 && fabs(fit.p[1].est - b2) < 1e-10);
    assert_true(fabs(fit.deviance) < 1e-8);
    hm_epi_table_free(&t);
}

/* Coverage: 95% profile CIs over 300 simulated cohorts with known beta.
 * Binomial(300, 0.95) has mean 285 and SD 3.77; accept 272..298 (within
 * 3.5 SD), which fails for intervals that are too narrow or too wide. */
static void test_coverage(void **state)
{
    (void)state;
    const double beta = 0.005;  /* 0.5 per 100 mGy */
    int covered = 0, n = 300, bound = 0;
    for (int s = 0; s < n; s++) {
        hm_epi_table t;
        assert_int_equal(sim_grouped(&t, 1000 + (uint64_t)s, 10, 5, 200, beta, 0.3, 0, 150), 0);
        hm_epi_fit fit;
        hm_error err;
        int rc = hm_epi_fit_text(&t, "cases ~ pyr(pyr) + strata(stratum) + loglin(z) + err(dose)", NULL,
                                 &fit, &err);
        assert_int_equal(rc, 0);
        assert_true(fit.converged);
        hm_epi_param *b = &fit.p[1];
        bound += b->lo_status != HM_EPI_B_OK;
        double lo = b->lo_status == HM_EPI_B_OK || b->lo_status == HM_EPI_B_BOUNDARY ? b->lo : -INFINITY;
        covered += lo <= beta && beta <= b->hi;
        hm_epi_table_free(&t);
    }
    printf("coverage: %d of %d (%d lower limits at the boundary)\n", covered, n, bound);
    assert_true(covered >= 272 && covered <= 298);
}

/* Doses scaled by f in realization k give beta/f exactly. */
static void test_realizations(void **state)
{
    (void)state;
    hm_epi_table t;
    assert_int_equal(sim_grouped(&t, 7, 6, 5, 100, 0.01, 0, 0, 400), 0);
    hm_error err;
    double f[5] = { 0.5, 0.8, 1.0, 1.25, 2.0 };
    char *names[5];
    for (int k = 0; k < 5; k++) {
        names[k] = malloc(16);
        snprintf(names[k], 16, "dose_r%d", k + 1);
        int c = hm_epi_table_add_col(&t, names[k], &err);
        assert_true(c >= 0);
        for (size_t r = 0; r < t.nrows; r++)
            t.cols[c][r] = t.cols[1][r] * f[k];
    }
    hm_epi_model m;
    assert_int_equal(hm_epi_model_parse("cases ~ pyr(pyr) + strata(stratum) + err(dose)", &t, &m, &err), 0);
    hm_epi_fit fit;
    assert_int_equal(hm_epi_fit_poisson(&t, &m, NULL, &fit, &err), 0);
    double beta[5];
    hm_epi_realization_summary sum;
    assert_int_equal(hm_epi_fit_realizations(&t, &m, "dose", names, 5, beta, &sum, &err), 0);
    assert_int_equal(sum.n, 5);
    for (int k = 0; k < 5; k++)
        assert_true(fabs(beta[k] * f[k] - fit.p[0].est) < 1e-7 * fabs(fit.p[0].est));
    assert_true(fabs(sum.median - fit.p[0].est) < 1e-7 * fabs(fit.p[0].est));
    for (int k = 0; k < 5; k++)
        free(names[k]);
    hm_epi_table_free(&t);
}

static void test_bad_input(void **state)
{
    (void)state;
    const char *names[] = { "dose", "pyr", "cases" };
    double v[] = { 0, 1000, 10, 100, 0, 3 };
    hm_epi_table t;
    table_from(&t, names, 3, v, 2);
    hm_epi_fit fit;
    hm_error err;
    assert_int_equal(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + err(dose)", NULL, &fit, &err), HM_EVALIDATE);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.field, "pyr");
    assert_true(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + err(dose", NULL, &fit, &err) == HM_EPARSE);
    assert_non_null(strstr(err.msg, "expected ')'"));
    assert_true(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + foo(dose)", NULL, &fit, &err) == HM_EPARSE);
    assert_true(hm_epi_fit_text(&t, "cases ~ pyr(pyr) + err(nodose)", NULL, &fit, &err) == HM_ENOTFOUND);
    assert_string_equal(err.field, "nodose");
    hm_epi_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_cells_exact),
        cmocka_unit_test(test_boundary_not_estimable),
        cmocka_unit_test(test_categorical_rr),
        cmocka_unit_test(test_ear_lq_exact),
        cmocka_unit_test(test_realizations),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
