/*
 * test_qol_items.c — item responses from CSV files (harmonic qol score
 * --items): every bad row reported at its line with nothing scored, rows of
 * interleaved assessments grouped, Excel's ';' files read, and the scores
 * equal to the hand-computed values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hm_qol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char issues[16][320];
static int nissues;

static void on_issue(void *arg, long line, const char *field, const char *msg)
{
    (void)arg;
    if (nissues < 16)
        snprintf(issues[nissues++], 320, "%ld:%s: %s", line, field, msg);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", HM_TEST_TMPDIR, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static hm_qol_itemset *read_set(const char *name, const char *text, long *n_errors)
{
    const hm_qol_defs *d;
    hm_error err;
    assert_int_equal(hm_qol_defs_shared(&d, &err), HM_OK);
    hm_qol_itemset *set = NULL;
    nissues = 0;
    int rc = hm_qol_read_items(d, write_file(name, text), NULL, on_issue, NULL, n_errors, &set,
                               &err);
    if (rc)
        fail_msg("%s:%ld:%s: %s", err.file, err.line, err.field, err.msg);
    return set;
}

typedef struct got {
    char   key[16][96];        /* "assessment/scale" */
    double score[16];
    int    n;
} got;

static int keep(void *arg, const hm_qol_item *a, const hm_qol_score *sc, size_t n)
{
    got *g = arg;
    for (size_t i = 0; i < n && g->n < 16; i++) {
        snprintf(g->key[g->n], 96, "%s/%s", a->assessment_id, sc[i].scale);
        g->score[g->n++] = sc[i].computed ? sc[i].score : -1;
    }
    return 0;
}

static double get(const got *g, const char *key)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->key[i], key))
            return g->score[i];
    fail_msg("no score %s", key);
    return NAN;
}

#define HDR "assessment_id,item_id,instrument,form,respondent,assessment_day,response\n"

static void test_interleaved_assessments(void **state)
{
    (void)state;
    /* Two assessments of a 9-year-old (day 3300 / 365.25 = 9.03 years), rows mixed. */
    long n_errors;
    hm_qol_itemset *set = read_set("mixed.csv",
        HDR
        "B,MFS_COG_1,pedsql_fatigue,mfs_child_self,child,3300,2\n"
        "A,GC_EMO_1,pedsql_generic,gc_child_parent,parent,3300,0\n"
        "B,MFS_COG_2,pedsql_fatigue,mfs_child_self,child,3300,1\n"
        "A,GC_EMO_2,pedsql_generic,gc_child_parent,parent,3300,3\n"
        "B,MFS_COG_3,pedsql_fatigue,mfs_child_self,child,3300,NA\n"
        "A,GC_EMO_3,pedsql_generic,gc_child_parent,parent,3300,\n", &n_errors);
    assert_int_equal(n_errors, 0);
    assert_int_equal(hm_qol_itemset_size(set), 6);
    const hm_qol_defs *d;
    hm_error err;
    assert_int_equal(hm_qol_defs_shared(&d, &err), HM_OK);
    got g = { .n = 0 };
    assert_int_equal(hm_qol_itemset_score(d, set, keep, &g, &err), HM_OK);
    /* A emotional: 2 of 5 answered (3 missing > 2.5) -> not computed */
    assert_true(get(&g, "A/emotional") == -1);
    /* B cognitive: 2 of 6 answered (4 missing) -> not computed either; 3 would be scored */
    assert_true(get(&g, "B/cognitive_fatigue") == -1);
    hm_qol_itemset_free(set);

    set = read_set("three.csv",
        HDR
        "B,MFS_COG_1,pedsql_fatigue,mfs_child_self,child,3300,2\n"
        "B,MFS_COG_2,pedsql_fatigue,mfs_child_self,child,3300,1\n"
        "B,MFS_COG_3,pedsql_fatigue,mfs_child_self,child,3300,0\n", &n_errors);
    g.n = 0;
    assert_int_equal(hm_qol_itemset_score(d, set, keep, &g, &err), HM_OK);
    /* (50 + 75 + 100) / 3 = 75 */
    assert_true(fabs(get(&g, "B/cognitive_fatigue") - 75.0) < 1e-12);
    hm_qol_itemset_free(set);
}

static void test_bad_rows_reported(void **state)
{
    (void)state;
    long n_errors;
    hm_qol_itemset *set = read_set("bad.csv",
        HDR
        "A,GC_PHYS_1,pedsql_generic,gc_young_child_self,child,2200,3\n"  /* 3 on the face scale */
        "A,GC_PHYS_2,pedsql_generic,gc_young_child_self,child,2200,4\n"  /* good */
        "C,GC_SCH_5,pedsql_generic,gc_toddler_parent,parent,1000,1\n"    /* not on the form */
        "D,GC_SCH_1,pedsql_generic,gc_toddler_parent,child,1000,1\n"     /* parent form */
        "E,GC_SCH_1,pedsql_generic,gc_teen_self,child,3300,1\n"          /* 9 years old */
        "F,,pedsql_generic,gc_teen_self,child,5000,1\n"                  /* no item id */
        "G,GC_SCH_1,pedsql_generic,gc_teen_self,child,-4,1\n", &n_errors);
    assert_int_equal(n_errors, 6);
    assert_int_equal(hm_qol_itemset_size(set), 1);
    const char *want[] = {
        "2:response: 3 is not an answer of form gc_young_child_self: expected one of 0;2;4",
        "4:item_id: 'GC_SCH_5' is not an item of form gc_toddler_parent",
        "5:respondent: child may not answer form gc_toddler_parent, which is answered by parent",
        ("6:form: gc_teen_self is for ages 13 to 18, but the patient was 9 at the assessment: "
         "the form for that age is gc_child_self"),
        "7:item_id: required",
        "8:assessment_day: expected the days since birth",
    };
    for (int i = 0; i < 6; i++)
        if (!strstr(issues[i], want[i]))
            fail_msg("issue %d: got '%s', expected '%s'", i, issues[i], want[i]);
    hm_qol_itemset_free(set);
}

static void test_header_checked(void **state)
{
    (void)state;
    long n_errors;
    hm_qol_itemset *set = read_set("hdr.csv",
        "assessment_id,item,instrument,form,response,score\nA,GC_PHYS_1,pedsql_generic,"
        "gc_teen_self,1,2\n", &n_errors);
    /* unknown columns item and score, required item_id missing; no row read */
    assert_int_equal(n_errors, 3);
    assert_non_null(strstr(issues[0], "1:item: not a column of qol_item"));
    assert_non_null(strstr(issues[2], "1:item_id: required column missing"));
    assert_int_equal(hm_qol_itemset_size(set), 0);
    hm_qol_itemset_free(set);
}

static void test_excel_semicolons(void **state)
{
    (void)state;
    long n_errors;
    /* An Excel export: ';'-separated with CRLF; the teen parent form without ages. */
    hm_qol_itemset *set = read_set("excel.csv",
        "assessment_id;item_id;instrument;form;response\r\n"
        "T1;GC_SOC_1;pedsql_generic;gc_teen_parent;0\r\n"
        "T1;GC_SOC_2;pedsql_generic;gc_teen_parent;1\r\n"
        "T1;GC_SOC_3;pedsql_generic;gc_teen_parent;NA\r\n", &n_errors);
    assert_int_equal(n_errors, 0);
    const hm_qol_defs *d;
    hm_error err;
    assert_int_equal(hm_qol_defs_shared(&d, &err), HM_OK);
    got g = { .n = 0 };
    assert_int_equal(hm_qol_itemset_score(d, set, keep, &g, &err), HM_OK);
    /* social: 2 of 5 answered, 3 missing -> not computed; physical has no item -> missing */
    assert_true(get(&g, "T1/social") == -1);
    assert_true(get(&g, "T1/physical") == -1);
    hm_qol_itemset_free(set);
    /* the same item twice in one assessment stops the scoring at its line */
    set = read_set("twice.csv", HDR
                   "T2,GC_SOC_1,pedsql_generic,gc_teen_parent,parent,,0\n"
                   "T2,GC_SOC_1,pedsql_generic,gc_teen_parent,parent,,1\n", &n_errors);
    assert_int_equal(n_errors, 0);
    assert_int_equal(hm_qol_itemset_score(d, set, keep, &g, &err), HM_EVALIDATE);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.field, "item_id");
    hm_qol_itemset_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interleaved_assessments),
        cmocka_unit_test(test_bad_rows_reported),
        cmocka_unit_test(test_header_checked),
        cmocka_unit_test(test_excel_semicolons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
