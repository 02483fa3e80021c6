/*
 * test_install.c — the install/run split on PostgreSQL (install.c): the
 * owner runs `harmonic server install --app-role R`, the server runs as R
 * with "install = off" and row-level security binds it.  Checked:
 *   - install refuses a BYPASSRLS role, a superuser, a role owning a table,
 *     a bad name, and leaves the database without policies then;
 *   - serve with install = off refuses to start as the owner (superuser
 *     here) and before the install, saying what to run;
 *   - R cannot UPDATE or DELETE the audit chain nor DELETE data rows;
 *   - as R, with the connection set up for FR01's manager (srv_rls_set),
 *     the table-read handler called with a route claiming NO01 returns no
 *     row (the owner sees NO01's row), pooled "all" only FR01's; an UPDATE
 *     of NO01's rows changes nothing;
 *   - two `harmonic serve` processes as R on one database: a submission on
 *     one is read on the other with the same token; FR01's manager gets only
 *     FR01's rows; the audit chain verifies.
 * Skips (77) without HM_TEST_PG_URL.  Roles are named infra_*_PID.
 * With the argument "sqlite" (test_server_install_sqlite, no server needed):
 * the same check on SQLite refuses a database without the triggers and one a
 * migration behind, naming the version; after `harmonic server install` a
 * serve with install = off starts, answers and stops.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_testdb.h"
#include "hm_testserve.h"
#include "hm_testcmd.h"
#include "srv_int.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIR HM_TEST_TMPDIR
#define PSEUDO(n) "00000000000000000000000000000000000000000000000000000000000000" n

static char url[1024], app_url[1200], app[64], bypass[64], owner_role[64];
static char tok_fr[80], tok_ana[80];

/* ---- SQL as the owner ------------------------------------------------- */

static PGconn *pg(const char *u)
{
    PGconn *c = PQconnectdb(u);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

static void ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

static long count(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* The statement fails with a message containing what. */
static void refused(PGconn *c, const char *sql, const char *what)
{
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    if (!strstr(PQerrorMessage(c), what))
        fail_msg("%s: expected '%s', got %s", sql, what, PQerrorMessage(c));
    PQclear(r);
}

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

static const char header[] =
    "centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,syndrome,"
    "transplant_date,transplant_day,immunosuppression,consent\n";

/* ---- servers: the harmonic executable, plain HTTP on loopback ---------- */

static void write_conf(const char *name, const char *db, const char *tag)
{
    char path[1024];
    snprintf(path, sizeof path, DIR "/%s.conf", name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "listen = 127.0.0.1\nport = 0\ntls = off\ndb = %s\nupload_dir = " DIR
                "/up-%s\nlog_file = " DIR "/%s.log\nthreads = 2\ninstall = off\n",
            db, tag, tag);
    fclose(fp);
}

/* Exit status and output of a serve that must fail to start (timeout: a
 * start that wrongly succeeds is killed, status 124). */
static int serve_fails(const char *name, char *out, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "timeout 20 %s serve --config " DIR "/%s.conf", HM_HARMONIC_EXE,
             name);
    return hm_test_run(cmd, out, size, 1);
}

static pid_t start(const char *name, int *port)
{
    char conf[1024];
    snprintf(conf, sizeof conf, DIR "/%s.conf", name);
    return hm_test_serve(conf, "http", NULL, port);
}

static void stop(pid_t pid)
{
    hm_test_serve_stop(pid);
}

typedef hm_test_buf buf;

/* Status of one request; the body parsed into *json when asked. */
static long request(int port, const char *method, const char *path, const char *token,
                    const char *body, json_t **json)
{
    CURL *c = curl_easy_init();
    char u[512], auth[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", port, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "X-Harmonic-Reason: infra test");
    buf b = { NULL, 0 };
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hm_test_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (json) {
        *json = b.p ? json_loads(b.p, 0, NULL) : NULL;
        assert_non_null(*json);
    }
    free(b.p);
    return status;
}

/* The rows of a table page, each checked to be of centre (NULL: any);
 * returns how many. */
static size_t rows_of(json_t *page, const char *centre)
{
    json_t *rows = json_object_get(page, "rows");
    assert_true(json_is_array(rows));
    for (size_t i = 0; centre && i < json_array_size(rows); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(rows, i),
                                                              "centre_code")), centre);
    return json_array_size(rows);
}

/* ---- the test ----------------------------------------------------------- */

static void setup_registry(void)
{
    mkdir(DIR, 0700);
    tdb_new_url_on(1, "inst", url, sizeof url);
    hm_db *db = tdb_open(url);
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
    assert_int_equal(hm_user_add(db, "fr", HM_ROLE_CENTRE_MANAGER, "FR01", "infra horse battery",
                                 "test", "test", &err), HM_OK);
    assert_int_equal(hm_user_add(db, "ana", HM_ROLE_ANALYST, "", "infra horse battery",
                                 "test", "test", &err), HM_OK);
    assert_int_equal(hm_token_issue(db, "fr", 1, "test", "test", tok_fr, sizeof tok_fr, &err),
                     HM_OK);
    assert_int_equal(hm_token_issue(db, "ana", 1, "test", "test", tok_ana, sizeof tok_ana,
                                    &err), HM_OK);
    hm_db_close(db);

    long pid = (long)getpid();
    snprintf(app, sizeof app, "infra_app_%ld", pid);
    snprintf(bypass, sizeof bypass, "infra_bypass_%ld", pid);
    snprintf(owner_role, sizeof owner_role, "infra_owner_%ld", pid);
    snprintf(app_url, sizeof app_url, "%s&user=%s", url, app);
    PGconn *c = pg(url);
    char sql[1024];
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s; DROP ROLE IF EXISTS %s; "
             "CREATE ROLE %s LOGIN NOSUPERUSER NOBYPASSRLS; "
             "CREATE ROLE %s LOGIN NOSUPERUSER BYPASSRLS", app, bypass, app, bypass);
    ok(c, sql);
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s; CREATE ROLE %s NOLOGIN NOSUPERUSER "
             "NOBYPASSRLS; CREATE TABLE %s.infra_owned (x INT); ALTER TABLE %s.infra_owned "
             "OWNER TO %s", owner_role, owner_role, tdb_schemas[tdb_nschemas - 1],
             tdb_schemas[tdb_nschemas - 1], owner_role);
    ok(c, sql);
    PQfinish(c);
}

static void test_refusals(void)
{
    hm_db *db = tdb_open(url);
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(hm_server_install(db, bypass, &err), HM_EPERM);
    assert_non_null(strstr(err.msg, "BYPASSRLS"));
    /* The bootstrap superuser, whatever its name. */
    PGconn *c = pg(url);
    PGresult *res = PQexec(c, "SELECT rolname FROM pg_roles WHERE rolsuper ORDER BY oid LIMIT 1");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    char super[64];
    snprintf(super, sizeof super, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    assert_int_equal(hm_server_install(db, super, &err), HM_EPERM);
    assert_non_null(strstr(err.msg, "superuser"));
    assert_int_equal(hm_server_install(db, owner_role, &err), HM_EPERM);
    assert_non_null(strstr(err.msg, "owns 1 tables"));
    assert_int_equal(hm_server_install(db, "App; DROP TABLE patient", &err), HM_EINVAL);
    assert_int_equal(hm_server_install(db, "infra_nobody_here", &err), HM_EINVAL);
    assert_non_null(strstr(err.msg, "CREATE ROLE"));
    /* The owner's own connection does not pass the serve check. */
    assert_int_equal(hm_server_check_installed(db, &err), HM_EPERM);
    assert_non_null(strstr(err.msg, "row-level security does not bind"));
    hm_db_close(db);
    c = pg(url);
    /* A refused role changed nothing: no policy, no trigger, no grant. */
    assert_int_equal(count(c, "SELECT COUNT(*) FROM pg_policies WHERE schemaname = "
                              "current_schema()"), 0);
    /* (triggers of this schema only: the other tests' schemas have theirs) */
    assert_int_equal(count(c, "SELECT COUNT(*) FROM pg_trigger t JOIN pg_class r ON r.oid = "
                              "t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace WHERE "
                              "t.tgname = 'hm_audit_submission' AND n.nspname = "
                              "current_schema()"), 0);
    PQfinish(c);

    /* Serve before the install, as the app role: refused, naming the command. */
    char out[4096];
    write_conf("early", app_url, "early");
    int rc = serve_fails("early", out, sizeof out);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124);
    assert_non_null(strstr(out, "harmonic server install"));
}

static void test_install_and_grants(void)
{
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "%s server install --db '%s' --app-role %s", HM_HARMONIC_EXE, url,
             app);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "granted to"));
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);          /* again: idempotent */
    /* --app-role is required on PostgreSQL. */
    snprintf(cmd, sizeof cmd, "%s server install --db '%s'", HM_HARMONIC_EXE, url);
    assert_int_not_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "app-role"));

    /* Serve with install = off as the owner: refused. */
    write_conf("owner", url, "owner");
    int rc = serve_fails("owner", out, sizeof out);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124);
    assert_non_null(strstr(out, "row-level security does not bind"));

    PGconn *c = pg(app_url);
    assert_int_equal(count(c, "SELECT COUNT(*) FROM pg_roles WHERE rolname = current_user AND "
                              "NOT rolsuper AND NOT rolbypassrls"), 1);
    /* The chain is append-only for the server; data rows are never deleted. */
    refused(c, "UPDATE audit_log SET reason = 'edited'", "permission denied");
    refused(c, "DELETE FROM audit_log", "permission denied");
    refused(c, "DELETE FROM patient", "permission denied");
    refused(c, "UPDATE schema_version SET name = 'x'", "permission denied");
    refused(c, "CREATE TABLE infra_new (x INT)", "permission denied");
    /* What it may: read the chain, delete scratch rows. */
    assert_int_equal(count(c, "SELECT COUNT(*) FROM audit_log") >= 4, 1);
    ok(c, "DELETE FROM audit_pending WHERE upload_path = 'none'");
    PQfinish(c);
}

/* A bug in one endpoint (here: the handler called with a route the access
 * check would have refused) cannot leak another centre's rows. */
static void test_handler_bound(void)
{
    hm_db *db;
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(hm_db_open_nomigrate(app_url, &db, &err), HM_OK);
    assert_int_equal(hm_server_check_installed(db, &err), HM_OK);
    hm_user fr = { .role = HM_ROLE_CENTRE_MANAGER };
    snprintf(fr.name, sizeof fr.name, "fr");
    snprintf(fr.centre, sizeof fr.centre, "FR01");
    hm_user ana = { .role = HM_ROLE_ANALYST };
    snprintf(ana.name, sizeof ana.name, "ana");

    hm_route_match m = { .id = HM_R_TABLE_GET };
    snprintf(m.table, sizeof m.table, "patient");
    srv_request q = { .route = &m, .user = &fr, .page = 0, .page_size = 100 };
    srv_reply r = { 0 };
    const char *centres[] = { "NO01", "all", "FR01" };
    const size_t want_fr[] = { 0, 2, 2 }, want_ana[] = { 1, 3, 2 };
    for (int who = 0; who < 2; who++) {
        assert_int_equal(srv_rls_set(db, who ? &ana : &fr, &err), HM_OK);
        q.user = who ? &ana : &fr;
        for (int i = 0; i < 3; i++) {
            snprintf(m.centre, sizeof m.centre, "%s", centres[i]);
            srv_route_table_get(db, &q, &r);
            assert_int_equal(r.status, 200);
            json_t *page = json_loads(r.body, 0, NULL);
            assert_non_null(page);
            /* The manager's connection: FR01 rows only, whatever the route says. */
            assert_int_equal(rows_of(page, who ? NULL : "FR01"), who ? want_ana[i] : want_fr[i]);
            json_decref(page);
            free(r.body);
            r.body = NULL;
        }
    }
    /* An UPDATE of NO01's rows on FR01's connection changes nothing; the same
     * statement on FR01's own rows does reach them (the SQL itself works). */
    assert_int_equal(srv_rls_set(db, &fr, &err), HM_OK);
    hm_stmt *st;
    static const char upd[] = "WITH u AS (UPDATE patient SET sex = ? WHERE centre_code = ? "
                              "RETURNING 1) SELECT COUNT(*) FROM u";
    assert_int_equal(hm_db_prepare(db, upd, &st, &err), HM_OK);
    hm_stmt_bind_text(st, 1, "U");
    hm_stmt_bind_text(st, 2, "NO01");
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_int_equal(hm_stmt_column_int64(st, 0), 0);
    hm_stmt_finalize(st);
    assert_int_equal(hm_db_exec(db, "UPDATE patient SET sex = 'U'", &err), HM_OK);
    assert_int_equal(hm_db_prepare(db, "WITH u AS (UPDATE patient SET sex = sex WHERE "
                                       "centre_code = 'FR01' RETURNING 1) SELECT COUNT(*) FROM u",
                                   &st, &err), HM_OK);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_int_equal(hm_stmt_column_int64(st, 0), 2);
    hm_stmt_finalize(st);
    hm_db_close(db);
    PGconn *c = pg(url);
    /* Seen by the owner: NO01's row as it was; FR01's rows took the blanket UPDATE. */
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient WHERE centre_code = 'NO01' AND "
                              "sex = 'F'"), 1);
    assert_int_equal(count(c, "SELECT COUNT(*) FROM patient WHERE centre_code = 'FR01' AND "
                              "sex = 'U'"), 2);
    PQfinish(c);
}

static void test_two_servers(void)
{
    write_conf("a", app_url, "a");
    write_conf("b", app_url, "b");
    int pa, pb;
    pid_t a = start("a", &pa), b = start("b", &pb);
    json_t *j;
    /* FR01's manager: FR01's rows only on either, NO01 refused (403). */
    assert_int_equal(request(pa, "GET", "/api/v1/centres/FR01/tables/patient", tok_fr, NULL, &j),
                     200);
    assert_int_equal(rows_of(j, "FR01"), 2);
    json_decref(j);
    assert_int_equal(request(pb, "GET", "/api/v1/centres/NO01/tables/patient", tok_fr, NULL,
                             NULL), 403);
    /* A submission on a, read on b with the same token. */
    char csv[1024];
    snprintf(csv, sizeof csv, "%sFR01," PSEUDO("07") ",1,cardiac,F,2006,,none,,,0,given\n",
             header);
    assert_int_equal(request(pa, "POST", "/api/v1/centres/FR01/tables/patient", tok_fr, csv,
                             &j), 200);
    json_decref(j);
    assert_int_equal(request(pb, "GET", "/api/v1/centres/FR01/tables/patient", tok_fr, NULL, &j),
                     200);
    assert_int_equal(rows_of(j, "FR01"), 3);
    json_t *rows = json_object_get(j, "rows");
    int found = 0;
    for (size_t i = 0; i < json_array_size(rows); i++)
        found += !strcmp(json_string_value(json_object_get(json_array_get(rows, i), "pseudonym")),
                         PSEUDO("07"));
    assert_int_equal(found, 1);
    json_decref(j);
    /* The analyst, pooled, on a: both centres (harmonic.centre '*'). */
    assert_int_equal(request(pa, "GET", "/api/v1/centres/all/tables/patient", tok_ana, NULL, &j),
                     200);
    assert_int_equal(rows_of(j, NULL), 4);
    json_decref(j);
    stop(a);
    stop(b);

    /* The submission's audit entry went in through the trigger, as the app role. */
    PGconn *c = pg(url);
    assert_int_equal(count(c, "SELECT COUNT(*) FROM audit_log WHERE action = 'submit' AND "
                              "user_name = 'fr' AND centre_code = 'FR01'"), 1);
    assert_int_equal(count(c, "SELECT COUNT(*) FROM audit_pending"), 0);
    PQfinish(c);
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "%s audit verify --db '%s'", HM_HARMONIC_EXE, url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
}

/* The pooled connection's record of harmonic.centre (rls.c): a request of
 * the centre already set skips the set, one of another centre (or none)
 * sets it, and a set made inside a transaction that is rolled back is not
 * trusted afterwards.  Checked on the connection itself after each step:
 * the setting, and the rows the policies let it see. */
static void expect_centre(hm_db *db, const char *want, long rows)
{
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, "SELECT COALESCE(current_setting('harmonic.centre', "
                                       "true), ''), (SELECT COUNT(*) FROM patient)", &st, &err),
                     HM_OK);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_string_equal(hm_stmt_column_text(st, 0), want);
    assert_int_equal(hm_stmt_column_int64(st, 1), rows);
    hm_stmt_finalize(st);
}

static void test_centre_record(void)
{
    srv_pool *pool;
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(srv_pool_open_ex(app_url, 1, 0, &pool, &err), HM_OK);
    hm_db *db = srv_pool_get(pool);
    srv_stmt_cache *stmts = srv_pool_stmts(pool, db);
    assert_non_null(stmts);
    hm_user fr = { .role = HM_ROLE_CENTRE_MANAGER }, no = fr, ana = { .role = HM_ROLE_ANALYST };
    snprintf(fr.centre, sizeof fr.centre, "FR01");
    snprintf(no.centre, sizeof no.centre, "NO01");
    assert_null(srv_stmt_centre(stmts));
    /* The pooled connections plan generically (pool.c: no re-planning per page). */
    hm_stmt *st;
    assert_int_equal(hm_db_prepare(db, "SELECT current_setting('plan_cache_mode')", &st, &err),
                     HM_OK);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_string_equal(hm_stmt_column_text(st, 0), "force_generic_plan");
    hm_stmt_finalize(st);
    const hm_user *seq[] = { &fr, &fr, &ana, &no, NULL, &fr, &ana, &ana };
    const char *want[] = { "FR01", "FR01", "*", "NO01", "", "FR01", "*", "*" };
    const long rows[] = { 2, 2, 3, 1, 0, 2, 3, 3 };
    for (int i = 0; i < 8; i++) {
        assert_int_equal(srv_rls_set_on(db, stmts, seq[i], &err), HM_OK);
        assert_string_equal(srv_stmt_centre(stmts), want[i]);
        expect_centre(db, want[i], rows[i]);
    }
    /* Set inside a transaction, then rolled back: the setting is '*' again,
     * and the next FR01 request must set it anew, not trust a record. */
    assert_int_equal(hm_db_begin(db, &err), HM_OK);
    assert_int_equal(srv_rls_set_on(db, stmts, &fr, &err), HM_OK);
    assert_null(srv_stmt_centre(stmts));
    expect_centre(db, "FR01", 2);
    hm_db_rollback(db, NULL);
    expect_centre(db, "*", 3);
    assert_int_equal(srv_rls_set_on(db, stmts, &fr, &err), HM_OK);
    expect_centre(db, "FR01", 2);
    srv_pool_put(pool, db);
    srv_pool_close(pool);
}

static void test_split(void **state)
{
    (void)state;
    setup_registry();
    test_refusals();
    test_install_and_grants();
    test_handler_bound();
    test_centre_record();
    test_two_servers();
}

static void test_sqlite(void **state)
{
    (void)state;
    mkdir(DIR, 0700);
    tdb_new_url_on(0, "sq", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(hm_server_check_installed(db, &err), HM_EINVAL);
    assert_non_null(strstr(err.msg, "harmonic server install"));
    assert_non_null(strstr(err.msg, "audit trigger (0 of 1)"));
    hm_db_close(db);
    char out[4096], cmd[2048];
    write_conf("sq", url, "sq");
    int rc = serve_fails("sq", out, sizeof out);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124);
    assert_non_null(strstr(out, "harmonic server install"));
    snprintf(cmd, sizeof cmd, "%s server install --db '%s'", HM_HARMONIC_EXE, url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "SQLite"));
    int port;
    pid_t pid = start("sq", &port);
    json_t *j;
    assert_int_equal(request(port, "GET", "/api/v1/health", "none", NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    stop(pid);
    /* A migration behind: the newest schema_version row removed. */
    assert_int_equal(hm_db_open_nomigrate(url, &db, &err), HM_OK);
    assert_int_equal(hm_server_check_installed(db, &err), HM_OK);
    int v = 0;
    assert_int_equal(hm_db_schema_version(db, &v, &err), HM_OK);
    assert_true(v >= 9);
    char sql[128], want[96];
    snprintf(sql, sizeof sql, "DELETE FROM schema_version WHERE version = %d", v);
    assert_int_equal(hm_db_exec(db, sql, &err), HM_OK);
    assert_int_equal(hm_server_check_installed(db, &err), HM_EINVAL);
    snprintf(want, sizeof want, "at version %d and this harmonic's migrations go to %d", v - 1,
             v);
    if (!strstr(err.msg, want))
        fail_msg("expected '%s' in: %s", want, err.msg);
    hm_db_close(db);
}

/* The roles go whatever the outcome (they are cluster-wide). */
static void drop_roles(void)
{
    const char *roles[] = { app, bypass, owner_role };
    PGconn *c = PQconnectdb(url);
    for (int i = 0; i < 3 && PQstatus(c) == CONNECTION_OK; i++) {
        if (!roles[i][0])
            continue;
        char sql[256];
        snprintf(sql, sizeof sql, "DROP OWNED BY %s", roles[i]);
        PQclear(PQexec(c, sql));
        snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s", roles[i]);
        PQclear(PQexec(c, sql));
    }
    PQfinish(c);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "sqlite")) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_sqlite) };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        curl_global_cleanup();
        return rc;
    }
    if (!getenv("HM_TEST_PG_URL") || !getenv("HM_TEST_PG_URL")[0]) {
        fprintf(stderr, "HM_TEST_PG_URL unset: skipped\n");
        return 77;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_split) };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    drop_roles();
    tdb_cleanup();
    curl_global_cleanup();
    return rc;
}
