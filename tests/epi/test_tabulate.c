/* test_tabulate.c — person-years and cases of a hand-built cohort of five
 * persons, worked out by hand below (lag 2 y, exclusion 2 y, a
 * time-dependent transplant, an excluded prevalent case, an unexposed
 * person, an outcome outside the group, two dose realizations). */
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

#define Y 365.25
static double D(int y, int m, int d) { return hm_epi_day_from_civil(y, m, d); }

static void write_file(const char *name, const char *text, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", HM_TEST_TMPDIR, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static const char *PERSONS =
    "id,sex,birth,end,country,syndrome,transplant\n"
    "A,M,1990-01-01,2010-01-01,BE,0,2006-01-01\n"
    "B,F,1995-01-01,2012-01-01,BE,1,\n"
    "C,F,1998-01-01,2015-01-01,FR,0,\n"
    "D,M,1999-01-01,2015-01-01,FR,0,\n"
    "E,M,1985-06-15,2009-01-01,FR,0,\n";
/* Two realizations per procedure; the mean is the best estimate. */
static const char *DOSES =
    "id,date,organ,realization,dose_mgy\n"
    "A,2000-01-01,red_bone_marrow,1,8\n"  "A,2000-01-01,red_bone_marrow,2,12\n"
    "A,2003-07-01,red_bone_marrow,1,20\n" "A,2003-07-01,red_bone_marrow,2,20\n"
    "A,2003-07-01,lungs,1,999\n"          "A,2003-07-01,lungs,2,999\n"
    "B,2001-01-01,red_bone_marrow,1,4\n"  "B,2001-01-01,red_bone_marrow,2,6\n"
    "C,2002-01-01,red_bone_marrow,1,50\n" "C,2002-01-01,red_bone_marrow,2,50\n"
    "E,2000-01-01,red_bone_marrow,1,80\n" "E,2000-01-01,red_bone_marrow,2,120\n";
static const char *EVENTS =
    "id,date,morphology,topography\n"
    "B,2008-01-01,9861/3,C42.1\n"   /* AML: a case */
    "C,2003-06-01,9861/3,C42.1\n"   /* before follow-up starts: C excluded */
    "E,2006-01-01,9823/3,C42.1\n";  /* CLL: not in the group, does not end follow-up */

static hm_epi_cohort *cohort;
static hm_epi_outcomes *outcomes;

static int setup(void **state)
{
    (void)state;
    char p[512], d[512], e[512];
    hm_error err;
    write_file("persons.csv", PERSONS, p, sizeof p);
    write_file("doses.csv", DOSES, d, sizeof d);
    write_file("events.csv", EVENTS, e, sizeof e);
    if (hm_epi_cohort_read_csv(p, d, e, "red_bone_marrow", &cohort, &err) < 0) {
        fprintf(stderr, "%s:%ld:%s: %s\n", err.file, err.line, err.field, err.msg);
        return -1;
    }
    return hm_epi_outcomes_load(NULL, &outcomes, &err);
}

static int teardown(void **state)
{
    (void)state;
    hm_epi_cohort_free(cohort);
    hm_epi_outcomes_free(outcomes);
    return 0;
}

/* Finds the row with these labels for (age, dosecat) and transplant value. */
static long row_of(const hm_epi_table *t, const char *age, const char *dcat, int tx)
{
    int ca = hm_epi_table_col(t, "age"), cd = hm_epi_table_col(t, "dosecat"), ct = hm_epi_table_col(t, "transplant");
    for (size_t r = 0; r < t->nrows; r++)
        if (!strcmp(t->levels[ca][(size_t)t->cols[ca][r]], age) &&
            !strcmp(t->levels[cd][(size_t)t->cols[cd][r]], dcat) && t->cols[ct][r] == tx)
            return (long)r;
    return -1;
}

static void near(double a, double b)
{
    if (fabs(a - b) > 1e-9 * (1 + fabs(b)))
        fail_msg("%.12g != %.12g", a, b);
}

static void test_hand_cohort(void **state)
{
    (void)state;
    hm_error err;
    int g = hm_epi_outcomes_find(outcomes, "leukaemia_excl_cll");
    assert_true(g >= 0);
    hm_epi_tab_options o;
    memset(&o, 0, sizeof o);
    o.lag_years = 2;
    o.exclusion_years = 2;
    o.ngroups = 1;
    o.groups[0] = g;
    o.by_transplant = 1;
    assert_int_equal(hm_epi_cuts_parse("0,15", &o.age, "age", &err), 0);
    assert_int_equal(hm_epi_cuts_parse("0;15;40", &o.dose, "dose", &err), 0);
    hm_epi_table t;
    hm_epi_tab_summary s;
    assert_int_equal(hm_epi_tabulate(cohort, outcomes, &o, &t, &s, &err), 0);
    assert_int_equal(s.persons, 5);
    assert_int_equal(s.followed, 3);            /* A, B, E */
    assert_int_equal(s.excluded_prevalent, 1);  /* C */
    assert_int_equal(s.unexposed, 1);           /* D */
    near(s.cases[0], 1);                        /* B's AML; E's CLL is not counted */
    assert_int_equal(t.nrows, 5);

    /* A: follow-up from 2000-01-01 + 2 y to 2010-01-01; turns 15 at
     * birth + 15 y; the 2003-07-01 dose counts from 2003-07-01 + 2 y;
     * transplant on 2006-01-01.  B: from 2001-01-01 + 2 y to the AML on
     * 2008-01-01 (age < 15, dose 5).  E: from 2000-01-01 + 2 y (age 16.5,
     * dose 100) to 2009-01-01. */
    double sA = D(2000, 1, 1) + 2 * Y, a15 = D(1990, 1, 1) + 15 * Y, j2 = D(2003, 7, 1) + 2 * Y;
    double txA = D(2006, 1, 1), endA = D(2010, 1, 1);
    double sB = D(2001, 1, 1) + 2 * Y, endB = D(2008, 1, 1);
    double sE = D(2000, 1, 1) + 2 * Y, endE = D(2009, 1, 1);
    int cpy = hm_epi_table_col(&t, "pyr"), cc = hm_epi_table_col(&t, "cases_leukaemia_excl_cll");
    int cdose = hm_epi_table_col(&t, "dose_mgy"), cr1 = hm_epi_table_col(&t, "dose_mgy_r1");
    int cage = hm_epi_table_col(&t, "age_mean"), csyn = hm_epi_table_col(&t, "syndrome_mean");
    assert_true(cpy >= 0 && cc >= 0 && cdose >= 0 && cr1 >= 0 && cage >= 0 && csyn >= 0);

    long r = row_of(&t, "0-15", "0-15", 0);
    assert_true(r >= 0);
    double pyA = (a15 - sA) / Y, pyB = (endB - sB) / Y;
    near(t.cols[cpy][r], pyA + pyB);
    near(t.cols[cc][r], 1);
    near(t.cols[cdose][r], (pyA * 10 + pyB * 5) / (pyA + pyB));
    near(t.cols[cr1][r], (pyA * 8 + pyB * 4) / (pyA + pyB));
    near(t.cols[csyn][r], pyB / (pyA + pyB));

    r = row_of(&t, "15+", "0-15", 0);
    near(t.cols[cpy][r], (j2 - a15) / Y);
    near(t.cols[cc][r], 0);
    r = row_of(&t, "15+", "15-40", 0);
    near(t.cols[cpy][r], (txA - j2) / Y);
    near(t.cols[cdose][r], 30);
    near(t.cols[cr1][r], 28);
    r = row_of(&t, "15+", "15-40", 1);
    near(t.cols[cpy][r], (endA - txA) / Y);
    r = row_of(&t, "15+", "40+", 0);
    near(t.cols[cpy][r], (endE - sE) / Y);
    near(t.cols[cdose][r], 100);
    near(t.cols[cr1][r], 80);
    near(t.cols[cage][r], (0.5 * (sE + endE) - D(1985, 6, 15)) / Y);
    hm_epi_table_free(&t);

    /* Individual records: A's four pieces, B's and E's one each. */
    o.by_person = 1;
    assert_int_equal(hm_epi_tabulate(cohort, outcomes, &o, &t, &s, &err), 0);
    assert_int_equal(t.nrows, 6);
    int cid = hm_epi_table_col(&t, "id"), cpy2 = hm_epi_table_col(&t, "pyr");
    assert_true(cid >= 0 && cpy2 >= 0);
    double pyA_all = 0;
    for (size_t q = 0; q < t.nrows; q++)
        if (!strcmp(t.levels[cid][(size_t)t.cols[cid][q]], "A"))
            pyA_all += t.cols[cpy2][q];
    near(pyA_all, (endA - sA) / Y);
    hm_epi_table_free(&t);
    o.by_person = 0;

    /* Without lag and exclusion A's first cell starts at 2000-01-01 with 10 mGy. */
    o.lag_years = o.exclusion_years = 0;
    assert_int_equal(hm_epi_tabulate(cohort, outcomes, &o, &t, &s, &err), 0);
    assert_int_equal(s.excluded_prevalent, 0);
    near(s.cases[0], 2);                        /* C's AML now counts */
    /* C: 50 mGy from 2002-01-01 to 2003-06-01; E: 100 mGy from 2000-01-01 to age 15. */
    r = row_of(&t, "0-15", "40+", 0);
    near(t.cols[cpy][r], (D(2003, 6, 1) - D(2002, 1, 1)) / Y + (D(1985, 6, 15) + 15 * Y - D(2000, 1, 1)) / Y);
    near(t.cols[cc][r], 1);
    hm_epi_table_free(&t);
}

/* Treatment covariates of a cohort built record by record: P (followed
 * 2000..2010) has CED 500 before follow-up, CED 1000 from 2004, DIE 150
 * without a day and an SCT in 2006; Q none.  Split at age 15 to show the
 * values follow the time within a person; columns are PY-weighted means of
 * the cumulative values. */
static void test_treatment_covariates(void **state)
{
    (void)state;
    hm_error err;
    hm_epi_cohort *c = hm_epi_cohort_new();
    assert_non_null(c);
    assert_int_equal(hm_epi_cohort_add_person(c, "P", "M", D(1990, 1, 1), D(2010, 1, 1), "BE", 0, NAN, &err), 0);
    assert_int_equal(hm_epi_cohort_add_person(c, "Q", "F", D(1995, 1, 1), D(2012, 1, 1), "BE", 0, NAN, &err), 0);
    assert_int_equal(hm_epi_cohort_add_dose(c, "P", D(2000, 1, 1), 0, 10, &err), 0);
    assert_int_equal(hm_epi_cohort_add_dose(c, "Q", D(2001, 1, 1), 0, 5, &err), 0);
    assert_int_equal(hm_epi_cohort_add_treatment(c, "P", D(2004, 1, 1), 1000, 0, 0, &err), 0);
    assert_int_equal(hm_epi_cohort_add_treatment(c, "P", NAN, 0, 150, 0, &err), 0);
    assert_int_equal(hm_epi_cohort_add_treatment(c, "P", D(1999, 6, 1), 500, 0, 0, &err), 0);
    assert_int_equal(hm_epi_cohort_add_treatment(c, "P", D(2006, 1, 1), 0, 0, 1, &err), 0);
    assert_int_equal(hm_epi_cohort_add_treatment(c, "P", D(2004, 1, 1), -1, 0, 0, &err), HM_EVALIDATE);
    assert_int_equal(hm_epi_cohort_add_treatment(c, "Z", D(2004, 1, 1), 1, 0, 0, &err), HM_EVALIDATE);
    assert_int_equal(hm_epi_cohort_finish(c, &err), 0);
    hm_epi_tab_options o;
    memset(&o, 0, sizeof o);
    o.ngroups = 1;
    o.groups[0] = hm_epi_outcomes_find(outcomes, "leukaemia_excl_cll");
    o.by_person = 1;
    assert_int_equal(hm_epi_cuts_parse("0,15", &o.age, "age", &err), 0);
    hm_epi_table t;
    assert_int_equal(hm_epi_tabulate(c, outcomes, &o, &t, NULL, &err), 0);
    int cid = hm_epi_table_col(&t, "id"), cage = hm_epi_table_col(&t, "age");
    int cced = hm_epi_table_col(&t, "ced_mg_m2"), cdie = hm_epi_table_col(&t, "die_mg_m2");
    int csct = hm_epi_table_col(&t, "sct"), cpy = hm_epi_table_col(&t, "pyr");
    assert_true(cid >= 0 && cage >= 0 && cced >= 0 && cdie >= 0 && csct >= 0);
    /* P: 2000 .. age 15 (1990 + 15 y) .. 2010.  Q: 2001 .. 2012, under 15 until 2010. */
    double s = D(2000, 1, 1), a15 = D(1990, 1, 1) + 15 * Y, e = D(2010, 1, 1);
    double cy = D(2004, 1, 1), tx = D(2006, 1, 1);
    int seen = 0;
    for (size_t r = 0; r < t.nrows; r++) {
        const char *id = t.levels[cid][(size_t)t.cols[cid][r]];
        const char *age = t.levels[cage][(size_t)t.cols[cage][r]];
        if (!strcmp(id, "Q")) {
            near(t.cols[cced][r], 0);
            near(t.cols[cdie][r], 0);
            near(t.cols[csct][r], 0);
            continue;
        }
        seen++;
        if (!strcmp(age, "0-15")) {          /* 2000 .. 2005-01-01: 1000 from 2004 */
            near(t.cols[cpy][r], (a15 - s) / Y);
            near(t.cols[cced][r], 500 + 1000 * (a15 - cy) / (a15 - s));
            near(t.cols[csct][r], 0);
        } else {                             /* 2005 .. 2010: SCT from 2006 */
            near(t.cols[cpy][r], (e - a15) / Y);
            near(t.cols[cced][r], 1500);
            near(t.cols[csct][r], (e - tx) / (e - a15));
        }
        near(t.cols[cdie][r], 150);
    }
    assert_int_equal(seen, 2);
    hm_epi_table_free(&t);
    hm_epi_cohort_free(c);
}

static void test_bad_files(void **state)
{
    (void)state;
    char p[512], d[512];
    hm_error err;
    hm_epi_cohort *c = NULL;
    write_file("bad_persons.csv", "id,sex,birth,end\nA,M,1990-02-30,2000-01-01\n", p, sizeof p);
    assert_int_equal(hm_epi_cohort_read_csv(p, NULL, NULL, NULL, &c, &err), HM_EPARSE);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.field, "birth");
    assert_null(c);
    write_file("ok_persons.csv", "id,sex,birth,end\nA,M,1990-02-03,2000-01-01\n", p, sizeof p);
    write_file("bad_doses.csv", "id,date,dose_mgy\nA,1995-01-01,1.5\nZ,1995-01-01,2\n", d, sizeof d);
    assert_int_equal(hm_epi_cohort_read_csv(p, d, NULL, NULL, &c, &err), HM_EVALIDATE);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "unknown person"));
    write_file("bad_doses2.csv", "id,date,dose_mgy\nA,1995-01-01,-1\n", d, sizeof d);
    assert_int_equal(hm_epi_cohort_read_csv(p, d, NULL, NULL, &c, &err), HM_EVALIDATE);
    assert_string_equal(err.field, "dose_mgy");
    write_file("bad_doses3.csv", "id,date,organ,dose_mgy\nA,1995-01-01,lungs,1\nA,1996-01-01,heart,1\n", d,
               sizeof d);
    assert_int_equal(hm_epi_cohort_read_csv(p, d, NULL, NULL, &c, &err), HM_EINVAL);
    assert_non_null(strstr(err.msg, "--organ"));
}

static void test_outcome_codes(void **state)
{
    (void)state;
    hm_error err;
    int leuk = hm_epi_outcomes_find(outcomes, "leukaemia_excl_cll");
    int cns = hm_epi_outcomes_find(outcomes, "cns");
    int solid = hm_epi_outcomes_find(outcomes, "all_solid");
    assert_int_equal(hm_epi_outcomes_match(outcomes, leuk, "9861/3", "C42.1", &err), 1);
    assert_int_equal(hm_epi_outcomes_match(outcomes, leuk, "9823/3", "C42.1", &err), 0);
    assert_int_equal(hm_epi_outcomes_match(outcomes, cns, "9440/3", "C71.9", &err), 1);
    assert_int_equal(hm_epi_outcomes_match(outcomes, cns, "9530/0", "C70.0", &err), 1);   /* benign meningioma */
    assert_int_equal(hm_epi_outcomes_match(outcomes, cns, "9440/3", "C34.1", &err), 0);
    assert_int_equal(hm_epi_outcomes_match(outcomes, solid, "8140/3", "C18.7", &err), 1);
    assert_int_equal(hm_epi_outcomes_match(outcomes, solid, "9861/3", "C42.1", &err), 0);
    assert_int_equal(hm_epi_outcomes_match(outcomes, solid, "8140/0", "C18.7", &err), 0);  /* benign */
    assert_true(hm_epi_outcomes_match(outcomes, solid, "81x0/3", "C18.7", &err) < 0);
    assert_string_equal(err.field, "morphology");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_cohort),
        cmocka_unit_test(test_treatment_covariates),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_outcome_codes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
