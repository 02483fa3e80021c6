/*
 * test_audit.c — the audit chain: an entry's hash recomputed here from its
 * definition (SHA-256 of prev_hash then "<len>:<field>\n" per field), an
 * intact chain verifies, an edited, a deleted and a reordered entry are each
 * named, and a staged submission entry commits with its import and only
 * then (the import_log trigger).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_testdb.h"
#include "hm_server.h"

#include <sodium.h>

static hm_db *db;
static char url[1024];

static void exec_ok(const char *sql)
{
    hm_error err;
    int rc = hm_db_exec(db, sql, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", sql, err.msg);
    assert_int_equal(rc, HM_OK);
}

static long count(const char *sql)
{
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    long v = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    return v;
}

static void append(const char *user, const char *record, const char *value)
{
    hm_error err;
    assert_int_equal(hm_db_begin(db, &err), HM_OK);
    hm_audit_entry e = { .user = user, .remote_addr = "10.0.0.7", .action = "edit",
                         .centre = "FR01", .table = "patient", .record = record,
                         .old_value = "sex=F", .new_value = value, .digest = "",
                         .reason = "query 12 answered" };
    assert_int_equal(hm_audit_append(db, &e, &err), HM_OK);
    assert_int_equal(hm_db_commit(db, &err), HM_OK);
}

/* Verify's outcome: 0 intact, else the seq it names. */
static int64_t verify(long *n)
{
    hm_error err;
    int64_t bad = -1;
    int rc = hm_audit_verify(db, n, &bad, &err);
    if (rc == HM_OK)
        return 0;
    assert_int_equal(rc, HM_EVALIDATE);
    return bad;
}

static void test_hash_by_definition(void **state)
{
    (void)state;
    append("alice", "FR01/p1", "sex=M");
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, "SELECT at, prev_hash, entry_hash FROM audit_log "
                                       "WHERE seq = 1", &st, &err), HM_OK);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    char at[32], prev[65], stored[65];
    snprintf(at, sizeof at, "%s", hm_stmt_column_text(st, 0));
    snprintf(prev, sizeof prev, "%s", hm_stmt_column_text(st, 1));
    snprintf(stored, sizeof stored, "%s", hm_stmt_column_text(st, 2));
    hm_stmt_finalize(st);
    assert_string_equal(prev, "0000000000000000000000000000000000000000000000000000000000000000");
    /* The canonical entry written out by hand. */
    char msg[1024];
    snprintf(msg, sizeof msg,
             "%s1:1\n20:%s\n5:alice\n8:10.0.0.7\n4:edit\n4:FR01\n7:patient\n7:FR01/p1\n"
             "5:sex=F\n5:sex=M\n0:\n17:query 12 answered\n", prev, at);
    assert_int_equal(strlen(at), 20);
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)msg, strlen(msg));
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    assert_string_equal(hex, stored);
    /* Outside a transaction an entry cannot be written (it belongs to a change). */
    hm_audit_entry e = { .user = "x" };
    assert_int_equal(hm_audit_append(db, &e, &err), HM_EINVAL);
}

static void test_tamper_detected(void **state)
{
    (void)state;
    append("bob", "FR01/p2", "sex=F");
    append("carol", "FR01/p3", "sex=M");
    append("dave", "FR01/p4", "sex=F");
    append("erin", "FR01/p5", "sex=M");
    long n = 0;
    assert_int_equal(verify(&n), 0);
    assert_int_equal(n, 5);
    /* Edited: one value changed in place. */
    exec_ok("UPDATE audit_log SET new_value = 'sex=F' WHERE seq = 3");
    assert_int_equal(verify(&n), 3);
    assert_int_equal(n, 2);                        /* entries before it were good */
    exec_ok("UPDATE audit_log SET new_value = 'sex=M' WHERE seq = 3");
    assert_int_equal(verify(&n), 0);
    /* Reordered: entries 2 and 4 swap places. */
    exec_ok("UPDATE audit_log SET seq = -4 WHERE seq = 4");
    exec_ok("UPDATE audit_log SET seq = 4 WHERE seq = 2");
    exec_ok("UPDATE audit_log SET seq = 2 WHERE seq = -4");
    assert_int_equal(verify(&n), 2);
    exec_ok("UPDATE audit_log SET seq = -2 WHERE seq = 2");
    exec_ok("UPDATE audit_log SET seq = 2 WHERE seq = 4");
    exec_ok("UPDATE audit_log SET seq = 4 WHERE seq = -2");
    assert_int_equal(verify(&n), 0);
    /* Deleted: entry 3 removed; entry 4 then stands where 3 should. */
    exec_ok("DELETE FROM audit_log WHERE seq = 3");
    assert_int_equal(verify(&n), 4);
    assert_int_equal(n, 2);
}

static void test_staged_commits_with_import(void **state)
{
    (void)state;
    hm_error err;
    long before = count("SELECT COUNT(*) FROM audit_log");
    char path[1100];
    snprintf(path, sizeof path, "%s/upload-good.csv", HM_TEST_TMPDIR);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("centre_code,country,name,cohort\nFR01,FR,Hopital Necker,both\n", fp);
    fclose(fp);
    hm_audit_entry e = { .user = "fr", .remote_addr = "127.0.0.1", .action = "submit",
                         .centre = "FR01", .table = "centre", .record = "FR01/centre",
                         .old_value = "", .new_value = "", .digest = "abc", .reason = "r" };
    assert_int_equal(hm_audit_stage(db, path, &e, &err), HM_OK);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_pending"), 1);
    hm_import_report rep;
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv(db, "FR01", "centre", path, &rep, &err), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log"), before + 1);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_pending"), 0);
    /* A rejected file: its staged entry never reaches the chain. */
    snprintf(path, sizeof path, "%s/upload-bad.csv", HM_TEST_TMPDIR);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("centre_code,country,name,cohort\nFR01,XX,Hopital Necker,nope\n", fp);
    fclose(fp);
    hm_audit_entry e2 = e;
    memset(e2.at, 0, sizeof e2.at);
    assert_int_equal(hm_audit_stage(db, path, &e2, &err), HM_OK);
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv(db, "FR01", "centre", path, &rep, &err), HM_EVALIDATE);
    hm_import_report_free(&rep);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log"), before + 1);
    assert_int_equal(hm_audit_unstage(db, path, &err), HM_OK);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_pending"), 0);
    /* An import from the command line (nothing staged) adds no entry. */
    hm_import_report_init(&rep);
    snprintf(path, sizeof path, "%s/upload-good.csv", HM_TEST_TMPDIR);
    assert_int_equal(hm_registry_import_csv(db, "FR01", "centre", path, &rep, &err), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log"), before + 1);
}

static int setup(void **state)
{
    (void)state;
    tdb_new_url("audit", url, sizeof url);
    db = tdb_open(url);
    hm_error err;
    assert_int_equal(hm_audit_install(db, &err), HM_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hm_db_close(db);
    tdb_cleanup();
    return 0;
}

int main(void)
{
    if (tdb_skip())
        return 77;
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_by_definition),
        cmocka_unit_test(test_tamper_detected),
    };
    const struct CMUnitTest staged[] = {
        cmocka_unit_test(test_staged_commits_with_import),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    return rc | cmocka_run_group_tests(staged, setup, teardown);
}
