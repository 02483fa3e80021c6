/* test_cli.c — `harmonic epi` end to end on a simulated cohort: tabulate,
 * fit (text, JSON), realizations, cox, plot (PNG, SVG); bad input gives
 * exit status 1 or 2, a message naming file/line/field, and no output file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hm_epi.h"
#include "sim.h"

static char dir[400], persons[512], doses[512], doses2[512], events[512];

/* Runs `harmonic ARGS > out 2> errfile`; returns the exit status. */
static int run(const char *args, const char *out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd %s && %s %s > %s 2> %s/stderr.txt", dir, HM_HARMONIC_EXE, args,
             out ? out : "/dev/null", dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, fp);
    s[got] = '\0';
    fclose(fp);
    return s;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", HM_TEST_TMPDIR);
    snprintf(persons, sizeof persons, "%s/persons.csv", dir);
    snprintf(doses, sizeof doses, "%s/doses.csv", dir);
    snprintf(doses2, sizeof doses2, "%s/doses2.csv", dir);
    snprintf(events, sizeof events, "%s/events.csv", dir);
    return sim_cohort_files(persons, doses, doses2, events, 500, 99);
}

static void test_tabulate_fit_plot(void **state)
{
    (void)state;
    assert_int_equal(run("epi tabulate --persons persons.csv --doses doses.csv --events events.csv "
                         "--outcome leukaemia_excl_cll,all_cancer --by-transplant --calendar none -o pyr.csv", NULL), 0);
    hm_epi_table t;
    hm_error err;
    char path[600];
    snprintf(path, sizeof path, "%s/pyr.csv", dir);
    assert_int_equal(hm_epi_table_read_csv(path, &t, &err), 0);
    int cp = hm_epi_table_col(&t, "pyr"), cl = hm_epi_table_col(&t, "cases_leukaemia_excl_cll"),
        ca = hm_epi_table_col(&t, "cases_all_cancer");
    assert_true(cp >= 0 && cl >= 0 && ca >= 0);
    assert_int_equal(hm_epi_table_col(&t, "calendar"), -1);
    double cl_sum = 0, ca_sum = 0;
    for (size_t r = 0; r < t.nrows; r++)
        cl_sum += t.cols[cl][r], ca_sum += t.cols[ca][r];
    assert_true(cl_sum > 20 && cl_sum == ca_sum);   /* every simulated cancer is a leukaemia */
    hm_epi_table_free(&t);

    const char *model = "--model 'cases_leukaemia_excl_cll ~ pyr(pyr) + strata(age, sex) + loglin(transplant) + err(dose_mgy)'";
    char args[1024];
    snprintf(args, sizeof args, "epi fit pyr.csv %s --format json", model);
    assert_int_equal(run(args, "fit.json"), 0);
    char *js = slurp("fit.json");
    assert_non_null(js);
    assert_non_null(strstr(js, "\"name\": \"beta:dose_mgy\""));
    assert_non_null(strstr(js, "\"converged\": true"));
    free(js);
    snprintf(args, sizeof args, "epi fit pyr.csv %s", model);
    assert_int_equal(run(args, "fit.txt"), 0);
    char *txt = slurp("fit.txt");
    assert_non_null(strstr(txt, "dose trend: LRT"));
    free(txt);

    assert_int_equal(run("epi cox --persons persons.csv --doses doses.csv --events events.csv --strata sex "
                         "--transplant --format csv", "cox.csv"), 0);
    char *cx = slurp("cox.csv");
    assert_non_null(strstr(cx, "beta:dose_mgy"));
    free(cx);

    assert_int_equal(run("epi plot pyr.csv --base 'cases_leukaemia_excl_cll ~ pyr(pyr) + strata(age, sex)' "
                         "-o plot.png --title test", NULL), 0);
    char *png = slurp("plot.png");
    assert_non_null(png);
    assert_memory_equal(png, "\x89PNG", 4);
    free(png);
    assert_int_equal(run("epi plot pyr.csv --base 'cases_leukaemia_excl_cll ~ pyr(pyr) + strata(age, sex)' "
                         "-o plot.svg", NULL), 0);
    char *svg = slurp("plot.svg");
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg"));
    free(svg);
}

static void test_realizations_cli(void **state)
{
    (void)state;
    /* Realization 1 = the doses, 2 = doubled: beta of r2 is half that of r1. */
    char path[600];
    snprintf(path, sizeof path, "%s/doses_r.csv", dir);
    FILE *out = fopen(path, "w"), *a = fopen(doses, "r"), *b = fopen(doses2, "r");
    assert_true(out && a && b);
    char la[256], lb[256];
    assert_non_null(fgets(la, sizeof la, a));
    assert_non_null(fgets(lb, sizeof lb, b));
    fprintf(out, "id,date,dose_mgy,realization\n");
    while (fgets(la, sizeof la, a) && fgets(lb, sizeof lb, b)) {
        la[strcspn(la, "\n")] = lb[strcspn(lb, "\n")] = '\0';
        fprintf(out, "%s,1\n%s,2\n", la, lb);
    }
    fclose(a);
    fclose(b);
    fclose(out);
    assert_int_equal(run("epi tabulate --persons persons.csv --doses doses_r.csv --events events.csv -o pyr_r.csv",
                         NULL), 0);
    assert_int_equal(run("epi fit pyr_r.csv --model 'cases_leukaemia_excl_cll ~ pyr(pyr) + strata(age, sex) + "
                         "err(dose_mgy)' --realizations dose_mgy_r", "real.txt"), 0);
    char *s = slurp("real.txt");
    char *p = strstr(s, "dose realizations (2 fitted, 0 failed)");
    assert_non_null(p);
    free(s);
    assert_int_equal(run("epi cox --persons persons.csv --doses doses_r.csv --events events.csv --strata sex "
                         "--realizations", "cox_real.txt"), 0);
    s = slurp("cox_real.txt");
    assert_non_null(strstr(s, "dose realizations (2 of 2 fitted)"));
    free(s);
}

static void test_bad_input(void **state)
{
    (void)state;
    FILE *fp = fopen(persons, "a");
    fprintf(fp, "BAD,M,2001-13-01,2020-01-01,\n");
    fclose(fp);
    long lines = 0;
    char *s = slurp("persons.csv");
    for (char *c = s; *c; c++)
        lines += *c == '\n';
    free(s);
    assert_int_equal(run("epi tabulate --persons persons.csv --doses doses.csv --events events.csv -o bad.csv", NULL), 1);
    char *e = slurp("stderr.txt");
    char want[128];
    snprintf(want, sizeof want, "persons.csv:%ld:birth:", lines);
    assert_non_null(strstr(e, want));
    free(e);
    assert_null(slurp("bad.csv"));
    assert_int_equal(run("epi fit pyr.csv --model 'cases_leukaemia_excl_cll ~ pyr(pyr) + err(dose_mgy'", NULL), 1);
    e = slurp("stderr.txt");
    assert_non_null(strstr(e, "expected ')'"));
    free(e);
    assert_int_equal(run("epi fit pyr.csv", NULL), 2);
    assert_int_equal(run("epi tabulate --persons persons.csv --doses doses.csv --outcome nosuch", NULL), 2);
    assert_int_equal(run("epi frobnicate", NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tabulate_fit_plot),
        cmocka_unit_test(test_realizations_cli),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
