/*
 * test_kill.c — an import killed half-way (SIGKILL inside the transaction,
 * via the HM_TEST_KILL_AFTER_ROWS hook, in a child process) leaves the
 * database exactly as it was; the same import without the kill stores all.
 */
#include "test_db.h"

#include <signal.h>
#include <sys/wait.h>

#define NROWS 2000
#define KILL_AT 1000

static void base(hm_db *db)
{
    hm_import_report rep;
    assert_int_equal(tdb_import(db, "FR01", "centre", "c.csv", FX_CENTRE_FR, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_import(db, "FR01", "patient", "p.csv", FX_PATIENT_FR, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_import(db, "FR01", "procedure", "proc.csv", FX_PROC_FR, &rep), HM_OK);
    hm_import_report_free(&rep);
}

static void write_big(const char *path)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("centre_code,procedure_id,pseudonym,proc_day,exam_type,category,kap_total_gy_cm2,dose_tier\n", fp);
    for (int i = 0; i < NROWS; i++)
        fprintf(fp, "FR01,K%d," PSEUDO("01") ",%d,diag_cath,diagnostic,%.3f,2\n", i, 30 + i % 5000,
                0.5 + i * 0.001);
    fclose(fp);
}

static void export_to(const char *url, const char *dir)
{
    hm_db *db = tdb_open(url);
    hm_error err;
    assert_int_equal(hm_registry_export(db, dir, NULL, &err), HM_OK);
    hm_db_close(db);
}

static void test_killed_import_leaves_db_unchanged(void **state)
{
    (void)state;
    char url[1024], big[1024], d1[1024], d2[1024];
    tdb_new_url("kill", url, sizeof url);
    hm_db *db = tdb_open(url);
    base(db);
    hm_db_close(db);
    snprintf(big, sizeof big, "%s/big.csv", HM_TEST_TMPDIR);
    snprintf(d1, sizeof d1, "%s/before", HM_TEST_TMPDIR);
    snprintf(d2, sizeof d2, "%s/after", HM_TEST_TMPDIR);
    write_big(big);
    export_to(url, d1);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("HM_TEST_KILL_AFTER_ROWS", "1000", 1);
        hm_db *c = NULL;
        hm_error err;
        if (hm_db_open(url, &c, &err))
            _exit(2);
        hm_import_report rep;
        hm_import_report_init(&rep);
        hm_registry_import_csv(c, "FR01", "procedure", big, &rep, &err);
        _exit(3);                     /* reached only if the hook did not fire */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    export_to(url, d2);
    const char *files[] = { "centre.csv", "patient.csv", "procedure.csv" };
    for (int i = 0; i < 3; i++) {
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", d1, files[i]);
        snprintf(b, sizeof b, "%s/%s", d2, files[i]);
        char *x = tdb_read(a), *y = tdb_read(b);
        assert_string_equal(x, y);
        free(x);
        free(y);
    }
    db = tdb_open(url);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure"), 3);
    /* The database is usable and the same file imports in full. */
    hm_import_report rep;
    hm_import_report_init(&rep);
    hm_error err;
    assert_int_equal(hm_registry_import_csv(db, "FR01", "procedure", big, &rep, &err), HM_OK);
    assert_int_equal(rep.rows_stored, NROWS);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure"), NROWS + 3);
    hm_db_close(db);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_import_leaves_db_unchanged),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
