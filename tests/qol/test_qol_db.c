/*
 * test_qol_db.c — qol_item through the registry import and qol_score written
 * by hm_qol_score_db, on the back end HM_TEST_DB names: a bad file (item not
 * on its form, face-scale answer 3, form for another age, wrong respondent)
 * is refused with every problem at its line and nothing stored; the scores
 * of the stored items equal the hand-computed values; scoring again gives
 * the same rows; a scale that loses too many items loses its row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_testdb.h"
#include "hm_qol.h"

#include <math.h>

#define PSEUDO(n) "00000000000000000000000000000000000000000000000000000000000000" n

static int import(hm_db *db, const char *centre, const char *table, const char *text,
                  hm_import_report *rep)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_%s.csv", HM_TEST_TMPDIR, table, centre);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    hm_import_report_init(rep);
    hm_error err;
    hm_error_clear(&err);
    int rc = hm_registry_import_csv(db, centre, table, path, rep, &err);
    if (rc && rc != HM_EVALIDATE)
        fprintf(stderr, "import %s: %s\n", path, err.msg);
    if (rc == HM_EVALIDATE)
        hm_import_report_print(rep, stderr);
    return rc;
}

static void import_ok(hm_db *db, const char *centre, const char *table, const char *text)
{
    hm_import_report rep;
    assert_int_equal(import(db, centre, table, text, &rep), HM_OK);
    hm_import_report_free(&rep);
}

static double scalar(hm_db *db, const char *sql)
{
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    int rc = hm_stmt_step(st, &err);
    double v = rc == 1 && !hm_stmt_column_isnull(st, 0) ? hm_stmt_column_double(st, 0) : NAN;
    hm_stmt_finalize(st);
    return v;
}

static double score_of(hm_db *db, const char *assessment, const char *scale)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT score FROM qol_score WHERE centre_code = 'FR01' AND "
             "assessment_id = '%s' AND scale = '%s'", assessment, scale);
    return scalar(db, sql);
}

#define ITEM_HDR "centre_code,assessment_id,item_id,pseudonym,instrument,form,respondent," \
                 "assessment_date,assessment_day,response\n"
/* Patient 01 born 2010-05-10: 9 years old on 2019-06-01. */
#define C1 "FR01,A1,%s," PSEUDO("01") ",pedsql_generic,gc_child_self,child,2019-06-01,,%s\n"

/* The child self-report of test_qol_score.c's hand computation. */
static char *child_file(const char *phys)
{
    static const char *items[] = {
        "GC_EMO_1", "0", "GC_EMO_2", "0", "GC_EMO_3", "1", "GC_EMO_4", "2", "GC_EMO_5", "4",
        "GC_SOC_1", "1", "GC_SOC_2", "1", "GC_SOC_3", "1", "GC_SOC_4", "1", "GC_SOC_5", "1",
        "GC_SCH_1", "2", "GC_SCH_2", "2", "GC_SCH_3", "3", "GC_SCH_4", "NA" };
    static char buf[8192];
    size_t o = (size_t)snprintf(buf, sizeof buf, ITEM_HDR);
    char resp[8][4];
    assert_int_equal(sscanf(phys, "%3s %3s %3s %3s %3s %3s %3s %3s", resp[0], resp[1], resp[2],
                            resp[3], resp[4], resp[5], resp[6], resp[7]), 8);
    for (int i = 0; i < 8; i++) {
        char id[16];
        snprintf(id, sizeof id, "GC_PHYS_%d", i + 1);
        o += (size_t)snprintf(buf + o, sizeof buf - o, C1, id, resp[i]);
    }
    for (size_t i = 0; i < sizeof items / sizeof *items; i += 2)
        o += (size_t)snprintf(buf + o, sizeof buf - o, C1, items[i], items[i + 1]);
    return buf;
}

static hm_db *base(const char *tag)
{
    char url[1024];
    tdb_new_url(tag, url, sizeof url);
    hm_db *db = tdb_open(url);
    import_ok(db, "FR01", "centre", "centre_code,country,name,cohort\nFR01,FR,Gustave Roussy,"
                                    "radiotherapy\n");
    import_ok(db, "NO01", "centre", "centre_code,country,name,cohort\nNO01,NO,Oslo,both\n");
    import_ok(db, "FR01", "patient",
              "centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,syndrome,"
              "consent\n"
              "FR01," PSEUDO("01") ",1,radiotherapy,F,2010,2010-05-10,none,given\n"
              "FR01," PSEUDO("02") ",1,radiotherapy,M,2011,2011-01-20,none,given\n");
    /* Norway: day offsets, no birth date */
    import_ok(db, "NO01", "patient",
              "centre_code,pseudonym,key_version,cohort,sex,birth_year,syndrome,consent\n"
              "NO01," PSEUDO("03") ",1,radiotherapy,F,2012,none,given\n");
    return db;
}

static void test_bad_file_refused(void **state)
{
    (void)state;
    hm_db *db = base("bad");
    hm_import_report rep;
    int rc = import(db, "FR01", "qol_item",
        ITEM_HDR
        /* line 2: good row (stored only if the whole file is) */
        "FR01,B1,GC_PHYS_1," PSEUDO("01") ",pedsql_generic,gc_child_self,child,2019-06-01,,1\n"
        /* 3: the toddler school scale has 3 items */
        "FR01,B2,GC_SCH_4," PSEUDO("02") ",pedsql_generic,gc_toddler_parent,parent,2013-06-01,,1\n"
        /* 4: 3 on the young child's face scale (patient 02 is 5 on 2016-03-01) */
        "FR01,B3,GC_PHYS_1," PSEUDO("02") ",pedsql_generic,gc_young_child_self,child,2016-03-01,,3\n"
        /* 5: the teen form for a 9-year-old */
        "FR01,B4,GC_PHYS_1," PSEUDO("01") ",pedsql_generic,gc_teen_self,child,2019-06-01,,1\n"
        /* 6: a parent on the self-report */
        "FR01,B5,GC_PHYS_1," PSEUDO("01") ",pedsql_generic,gc_child_self,parent,2019-06-01,,1\n"
        /* 7: outside the dictionary's 0-4 (field rule, before the form's) */
        "FR01,B6,GC_PHYS_1," PSEUDO("01") ",pedsql_generic,gc_child_self,child,2019-06-01,,5\n"
        /* 8: an instrument without rules */
        "FR01,B7,X_1," PSEUDO("01") ",sf36,sf36_child,child,2019-06-01,,1\n", &rep);
    assert_int_equal(rc, HM_EVALIDATE);
    assert_int_equal(rep.rows_stored, 0);
    struct { long line; const char *field, *msg; } want[] = {
        { 3, "item_id", "'GC_SCH_4' is not an item of form gc_toddler_parent" },
        { 4, "response", "3 is not an answer of form gc_young_child_self: expected one of 0;2;4" },
        { 5, "form", "gc_teen_self is for ages 13 to 18, but the patient was 9" },
        { 6, "respondent", "parent may not answer form gc_child_self" },
        { 7, "response", "'5' out of range: expected 0 to 4" },
        { 8, "instrument", "'sf36' has no scoring rules" },
    };
    assert_int_equal(rep.n_errors, 6);
    for (size_t i = 0; i < 6; i++) {
        const hm_issue *is = &rep.issues[i];
        if (is->line != want[i].line || strcmp(is->field, want[i].field) ||
            !strstr(is->msg, want[i].msg))
            fail_msg("issue %zu: %ld:%s: %s", i, is->line, is->field, is->msg);
    }
    hm_import_report_free(&rep);
    assert_true(scalar(db, "SELECT COUNT(*) FROM qol_item") == 0);
    hm_db_close(db);
}

static void test_scores_round_trip(void **state)
{
    (void)state;
    hm_db *db = base("round");
    import_ok(db, "FR01", "qol_item", child_file("0 1 1 2 0 1 3 1"));
    /* the parent of the same child, and a fatigue form at the same visit */
    import_ok(db, "FR01", "qol_item",
        ITEM_HDR
        "FR01,A2,GC_SOC_1," PSEUDO("01") ",pedsql_generic,gc_child_parent,parent,2019-06-01,,1\n"
        "FR01,A2,GC_SOC_2," PSEUDO("01") ",pedsql_generic,gc_child_parent,parent,2019-06-01,,2\n"
        "FR01,A2,GC_SOC_3," PSEUDO("01") ",pedsql_generic,gc_child_parent,parent,2019-06-01,,2\n"
        "FR01,A2,GC_SOC_4," PSEUDO("01") ",pedsql_generic,gc_child_parent,parent,2019-06-01,,4\n"
        "FR01,A1,MFS_GEN_1," PSEUDO("01") ",pedsql_fatigue,mfs_child_self,child,2019-06-01,,0\n"
        "FR01,A1,MFS_GEN_2," PSEUDO("01") ",pedsql_fatigue,mfs_child_self,child,2019-06-01,,1\n"
        "FR01,A1,MFS_GEN_3," PSEUDO("01") ",pedsql_fatigue,mfs_child_self,child,2019-06-01,,2\n");
    /* Norway, days since birth only: day 1200 is 3.3 years, the toddler form */
    import_ok(db, "NO01", "qol_item",
        ITEM_HDR
        "NO01,N1,GC_SCH_1," PSEUDO("03") ",pedsql_generic,gc_toddler_parent,parent,,1200,0\n"
        "NO01,N1,GC_SCH_2," PSEUDO("03") ",pedsql_generic,gc_toddler_parent,parent,,1200,1\n");
    hm_import_report rep;
    assert_int_equal(import(db, "NO01", "qol_item",
        ITEM_HDR "NO01,N2,GC_SCH_1," PSEUDO("03") ",pedsql_generic,gc_child_parent,parent,,1200,0\n",
        &rep), HM_EVALIDATE);
    assert_non_null(strstr(rep.issues[0].msg, "the patient was 3"));
    hm_import_report_free(&rep);
    /* the day was derived from the date for patient 01: 2010-05-10 -> 2019-06-01 */
    assert_true(scalar(db, "SELECT MIN(assessment_day) FROM qol_item WHERE assessment_id = "
                           "'A1'") == 3309);

    hm_qol_db_result res;
    hm_error err;
    int rc = hm_qol_score_db(db, NULL, &res, &err);
    if (rc)
        fail_msg("%s:%ld:%s: %s", err.file, err.line, err.field, err.msg);
    assert_int_equal(res.items, 22 + 7 + 2);
    assert_int_equal(res.assessments, 4);     /* A1 generic, A1 fatigue, A2, N1 */
    /* A1: the hand-computed values of test_qol_score.c */
    assert_true(score_of(db, "A1", "physical") == 71.875);
    assert_true(score_of(db, "A1", "emotional") == 65.0);
    assert_true(fabs(score_of(db, "A1", "school") - 125.0 / 3.0) < 1e-12);
    assert_true(fabs(score_of(db, "A1", "psychosocial") - 825.0 / 13.0) < 1e-12);
    assert_true(fabs(score_of(db, "A1", "total") - 1400.0 / 21.0) < 1e-12);
    /* A1 fatigue: general (100+75+50)/3 = 75 (3 of 6 answered); others not computed */
    assert_true(score_of(db, "A1", "general_fatigue") == 75.0);
    assert_true(isnan(score_of(db, "A1", "fatigue_total")));
    /* A2 proxy: social (75+50+50+0)/4 = 43.75, stored as the parent's */
    assert_true(score_of(db, "A2", "social") == 43.75);
    assert_true(scalar(db, "SELECT COUNT(*) FROM qol_score WHERE assessment_id = 'A2' AND "
                           "respondent = 'parent' AND instrument = 'pedsql_generic'") == 1);
    /* N1 toddler school (100+75)/2 = 87.5, with its day */
    assert_true(scalar(db, "SELECT score FROM qol_score WHERE centre_code = 'NO01' AND "
                           "scale = 'school' AND assessment_day = 1200") == 87.5);
    /* rows: A1 6 generic + 1 fatigue, A2 1 (social), N1 1 (school) */
    assert_int_equal(res.scores_written, 9);
    assert_true(scalar(db, "SELECT COUNT(*) FROM qol_score") == 9);
    assert_true(scalar(db, "SELECT COUNT(*) FROM qol_score WHERE scale = 'physical' AND "
                           "assessment_day = 3309 AND assessment_date = '2019-06-01' AND "
                           "respondent = 'child'") == 1);

    /* Scoring again: the same rows */
    assert_int_equal(hm_qol_score_db(db, NULL, &res, &err), HM_OK);
    assert_true(scalar(db, "SELECT COUNT(*) FROM qol_score") == 9);
    assert_true(score_of(db, "A1", "physical") == 71.875);

    /* A corrected file: 5 physical items NA -> physical not computed, its row removed;
     * total now (3 x scores + 825) / 16 = (100+75+75+825)/16 = 67.1875 */
    import_ok(db, "FR01", "qol_item", child_file("0 1 1 NA NA NA NA NA"));
    assert_int_equal(hm_qol_score_db(db, "FR01", &res, &err), HM_OK);
    assert_true(isnan(score_of(db, "A1", "physical")));
    assert_true(score_of(db, "A1", "total") == 67.1875);
    assert_true(scalar(db, "SELECT COUNT(*) FROM qol_score") == 8);
    /* --centre: NO01's rows were not read */
    assert_int_equal(res.items, 22 + 7);
    hm_db_close(db);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    if (!getenv("HARMONIC_DATA"))
        setenv("HARMONIC_DATA", HM_SOURCE_DATA_DIR, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_file_refused),
        cmocka_unit_test(test_scores_round_trip),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
