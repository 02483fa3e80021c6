/* test_r.c — harmonic's Poisson fits against R on one fixed data set:
 * gnm (eliminate=) for estimates and deviances, glm + uniroot for profile
 * limits (r_poisson.R).  Agreement to 4 significant digits (relative
 * difference < 5e-5).  Skipped (77) when Rscript or gnm is missing. */
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

static hm_epi_table data;
static char rnames[32][64];
static double rvals[32];
static int nr;

static double rval(const char *name)
{
    for (int i = 0; i < nr; i++)
        if (!strcmp(rnames[i], name))
            return rvals[i];
    fail_msg("R result %s missing", name);
    return NAN;
}

static void agree(const char *what, double ours, double r)
{
    double rel = fabs(ours - r) / fmax(fabs(r), 1e-300);
    printf("%-14s harmonic %.8g  R %.8g  rel.diff %.1e\n", what, ours, r, rel);
    if (!(rel < 5e-5))
        fail_msg("%s: harmonic %.10g vs R %.10g", what, ours, r);
}

static int setup(void **state)
{
    (void)state;
    if (sim_grouped(&data, 20261127, 8, 5, 150, 0.01, 0.3, 0.5, 300) < 0)
        return -1;
    char csv[512], out[512], cmd[2048];
    snprintf(csv, sizeof csv, "%s/grouped.csv", HM_TEST_TMPDIR);
    snprintf(out, sizeof out, "%s/r_results.csv", HM_TEST_TMPDIR);
    FILE *fp = fopen(csv, "w");
    if (!fp)
        return -1;
    hm_epi_table_write_csv(&data, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "Rscript %s/r_poisson.R %s %s", EPI_TEST_DIR, csv, out);
    if (system(cmd) != 0)
        return -1;
    fp = fopen(out, "r");
    if (!fp)
        return -1;
    char line[256];
    if (!fgets(line, sizeof line, fp)) {
        fclose(fp);
        return -1;
    }
    while (nr < 32 && fgets(line, sizeof line, fp)) {
        char *comma = strchr(line, ',');
        if (!comma)
            continue;
        *comma = '\0';
        snprintf(rnames[nr], sizeof rnames[nr], "%.63s", line);
        rvals[nr++] = strtod(comma + 1, NULL);
    }
    fclose(fp);
    return 0;
}

static void fit(const char *model, hm_epi_fit *f)
{
    hm_error err;
    int rc = hm_epi_fit_text(&data, model, NULL, f, &err);
    if (rc < 0)
        fail_msg("%s: %s", model, err.msg);
    assert_true(f->converged);
}

static void test_err_loglin(void **state)
{
    (void)state;
    hm_epi_fit f;
    fit("cases ~ pyr(pyr) + strata(stratum) + loglin(z) + err(dose)", &f);
    agree("m1 gamma", f.p[0].est, rval("m1_gamma"));
    agree("m1 beta", f.p[1].est, rval("m1_beta"));
    agree("m1 deviance", f.deviance, rval("m1_deviance"));
    agree("m1 AIC", f.aic, rval("m1_aic"));   /* full Poisson likelihood, strata counted */
    assert_int_equal(f.p[1].lo_status, HM_EPI_B_OK);
    agree("m1 lower", f.p[1].lo, rval("m1_lower"));
    agree("m1 upper", f.p[1].hi, rval("m1_upper"));
}

static void test_err_modifier(void **state)
{
    (void)state;
    hm_epi_fit f;
    fit("cases ~ pyr(pyr) + strata(stratum) + err(dose | e)", &f);
    agree("m2 beta", f.p[0].est, rval("m2_beta"));
    agree("m2 tau", f.p[1].est, rval("m2_tau"));
    agree("m2 deviance", f.deviance, rval("m2_deviance"));
    agree("m2 upper", f.p[0].hi, rval("m2_upper"));
}

static void test_lq(void **state)
{
    (void)state;
    hm_epi_fit f;
    fit("cases ~ pyr(pyr) + strata(stratum) + lq(dose)", &f);
    agree("m3 b1", f.p[0].est, rval("m3_b1"));
    agree("m3 b2", f.p[1].est, rval("m3_b2"));
    agree("m3 deviance", f.deviance, rval("m3_deviance"));
}

static void test_ear(void **state)
{
    (void)state;
    hm_epi_fit f;
    fit("cases ~ pyr(pyr) + strata(stratum) + ear(dose)", &f);
    agree("m4 beta", f.p[0].est, rval("m4_beta"));
    agree("m4 deviance", f.deviance, rval("m4_deviance"));
}

int main(void)
{
    if (system("Rscript -e 'suppressMessages(library(gnm))' >/dev/null 2>&1") != 0) {
        printf("Rscript or the gnm package is missing: skipped\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_loglin),
        cmocka_unit_test(test_err_modifier),
        cmocka_unit_test(test_lq),
        cmocka_unit_test(test_ear),
    };
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    hm_epi_table_free(&data);
    return rc;
}
