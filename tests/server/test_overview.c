/*
 * test_overview.c — GET /api/v1/pooled/overview (routes_overview.c) called
 * directly on a registry of three centres imported from CSVs: patients per
 * centre against SELECT COUNT(*), person-years and the follow-up bins
 * against values worked out by hand from the fixture (days and dates), the
 * organ-dose histogram against a COUNT(*) per bin; who may call it.
 * SQLite, and PostgreSQL with HM_TEST_DB=pg (skips, 77, without a server).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_testdb.h"
#include "srv_int.h"

#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#define DIR HM_TEST_TMPDIR
#define PSEUDO(n) "00000000000000000000000000000000000000000000000000000000000000" n

static void import(hm_db *db, const char *centre, const char *table, const char *csv)
{
    char path[1024];
    snprintf(path, sizeof path, DIR "/%s-%s.csv", centre, table);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(csv, fp);
    fclose(fp);
    hm_import_report rep;
    hm_error err;
    hm_import_report_init(&rep);
    int rc = hm_registry_import_csv(db, centre, table, path, &rep, &err);
    for (size_t i = 0; rc && i < rep.nissues; i++)
        fprintf(stderr, "%s:%ld:%s: %s\n", table, (long)rep.issues[i].line,
                rep.issues[i].field, rep.issues[i].msg);
    assert_int_equal(rc, HM_OK);
    hm_import_report_free(&rep);
}

static void fixture(hm_db *db)
{
    const char *ch = "centre_code,country,name,cohort\n";
    char b[4096];
    snprintf(b, sizeof b, "%sFR01,FR,Necker,both\n", ch);
    import(db, "FR01", "centre", b);
    snprintf(b, sizeof b, "%sNO01,NO,Oslo,cardiac\n", ch);
    import(db, "NO01", "centre", b);
    snprintf(b, sizeof b, "%sDE01,DE,Berlin,cardiac\n", ch);
    import(db, "DE01", "centre", b);
    const char *ph = "centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,"
                     "syndrome,transplant_date,transplant_day,immunosuppression,consent\n";
    snprintf(b, sizeof b, "%s"
             "FR01," PSEUDO("01") ",1,cardiac,F,2005,2005-03-14,none,,,0,given\n"
             "FR01," PSEUDO("02") ",1,cardiac,M,2007,2007-11-02,none,,,0,given\n"
             "FR01," PSEUDO("03") ",1,cardiac,M,2009,2009-01-02,none,,,0,given\n", ph);
    import(db, "FR01", "patient", b);
    snprintf(b, sizeof b, "%s"
             "NO01," PSEUDO("05") ",1,cardiac,F,2005,,none,,,0,given\n"
             "NO01," PSEUDO("06") ",1,cardiac,F,2006,,none,,,0,given\n", ph);
    import(db, "NO01", "patient", b);
    /* Patient 1: two procedures by day (first on day 100); patient 2: by date,
     * 2008-01-01 = day 60 after birth; patient 3 has no follow-up. */
    const char *rh = "centre_code,procedure_id,pseudonym,proc_date,proc_day,exam_type,category,"
                     "dose_tier\n";
    snprintf(b, sizeof b, "%s"
             "FR01,PR1," PSEUDO("01") ",,465,diag_cath,diagnostic,3\n"
             "FR01,PR2," PSEUDO("01") ",,100,asd_closure,interventional,3\n"
             "FR01,PR3," PSEUDO("02") ",2008-01-01,,diag_cath,diagnostic,3\n"
             "FR01,PR4," PSEUDO("03") ",,10,diag_cath,diagnostic,3\n", rh);
    import(db, "FR01", "procedure", b);
    snprintf(b, sizeof b, "%s"
             "NO01,PR5," PSEUDO("05") ",,0,diag_cath,diagnostic,3\n"
             "NO01,PR6," PSEUDO("06") ",,30,diag_cath,diagnostic,3\n", rh);
    import(db, "NO01", "procedure", b);
    /* Patient 1: 3752 - 100 = 3652 days; patient 2: 2008-01-01 to 2018-01-01 =
     * 3653 days (2008, 2012, 2016 leap): 7305 days = 20.0 years of 365.25 days.
     * Patient 5: 30 days; patient 6 ends before its procedure (not counted). */
    const char *fh = "centre_code,pseudonym,vital_status,end_date,end_day,end_reason\n";
    snprintf(b, sizeof b, "%s"
             "FR01," PSEUDO("01") ",alive,,3752,study_end\n"
             "FR01," PSEUDO("02") ",alive,2018-01-01,,study_end\n", fh);
    import(db, "FR01", "followup", b);
    snprintf(b, sizeof b, "%s"
             "NO01," PSEUDO("05") ",alive,,30,study_end\n"
             "NO01," PSEUDO("06") ",alive,,20,study_end\n", fh);
    import(db, "NO01", "followup", b);
    const char *oh = "centre_code,source_type,source_id,organ,method,realization,dose_mgy\n";
    snprintf(b, sizeof b, "%s"
             "FR01,procedure,PR1,red_marrow,synthetic,0,0.05\n"
             "FR01,procedure,PR1,heart,synthetic,0,3.0\n"
             "FR01,procedure,PR1,heart,synthetic,1,3.0\n"
             "FR01,procedure,PR1,lung,synthetic,0,5.0\n"
             "FR01,procedure,PR1,colon,synthetic,0,1.0\n"
             "FR01,procedure,PR2,heart,synthetic,0,1500\n"
             "FR01,procedure,PR2,red_marrow,synthetic,0,0.1\n", oh);
    import(db, "FR01", "organ_dose", b);
    snprintf(b, sizeof b, "%sNO01,procedure,PR5,heart,synthetic,0,0.2\n", oh);
    import(db, "NO01", "organ_dose", b);
}

static long count(hm_db *db, const char *sql, const char *a, double lo, double hi)
{
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    if (a)
        hm_stmt_bind_text(st, 1, a);
    if (a && isfinite(lo))
        hm_stmt_bind_double(st, 2, lo);
    if (a && isfinite(hi))
        hm_stmt_bind_double(st, 3, hi);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    long n = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    return n;
}

static json_t *overview(hm_db *db)
{
    hm_route_match m = { .id = HM_R_OVERVIEW };
    hm_user ana = { .name = "ana", .role = HM_ROLE_ANALYST };
    srv_request q = { .route = &m, .user = &ana };
    srv_reply r = { 0 };
    srv_route_overview(db, &q, &r);
    assert_int_equal(r.status, 200);
    json_t *o = json_loads(r.body, 0, NULL);
    assert_non_null(o);
    free(r.body);
    return o;
}

static void test_overview(void **state)
{
    (void)state;
    char url[1024];
    tdb_new_url("overview", url, sizeof url);
    hm_db *db = tdb_open(url);
    fixture(db);
    json_t *o = overview(db);

    /* Per centre, in code order: DE01, FR01, NO01. */
    json_t *cs = json_object_get(o, "centres");
    assert_int_equal(json_array_size(cs), 3);
    static const char *const codes[] = { "DE01", "FR01", "NO01" };
    static const long followed[] = { 0, 2, 1 };
    const double py[] = { 0, 7305 / 365.25, 30 / 365.25 };
    for (size_t i = 0; i < 3; i++) {
        json_t *c = json_array_get(cs, i);
        assert_string_equal(json_string_value(json_object_get(c, "centre_code")), codes[i]);
        long n = count(db, "SELECT COUNT(*) FROM patient WHERE centre_code = ?", codes[i],
                       NAN, NAN);
        assert_int_equal(json_integer_value(json_object_get(c, "patients")), n);
        assert_int_equal(json_integer_value(json_object_get(c, "patients_followed")),
                         followed[i]);
        assert_true(fabs(json_real_value(json_object_get(c, "person_years")) - py[i]) < 1e-9);
    }
    assert_int_equal(count(db, "SELECT COUNT(*) FROM patient", NULL, NAN, NAN), 5);
    json_t *tot = json_object_get(o, "totals");
    assert_int_equal(json_integer_value(json_object_get(tot, "patients")), 5);
    assert_true(fabs(json_real_value(json_object_get(tot, "person_years")) - py[1] - py[2]) <
                1e-9);

    /* Follow-up: 3652/365.25 = 9.9986 (bin 9), 3653/365.25 = 10.0014 (bin 10),
     * 30 days (bin 0). */
    json_t *fc = json_object_get(json_object_get(o, "followup"), "counts");
    assert_int_equal(json_array_size(fc), 26);
    for (size_t b = 0; b < 26; b++)
        assert_int_equal(json_integer_value(json_array_get(fc, b)), b == 0 || b == 9 || b == 10);

    /* Organ doses: each bin against a COUNT(*) with its edges. */
    json_t *dose = json_object_get(o, "dose"), *edges = json_object_get(dose, "edges_mgy");
    json_t *counts = json_object_get(dose, "counts");
    size_t ne = json_array_size(edges);
    assert_int_equal(ne, 14);
    assert_null(json_object_get(counts, "colon"));
    const char *organ;
    json_t *bins;
    long total = 0;
    json_object_foreach(counts, organ, bins) {
        assert_int_equal(json_array_size(bins), ne);
        for (size_t b = 0; b < ne; b++) {
            double lo = json_real_value(json_array_get(edges, b));
            double hi = b + 1 < ne ? json_real_value(json_array_get(edges, b + 1)) : NAN;
            long n = b + 1 < ne
                ? count(db, "SELECT COUNT(*) FROM organ_dose WHERE organ = ? AND realization = 0 "
                            "AND source_type = 'procedure' AND dose_mgy >= ? AND dose_mgy < ?",
                        organ, lo, hi)
                : count(db, "SELECT COUNT(*) FROM organ_dose WHERE organ = ? AND realization = 0 "
                            "AND source_type = 'procedure' AND dose_mgy >= ?", organ, lo, NAN);
            assert_int_equal(json_integer_value(json_array_get(bins, b)), n);
            total += n;
        }
    }
    assert_int_equal(total, 6);               /* 8 rows less colon less realization 1 */
    /* And by hand: heart 0.2 in [0.2, 0.5), 3 in [2, 5), 1500 in the open last bin. */
    json_t *heart = json_object_get(counts, "heart");
    assert_int_equal(json_integer_value(json_array_get(heart, 2)), 1);
    assert_int_equal(json_integer_value(json_array_get(heart, 5)), 1);
    assert_int_equal(json_integer_value(json_array_get(heart, 13)), 1);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(counts, "lung"), 6)), 1);
    json_decref(o);
    hm_db_close(db);
    tdb_cleanup();
}

static void test_who(void **state)
{
    (void)state;
    hm_route_match m;
    assert_int_equal(hm_route_match_path("GET", "/api/v1/pooled/overview", &m), 200);
    assert_int_equal(m.id, HM_R_OVERVIEW);
    assert_int_equal(hm_route_match_path("POST", "/api/v1/pooled/overview", &m), 405);
    m.id = HM_R_OVERVIEW;
    hm_user u = { .name = "x" };
    srv_request q = { .route = &m, .user = &u };
    const hm_role roles[] = { HM_ROLE_CENTRE_MANAGER, HM_ROLE_ANALYST, HM_ROLE_AUDITOR,
                              HM_ROLE_ADMIN };
    const int want[] = { 403, 0, 403, 0 };
    snprintf(u.centre, sizeof u.centre, "FR01");
    for (int i = 0; i < 4; i++) {
        u.role = roles[i];
        assert_int_equal(srv_allowed(&q), want[i]);
    }
}

int main(void)
{
    if (tdb_skip())
        return 77;
    mkdir(DIR, 0700);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overview),
        cmocka_unit_test(test_who),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
