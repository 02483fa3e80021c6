/* test_cox.c — Cox linear ERR: a simulated cohort (time-dependent lagged
 * dose and transplant, sex strata) fitted by harmonic and by an independent
 * R partial-likelihood script (r_cox.R); estimates, log-likelihood and
 * profile limits agree to 4 significant digits.  Also: the fit recovers a
 * doubling of every dose as beta/2, under the sanitizers too. */
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

#define Y 365.25
static char persons[512], doses[512], doses2[512], events[512];

static int setup(void **state)
{
    (void)state;
    snprintf(persons, sizeof persons, "%s/persons.csv", HM_TEST_TMPDIR);
    snprintf(doses, sizeof doses, "%s/doses.csv", HM_TEST_TMPDIR);
    snprintf(doses2, sizeof doses2, "%s/doses2.csv", HM_TEST_TMPDIR);
    snprintf(events, sizeof events, "%s/events.csv", HM_TEST_TMPDIR);
    return sim_cohort_files(persons, doses, doses2, events, 600, 4242);
}

static void fit_file(const char *dosefile, hm_epi_fit *fit)
{
    hm_error err;
    hm_epi_cohort *c;
    hm_epi_outcomes *oc;
    assert_int_equal(hm_epi_cohort_read_csv(persons, dosefile, events, NULL, &c, &err), 0);
    assert_int_equal(hm_epi_outcomes_load(NULL, &oc, &err), 0);
    hm_epi_cox_options o;
    memset(&o, 0, sizeof o);
    o.group = hm_epi_outcomes_find(oc, "leukaemia_excl_cll");
    o.lag_years = 2;
    o.exclusion_years = 2;
    o.strata_sex = 1;
    o.use_transplant = 1;
    o.realization = -1;
    hm_epi_fit_options_default(&o.fit);
    int rc = hm_epi_fit_cox(c, oc, &o, fit, &err);
    if (rc < 0)
        fail_msg("cox: %s", err.msg);
    assert_true(fit->converged);
    hm_epi_cohort_free(c);
    hm_epi_outcomes_free(oc);
}

static void test_dose_scaling(void **state)
{
    (void)state;
    hm_epi_fit f1, f2;
    fit_file(doses, &f1);
    fit_file(doses2, &f2);
    printf("cox: %g cases, beta %.6g per mGy (%.6g, %.6g), gamma_tx %.4g\n", f1.cases, f1.p[1].est,
           f1.p[1].lo, f1.p[1].hi, f1.p[0].est);
    assert_true(f1.cases > 40);
    assert_true(fabs(f2.p[1].est * 2 - f1.p[1].est) < 1e-6 * fabs(f1.p[1].est));
    assert_true(fabs(f2.loglik - f1.loglik) < 1e-8 * fabs(f1.loglik));
    assert_true(fabs(f2.p[1].hi * 2 - f1.p[1].hi) < 1e-6 * fabs(f1.p[1].hi));
}

static double rv(const char *path, const char *name)
{
    FILE *fp = fopen(path, "r");
    char line[256];
    double v = NAN;
    while (fp && fgets(line, sizeof line, fp)) {
        char *c = strchr(line, ',');
        if (c && (*c = '\0', !strcmp(line, name)))
            v = strtod(c + 1, NULL);
    }
    if (fp)
        fclose(fp);
    return v;
}

static void agree(const char *what, double ours, double r)
{
    double rel = fabs(ours - r) / fmax(fabs(r), 1e-300);
    printf("%-10s harmonic %.8g  R %.8g  rel.diff %.1e\n", what, ours, r, rel);
    if (!(rel < 5e-5))
        fail_msg("%s: harmonic %.10g vs R %.10g", what, ours, r);
}

static void test_against_r(void **state)
{
    (void)state;
    if (system("Rscript --version >/dev/null 2>&1") != 0) {
        skip();
        return;
    }
    char out[512], cmd[2600];
    snprintf(out, sizeof out, "%s/r_cox.csv", HM_TEST_TMPDIR);
    snprintf(cmd, sizeof cmd, "Rscript %s/r_cox.R %s %s %s 2 2 %s", EPI_TEST_DIR, persons, doses, events, out);
    assert_int_equal(system(cmd), 0);
    hm_epi_fit f;
    fit_file(doses, &f);
    agree("cases", f.cases, rv(out, "cases"));
    agree("beta", f.p[1].est, rv(out, "beta"));
    agree("gamma", f.p[0].est, rv(out, "gamma"));
    agree("loglik", f.loglik, rv(out, "loglik"));
    agree("upper", f.p[1].hi, rv(out, "upper"));
    double lo = rv(out, "lower");
    if (isnan(lo))
        assert_int_equal(f.p[1].lo_status, HM_EPI_B_BOUNDARY);
    else
        agree("lower", f.p[1].lo, lo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dose_scaling),
        cmocka_unit_test(test_against_r),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
