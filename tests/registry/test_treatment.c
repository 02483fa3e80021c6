/*
 * test_treatment.c — the treatment tables (chemotherapy, surgery,
 * stem_cell_transplant) on the back end of HM_TEST_DB: import with derived
 * days, export and re-import byte for byte, bad rows rejected all-or-nothing
 * with file:line:field messages, the per-patient CED and DIE against values
 * computed by hand from the factors of data/rt/chemo_agents.csv, and the
 * per-centre treatment summary of the report.
 */
#include "test_db.h"

#include <jansson.h>
#include <math.h>

static const char *RT_COURSE =
    "centre_code,course_id,pseudonym,diag_topography,diag_morphology,diag_date,technique,particle,"
    "prescription_gy,fractions,start_date\n"
    "FR01,RT1," PSEUDO("03") ",C71.1,9470/3,2008-11-20,imrt,photon,54,30,2009-01-05\n";

/* P03 (born 2008-02-29): cyclophosphamide + ifosfamide with course RT1,
 * doxorubicin, daunorubicin, vincristine.  P01: melphalan, mitoxantrone,
 * busulfan (day offsets, one row with missing codes).  P02: cisplatin only. */
static const char *CHEMO =
    "centre_code,chemo_id,pseudonym,course_id,agent,cumulative_dose_mg_m2,route,start_date,start_day,end_date,end_day\n"
    "FR01,C1," PSEUDO("03") ",RT1,cyclophosphamide,4200,iv,2009-01-10,,2009-06-01,\n"
    "FR01,C2," PSEUDO("03") ",RT1,ifosfamide,9000,iv,2009-01-10,,,\n"
    "FR01,C3," PSEUDO("03") ",,doxorubicin,150,iv,2009-02-01,,,\n"
    "FR01,C4," PSEUDO("03") ",,daunorubicin,100,iv,,,,\n"
    "FR01,C5," PSEUDO("03") ",,vincristine,12,iv,,,,\n"
    "FR01,C6," PSEUDO("01") ",,melphalan,140,iv,,400,,\n"
    "FR01,C7," PSEUDO("01") ",,mitoxantrone,20,iv,,400,,410\n"
    "FR01,C8," PSEUDO("01") ",NA,busulfan,16,oral,NA,NA,NA,NA\n"
    "FR01,C9," PSEUDO("02") ",,cisplatin,360,,,,,\n";
static const char *SURGERY =
    "centre_code,surgery_id,pseudonym,course_id,surgery_date,surgery_day,kind,extent,site\n"
    "FR01,O1," PSEUDO("03") ",RT1,2008-12-01,,resection,gross_total,\"Brain, left frontal\"\n"
    "FR01,O2," PSEUDO("02") ",,,,biopsy,biopsy_only,\n";
static const char *SCT =
    "centre_code,sct_id,pseudonym,course_id,sct_date,sct_day,sct_type,tbi,tbi_dose_gy\n"
    "FR01,S1," PSEUDO("01") ",,,420,autologous,0,\n"
    "FR01,S2," PSEUDO("03") ",RT1,2009-08-01,,allogeneic,1,12\n";

static hm_db *load(const char *tag, char *url, size_t n)
{
    tdb_new_url(tag, url, n);
    hm_db *db = tdb_open(url);
    hm_import_report rep;
    struct { const char *table, *name, *text; } files[] = {
        { "centre", "c_fr.csv", FX_CENTRE_FR }, { "patient", "p_fr.csv", FX_PATIENT_FR },
        { "rt_course", "rt.csv", RT_COURSE }, { "chemotherapy", "chemo.csv", CHEMO },
        { "surgery", "surgery.csv", SURGERY }, { "stem_cell_transplant", "sct.csv", SCT },
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        int rc = tdb_import(db, "FR01", files[i].table, files[i].name, files[i].text, &rep);
        if (rc)
            hm_import_report_print(&rep, stderr);
        assert_int_equal(rc, HM_OK);
        hm_import_report_free(&rep);
    }
    return db;
}

static void test_import_values(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = load("treat", url, sizeof url);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM chemotherapy"), 9);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM surgery"), 2);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM stem_cell_transplant"), 2);
    /* Days from the dates: 2008-02-29 -> 2009-01-10 is 316 days, -> 2009-06-01 458,
     * -> 2009-08-01 519, -> 2008-12-01 276. */
    assert_int_equal(tdb_count(db, "SELECT start_day FROM chemotherapy WHERE chemo_id = 'C1'"), 316);
    assert_int_equal(tdb_count(db, "SELECT end_day FROM chemotherapy WHERE chemo_id = 'C1'"), 458);
    assert_int_equal(tdb_count(db, "SELECT sct_day FROM stem_cell_transplant WHERE sct_id = 'S2'"), 519);
    assert_int_equal(tdb_count(db, "SELECT surgery_day FROM surgery WHERE surgery_id = 'O1'"), 276);
    /* Missing codes are NULL; an empty course is no reference. */
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM chemotherapy WHERE course_id IS NULL"), 7);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM chemotherapy WHERE start_day IS NULL "
                                   "AND start_date IS NULL"), 4);
    assert_int_equal(tdb_count(db, "SELECT tbi FROM stem_cell_transplant WHERE sct_id = 'S2'"), 1);
    hm_db_close(db);
}

static void test_export_reimport(void **state)
{
    (void)state;
    char url[1024], url2[1024], d1[1024], d2[1024], path[1200];
    hm_error err;
    snprintf(d1, sizeof d1, "%s/treat_x1", HM_TEST_TMPDIR);
    snprintf(d2, sizeof d2, "%s/treat_x2", HM_TEST_TMPDIR);
    hm_db *db = load("treat_rt1", url, sizeof url);
    assert_int_equal(hm_registry_export(db, d1, "FR01", &err), HM_OK);
    hm_db_close(db);
    snprintf(path, sizeof path, "%s/stem_cell_transplant.csv", d1);
    char *sct = tdb_read(path);
    assert_string_equal(sct,
        "centre_code,sct_id,pseudonym,course_id,sct_date,sct_day,sct_type,tbi,tbi_dose_gy\n"
        "FR01,S1," PSEUDO("01") ",,,420,autologous,0,\n"
        "FR01,S2," PSEUDO("03") ",RT1,2009-08-01,519,allogeneic,1,12\n");
    free(sct);
    snprintf(path, sizeof path, "%s/chemotherapy.csv", d1);
    char *chemo = tdb_read(path);
    assert_non_null(strstr(chemo, "\nFR01,C1," PSEUDO("03") ",RT1,cyclophosphamide,4200,iv,2009-01-10,316,2009-06-01,458\n"));
    assert_non_null(strstr(chemo, "\nFR01,C8," PSEUDO("01") ",,busulfan,16,oral,,,,\n"));

    /* Into a fresh registry: the centre's folder in dependency order, then out again. */
    tdb_new_url("treat_rt2", url2, sizeof url2);
    db = tdb_open(url2);
    static const char *order[] = { "centre", "patient", "rt_course", "chemotherapy", "surgery",
                                   "stem_cell_transplant" };
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        snprintf(path, sizeof path, "%s/%s.csv", d1, order[i]);
        hm_import_report rep;
        hm_import_report_init(&rep);
        int rc = hm_registry_import_csv(db, "FR01", order[i], path, &rep, &err);
        if (rc)
            hm_import_report_print(&rep, stderr);
        assert_int_equal(rc, HM_OK);
        hm_import_report_free(&rep);
    }
    assert_int_equal(hm_registry_export(db, d2, "FR01", &err), HM_OK);
    hm_db_close(db);
    static const char *tables[] = { "chemotherapy", "surgery", "stem_cell_transplant" };
    for (size_t i = 0; i < 3; i++) {
        char p1[1200], p2[1200];
        snprintf(p1, sizeof p1, "%s/%s.csv", d1, tables[i]);
        snprintf(p2, sizeof p2, "%s/%s.csv", d2, tables[i]);
        char *a = tdb_read(p1), *b = tdb_read(p2);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    free(chemo);
}

/* The report's messages as text, one "file:line:field: message" per line. */
static char *messages(const hm_import_report *rep)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&buf, &n);
    hm_import_report_print(rep, fp);
    fclose(fp);
    return buf;
}

static void test_bad_rows_rejected(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = load("treat_bad", url, sizeof url);
    hm_import_report rep;
    const char *bad =
        "centre_code,chemo_id,pseudonym,course_id,agent,cumulative_dose_mg_m2\n"
        "FR01,C1," PSEUDO("03") ",RT1,cyclophosphamide,5000\n"     /* a valid update */
        "FR01,B1," PSEUDO("03") ",,aspirin,10\n"
        "FR01,B2," PSEUDO("03") ",RT9,etoposide,500\n"
        "FR01,B3," PSEUDO("03") ",,etoposide,-5\n"
        "FR01,B4," PSEUDO("03") ",,etoposide,0\n"
        "FR01,B5," PSEUDO("09") ",,etoposide,300\n";
    assert_int_equal(tdb_import(db, "FR01", "chemotherapy", "bad_chemo.csv", bad, &rep), HM_EVALIDATE);
    assert_int_equal(rep.n_errors, 5);
    assert_int_equal(rep.rows_stored, 0);
    char *m = messages(&rep);
    static const char *expect[] = {
        "bad_chemo.csv:3:agent: 'aspirin' is not a known code (see data/rt/chemo_agents.csv)",
        "bad_chemo.csv:4:course_id: rt_course 'RT9' is not registered for centre FR01",
        "bad_chemo.csv:5:cumulative_dose_mg_m2: '-5' out of range: expected 0 to 100000",
        "bad_chemo.csv:6:cumulative_dose_mg_m2: 0: a cumulative dose must be > 0 mg/m2",
        "bad_chemo.csv:7:pseudonym: patient 000000000000... is not registered for centre FR01",
    };
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        if (!strstr(m, expect[i]))
            fprintf(stderr, "missing: %s\nin:\n%s", expect[i], m);
        assert_non_null(strstr(m, expect[i]));
    }
    free(m);
    hm_import_report_free(&rep);
    /* Nothing stored, not even the valid row: C1 keeps its dose. */
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM chemotherapy"), 9);
    assert_int_equal(tdb_count(db, "SELECT cumulative_dose_mg_m2 FROM chemotherapy WHERE chemo_id = 'C1'"),
                     4200);
    const char *bad_sct =
        "centre_code,sct_id,pseudonym,course_id,sct_date,sct_day,sct_type,tbi,tbi_dose_gy\n"
        "FR01,S3," PSEUDO("02") ",,,,allogeneic,0,8\n"
        "FR01,S4," PSEUDO("02") ",,,,haplo,1,31\n"
        "FR01,S5," PSEUDO("02") ",RT1,,,autologous,,2\n";
    assert_int_equal(tdb_import(db, "FR01", "stem_cell_transplant", "bad_sct.csv", bad_sct, &rep),
                     HM_EVALIDATE);
    m = messages(&rep);
    static const char *expect_sct[] = {
        "bad_sct.csv:2:tbi_dose_gy: 8 Gy given but tbi is 0",
        "bad_sct.csv:3:sct_type: 'haplo' is not a known code: expected one of autologous;allogeneic;syngeneic",
        "bad_sct.csv:3:tbi_dose_gy: '31' out of range: expected 0 to 30",
        "bad_sct.csv:4:tbi: empty while tbi_dose_gy is 2",
    };
    for (size_t i = 0; i < sizeof expect_sct / sizeof *expect_sct; i++) {
        if (!strstr(m, expect_sct[i]))
            fprintf(stderr, "missing: %s\nin:\n%s", expect_sct[i], m);
        assert_non_null(strstr(m, expect_sct[i]));
    }
    assert_int_equal(rep.n_errors, 4);
    free(m);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM stem_cell_transplant"), 2);
    const char *bad_surgery =
        "centre_code,surgery_id,pseudonym,course_id,surgery_date,kind\n"
        "FR01,O3," PSEUDO("02") ",RTX,2010-01-01,amputation\n";
    assert_int_equal(tdb_import(db, "FR01", "surgery", "bad_surgery.csv", bad_surgery, &rep),
                     HM_EVALIDATE);
    m = messages(&rep);
    /* RTX does not exist; P02 was born 2010-12-31, after the operation. */
    assert_non_null(strstr(m, "bad_surgery.csv:2:course_id: rt_course 'RTX' is not registered"));
    assert_non_null(strstr(m, "bad_surgery.csv:2:surgery_date: 2010-01-01 is before the birth date 2010-12-31"));
    free(m);
    hm_import_report_free(&rep);
    hm_db_close(db);
}

static const hm_treatment_exposure *find(const hm_treatment_exposure *e, size_t n, const char *p)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].pseudonym, p))
            return &e[i];
    return NULL;
}

static void test_exposures_by_hand(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = load("treat_ced", url, sizeof url);
    hm_error err;
    hm_chemo_factors *f;
    assert_int_equal(hm_chemo_factors_load(NULL, &f, &err), HM_OK);
    double ced, die;
    assert_int_equal(hm_chemo_factors_get(f, "chlorambucil", &ced, &die), 1);
    assert_true(ced == 14.286 && isnan(die));
    assert_int_equal(hm_chemo_factors_get(f, "aspirin", &ced, &die), 0);
    hm_treatment_exposure *e;
    size_t n;
    assert_int_equal(hm_registry_treatment_exposures(db, NULL, f, &e, &n, &err), HM_OK);
    assert_int_equal(n, 3);
    /* Byte order of the pseudonyms: ...01, ...02, ...03. */
    assert_string_equal(e[0].pseudonym, PSEUDO("01"));
    assert_string_equal(e[2].pseudonym, PSEUDO("03"));
    /* P03: CED = 1 x 4200 + 0.244 x 9000 = 6396; DIE = 1 x 150 + 0.6 x 100 = 210
     * (vincristine adds nothing). */
    const hm_treatment_exposure *p3 = find(e, n, PSEUDO("03"));
    assert_non_null(p3);
    assert_true(fabs(p3->ced_mg_m2 - 6396.0) < 1e-9);
    assert_true(fabs(p3->die_mg_m2 - 210.0) < 1e-9);
    assert_int_equal(p3->chemo_rows, 5);
    assert_int_equal(p3->sct_rows, 1);
    assert_int_equal(p3->surgery_rows, 1);
    /* P01: CED = 40 x 140 + 8.823 x 16 = 5741.168; DIE = 10 x 20 = 200. */
    const hm_treatment_exposure *p1 = find(e, n, PSEUDO("01"));
    assert_true(fabs(p1->ced_mg_m2 - 5741.168) < 1e-9);
    assert_true(fabs(p1->die_mg_m2 - 200.0) < 1e-9);
    assert_int_equal(p1->sct_rows, 1);
    assert_int_equal(p1->surgery_rows, 0);
    /* P02: cisplatin has neither factor. */
    const hm_treatment_exposure *p2 = find(e, n, PSEUDO("02"));
    assert_true(p2->ced_mg_m2 == 0 && p2->die_mg_m2 == 0 && p2->chemo_rows == 1);
    free(e);
    assert_int_equal(hm_registry_treatment_exposures(db, "NO01", f, &e, &n, &err), HM_OK);
    assert_int_equal(n, 0);
    free(e);
    /* One row by itself; a negative dose and an unknown agent are refused. */
    assert_int_equal(hm_chemo_row_exposure(f, "epirubicin", 300, &ced, &die, &err), HM_OK);
    assert_true(ced == 0 && fabs(die - 240.0) < 1e-9);
    assert_int_equal(hm_chemo_row_exposure(f, "epirubicin", -1, &ced, &die, &err), HM_EVALIDATE);
    assert_int_equal(hm_chemo_row_exposure(f, "aspirin", 1, &ced, &die, &err), HM_EVALIDATE);
    hm_chemo_factors_free(f);

    /* The report: 3 patients with chemotherapy, median CED of {0, 5741.168, 6396}
     * and DIE of {0, 200, 210}; 2 with SCT, 2 with surgery. */
    char path[1200];
    snprintf(path, sizeof path, "%s/treat_report.json", HM_TEST_TMPDIR);
    FILE *fp = fopen(path, "w");
    assert_int_equal(hm_registry_report(db, fp, 1, &err), HM_OK);
    fclose(fp);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    json_t *c = json_array_get(json_object_get(j, "centres"), 0);
    json_t *t = json_object_get(c, "treatment");
    assert_int_equal(json_integer_value(json_object_get(t, "chemotherapy_patients")), 3);
    assert_true(fabs(json_real_value(json_object_get(t, "ced_median_mg_m2")) - 5741.168) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(t, "die_median_mg_m2")) - 200.0) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(t, "sct_patients")), 2);
    assert_int_equal(json_integer_value(json_object_get(t, "surgery_patients")), 2);
    json_decref(j);
    hm_db_close(db);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_values),
        cmocka_unit_test(test_export_reimport),
        cmocka_unit_test(test_bad_rows_rejected),
        cmocka_unit_test(test_exposures_by_hand),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
