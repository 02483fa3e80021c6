/*
 * test_import.c — `rdsr import` into an SQLite registry: events keyed by
 * UID (a repeated report adds nothing, a cumulative one only its new
 * events, and the procedure totals follow), identifiers never stored in
 * clear, each file all-or-nothing, and the command-line summary.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "hm_pseudo.h"
#include "hm_rdsr.h"
#include "hm_registry.h"
#include "hm_testcmd.h"
#include "hm_testdb.h"

#define T HM_TEST_TMPDIR

static hm_rdsr_ctx *ctx;
static hm_pseudo_key key;

static int setup(void **state)
{
    (void)state;
    ctx = hm_rdsr_ctx_new(NULL);
    hm_error err;
    if (hm_pseudo_key_from_bytes(&key, "0123456789abcdef0123456789abcdef", 32, 3, &err))
        return -1;
    return ctx ? 0 : -1;
}


static hm_rdsr_report *fixture(const char *name, hm_rdsr_synth_spec *s, hm_rdsr_synth_truth *t)
{
    char path[512];
    snprintf(path, sizeof path, T "/%s", name);
    hm_error err;
    if (hm_rdsr_synth_write(path, s, t, &err))
        fail_msg("%s", err.msg);
    hm_rdsr_report *r = NULL;
    if (hm_rdsr_read_file(ctx, path, &r, &err))
        fail_msg("%s", err.msg);
    return r;
}

static double query_num(hm_db *db, const char *sql)
{
    hm_stmt *st;
    hm_error err;
    if (hm_db_prepare(db, sql, &st, &err))
        fail_msg("%s: %s", sql, err.msg);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    double v = hm_stmt_column_double(st, 0);
    hm_stmt_finalize(st);
    return v;
}

/* A registry (new, empty) with centre FR01 registered; its URL in url. */
static hm_db *open_registry(const char *tag, char *url, size_t size)
{
    tdb_new_url(tag, url, size);
    hm_db *db = tdb_open(url);
    hm_error err;
    const char *names[] = { "centre_code", "country", "name", "cohort" };
    const char *values[] = { "FR01", "FR", "Test hospital", "cardiac" };
    if (hm_registry_upsert_row(db, "FR01", "centre", names, values, 4, &err))
        fail_msg("%s", err.msg);
    return db;
}

static int teardown(void **state)
{
    (void)state;
    tdb_cleanup();
    hm_rdsr_ctx_free(ctx);
    return 0;
}

static int import(hm_db *db, hm_rdsr_report *r, hm_rdsr_import_result *res, hm_error *err)
{
    hm_rdsr_import_opts o = { .centre = "FR01", .key = &key };
    hm_error_clear(err);
    return hm_rdsr_import(db, &o, r, res, err);
}

/* 1 if the bytes of `needle` occur in the file. */
static int file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, fp);
    fclose(fp);
    size_t m = strlen(needle);
    int found = 0;
    for (size_t i = 0; i + m <= got && !found; i++)
        found = !memcmp(buf + i, needle, m);
    free(buf);
    return found;
}

static void cumulative_reports(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = open_registry("reg", url, sizeof url);
    hm_error err;
    hm_rdsr_synth_spec s = { .nevents = 4, .seed = 8, .study_uid = "2.25.777000111",
                             .patient_id = "PAT-123", .birth_date = "20150704",
                             .study_date = "20230611" };
    hm_rdsr_synth_truth t1, t2;
    hm_rdsr_report *part1 = fixture("part1.dcm", &s, &t1);
    s.nevents = 7;
    hm_rdsr_report *part2 = fixture("part2.dcm", &s, &t2);

    hm_rdsr_import_result res;
    if (import(db, part1, &res, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(res.events_added, 4);
    assert_int_equal(res.procedure_added, 1);
    assert_int_equal(res.patient_added, 1);
    /* The same report again adds nothing. */
    assert_int_equal(import(db, part1, &res, &err), 0);
    assert_int_equal(res.events_added, 0);
    assert_int_equal(res.procedure_added, 0);
    assert_int_equal(res.patient_added, 0);
    /* The cumulative report adds only its three new events. */
    assert_int_equal(import(db, part2, &res, &err), 0);
    assert_int_equal(res.events_in_file, 7);
    assert_int_equal(res.events_added, 3);
    assert_int_equal(query_num(db, "SELECT COUNT(*) FROM irradiation_event"), 7);
    assert_int_equal(query_num(db, "SELECT COUNT(*) FROM procedure"), 1);
    assert_int_equal(query_num(db, "SELECT COUNT(*) FROM patient"), 1);
    /* Procedure total = the cumulative report's total = sum of stored events. */
    double kap = query_num(db, "SELECT kap_total_gy_cm2 FROM procedure");
    double sum = query_num(db, "SELECT SUM(kap_gy_cm2) FROM irradiation_event");
    assert_true(fabs(kap - t2.kap_total_gy_cm2) < 1e-7 * t2.kap_total_gy_cm2);
    assert_true(fabs(sum - t2.kap_total_gy_cm2) < 1e-7 * t2.kap_total_gy_cm2);
    /* Patient characteristics kept, dates as offsets: 2015-07-04 -> 2023-06-11. */
    assert_int_equal(query_num(db, "SELECT birth_year FROM patient"), 2015);
    assert_int_equal(query_num(db, "SELECT proc_day FROM procedure"), 2899);
    assert_true(fabs(query_num(db, "SELECT weight_kg FROM procedure") - 17.5) < 1e-9);
    assert_true(fabs(query_num(db, "SELECT height_cm FROM procedure") - 105) < 1e-9);
    assert_int_equal(query_num(db, "SELECT MIN(event_day) FROM irradiation_event"), 2899);
    assert_int_equal(query_num(db, "SELECT MIN(event_time_s) FROM irradiation_event"), 36000);
    assert_true(query_num(db, "SELECT MIN(filter_cu_mm) FROM irradiation_event") > 0.09);
    assert_int_equal(query_num(db, "SELECT key_version FROM patient"), 3);
    hm_db_close(db);

    /* Identifiers never stored in clear: nowhere in the SQLite file; on
     * PostgreSQL not in the key columns. */
    if (tdb_is_pg()) {
        db = NULL;
        assert_int_equal(hm_db_open(url, &db, &err), 0);
        assert_int_equal(query_num(db, "SELECT COUNT(*) FROM patient WHERE pseudonym LIKE '%PAT%'"
                                       " OR pseudonym LIKE '%123'"), 0);
        assert_int_equal(query_num(db, "SELECT COUNT(*) FROM procedure WHERE study_uid = "
                                       "'2.25.777000111' OR procedure_id = '2.25.777000111'"), 0);
        assert_int_equal(query_num(db, "SELECT COUNT(*) FROM irradiation_event WHERE event_uid "
                                       "LIKE '2.25.777000111%'"), 0);
        hm_db_close(db);
        hm_rdsr_report_free(part1);
        hm_rdsr_report_free(part2);
        return;
    }
    const char *clear[] = { "PAT-123", "PAT123", "2.25.777000111", "20150704", "20230611" };
    for (size_t i = 0; i < sizeof clear / sizeof *clear; i++) {
        assert_false(file_contains(T "/reg.db", clear[i]));
        assert_false(file_contains(T "/reg.db-wal", clear[i]));
    }
    for (size_t i = 0; i < part2->nevents; i++)
        assert_false(file_contains(T "/reg.db", part2->events[i].uid));
    char pseudonym[HM_PSEUDO_HEX_SIZE];
    assert_int_equal(hm_pseudo_id(&key, "patient", "PAT-123", pseudonym, &err), 0);
    assert_true(file_contains(T "/reg.db", pseudonym));
    hm_rdsr_report_free(part1);
    hm_rdsr_report_free(part2);
}

static void all_or_nothing(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = open_registry("reg2", url, sizeof url);
    hm_error err;
    /* An adult (age over the cohort's 22 years) breaks a procedure rule
     * after the patient row was written: everything must roll back. */
    hm_rdsr_synth_spec s = { .nevents = 3, .seed = 1, .patient_id = "OLD-1",
                             .birth_date = "19800101" };
    hm_rdsr_report *r = fixture("adult.dcm", &s, NULL);
    hm_rdsr_import_result res;
    assert_int_not_equal(import(db, r, &res, &err), 0);
    assert_non_null(strstr(err.msg, "procedure row"));
    assert_non_null(strstr(err.file, "adult.dcm"));
    assert_int_equal(res.events_added, 0);
    assert_int_equal(query_num(db, "SELECT COUNT(*) FROM patient"), 0);
    assert_int_equal(query_num(db, "SELECT COUNT(*) FROM procedure"), 0);
    assert_int_equal(query_num(db, "SELECT COUNT(*) FROM irradiation_event"), 0);
    hm_rdsr_report_free(r);
    /* A radiography report is never filed as a procedure. */
    hm_rdsr_synth_spec x = { .nevents = 1, .seed = 4, .patient_id = "KID-8", .radiography = 1 };
    r = fixture("dx.dcm", &x, NULL);
    assert_string_equal(r->modality, "DX");
    assert_int_equal(import(db, r, &res, &err), HM_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "radiography report"));
    assert_int_equal(query_num(db, "SELECT COUNT(*) FROM procedure"), 0);
    hm_rdsr_report_free(r);
    /* A biplane child is stored with its planes. */
    hm_rdsr_synth_spec b = { .nevents = 6, .seed = 2, .biplane = 1, .patient_id = "KID-9" };
    r = fixture("biplane.dcm", &b, NULL);
    assert_int_equal(import(db, r, &res, &err), 0);
    assert_int_equal(query_num(db, "SELECT COUNT(*) FROM irradiation_event WHERE plane = 'A'"), 3);
    assert_int_equal(query_num(db, "SELECT COUNT(*) FROM irradiation_event WHERE plane = 'B'"), 3);
    hm_rdsr_report_free(r);
    hm_db_close(db);
}


static void command_line(void **state)
{
    (void)state;
    char out[16384];
    assert_int_equal(system("rm -rf " T "/in " T "/study.key && mkdir " T "/in"), 0);
    hm_error err;
    assert_int_equal(hm_pseudo_keygen(T "/study.key", 1, &err), 0);
    char url[1024], cmd[4096];
    hm_db_close(open_registry("cli", url, sizeof url));
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " rdsr synth --out " T "/in/a.dcm --events 5 --seed 1"
                         " --study-uid 2.25.31 --quirks gym2", out, sizeof out, 1), 0);
    assert_int_equal(hm_test_run(HM_HARMONIC_EXE " rdsr synth --out " T "/in/b.dcm --events 8 --seed 1"
                         " --study-uid 2.25.31", out, sizeof out, 1), 0);
    FILE *fp = fopen(T "/in/c.txt", "w");
    fputs("not a dicom file\n", fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, HM_HARMONIC_EXE " rdsr import --db '%s' --centre FR01 --key "
             T "/study.key " T "/in", url);
    int rc = hm_test_run(cmd, out, sizeof out, 1);
    assert_int_equal(rc, 1);                               /* one file failed */
    assert_non_null(strstr(out, "a.dcm: HARMONIC Synthetic SynthCath Mono (RF), 5 events (5 new)"));
    assert_non_null(strstr(out, "repaired: kap_total_gy_cm2"));
    assert_non_null(strstr(out, "b.dcm: HARMONIC Synthetic SynthCath Mono (RF), 8 events (3 new)"));
    assert_non_null(strstr(out, "FAILED " T "/in/c.txt: not a DICOM file"));
    assert_non_null(strstr(out, "3 files: 2 imported, 1 failed; 8 new events"));
    /* Again: nothing new, and without the bad file the exit status is 0. */
    snprintf(cmd, sizeof cmd, HM_HARMONIC_EXE " rdsr import --db '%s' --centre FR01 --key "
             T "/study.key " T "/in/a.dcm " T "/in/b.dcm", url);
    rc = hm_test_run(cmd, out, sizeof out, 1);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "2 files: 2 imported, 0 failed; 0 new events"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cumulative_reports),
        cmocka_unit_test(all_or_nothing),
        cmocka_unit_test(command_line),
    };
    if (tdb_skip())
        return 77;
    return cmocka_run_group_tests(tests, setup, teardown);
}
