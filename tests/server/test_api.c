/*
 * test_api.c — the security tests of `harmonic serve`, end to end: the test
 * makes a self-signed certificate (certtool), accounts and tokens, starts the
 * harmonic executable on 127.0.0.1 port 0 with TLS, talks to it with libcurl
 * (verifying the certificate), and stops it.  Every refused request also
 * checks that the database is exactly as before (rows, audit chain, import
 * log).  A server killed (SIGKILL) inside an upload's import leaves the
 * database as it was, and after a restart the same upload succeeds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_testdb.h"
#include "hm_testserve.h"
#include "hm_testcmd.h"
#include "hm_server.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#define DIR HM_TEST_TMPDIR
#define MAX_UPLOAD 4096

static char url[1024];
static char tok_fr[80], tok_no[80], tok_ana[80], tok_aud[80], tok_old[80];
static pid_t server_pid;
static int port;

/* ---- the server process ---------------------------------------------- */

static void start_server(const char *kill_after_rows)
{
    const char *env[] = { "HM_TEST_KILL_AFTER_ROWS", kill_after_rows, NULL };
    server_pid = hm_test_serve(DIR "/server.conf", "https",
                               kill_after_rows ? env : NULL, &port);
}

/* SIGTERM: the graceful stop, exit status 0. */
static void stop_server(void)
{
    hm_test_serve_stop(server_pid);
}

/* ---- an HTTPS client --------------------------------------------------- */

typedef hm_test_buf buf;

typedef struct body_src {
    const char *p;
    size_t left;
} body_src;

static size_t on_read(char *out, size_t size, size_t n, void *arg)
{
    body_src *s = arg;
    size_t k = size * n < s->left ? size * n : s->left;
    if (k > 700)
        k = 700;                      /* several chunks */
    memcpy(out, s->p, k);
    s->p += k;
    s->left -= k;
    return k;
}

/* A request; returns the HTTP status (0 when the connection failed) and the
 * body in *resp (malloc'd, may be NULL).  chunked sends body without a
 * Content-Length. */
static long request(const char *method, const char *path, const char *token, const char *body,
                    int chunked, char **resp)
{
    CURL *c = curl_easy_init();
    char u[512], auth[128];
    snprintf(u, sizeof u, "https://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_CAINFO, DIR "/cert.pem");
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);     /* send "..": the server must refuse it */
    struct curl_slist *h = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "X-Harmonic-Reason: monthly submission");
    body_src src = { body, body ? strlen(body) : 0 };
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        if (chunked) {
            h = curl_slist_append(h, "Transfer-Encoding: chunked");
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &src);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)src.left);
        }
        h = curl_slist_append(h, "Content-Type: text/csv");
    } else if (strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    buf b = { NULL, 0 };
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hm_test_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (resp)
        *resp = b.p;
    else
        free(b.p);
    return status;
}

/* ---- the database as a fingerprint ------------------------------------ */

/* Row counts and a SHA-256 over every row of the tables a request could
 * change, in key order. */
static void db_state(char *out, size_t size)
{
    hm_db *db = tdb_open(url);
    static const char *const q[] = {
        "SELECT centre_code, country, name, cohort FROM centre ORDER BY centre_code",
        "SELECT centre_code, pseudonym, sex, birth_year FROM patient ORDER BY centre_code, pseudonym",
        "SELECT seq, entry_hash FROM audit_log ORDER BY seq",
        "SELECT centre_code, table_name, rows_stored FROM import_log ORDER BY imported_at, centre_code",
        "SELECT user_name, role FROM server_user ORDER BY user_name",
        NULL
    };
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    size_t o = 0;
    for (int i = 0; q[i]; i++) {
        hm_stmt *st;
        hm_error err;
        assert_int_equal(hm_db_prepare(db, q[i], &st, &err), HM_OK);
        long rows = 0;
        while (hm_stmt_step(st, &err) == 1) {
            for (int c = 0; c < hm_stmt_column_count(st); c++) {
                const char *v = hm_stmt_column_text(st, c);
                crypto_hash_sha256_update(&h, (const unsigned char *)(v ? v : "\x01"),
                                          strlen(v ? v : "\x01") + 1);
            }
            rows++;
        }
        hm_stmt_finalize(st);
        o += (size_t)snprintf(out + o, size - o, "%ld ", rows);
    }
    unsigned char d[32];
    crypto_hash_sha256_final(&h, d);
    for (int i = 0; i < 32; i++)
        o += (size_t)snprintf(out + o, size - o, "%02x", d[i]);
    hm_db_close(db);
}

static long db_count(const char *sql)
{
    hm_db *db = tdb_open(url);
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    long n = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    hm_db_close(db);
    return n;
}

/* No leftover upload files: refused and finished uploads are removed. */
static int upload_dir_files(void)
{
    char out[4096];
    hm_test_run("ls -A " DIR "/uploads | wc -l", out, sizeof out, 0);
    return atoi(out);
}

/* A request that must be refused with status and leave everything as it was. */
static void refused(const char *method, const char *path, const char *token, const char *body,
                    int chunked, long status)
{
    char before[256], after[256];
    db_state(before, sizeof before);
    char *resp = NULL;
    long got = request(method, path, token, body, chunked, &resp);
    if (got != status)
        fprintf(stderr, "%s %s: expected %ld, got %ld: %s\n", method, path, status, got,
                resp ? resp : "");
    assert_int_equal(got, status);
    /* Every refusal is a JSON error document (or a 422 report). */
    json_t *j = json_loads(resp, 0, NULL);
    assert_non_null(j);
    assert_true(json_object_get(j, status == 422 ? "issues" : "error") != NULL);
    json_decref(j);
    free(resp);
    db_state(after, sizeof after);
    assert_string_equal(before, after);
    assert_int_equal(upload_dir_files(), 0);
}

/* ---- fixtures ---------------------------------------------------------- */

#define PSEUDO(n) "00000000000000000000000000000000000000000000000000000000000000" n
static const char *PATIENT_HEADER =
    "centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,syndrome,transplant_date,"
    "transplant_day,immunosuppression,consent\n";
static char patients_fr[1024], patients_fr2[1024], patients_no[1024];

static void issue(hm_db *db, const char *name, double days, char *tok)
{
    hm_error err;
    assert_int_equal(hm_token_issue(db, name, days, "test", "test", tok, 80, &err), HM_OK);
}

static int setup(void **state)
{
    (void)state;
    char out[4096];
    mkdir(DIR, 0700);
    hm_test_run("rm -rf " DIR "/uploads " DIR "/server.log", out, sizeof out, 1);
    FILE *fp = fopen(DIR "/cert.tmpl", "w");
    fputs("cn = 127.0.0.1\nip_address = 127.0.0.1\nexpiration_days = 2\ntls_www_server\n"
          "signing_key\nencryption_key\nca\n", fp);
    fclose(fp);
    assert_int_equal(hm_test_run("certtool --generate-privkey --key-type=ecdsa --outfile "
                                 DIR "/key.pem", out, sizeof out, 1), 0);
    assert_int_equal(hm_test_run("certtool --generate-self-signed --load-privkey " DIR
                                 "/key.pem --template " DIR "/cert.tmpl --outfile " DIR
                                 "/cert.pem", out, sizeof out, 1), 0);
    tdb_new_url("api", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_error err;
    const char *pw = "correct horse battery staple";
    assert_int_equal(hm_user_add(db, "fr", HM_ROLE_CENTRE_MANAGER, "FR01", pw, "t", "t", &err), 0);
    assert_int_equal(hm_user_add(db, "no", HM_ROLE_CENTRE_MANAGER, "NO01", pw, "t", "t", &err), 0);
    assert_int_equal(hm_user_add(db, "ana", HM_ROLE_ANALYST, "", pw, "t", "t", &err), 0);
    assert_int_equal(hm_user_add(db, "aud", HM_ROLE_AUDITOR, "", pw, "t", "t", &err), 0);
    assert_int_equal(hm_user_check_password(db, "fr", pw, NULL, &err), HM_OK);
    assert_int_equal(hm_user_check_password(db, "fr", "correct horse battery stapl", NULL, &err),
                     HM_EPERM);
    issue(db, "fr", 30, tok_fr);
    issue(db, "no", 30, tok_no);
    issue(db, "ana", 30, tok_ana);
    issue(db, "aud", 30, tok_aud);
    issue(db, "fr", -1.0 / 24, tok_old);            /* expired an hour ago */
    /* The centres are registered (by the CLI's import) before their submissions. */
    hm_import_report rep;
    const char *centres[] = { "FR01", "centre_code,country,name,cohort\nFR01,FR,Necker,both\n",
                              "NO01", "centre_code,country,name,cohort\nNO01,NO,Oslo,cardiac\n" };
    for (int i = 0; i < 4; i += 2) {
        char path[1024];
        snprintf(path, sizeof path, DIR "/centre-%s.csv", centres[i]);
        fp = fopen(path, "w");
        fputs(centres[i + 1], fp);
        fclose(fp);
        hm_import_report_init(&rep);
        assert_int_equal(hm_registry_import_csv(db, centres[i], "centre", path, &rep, &err), 0);
        hm_import_report_free(&rep);
    }
    hm_db_close(db);
    snprintf(patients_fr, sizeof patients_fr, "%s"
             "FR01," PSEUDO("01") ",1,cardiac,F,2005,2005-03-14,none,,,0,given\n"
             "FR01," PSEUDO("02") ",1,cardiac,M,2007,2007-11-02,none,,,0,given\n", PATIENT_HEADER);
    snprintf(patients_fr2, sizeof patients_fr2, "%s"
             "FR01," PSEUDO("03") ",1,cardiac,F,2010,2010-01-05,none,,,0,given\n"
             "FR01," PSEUDO("04") ",1,cardiac,M,2011,2011-06-30,none,,,0,given\n", PATIENT_HEADER);
    snprintf(patients_no, sizeof patients_no, "%s"
             "NO01," PSEUDO("05") ",1,cardiac,F,2005,,none,,,0,given\n", PATIENT_HEADER);
    fp = fopen(DIR "/server.conf", "w");
    fprintf(fp, "# written by test_api.c\nlisten = 127.0.0.1\nport = 0\ntls = on\n"
                "tls_cert = %s/cert.pem\ntls_key = %s/key.pem\ndb = %s\nupload_dir = %s/uploads\n"
                "max_upload_bytes = %d\nlog_file = %s/server.log\nthreads = 2\n",
            DIR, DIR, url, DIR, MAX_UPLOAD, DIR);
    fclose(fp);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_server(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (server_pid > 0)
        stop_server();
    curl_global_cleanup();
    tdb_cleanup();
    return 0;
}

/* ---- the tests ---------------------------------------------------------- */

static void test_tokens(void **state)
{
    (void)state;
    char *resp;
    assert_int_equal(request("GET", "/api/v1/health", NULL, NULL, 0, &resp), 200);
    assert_non_null(strstr(resp, "\"schema_version\":11"));
    free(resp);
    const char *p = "/api/v1/centres/FR01/completeness";
    refused("GET", p, NULL, NULL, 0, 401);
    refused("POST", "/api/v1/centres/FR01/tables/patient", NULL, patients_fr, 0, 401);
    /* Tampered: one hex digit changed; cut; garbage; expired. */
    char bad[80];
    snprintf(bad, sizeof bad, "%s", tok_fr);
    bad[40] = bad[40] == 'a' ? 'b' : 'a';
    refused("GET", p, bad, NULL, 0, 401);
    refused("POST", "/api/v1/centres/FR01/tables/patient", bad, patients_fr, 0, 401);
    bad[40] = 0;
    refused("GET", p, bad, NULL, 0, 401);
    refused("GET", p, "' OR 1=1 --", NULL, 0, 401);
    refused("GET", p, tok_old, NULL, 0, 401);
    assert_int_equal(request("GET", p, tok_fr, NULL, 0, NULL), 200);
}

static void test_roles_and_centres(void **state)
{
    (void)state;
    /* Wrong centre, both ways. */
    refused("POST", "/api/v1/centres/NO01/tables/patient", tok_fr, patients_no, 0, 403);
    refused("GET", "/api/v1/centres/NO01/tables/patient", tok_fr, NULL, 0, 403);
    refused("GET", "/api/v1/centres/all/tables/patient", tok_fr, NULL, 0, 403);
    refused("GET", "/api/v1/centres/NO01/completeness", tok_fr, NULL, 0, 403);
    /* A centre's file with another centre's rows, sent to its own centre: 422. */
    refused("POST", "/api/v1/centres/NO01/tables/patient", tok_no, patients_fr, 0, 422);
    /* Analysts and auditors never submit. */
    refused("POST", "/api/v1/centres/FR01/tables/patient", tok_ana, patients_fr, 0, 403);
    refused("POST", "/api/v1/centres/FR01/tables/patient", tok_aud, patients_fr, 0, 403);
    refused("GET", "/api/v1/centres/FR01/tables/patient", tok_aud, NULL, 0, 403);
    refused("GET", "/api/v1/audit", tok_fr, NULL, 0, 403);
    refused("GET", "/api/v1/audit", tok_ana, NULL, 0, 403);
    assert_int_equal(request("GET", "/api/v1/audit", tok_aud, NULL, 0, NULL), 200);
    assert_int_equal(request("GET", "/api/v1/centres/all/tables/centre", tok_ana, NULL, 0, NULL),
                     200);
}

static void test_uploads_refused(void **state)
{
    (void)state;
    const char *p = "/api/v1/centres/FR01/tables/patient";
    /* Oversized, with a Content-Length (refused before the body) and chunked
     * (counted while streaming, the file removed). */
    char *big = malloc(MAX_UPLOAD * 2);
    snprintf(big, MAX_UPLOAD * 2, "%s", patients_fr);
    size_t n = strlen(big);
    while (n < MAX_UPLOAD + 100)
        n += (size_t)snprintf(big + n, MAX_UPLOAD * 2 - n, "FR01," PSEUDO("09")
                              ",1,cardiac,F,2005,2005-03-14,none,,,0,given\n");
    refused("POST", p, tok_fr, big, 0, 413);
    refused("POST", p, tok_fr, big, 1, 413);
    free(big);
    /* Truncated: the last row cut mid-way; malformed: an open quote; empty. */
    char cut[1024];
    snprintf(cut, sizeof cut, "%s", patients_fr);
    cut[strlen(cut) - 20] = 0;
    refused("POST", p, tok_fr, cut, 0, 422);
    char *resp;
    assert_int_equal(request("POST", p, tok_fr, cut, 0, &resp), 422);
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    assert_int_equal(json_integer_value(json_object_get(j, "rows_stored")), 0);
    json_t *first = json_array_get(json_object_get(j, "issues"), 0);
    assert_int_equal(json_integer_value(json_object_get(first, "line")), 3);
    assert_string_equal(json_string_value(json_object_get(j, "file")), "patient.csv");
    json_decref(j);
    char quote[1024];
    snprintf(quote, sizeof quote, "%sFR01,\"" PSEUDO("07") ",1,cardiac\n", PATIENT_HEADER);
    refused("POST", p, tok_fr, quote, 0, 422);
    refused("POST", p, tok_fr, "", 0, 422);
    refused("POST", p, tok_fr, "not,a,patient,file\n1,2,3,4\n", 0, 422);
    /* Names that are not plain: traversal in the table or centre, a file name. */
    refused("POST", "/api/v1/centres/FR01/tables/..", tok_fr, patients_fr, 0, 400);
    refused("POST", "/api/v1/centres/FR01/tables/%2e%2e", tok_fr, patients_fr, 0, 400);
    refused("POST", "/api/v1/centres/FR01/tables/..%2f..%2fetc%2fpasswd", tok_fr, patients_fr, 0,
            404);
    refused("POST", "/api/v1/centres/FR01/tables/../../../etc/passwd", tok_fr, patients_fr, 0, 404);
    refused("POST", "/api/v1/centres/..%2fFR01/tables/patient", tok_fr, patients_fr, 0, 404);
    refused("POST", "/api/v1/centres/FR01/tables/patient.csv", tok_fr, patients_fr, 0, 400);
    refused("POST", "/api/v1/centres/FR01/tables/no_such_table", tok_fr, patients_fr, 0, 404);
    refused("POST", "/api/v1/centres/FR01/tables/dose_event", tok_fr, patients_fr, 0, 400);
    refused("GET", "/api/v1/centres/FR01/tables/patient?page=-1", tok_fr, NULL, 0, 400);
    refused("DELETE", p, tok_fr, NULL, 0, 405);
}

/* A good submission: 200, the rows readable by the centre and the analyst,
 * one audit entry naming who, from where and the file's SHA-256. */
static void test_submit(void **state)
{
    (void)state;
    const char *p = "/api/v1/centres/FR01/tables/patient";
    long entries = db_count("SELECT COUNT(*) FROM audit_log");
    char *resp;
    assert_int_equal(request("POST", p, tok_fr, patients_fr, 0, &resp), 200);
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    assert_int_equal(json_integer_value(json_object_get(j, "rows_stored")), 2);
    assert_true(json_is_true(json_object_get(j, "imported")));
    json_decref(j);
    assert_int_equal(db_count("SELECT COUNT(*) FROM patient WHERE centre_code = 'FR01'"), 2);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log"), entries + 1);
    assert_int_equal(upload_dir_files(), 0);
    /* The audit entry: the digest is the SHA-256 of the bytes sent. */
    unsigned char d[32];
    crypto_hash_sha256(d, (const unsigned char *)patients_fr, strlen(patients_fr));
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    hm_db *db = tdb_open(url);
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, "SELECT user_name, remote_addr, action, digest, reason "
                                       "FROM audit_log ORDER BY seq DESC LIMIT 1", &st, &err), 0);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_string_equal(hm_stmt_column_text(st, 0), "fr");
    assert_string_equal(hm_stmt_column_text(st, 1), "127.0.0.1");
    assert_string_equal(hm_stmt_column_text(st, 2), "submit");
    assert_string_equal(hm_stmt_column_text(st, 3), hex);
    assert_string_equal(hm_stmt_column_text(st, 4), "monthly submission");
    hm_stmt_finalize(st);
    hm_db_close(db);
    /* Read back, a page of one at a time. */
    assert_int_equal(request("GET", "/api/v1/centres/FR01/tables/patient?page=1&page_size=1",
                             tok_fr, NULL, 0, &resp), 200);
    j = json_loads(resp, 0, NULL);
    free(resp);
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "pseudonym")),
                        PSEUDO("02"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "birth_year")),
                     2007);
    assert_true(json_is_null(json_object_get(j, "next_page")));
    json_decref(j);
    /* The other centre sees none of them; the analyst sees them pooled. */
    assert_int_equal(request("GET", "/api/v1/centres/NO01/tables/patient", tok_no, NULL, 0, &resp),
                     200);
    assert_null(strstr(resp, PSEUDO("01")));
    free(resp);
    assert_int_equal(request("GET", "/api/v1/centres/all/tables/patient", tok_ana, NULL, 0, &resp),
                     200);
    assert_non_null(strstr(resp, PSEUDO("01")));
    free(resp);
    assert_int_equal(request("GET", "/api/v1/centres/FR01/completeness", tok_fr, NULL, 0, &resp),
                     200);
    j = json_loads(resp, 0, NULL);
    free(resp);
    json_t *c0 = json_array_get(json_object_get(j, "centres"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "centre_code")), "FR01");
    json_t *pt = json_object_get(json_object_get(c0, "tables"), "patient");
    assert_int_equal(json_integer_value(json_object_get(pt, "rows")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "centres")), 1);
    json_decref(j);
    /* A chunked upload of the same file changes no row (idempotent) but is audited. */
    char before[256], after[256];
    assert_int_equal(request("POST", p, tok_fr, patients_fr, 1, NULL), 200);
    assert_int_equal(db_count("SELECT COUNT(*) FROM patient"), 2);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log"), entries + 2);
    (void)before;
    (void)after;
    char out[4096];
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s audit verify --db '%s'", HM_HARMONIC_EXE, url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "audit chain intact"));
}

/* ---- data queries and record locks (queries.c) ------------------------- */

/* The newest n audit entries' "action old new" lines, newest first. */
static void last_audit(int n, char *out, size_t size)
{
    hm_db *db = tdb_open(url);
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, "SELECT action, old_value, new_value, user_name FROM "
                                       "audit_log ORDER BY seq DESC LIMIT ?", &st, &err), 0);
    hm_stmt_bind_int64(st, 1, n);
    size_t o = 0;
    out[0] = 0;
    while (hm_stmt_step(st, &err) == 1)
        o += (size_t)snprintf(out + o, size - o, "%s %s %s %s|", hm_stmt_column_text(st, 0),
                              hm_stmt_column_text(st, 1), hm_stmt_column_text(st, 2),
                              hm_stmt_column_text(st, 3));
    hm_stmt_finalize(st);
    hm_db_close(db);
}

static long n_queries(const char *path, const char *token)
{
    char *resp = NULL;
    assert_int_equal(request("GET", path, token, NULL, 0, &resp), 200);
    json_t *j = json_loads(resp, 0, NULL);
    assert_non_null(j);
    long n = (long)json_array_size(json_object_get(j, "queries"));
    json_decref(j);
    free(resp);
    return n;
}

#define SEX_OF(n) "SELECT COUNT(*) FROM patient WHERE pseudonym = '" PSEUDO(n) "' AND sex = "
#define Q_OPEN(n, field) "{\"centre\":\"FR01\",\"table\":\"patient\",\"key\":{\"pseudonym\":\"" \
                         PSEUDO(n) "\"},\"field\":\"" field "\",\"text\":\"check " field "\"}"

static void test_queries(void **state)
{
    (void)state;
    char *resp = NULL, audit[1024];
    long entries = db_count("SELECT COUNT(*) FROM audit_log");
    /* Only analysts open queries; nothing is stored on a refusal. */
    refused("POST", "/api/v1/queries", tok_fr, Q_OPEN("01", "sex"), 0, 403);
    refused("POST", "/api/v1/queries", tok_ana, Q_OPEN("99", "sex"), 0, 404);
    refused("POST", "/api/v1/queries", tok_ana, Q_OPEN("01", "weight"), 0, 400);
    refused("POST", "/api/v1/queries", tok_ana, "{\"centre\":", 0, 400);
    assert_int_equal(request("POST", "/api/v1/queries", tok_ana, Q_OPEN("01", "sex"), 0, &resp),
                     201);
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "open");
    long id = (long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    assert_int_equal(id, 1);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log"), entries + 1);
    last_audit(1, audit, sizeof audit);
    assert_string_equal(audit, "query_open  check sex ana|");
    /* Listed for the centre and the analysts, never for another centre. */
    assert_int_equal(n_queries("/api/v1/centres/FR01/queries?status=open", tok_fr), 1);
    assert_int_equal(n_queries("/api/v1/centres/FR01/queries", tok_ana), 1);
    assert_int_equal(n_queries("/api/v1/centres/NO01/queries", tok_no), 0);
    assert_int_equal(n_queries("/api/v1/centres/FR01/queries?status=closed", tok_fr), 0);
    refused("GET", "/api/v1/centres/FR01/queries", tok_no, NULL, 0, 403);
    refused("GET", "/api/v1/centres/FR01/queries?status=maybe", tok_fr, NULL, 0, 400);
    /* Answered by FR01's manager only; a refused correction changes nothing. */
    refused("POST", "/api/v1/queries/1/answer", tok_no, "{\"answer\":\"x\"}", 0, 403);
    refused("POST", "/api/v1/queries/1/answer", tok_ana, "{\"answer\":\"x\"}", 0, 403);
    refused("POST", "/api/v1/queries/7/answer", tok_fr, "{\"answer\":\"x\"}", 0, 404);
    char before[256], after[256];
    db_state(before, sizeof before);
    assert_int_equal(request("POST", "/api/v1/queries/1/answer", tok_fr,
                             "{\"answer\":\"typo\",\"value\":\"X\"}", 0, NULL), 422);
    db_state(after, sizeof after);
    assert_string_equal(before, after);
    assert_int_equal(db_count(SEX_OF("01") "'F'"), 1);
    assert_int_equal(request("POST", "/api/v1/queries/1/answer", tok_fr,
                             "{\"answer\":\"typo in the chart\",\"value\":\"U\","
                             "\"reason\":\"source document checked\"}", 0, &resp), 200);
    free(resp);
    assert_int_equal(db_count(SEX_OF("01") "'U'"), 1);
    assert_int_equal(db_count("SELECT COUNT(*) FROM patient WHERE centre_code = 'FR01'"), 2);
    last_audit(2, audit, sizeof audit);
    assert_string_equal(audit, "query_answer  typo in the chart fr|correct F U fr|");
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log WHERE action = 'correct' AND "
                              "reason = 'source document checked'"), 1);
    refused("POST", "/api/v1/queries/1/answer", tok_fr, "{\"answer\":\"again\"}", 0, 409);
    /* Closed by an analyst. */
    refused("POST", "/api/v1/queries/1/close", tok_fr, NULL, 0, 403);
    assert_int_equal(request("POST", "/api/v1/queries/1/close", tok_ana, NULL, 0, NULL), 200);
    refused("POST", "/api/v1/queries/1/close", tok_ana, NULL, 0, 409);
    assert_int_equal(n_queries("/api/v1/centres/FR01/queries?status=open", tok_fr), 0);
    assert_int_equal(n_queries("/api/v1/centres/FR01/queries?status=closed", tok_fr), 1);
    /* A locked record refuses a correction (409) but can still be answered. */
    const char *lock = "{\"table\":\"patient\",\"key\":{\"pseudonym\":\"" PSEUDO("01") "\"}}";
    refused("POST", "/api/v1/centres/FR01/locks", tok_fr, lock, 0, 403);
    refused("POST", "/api/v1/centres/NO01/locks", tok_ana, lock, 0, 404);
    assert_int_equal(request("POST", "/api/v1/centres/FR01/locks", tok_ana, lock, 0, NULL), 201);
    refused("POST", "/api/v1/centres/FR01/locks", tok_ana, lock, 0, 409);
    assert_int_equal(request("POST", "/api/v1/queries", tok_ana, Q_OPEN("01", "sex"), 0, NULL),
                     201);
    refused("POST", "/api/v1/queries/2/answer", tok_fr,
            "{\"answer\":\"no\",\"value\":\"M\",\"reason\":\"r\"}", 0, 409);
    assert_int_equal(request("POST", "/api/v1/queries/2/answer", tok_fr,
                             "{\"answer\":\"U is right\"}", 0, NULL), 200);
    assert_int_equal(db_count(SEX_OF("01") "'U'"), 1);
    /* open 1, correct, answer, close, lock, open 2, answer 2. */
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log"), entries + 7);
    /* A re-submission that would change the locked record is refused whole
     * (patients_fr has sex F for 01); one that leaves it as it is goes in. */
    refused("POST", "/api/v1/centres/FR01/tables/patient", tok_fr, patients_fr, 0, 409);
    char same[1024];
    snprintf(same, sizeof same, "%s"
             "FR01," PSEUDO("01") ",1,cardiac,U,2005,2005-03-14,none,,,0,given\n"
             "FR01," PSEUDO("02") ",1,cardiac,M,2007,2007-11-02,none,,,0,withdrawn\n",
             PATIENT_HEADER);
    assert_int_equal(request("POST", "/api/v1/centres/FR01/tables/patient", tok_fr, same, 0,
                             NULL), 200);
    assert_int_equal(db_count("SELECT COUNT(*) FROM patient WHERE consent = 'withdrawn'"), 1);
    assert_int_equal(db_count(SEX_OF("01") "'U'"), 1);
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "%s audit verify --db '%s'", HM_HARMONIC_EXE, url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "audit chain intact"));
}

/* Killed inside an upload's import (after its first row is written, before
 * COMMIT): the database is as before; after a restart the upload succeeds. */
static void test_killed_upload(void **state)
{
    (void)state;
    stop_server();
    start_server("1");
    char before[256], after[256];
    db_state(before, sizeof before);
    long got = request("POST", "/api/v1/centres/FR01/tables/patient", tok_fr, patients_fr2, 0,
                       NULL);
    assert_int_equal(got, 0);                 /* no answer: the server died */
    int st;
    assert_int_equal(waitpid(server_pid, &st, 0), server_pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    db_state(after, sizeof after);
    assert_string_equal(before, after);
    /* The dead server's upload file and staged audit entry are there... */
    assert_int_equal(upload_dir_files(), 1);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_pending"), 1);
    start_server(NULL);
    /* ...until the next start sweeps them. */
    assert_int_equal(upload_dir_files(), 0);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_pending"), 0);
    assert_int_equal(request("POST", "/api/v1/centres/FR01/tables/patient", tok_fr, patients_fr2,
                             0, NULL), 200);
    assert_int_equal(db_count("SELECT COUNT(*) FROM patient"), 4);
    char out[4096], cmd[2048];
    snprintf(cmd, sizeof cmd, "%s audit verify --db '%s'", HM_HARMONIC_EXE, url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
}

/* One JSON line per request, with no token in it. */
static void test_log(void **state)
{
    (void)state;
    char *resp;
    assert_int_equal(request("GET", "/api/v1/health", NULL, NULL, 0, &resp), 200);
    free(resp);
    FILE *fp = fopen(DIR "/server.log", "r");
    assert_non_null(fp);
    char line[4096];
    long n = 0, requests = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        if (json_object_get(j, "status")) {
            requests++;
            assert_non_null(json_object_get(j, "duration_ms"));
            assert_non_null(json_object_get(j, "method"));
        }
        json_decref(j);
        assert_null(strstr(line, tok_fr + 3));
        assert_null(strstr(line, tok_ana + 3));
        assert_null(strstr(line, "horse"));
        n++;
    }
    fclose(fp);
    assert_true(requests > 30);
}

/* ---- graceful stop: SIGTERM during an upload ---------------------------- */

static atomic_int slow_go;

typedef struct slow_req {
    const char *p;
    size_t      left;
    int         sent;
    long        status;
} slow_req;

/* Sends 200 bytes, then waits for the test's go before the rest. */
static size_t slow_read(char *out, size_t size, size_t n, void *arg)
{
    slow_req *s = arg;
    if (s->sent)
        while (!atomic_load(&slow_go)) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    size_t k = size * n < s->left ? size * n : s->left;
    if (k > 200)
        k = 200;
    memcpy(out, s->p, k);
    s->p += k;
    s->left -= k;
    s->sent = 1;
    return k;
}

static void *slow_upload(void *arg)
{
    slow_req *s = arg;
    CURL *c = curl_easy_init();
    char u[256], auth[128];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/api/v1/centres/FR01/tables/patient", port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok_fr);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_CAINFO, DIR "/cert.pem");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, slow_read);
    curl_easy_setopt(c, CURLOPT_READDATA, s);
    buf b = { NULL, 0 };
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hm_test_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
    free(b.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

/* SIGTERM while an upload is half sent: no new connection is taken, the
 * upload finishes and is stored, and the server exits 0. */
static void test_graceful_stop(void **state)
{
    (void)state;
    char body[1024];
    snprintf(body, sizeof body, "%s"
             "FR01," PSEUDO("10") ",1,cardiac,F,2012,2012-02-01,none,,,0,given\n"
             "FR01," PSEUDO("11") ",1,cardiac,M,2013,2013-07-15,none,,,0,given\n", PATIENT_HEADER);
    long before = db_count("SELECT COUNT(*) FROM patient");
    atomic_store(&slow_go, 0);
    int files = upload_dir_files();
    slow_req s = { body, strlen(body), 0, 0 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_upload, &s), 0);
    /* The server has the request when its upload file exists. */
    for (int i = 0; i < 1000 && upload_dir_files() == files; i++) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    assert_int_equal(upload_dir_files(), files + 1);
    kill(server_pid, SIGTERM);
    struct timespec ts = { 0, 300 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    assert_int_equal(request("GET", "/api/v1/health", NULL, NULL, 0, NULL), 0);
    atomic_store(&slow_go, 1);
    pthread_join(th, NULL);
    assert_int_equal(s.status, 200);
    int st;
    assert_int_equal(waitpid(server_pid, &st, 0), server_pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    server_pid = 0;
    assert_int_equal(db_count("SELECT COUNT(*) FROM patient"), before + 2);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_roles_and_centres),
        cmocka_unit_test(test_uploads_refused),
        cmocka_unit_test(test_submit),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_killed_upload),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_graceful_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
