/*
 * test_session.c — browser sessions, CSRF and Origin checks, the sign-in
 * throttle and concurrency bound, token revocation and removed accounts, end
 * to end: the harmonic executable started with TLS on a test-made
 * certificate (as test_api.c), libcurl as the client.  Every refused request
 * also checks that the database is exactly as before.
 */
/* strptime, timegm, strncasecmp */
#define _GNU_SOURCE
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
#include <sodium.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <strings.h>
#include <time.h>

#define DIR HM_TEST_TMPDIR
#define PW "correct horse battery staple"

static char url[1024];
static char tok_fr[80], tok_adm[80], tok_gone[80];
static pid_t server_pid;
static int port;

/* ---- the server process ---------------------------------------------- */

static void start_server(const char *signin_hold_ms)
{
    const char *env[] = { "HM_TEST_SIGNIN_HOLD_MS", signin_hold_ms, NULL };
    server_pid = hm_test_serve(DIR "/server.conf", "https",
                               signin_hold_ms ? env : NULL, &port);
}

/* ---- an HTTPS client with cookie, CSRF and Origin ------------------------ */

typedef struct reply {
    long status;
    char *body;                     /* malloc'd */
    char head[4096];                /* the response headers */
    size_t head_n;
} reply;

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    size_t k = size * n, old = r->body ? strlen(r->body) : 0;
    r->body = realloc(r->body, old + k + 1);
    memcpy(r->body + old, p, k);
    r->body[old + k] = 0;
    return k;
}

static size_t on_head(char *p, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    size_t k = size * n;
    if (r->head_n + k < sizeof r->head) {
        memcpy(r->head + r->head_n, p, k);
        r->head_n += k;
        r->head[r->head_n] = 0;
    }
    return k;
}

typedef struct req {
    const char *method, *path, *body;
    const char *token;              /* bearer */
    const char *cookie;             /* hm_session value */
    const char *csrf;               /* X-CSRF-Token */
    const char *origin;             /* Origin; "self" for this server's own */
} req;

static reply send_req(req q)
{
    reply r = { 0, NULL, "", 0 };
    CURL *c = curl_easy_init();
    char u[512], hdr[3][256];
    snprintf(u, sizeof u, "https://127.0.0.1:%d%s", port, q.path);
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_CAINFO, DIR "/cert.pem");
    struct curl_slist *h = NULL;
    if (q.token) {
        snprintf(hdr[0], sizeof hdr[0], "Authorization: Bearer %s", q.token);
        h = curl_slist_append(h, hdr[0]);
    }
    if (q.csrf) {
        snprintf(hdr[1], sizeof hdr[1], "X-CSRF-Token: %s", q.csrf);
        h = curl_slist_append(h, hdr[1]);
    }
    if (q.origin) {
        if (!strcmp(q.origin, "self"))
            snprintf(hdr[2], sizeof hdr[2], "Origin: https://127.0.0.1:%d", port);
        else
            snprintf(hdr[2], sizeof hdr[2], "Origin: %s", q.origin);
        h = curl_slist_append(h, hdr[2]);
    }
    char cookie[128];
    if (q.cookie) {
        snprintf(cookie, sizeof cookie, "hm_session=%s", q.cookie);
        curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
    }
    if (!strcmp(q.method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q.body ? q.body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(q.body ? strlen(q.body) : 0));
        h = curl_slist_append(h, "Content-Type: application/json");
    } else if (strcmp(q.method, "GET")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q.method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

static long status_of(req q)
{
    reply r = send_req(q);
    free(r.body);
    return r.status;
}

/* A header's value (up to the end of its line) into out; 0 if absent. */
static int header(const reply *r, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *p = r->head; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
        if (!strncasecmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 1 + strspn(p + n + 1, " ");
            size_t len = strcspn(v, "\r\n");
            snprintf(out, size, "%.*s", (int)len, v);
            return 1;
        }
    return 0;
}

/* ---- the database ---------------------------------------------------- */

static void db_state(char *out, size_t size)
{
    hm_db *db = tdb_open(url);
    static const char *const q[] = {
        "SELECT centre_code, pseudonym FROM patient ORDER BY centre_code, pseudonym",
        "SELECT seq, entry_hash FROM audit_log ORDER BY seq",
        "SELECT session_sha256, ended_at FROM server_session ORDER BY session_sha256",
        "SELECT token_sha256 FROM token_revocation ORDER BY token_sha256",
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
                crypto_hash_sha256_update(&h, (const unsigned char *)(v ? v : ""),
                                          strlen(v ? v : "") + 1);
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

/* The one text value sql selects (bound to arg when not NULL) into out. */
static void db_text(const char *sql, const char *arg, char *out, size_t size)
{
    hm_db *db = tdb_open(url);
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    if (arg)
        hm_stmt_bind_text(st, 1, arg);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    const char *v = hm_stmt_column_text(st, 0);
    snprintf(out, size, "%s", v ? v : "");
    hm_stmt_finalize(st);
    hm_db_close(db);
}

static long db_count(const char *sql, const char *arg)
{
    char v[64];
    db_text(sql, arg, v, sizeof v);
    return atol(v);
}

static void db_exec(const char *sql)
{
    hm_db *db = tdb_open(url);
    hm_error err;
    assert_int_equal(hm_db_exec(db, sql, &err), HM_OK);
    hm_db_close(db);
}

/* A request that must be refused with status, changing nothing. */
static void refused(req q, long status)
{
    char before[256], after[256];
    db_state(before, sizeof before);
    reply r = send_req(q);
    if (r.status != status)
        fprintf(stderr, "%s %s: expected %ld, got %ld: %s\n", q.method, q.path, status, r.status,
                r.body ? r.body : "");
    assert_int_equal(r.status, status);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_non_null(j);
    assert_non_null(json_object_get(j, "error"));
    json_decref(j);
    free(r.body);
    db_state(after, sizeof after);
    assert_string_equal(before, after);
}

/* ---- fixtures ---------------------------------------------------------- */

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
    tdb_new_url("sess", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_error err;
    const char *users[][3] = { { "fr", "centre_manager", "FR01" }, { "adm", "admin", "" },
                               { "thr", "analyst", "" }, { "gone", "analyst", "" } };
    for (int i = 0; i < 4; i++)
        assert_int_equal(hm_user_add(db, users[i][0], hm_role_parse(users[i][1]), users[i][2],
                                     PW, "t", "t", &err), HM_OK);
    assert_int_equal(hm_token_issue(db, "fr", 30, "t", "t", tok_fr, 80, &err), HM_OK);
    assert_int_equal(hm_token_issue(db, "adm", 30, "t", "t", tok_adm, 80, &err), HM_OK);
    assert_int_equal(hm_token_issue(db, "gone", 30, "t", "t", tok_gone, 80, &err), HM_OK);
    hm_import_report rep;
    fp = fopen(DIR "/centre.csv", "w");
    fputs("centre_code,country,name,cohort\nFR01,FR,Necker,both\n", fp);
    fclose(fp);
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv(db, "FR01", "centre", DIR "/centre.csv", &rep, &err),
                     HM_OK);
    hm_import_report_free(&rep);
    hm_db_close(db);
    /* 8 threads: enough for the sign-in bound (2) to be what refuses. */
    fp = fopen(DIR "/server.conf", "w");
    fprintf(fp, "listen = 127.0.0.1\nport = 0\ntls = on\ntls_cert = %s/cert.pem\n"
                "tls_key = %s/key.pem\ndb = %s\nupload_dir = %s/uploads\n"
                "log_file = %s/server.log\nthreads = 8\n", DIR, DIR, url, DIR, DIR);
    fclose(fp);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_server(NULL);
    return 0;
}

static void stop_server(void)
{
    hm_test_serve_stop(server_pid);
    server_pid = 0;
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

/* A session of user: its cookie value and CSRF token. */
static void sign_in(const char *user, char cookie[65], char csrf[65])
{
    char body[256], sc[512];
    snprintf(body, sizeof body, "{\"user\":\"%s\",\"password\":\"" PW "\"}", user);
    reply r = send_req((req){ .method = "POST", .path = "/api/v1/session", .body = body });
    assert_int_equal(r.status, 200);
    assert_true(header(&r, "Set-Cookie", sc, sizeof sc));
    assert_int_equal(strncmp(sc, "hm_session=", 11), 0);
    snprintf(cookie, 65, "%.64s", sc + 11);
    json_t *j = json_loads(r.body, 0, NULL);
    snprintf(csrf, 65, "%s", json_string_value(json_object_get(j, "csrf_token")));
    json_decref(j);
    free(r.body);
}

static const char *PATIENTS =
    "centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,syndrome,"
    "transplant_date,transplant_day,immunosuppression,consent\n"
    "FR01,0000000000000000000000000000000000000000000000000000000000000001,1,cardiac,F,2005,"
    "2005-03-14,none,,,0,given\n";

/* ---- the tests ---------------------------------------------------------- */

static void test_sign_in(void **state)
{
    (void)state;
    const char *p = "/api/v1/session";
    /* Wrong password and unknown user: the same 401 and message. */
    reply a = send_req((req){ .method = "POST", .path = p,
                              .body = "{\"user\":\"fr\",\"password\":\"not the password\"}" });
    reply b = send_req((req){ .method = "POST", .path = p,
                              .body = "{\"user\":\"nobody\",\"password\":\"not the password\"}" });
    assert_int_equal(a.status, 401);
    assert_int_equal(b.status, 401);
    assert_string_equal(a.body, b.body);
    free(a.body);
    free(b.body);
    refused((req){ .method = "POST", .path = p, .body = "{\"user\":\"fr\"}" }, 400);
    refused((req){ .method = "POST", .path = p, .body = "not json" }, 400);
    /* Right: the cookie's attributes, the JSON, only the hash in the database. */
    reply r = send_req((req){ .method = "POST", .path = p,
                              .body = "{\"user\":\"fr\",\"password\":\"" PW "\"}" });
    assert_int_equal(r.status, 200);
    char sc[512];
    assert_true(header(&r, "Set-Cookie", sc, sizeof sc));
    assert_non_null(strstr(sc, "; Path=/"));
    assert_non_null(strstr(sc, "; Secure"));
    assert_non_null(strstr(sc, "; HttpOnly"));
    assert_non_null(strstr(sc, "; SameSite=Strict"));
    assert_non_null(strstr(sc, "; Max-Age=28800"));
    char cookie[65];
    snprintf(cookie, sizeof cookie, "%.64s", sc + 11);
    assert_int_equal(strspn(cookie, "0123456789abcdef"), 64);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "user")), "fr");
    assert_string_equal(json_string_value(json_object_get(j, "role")), "centre_manager");
    assert_string_equal(json_string_value(json_object_get(j, "centre")), "FR01");
    char csrf[65];
    snprintf(csrf, sizeof csrf, "%s", json_string_value(json_object_get(j, "csrf_token")));
    assert_int_equal(strspn(csrf, "0123456789abcdef"), 64);
    /* Expires 8 h from now, to the second or two. */
    struct tm tm = { 0 };
    assert_non_null(strptime(json_string_value(json_object_get(j, "expires_at")),
                             "%Y-%m-%dT%H:%M:%SZ", &tm));
    double left_s = difftime(timegm(&tm), time(NULL));
    assert_true(left_s > 28800 - 5 && left_s <= 28800 + 1);
    unsigned char d[32];
    char hex[65];
    crypto_hash_sha256(d, (const unsigned char *)cookie, 64);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    char stored_csrf[65];
    db_text("SELECT csrf_token FROM server_session WHERE session_sha256 = ?", hex, stored_csrf,
            sizeof stored_csrf);
    assert_string_equal(stored_csrf, csrf);
    assert_int_equal(db_count("SELECT COUNT(*) FROM server_session WHERE session_sha256 = ?",
                              cookie), 0);
    json_decref(j);
    free(r.body);
    /* Audit: the failure and the sign-in, never a password or the cookie. */
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log WHERE action = 'signin_failed' "
                              "AND record = ?", "nobody"), 1);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log WHERE action = 'signin' AND "
                              "user_name = ?", "fr"), 1);
    const char *leaks[] = { "%not the password%", "%horse%", NULL };
    for (int i = 0; leaks[i]; i++)
        assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log WHERE user_name || old_value "
                                  "|| new_value || record || reason LIKE ?", leaks[i]), 0);
    char out[8192];
    hm_test_run("cat " DIR "/server.log", out, sizeof out, 0);
    assert_null(strstr(out, cookie));
    assert_null(strstr(out, csrf));
    assert_null(strstr(out, "horse"));
    assert_null(strstr(out, "not the password"));
}

static void test_session_use(void **state)
{
    (void)state;
    char cookie[65], csrf[65];
    sign_in("fr", cookie, csrf);
    /* GET /session hands the same CSRF token again; a read works. */
    reply r = send_req((req){ .method = "GET", .path = "/api/v1/session", .cookie = cookie });
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, csrf));
    free(r.body);
    assert_int_equal(status_of((req){ .method = "GET", .cookie = cookie,
                                      .path = "/api/v1/centres/FR01/completeness" }), 200);
    /* The role and centre rules hold for sessions too. */
    refused((req){ .method = "GET", .path = "/api/v1/audit", .cookie = cookie }, 403);
    const char *post = "/api/v1/centres/FR01/tables/patient";
    /* A write without or with a wrong CSRF token, or from another origin: 403. */
    refused((req){ .method = "POST", .path = post, .body = PATIENTS, .cookie = cookie }, 403);
    char wrong[65];
    snprintf(wrong, sizeof wrong, "%s", csrf);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    refused((req){ .method = "POST", .path = post, .body = PATIENTS, .cookie = cookie,
                   .csrf = wrong }, 403);
    refused((req){ .method = "POST", .path = post, .body = PATIENTS, .cookie = cookie,
                   .csrf = "short" }, 403);
    refused((req){ .method = "POST", .path = post, .body = PATIENTS, .cookie = cookie,
                   .csrf = csrf, .origin = "https://evil.example" }, 403);
    refused((req){ .method = "GET", .path = "/api/v1/session", .cookie = cookie,
                   .origin = "https://evil.example" }, 403);
    /* Another session's CSRF token does not fit this one. */
    char cookie2[65], csrf2[65];
    sign_in("fr", cookie2, csrf2);
    refused((req){ .method = "POST", .path = post, .body = PATIENTS, .cookie = cookie,
                   .csrf = csrf2 }, 403);
    /* A tampered or made-up cookie: 401. */
    char bad[65];
    snprintf(bad, sizeof bad, "%s", cookie);
    bad[5] = bad[5] == 'a' ? 'b' : 'a';
    refused((req){ .method = "GET", .path = "/api/v1/session", .cookie = bad }, 401);
    refused((req){ .method = "GET", .path = "/api/v1/session", .cookie = "x' OR 1=1 --" }, 401);
    /* Right token, own origin: the submission goes through. */
    long before = db_count("SELECT COUNT(*) FROM patient", NULL);
    assert_int_equal(status_of((req){ .method = "POST", .path = post, .body = PATIENTS,
                                      .cookie = cookie, .csrf = csrf, .origin = "self" }), 200);
    assert_int_equal(db_count("SELECT COUNT(*) FROM patient", NULL), before + 1);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log WHERE action = 'submit' AND "
                              "user_name = ?", "fr"), 1);
    /* A bearer token needs no CSRF token; GET /session without a session: 401. */
    refused((req){ .method = "GET", .path = "/api/v1/session", .token = tok_fr }, 401);
}

static void test_sign_out(void **state)
{
    (void)state;
    char cookie[65], csrf[65];
    sign_in("fr", cookie, csrf);
    const char *p = "/api/v1/session";
    refused((req){ .method = "DELETE", .path = p, .cookie = cookie }, 403);
    assert_int_equal(status_of((req){ .method = "GET", .path = p, .cookie = cookie }), 200);
    reply r = send_req((req){ .method = "DELETE", .path = p, .cookie = cookie, .csrf = csrf });
    assert_int_equal(r.status, 200);
    char sc[512];
    assert_true(header(&r, "Set-Cookie", sc, sizeof sc));
    assert_int_equal(strncmp(sc, "hm_session=;", 12), 0);
    assert_non_null(strstr(sc, "Max-Age=0"));
    free(r.body);
    refused((req){ .method = "GET", .path = p, .cookie = cookie }, 401);
    refused((req){ .method = "GET", .path = "/api/v1/centres/FR01/completeness",
                   .cookie = cookie }, 401);
    refused((req){ .method = "DELETE", .path = p, .cookie = cookie, .csrf = csrf }, 401);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log WHERE action = 'signout'", NULL),
                     1);
    assert_int_equal(db_count("SELECT COUNT(*) FROM server_session WHERE ended_at <> ''",
                              NULL), 1);
}

static void test_expired(void **state)
{
    (void)state;
    char cookie[65], csrf[65];
    sign_in("fr", cookie, csrf);
    assert_int_equal(status_of((req){ .method = "GET", .path = "/api/v1/session",
                                      .cookie = cookie }), 200);
    /* The session's expiry moved into the past, as 8 hours later. */
    db_exec("UPDATE server_session SET expires_at = '2000-01-01T00:00:00Z' WHERE ended_at = ''");
    refused((req){ .method = "GET", .path = "/api/v1/session", .cookie = cookie }, 401);
}

static int n200, n503, n_other;
static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t go;

/* Client i starts i * 150 ms after the others: libmicrohttpd's workers each
 * accept the connections that arrive while they wait, so simultaneous
 * connections could queue behind one held sign-in instead of reaching
 * the bound. */
static void *parallel_sign_in(void *arg)
{
    long i = (long)(intptr_t)arg;
    pthread_barrier_wait(&go);
    struct timespec ts = { 0, i * 150 * 1000000L };
    nanosleep(&ts, NULL);
    reply r = send_req((req){ .method = "POST", .path = "/api/v1/session",
                              .body = "{\"user\":\"adm\",\"password\":\"" PW "\"}" });
    char ra[32] = "";
    header(&r, "Retry-After", ra, sizeof ra);
    pthread_mutex_lock(&count_mu);
    if (r.status == 200)
        n200++;
    else if (r.status == 503 && !strcmp(ra, "1"))
        n503++;
    else
        n_other++;
    pthread_mutex_unlock(&count_mu);
    free(r.body);
    return NULL;
}

static void test_throttle(void **state)
{
    (void)state;
    const char *p = "/api/v1/session";
    for (int i = 0; i < 5; i++)
        assert_int_equal(status_of((req){ .method = "POST", .path = p,
                                          .body = "{\"user\":\"thr\",\"password\":\"guess\"}" }),
                         401);
    /* The sixth try, even with the right password, is not checked. */
    char before[256], after[256];
    db_state(before, sizeof before);
    reply r = send_req((req){ .method = "POST", .path = p,
                              .body = "{\"user\":\"thr\",\"password\":\"" PW "\"}" });
    assert_int_equal(r.status, 429);
    char ra[32];
    assert_true(header(&r, "Retry-After", ra, sizeof ra));
    assert_int_equal(atoi(ra), 900);
    assert_false(header(&r, "Set-Cookie", ra, sizeof ra));
    free(r.body);
    db_state(after, sizeof after);
    assert_string_equal(before, after);
    assert_int_equal(db_count("SELECT COUNT(*) FROM signin_failure WHERE user_name = ?", "thr"),
                     5);
    /* Failures older than the window do not count. */
    db_exec("UPDATE signin_failure SET at = '2000-01-01T00:00:00Z' WHERE user_name = 'thr'");
    char cookie[65], csrf[65];
    sign_in("thr", cookie, csrf);
    assert_int_equal(db_count("SELECT COUNT(*) FROM signin_failure WHERE user_name = ?", "thr"),
                     0);
    /* A failure prunes every name's rows past the window. */
    db_exec("INSERT INTO signin_failure (user_name, at, remote_addr) VALUES "
            "('ghost', '2000-01-01T00:00:00Z', 'x')");
    assert_int_equal(status_of((req){ .method = "POST", .path = p,
                                      .body = "{\"user\":\"thr\",\"password\":\"guess\"}" }),
                     401);
    assert_int_equal(db_count("SELECT COUNT(*) FROM signin_failure WHERE user_name = ?",
                              "ghost"), 0);
    assert_int_equal(db_count("SELECT COUNT(*) FROM signin_failure WHERE user_name = ?", "thr"),
                     1);
    /* Six sign-ins at once: two checks run (each held 2 s by the test hook,
     * a restarted server), the others get 503 with Retry-After: 1. */
    stop_server();
    start_server("2000");
    enum { N = 6 };
    pthread_t t[N];
    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, parallel_sign_in, (void *)(intptr_t)i), 0);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    fprintf(stderr, "parallel sign-ins: %d ok, %d 503\n", n200, n503);
    assert_int_equal(n_other, 0);
    assert_true(n200 >= 2 && n503 >= 2);
    assert_int_equal(n200 + n503, N);
    stop_server();
    start_server(NULL);
}

static void test_revoked_and_removed(void **state)
{
    (void)state;
    char out[4096], cmd[2048];
    const char *p = "/api/v1/centres/FR01/completeness";
    /* Revoked by the admin through the API: refused at once, cache or not. */
    assert_int_equal(status_of((req){ .method = "GET", .path = p, .token = tok_fr }), 200);
    refused((req){ .method = "POST", .path = "/api/v1/tokens/revoke", .token = tok_fr,
                   .body = "{\"user\":\"fr\",\"all\":true}" }, 403);
    refused((req){ .method = "POST", .path = "/api/v1/tokens/revoke", .token = tok_adm,
                   .body = "{\"user\":\"fr\"}" }, 400);
    char body[256];
    snprintf(body, sizeof body, "{\"user\":\"fr\",\"token\":\"%s\"}", tok_fr);
    reply r = send_req((req){ .method = "POST", .path = "/api/v1/tokens/revoke",
                              .token = tok_adm, .body = body });
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"revoked\":1"));
    free(r.body);
    refused((req){ .method = "GET", .path = p, .token = tok_fr }, 401);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log WHERE action = 'token_revoke' AND "
                              "user_name = ?", "adm"), 1);
    /* Removed with the CLI: the (never cached) token and the session stop. */
    char cookie[65], csrf[65];
    sign_in("gone", cookie, csrf);
    snprintf(cmd, sizeof cmd, "%s user remove --db '%s' --name gone", HM_HARMONIC_EXE, url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "user gone removed"));
    refused((req){ .method = "GET", .path = "/api/v1/session", .cookie = cookie }, 401);
    refused((req){ .method = "GET", .path = "/api/v1/centres/all/tables/centre",
                   .token = tok_gone }, 401);
    /* Its sign-in fails like a wrong password (and is audited as one). */
    assert_int_equal(status_of((req){ .method = "POST", .path = "/api/v1/session",
                                      .body = "{\"user\":\"gone\",\"password\":\"" PW "\"}" }),
                     401);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log WHERE action = 'signin_failed' "
                              "AND record = ?", "gone"), 1);
    assert_int_equal(db_count("SELECT COUNT(*) FROM server_user WHERE user_name = ?", "gone"), 1);
    assert_int_equal(db_count("SELECT COUNT(*) FROM audit_log WHERE action = 'user_remove' AND "
                              "record = ?", "gone"), 1);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The documented bound: a token revoked by the CLI while the server has it
 * cached works for at most 10 s (TOKEN_CACHE_S) after its last check. */
static void test_cache_bound(void **state)
{
    (void)state;
    char tok[80], out[4096], cmd[2048];
    hm_db *db = tdb_open(url);
    hm_error err;
    assert_int_equal(hm_token_issue(db, "thr", 1, "t", "t", tok, sizeof tok, &err), HM_OK);
    hm_db_close(db);
    const char *p = "/api/v1/centres/all/tables/centre";
    double t0 = mono_s();
    assert_int_equal(status_of((req){ .method = "GET", .path = p, .token = tok }), 200);
    snprintf(cmd, sizeof cmd, "%s user revoke --db '%s' --name thr --token %s", HM_HARMONIC_EXE,
             url, tok);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    /* Still cached: either answer is right here (200 within the bound). */
    long early = status_of((req){ .method = "GET", .path = p, .token = tok });
    assert_true(early == 200 || early == 401);
    double wait_s = t0 + 10.5 - mono_s();
    if (wait_s > 0) {
        struct timespec ts = { (time_t)wait_s, (long)((wait_s - (double)(time_t)wait_s) * 1e9) };
        nanosleep(&ts, NULL);
    }
    refused((req){ .method = "GET", .path = p, .token = tok }, 401);
}

static void test_cli(void **state)
{
    (void)state;
    char out[8192], cmd[2048];
    const char *h = HM_HARMONIC_EXE;
    snprintf(cmd, sizeof cmd, "%s user revoke --db '%s' --name adm", h, url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 2);
    assert_non_null(strstr(out, "expected either --token PREFIX or --all"));
    snprintf(cmd, sizeof cmd, "%s user revoke --db '%s' --name adm --all --token abcdef12", h,
             url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 2);
    assert_non_null(strstr(out, "expected either --token PREFIX or --all"));
    snprintf(cmd, sizeof cmd, "%s user revoke --db '%s' --name bob --all", h, url);
    assert_int_not_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "no user 'bob'"));
    snprintf(cmd, sizeof cmd, "%s user revoke --db '%s' --name adm --token XYZ", h, url);
    assert_int_not_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "expected 8-64 lower-case hex digits"));
    snprintf(cmd, sizeof cmd, "%s user remove --db '%s' --name gone", h, url);
    assert_int_not_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "already removed"));
    /* The adm token's hash, by the start list shows; a prefix matching no token. */
    unsigned char d[32];
    char hex[65];
    crypto_hash_sha256(d, (const unsigned char *)tok_adm, strlen(tok_adm));
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    snprintf(cmd, sizeof cmd, "%s user list --db '%s'", h, url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    char line[128];
    snprintf(line, sizeof line, "%-20s %.12s", "adm", hex);
    assert_non_null(strstr(out, line));
    snprintf(line, sizeof line, "%-20s %-15s %-8s", "gone", "analyst", "-");
    assert_non_null(strstr(out, line));
    assert_non_null(strstr(strstr(out, line), "removed"));
    char other[16];
    snprintf(other, sizeof other, "%.8s", hex);
    other[0] = other[0] == '0' ? '1' : '0';
    snprintf(cmd, sizeof cmd, "%s user revoke --db '%s' --name adm --token %s", h, url, other);
    assert_int_not_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "no live token of 'adm'"));
    snprintf(cmd, sizeof cmd, "%s user revoke --db '%s' --name adm --token %.10s", h, url, hex);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "1 token of adm revoked"));
    assert_int_equal(db_count("SELECT COUNT(*) FROM token_revocation WHERE token_sha256 = ?",
                              hex), 1);
    /* Never used, so never cached: refused at once. */
    refused((req){ .method = "GET", .path = "/api/v1/audit", .token = tok_adm }, 401);
    long n_entries = 0;
    int64_t bad = 0;
    hm_db *db = tdb_open(url);
    hm_error err;
    assert_int_equal(hm_audit_verify(db, &n_entries, &bad, &err), HM_OK);
    hm_db_close(db);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_in),
        cmocka_unit_test(test_session_use),
        cmocka_unit_test(test_sign_out),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_revoked_and_removed),
        cmocka_unit_test(test_cache_bound),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
