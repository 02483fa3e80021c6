/*
 * test_rls.c — PostgreSQL row-level security per centre (rls.c).  Rows of
 * two centres are stored by the owner; then, as a role made here that is
 * neither superuser nor owner nor BYPASSRLS (so the policies apply), a
 * SELECT without any WHERE clause returns only the rows of the centre named
 * by harmonic.centre, none when it is unset, all for '*'; writing another
 * centre's row is refused.  Skips (77) without PostgreSQL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_testdb.h"
#include "hm_server.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DIR HM_TEST_TMPDIR
#define PSEUDO(n) "00000000000000000000000000000000000000000000000000000000000000" n

static char url[1024], role[64];

static void import(hm_db *db, const char *centre, const char *table, const char *csv)
{
    char path[1024];
    snprintf(path, sizeof path, DIR "/%s-%s.csv", table, centre);
    FILE *fp = fopen(path, "w");
    fputs(csv, fp);
    fclose(fp);
    hm_import_report rep;
    hm_error err;
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv(db, centre, table, path, &rep, &err), HM_OK);
    hm_import_report_free(&rep);
}

static PGresult *q(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    return r;
}

static void ok(PGconn *c, const char *sql)
{
    PGresult *r = q(c, sql);
    assert_true(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
}

static long count(PGconn *c, const char *sql)
{
    PGresult *r = q(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

static void test_policies(void **state)
{
    (void)state;
    mkdir(DIR, 0700);
    tdb_new_url_on(1, "rls", url, sizeof url);
    hm_db *db = tdb_open(url);
    static const char header[] =
        "centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,syndrome,"
        "transplant_date,transplant_day,immunosuppression,consent\n";
    import(db, "FR01", "centre", "centre_code,country,name,cohort\nFR01,FR,Necker,both\n");
    import(db, "NO01", "centre", "centre_code,country,name,cohort\nNO01,NO,Oslo,cardiac\n");
    char csv[1024];
    snprintf(csv, sizeof csv, "%sFR01," PSEUDO("01") ",1,cardiac,F,2005,2005-03-14,none,,,0,"
             "given\nFR01," PSEUDO("02") ",1,cardiac,M,2007,2007-11-02,none,,,0,given\n",
             header);
    import(db, "FR01", "patient", csv);
    snprintf(csv, sizeof csv, "%sNO01," PSEUDO("05") ",1,cardiac,F,2005,,none,,,0,given\n",
             header);
    import(db, "NO01", "patient", csv);
    hm_error err;
    assert_int_equal(hm_server_rls_install(db, &err), HM_OK);
    assert_int_equal(hm_server_rls_install(db, &err), HM_OK);      /* again: idempotent */
    hm_db_close(db);

    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    ok(c, "SET client_min_messages = warning");
    /* The owner is not bound (ENABLE, not FORCE): all three rows. */
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient"), 3);
    snprintf(role, sizeof role, "hm_rls_%ld", (long)getpid());
    char sql[512];
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s", role);
    ok(c, sql);
    snprintf(sql, sizeof sql, "CREATE ROLE %s NOLOGIN NOSUPERUSER NOBYPASSRLS", role);
    ok(c, sql);
    snprintf(sql, sizeof sql, "GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT, INSERT, UPDATE ON "
                              "patient, centre TO %s", tdb_schemas[tdb_nschemas - 1], role, role);
    ok(c, sql);
    snprintf(sql, sizeof sql, "SET ROLE %s", role);
    ok(c, sql);
    /* Really a role the policies bind: not superuser, owns nothing. */
    assert_int_equal(count(c, "SELECT COUNT(*) FROM pg_roles WHERE rolname = current_user AND "
                              "NOT rolsuper AND NOT rolbypassrls"), 1);
    assert_int_equal(count(c, "SELECT COUNT(*) FROM pg_tables WHERE tableowner = current_user"),
                     0);
    /* Unset: nothing.  Then each centre sees its own rows, without a WHERE. */
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient"), 0);
    ok(c, "SELECT set_config('harmonic.centre', 'FR01', false)");
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient"), 2);
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient WHERE centre_code <> 'FR01'"), 0);
    assert_int_equal(count(c, "SELECT COUNT(*) FROM centre"), 1);
    ok(c, "SELECT set_config('harmonic.centre', 'NO01', false)");
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient"), 1);
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient WHERE pseudonym = '" PSEUDO("05")
                              "'"), 1);
    /* Another centre's rows can neither be changed nor written. */
    assert_int_equal(count(c, "WITH u AS (UPDATE patient SET sex = 'U' WHERE centre_code = "
                              "'FR01' RETURNING 1) SELECT COUNT(*) FROM u"), 0);
    PGresult *r = q(c, "INSERT INTO patient (centre_code, pseudonym, key_version, cohort, sex, "
                       "birth_year, syndrome, consent) VALUES ('FR01', '" PSEUDO("09") "', 1, "
                       "'cardiac', 'F', 2009, 'none', 'given')");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_non_null(strstr(PQerrorMessage(c), "row-level security"));
    PQclear(r);
    ok(c, "SELECT set_config('harmonic.centre', '*', false)");
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient"), 3);
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient WHERE sex = 'U'"), 0);
    ok(c, "RESET ROLE");
    snprintf(sql, sizeof sql, "DROP OWNED BY %s; DROP ROLE %s", role, role);
    ok(c, sql);
    PQfinish(c);
}

int main(void)
{
    if (!getenv("HM_TEST_PG_URL") || !getenv("HM_TEST_PG_URL")[0]) {
        fprintf(stderr, "HM_TEST_PG_URL unset: skipped\n");
        return 77;
    }
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_policies) };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
