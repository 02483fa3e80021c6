/*
 * test_import.c — validated import on the back end of HM_TEST_DB: a known
 * bad file gives exactly the expected messages and stores nothing; a good
 * file stores exact values; re-import is idempotent; a centre cannot write
 * another centre's rows.
 */
#include "test_db.h"

static hm_db *load_base(const char *tag)
{
    char url[1024];
    tdb_new_url(tag, url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_import_report rep;
    assert_int_equal(tdb_import(db, "FR01", "centre", "c_fr.csv", FX_CENTRE_FR, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_import(db, "NO01", "centre", "c_no.csv", FX_CENTRE_NO, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_import(db, "FR01", "patient", "p_fr.csv", FX_PATIENT_FR, &rep), HM_OK);
    assert_int_equal(rep.rows_stored, 3);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_import(db, "FR01", "procedure", "proc_fr.csv", FX_PROC_FR, &rep), HM_OK);
    assert_int_equal(rep.rows_read, 3);
    assert_int_equal(rep.rows_stored, 3);
    assert_int_equal(rep.n_errors, 0);
    hm_import_report_free(&rep);
    return db;
}

static void test_good_values_stored(void **state)
{
    (void)state;
    hm_db *db = load_base("good");
    /* proc_day derived from the dates: 2005-03-14 -> 2005-04-01 is 18 days. */
    assert_int_equal(tdb_count(db, "SELECT proc_day FROM procedure WHERE procedure_id = 'P1'"), 18);
    assert_int_equal(tdb_count(db, "SELECT proc_day FROM procedure WHERE procedure_id = 'P3'"), 2);
    /* 2010-12-31 -> 2015-01-10: 4 years of 365+366+365+365 days, plus 10. */
    assert_int_equal(tdb_count(db, "SELECT transplant_day FROM patient WHERE pseudonym = '" PSEUDO("02") "'"), 1471);
    /* Missing codes (-9, NA) and empty cells are NULL. */
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure WHERE fluoro_time_s IS NULL"), 2);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM patient WHERE immunosuppression IS NULL"), 1);
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, "SELECT kap_total_gy_cm2, device_model FROM procedure "
                                       "WHERE centre_code = ? AND procedure_id = ?", &st, &err), 0);
    hm_stmt_bind_text(st, 1, "FR01");
    hm_stmt_bind_text(st, 2, "P1");
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_true(hm_stmt_column_double(st, 0) == 1.25);
    assert_string_equal(hm_stmt_column_text(st, 1), "Artis zee, biplane");
    assert_int_equal(hm_stmt_step(st, &err), 0);
    hm_stmt_finalize(st);
    /* The import log holds one row per accepted file. */
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM import_log"), 4);
    hm_db_close(db);
}

static const char *BAD_PROC =
    "centre_code,procedure_id,pseudonym,proc_date,proc_day,age_days,weight_kg,exam_type,category,kap_total_gy_cm2,dose_tier\n"
    "FR01,P1," PSEUDO("01") ",2005-04-01,,18,3.6,diag_cath,diagnostic,9.9,1\n"     /* valid update */
    "FR01,B1," PSEUDO("01") ",2005-02-30,,,,diag_cath,diagnostic,1,2\n"
    "FR01,B2," PSEUDO("01") ",2004-12-01,,,,diag_cath,diagnostic,1,2\n"
    "FR01,B3," PSEUDO("01") ",2005-04-01,,20,,diag_cath,diagnostic,1,2\n"
    "FR01,B4," PSEUDO("99") ",2005-04-01,,,,diag_cath,diagnostic,1,2\n"
    "FR01,B5," PSEUDO("01") ",2005-04-01,,,,diag_cath,diagnostic,-1,2\n"
    "FR01,B6," PSEUDO("01") ",2005-04-01,,,,angio,interventional,1,2\n"
    "NO01,B7," PSEUDO("01") ",,10,,,diag_cath,diagnostic,1,2\n"
    "FR01,B8," PSEUDO("01") ",2005-04-01,,,,diag_cath,diagnostic,1,3\n"
    "FR01,B9," PSEUDO("01") ",,,,,diag_cath,diagnostic,1,2\n"
    "FR01,B10," PSEUDO("01") ",2005-04-01,,,\"3,5\",diag_cath,diagnostic,1,2\n"
    "FR01,B11," PSEUDO("01") ",2005-04-01,,,3,diag_cath,diagnostic,500,2\n"
    "FR01,B12,ABC,2005-04-01,,,,diag_cath,both,1,2\n"
    "FR01,B14," PSEUDO("01") ",2005-04-01,,,,diag_cath,diagnostic,,1\n"
    "FR01,B13," PSEUDO("01") ",2005-04-01,,too,many\n";

static const char *BAD_EXPECTED[] = {
    "3:proc_date: '2005-02-30' is not a date: expected YYYY-MM-DD",
    "4:proc_date: 2004-12-01 is before the birth date 2005-03-14",
    "5:age_days: 20 disagrees with the procedure date (18 days after birth)",
    "6:pseudonym: patient 000000000000... is not registered for centre FR01 (import the patient file first)",
    "7:kap_total_gy_cm2: '-1' out of range: expected 0.000001 to 1000 Gy.cm2",
    "8:exam_type: 'angio' is not a known code: expected one of diag_cath;asd_closure;vsd_closure;pda_closure;balloon_valvuloplasty;balloon_angioplasty;stent;ep_ablation;biopsy;other",
    "9:centre_code: 'NO01' is not the importing centre FR01: a centre may only send its own rows",
    "10:dose_tier: 3 means no dose data, but kap_total_gy_cm2 is 1 (use tier 2)",
    "11:proc_date: one of proc_date or proc_day is required",
    "12:weight_kg: '3,5' is not a number",
    "13:kap_total_gy_cm2: warning: 500 Gy.cm2 for 3 kg is over 100 times the usual KAP per kg: check the unit",
    "14:pseudonym: 'ABC' is not a pseudonym (64 lowercase hex digits)",
    "14:category: 'both' is not a known code: expected one of diagnostic;interventional",
    "15:kap_total_gy_cm2: required for dose_tier 1 (tier 3 means no dose data)",
    "16: expected 11 fields as in the header, found 7",
};

static void test_bad_file_exact_messages_nothing_stored(void **state)
{
    (void)state;
    hm_db *db = load_base("bad");
    hm_import_report rep;
    int rc = tdb_import(db, "FR01", "procedure", "bad.csv", BAD_PROC, &rep);
    assert_int_equal(rc, HM_EVALIDATE);
    size_t n = sizeof BAD_EXPECTED / sizeof *BAD_EXPECTED;
    for (size_t i = 0; i < rep.nissues && i < n; i++) {
        char buf[600];
        const hm_issue *is = &rep.issues[i];
        snprintf(buf, sizeof buf, "%ld:%s%s%s%s", is->line, is->field, is->field[0] ? ": " : " ",
                 is->severity == HM_SEV_WARNING ? "warning: " : "", is->msg);
        assert_string_equal(buf, BAD_EXPECTED[i]);
    }
    assert_int_equal(rep.nissues, n);
    assert_int_equal(rep.n_errors, 14);
    assert_int_equal(rep.n_warnings, 1);
    assert_int_equal(rep.rows_read, 15);
    assert_int_equal(rep.rows_stored, 0);
    hm_import_report_free(&rep);
    /* Nothing stored: not the new rows, not the valid update of P1. */
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure"), 3);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure WHERE kap_total_gy_cm2 = 9.9"), 0);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM import_log"), 4);
    hm_db_close(db);
}

static void test_bad_header(void **state)
{
    (void)state;
    hm_db *db = load_base("hdr");
    hm_import_report rep;
    int rc = tdb_import(db, "FR01", "patient", "hdr.csv",
                        "centre_code,pseudonym,sex,sex,colour\nFR01,x,M,M,red\n", &rep);
    assert_int_equal(rc, HM_EVALIDATE);
    assert_int_equal(rep.nissues, 7);
    assert_string_equal(rep.issues[0].field, "sex");
    assert_string_equal(rep.issues[0].msg, "column appears twice");
    assert_string_equal(rep.issues[1].field, "colour");
    assert_string_equal(rep.issues[1].msg, "unknown column for table patient (see harmonic dictionary)");
    assert_string_equal(rep.issues[2].field, "key_version");
    assert_string_equal(rep.issues[2].msg, "required column is missing");
    assert_int_equal(rep.rows_read, 0);
    hm_import_report_free(&rep);
    hm_db_close(db);
}

static void test_duplicate_keys_in_file(void **state)
{
    (void)state;
    hm_db *db = load_base("dup");
    hm_import_report rep;
    const char *dup =
        "centre_code,source_type,source_id,organ,method,realization,dose_mgy\n"
        "FR01,procedure,P1,lung,rdsr_mc,0,3.5\n"
        "FR01,procedure,P1,lung,rdsr_mc,1,3.6\n"
        "FR01,procedure,P1,lung,rdsr_mc,0,3.7\n";
    assert_int_equal(tdb_import(db, "FR01", "organ_dose", "dup.csv", dup, &rep), HM_EVALIDATE);
    assert_int_equal(rep.n_errors, 1);
    assert_int_equal(rep.issues[0].line, 4);
    assert_string_equal(rep.issues[0].msg, "duplicate key (source_type procedure, source_id P1, organ lung, "
                                           "method rdsr_mc, realization 0): an earlier row of this file has the same key");
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose"), 0);
    /* The same rows once each import, and again (idempotent: keys are per file). */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(tdb_import(db, "FR01", "organ_dose", "ok.csv", FX_DOSE_FR, &rep), HM_OK);
        hm_import_report_free(&rep);
    }
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose"), 4);
    /* A key stored by an earlier import, twice in a new file: the first row
     * updates it and the second is still a duplicate (on SQLite the updated
     * row once kept its old rowid, under the guard, and the second row
     * silently won); nothing changes. */
    const char *again =
        "centre_code,source_type,source_id,organ,method,realization,dose_mgy\n"
        "FR01,procedure,P1,heart,rdsr_mc,0,7.5\n"
        "FR01,procedure,P2,red_marrow,kap_coefficient,0,0.1\n"
        "FR01,procedure,P1,heart,rdsr_mc,0,8.5\n";
    assert_int_equal(tdb_import(db, "FR01", "organ_dose", "again.csv", again, &rep), HM_EVALIDATE);
    assert_int_equal(rep.n_errors, 1);
    assert_int_equal(rep.issues[0].line, 4);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose WHERE dose_mgy = 1.99"), 1);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose WHERE dose_mgy > 7"), 0);
    hm_db_close(db);
}

static void test_reimport_idempotent(void **state)
{
    (void)state;
    hm_db *db = load_base("idem");
    char d1[1024], d2[1024];
    snprintf(d1, sizeof d1, "%s/idem1", HM_TEST_TMPDIR);
    snprintf(d2, sizeof d2, "%s/idem2", HM_TEST_TMPDIR);
    hm_error err;
    assert_int_equal(hm_registry_export(db, d1, NULL, &err), HM_OK);
    hm_import_report rep;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(tdb_import(db, "FR01", "procedure", "proc_fr.csv", FX_PROC_FR, &rep), HM_OK);
        assert_int_equal(rep.rows_stored, 3);
        hm_import_report_free(&rep);
        assert_int_equal(tdb_import(db, "FR01", "patient", "p_fr.csv", FX_PATIENT_FR, &rep), HM_OK);
        hm_import_report_free(&rep);
    }
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure"), 3);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM patient"), 3);
    assert_int_equal(hm_registry_export(db, d2, NULL, &err), HM_OK);
    const char *files[] = { "patient.csv", "procedure.csv" };
    for (int i = 0; i < 2; i++) {
        char p1[1200], p2[1200];
        snprintf(p1, sizeof p1, "%s/%s", d1, files[i]);
        snprintf(p2, sizeof p2, "%s/%s", d2, files[i]);
        char *a = tdb_read(p1), *b = tdb_read(p2);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    /* An update through re-import changes the row in place. */
    const char *upd =
        "centre_code,procedure_id,pseudonym,proc_day,exam_type,category,kap_total_gy_cm2,dose_tier\n"
        "FR01,P2," PSEUDO("01") ",365,asd_closure,interventional,2.5,2\n";
    assert_int_equal(tdb_import(db, "FR01", "procedure", "upd.csv", upd, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure"), 3);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure WHERE procedure_id = 'P2' "
                                   "AND kap_total_gy_cm2 = 2.5 AND weight_kg IS NULL"), 1);
    hm_db_close(db);
}

static void test_other_centre_cannot_overwrite(void **state)
{
    (void)state;
    hm_db *db = load_base("centre");
    hm_import_report rep;
    /* NO01 sending FR01's rows (same keys, other values) is refused. */
    const char *evil =
        "centre_code,procedure_id,pseudonym,proc_day,exam_type,category,kap_total_gy_cm2,dose_tier\n"
        "FR01,P1," PSEUDO("01") ",18,diag_cath,diagnostic,999,2\n";
    assert_int_equal(tdb_import(db, "NO01", "procedure", "evil.csv", evil, &rep), HM_EVALIDATE);
    assert_int_equal(rep.n_errors, 1);
    assert_string_equal(rep.issues[0].field, "centre_code");
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure WHERE kap_total_gy_cm2 = 999"), 0);
    /* NO01's own patient with the same pseudonym is a separate row. */
    assert_int_equal(tdb_import(db, "NO01", "patient", "p_no.csv", FX_PATIENT_NO, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM patient WHERE pseudonym = '" PSEUDO("01") "'"), 2);
    assert_int_equal(tdb_count(db, "SELECT birth_year FROM patient WHERE centre_code = 'FR01' "
                                   "AND pseudonym = '" PSEUDO("01") "'"), 2005);
    /* The single-row API refuses too, with HM_EPERM. */
    const char *names[] = { "centre_code", "procedure_id" };
    const char *vals[] = { "FR01", "P1" };
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(hm_registry_upsert_row(db, "NO01", "procedure", names, vals, 2, &err), HM_EPERM);
    /* An unregistered centre cannot import at all. */
    const char *pat = "centre_code,pseudonym,key_version,cohort,sex,birth_year,syndrome,consent\n"
                      "XX01," PSEUDO("07") ",1,cardiac,F,2001,none,given\n";
    assert_int_equal(tdb_import(db, "XX01", "patient", "xx.csv", pat, &rep), HM_EVALIDATE);
    assert_string_equal(rep.issues[0].msg, "centre XX01 is not registered (import its centre row first)");
    hm_import_report_free(&rep);
    hm_db_close(db);
}

static void test_upsert_row_api(void **state)
{
    (void)state;
    hm_db *db = load_base("api");
    hm_error err;
    hm_error_clear(&err);
    const char *names[] = { "centre_code", "procedure_id", "event_uid", "plane", "event_type", "kvp" };
    const char *vals[] = { "FR01", "P1", "1.2.840.99.1", "single", "fluoroscopy", "71.5" };
    assert_int_equal(hm_db_begin(db, &err), HM_OK);
    assert_int_equal(hm_registry_upsert_row(db, "FR01", "irradiation_event", names, vals, 6, &err), HM_OK);
    vals[5] = "171";
    assert_int_equal(hm_registry_upsert_row(db, "FR01", "irradiation_event", names, vals, 6, &err),
                     HM_EVALIDATE);
    assert_string_equal(err.field, "kvp");
    assert_string_equal(err.msg, "'171' out of range: expected 20 to 150 kV");
    vals[5] = "80";
    vals[1] = "P404";
    assert_int_equal(hm_registry_upsert_row(db, "FR01", "irradiation_event", names, vals, 6, &err),
                     HM_EVALIDATE);
    assert_string_equal(err.msg, "procedure 'P404' is not registered for centre FR01 (import it first)");
    assert_int_equal(hm_db_commit(db, &err), HM_OK);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM irradiation_event"), 1);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM irradiation_event WHERE kvp = 71.5"), 1);
    hm_db_close(db);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_values_stored),
        cmocka_unit_test(test_bad_file_exact_messages_nothing_stored),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_duplicate_keys_in_file),
        cmocka_unit_test(test_reimport_idempotent),
        cmocka_unit_test(test_other_centre_cannot_overwrite),
        cmocka_unit_test(test_upsert_row_api),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
