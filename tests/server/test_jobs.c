/*
 * test_jobs.c — background jobs and exports of `harmonic serve`, end to end
 * on SQLite and PostgreSQL (HM_TEST_DB): a synthetic cohort made by
 * `harmonic synth` and imported by `harmonic import`, the harmonic
 * executable serving it (plain HTTP on loopback, tls = off), libcurl as
 * the client.  Job results are compared with what the command line
 * computes on the same database (`epi tabulate --store`, `epi fit`,
 * `export`); a server killed (exit inside a job, HM_TEST_JOB_KILL) leaves
 * its job to be re-run by the next instance after job_stale_s.
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
#include <math.h>
#include <sodium.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#define DIR HM_TEST_TMPDIR
#define HM HM_HARMONIC_EXE

static char url[1024];
static char tok_ana[80], tok_ana2[80], tok_adm[80], tok_fr[80], tok_aud[80];
static pid_t server_pid;
static int port;

/* The tabulation every job and the CLI run share. */
#define TAB_PARAMS "\"organ\":\"red_marrow\",\"outcome\":\"haematological\",\"lag\":2," \
                   "\"exclusion\":0,\"age\":\"0,5,10,15,20,30\",\"calendar\":\"1975,1990,2000," \
                   "2010\",\"tsfe\":\"none\",\"afe\":\"none\""
#define TAB_CLI "--organ red_marrow --outcome haematological --lag 2 --exclusion 0 " \
                "--age 0,5,10,15,20,30 --calendar 1975,1990,2000,2010 --tsfe none --afe none"
#define MODEL "cases_haematological ~ pyr(pyr) + strata(age, sex) + err(dose_mgy)"

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- the server process ---------------------------------------------- */

/* workers: job_workers of the instance; mode 1: HM_TEST_JOB_KILL set (the
 * instance dies in its first tabulate job), 2: its tabulate jobs stall 1.5 s
 * after loading the cohort. */
/* Starts an instance named tag (its own config, upload dir and log);
 * returns its pid and port. */
/* The database URL and extra config lines of the next instance (test_app_role:
 * the server as a non-owner PostgreSQL role); NULL: url. */
static const char *inst_db, *inst_extra = "";

static pid_t start_instance(const char *tag, int workers, int mode, int *out_port)
{
    char conf[512];
    snprintf(conf, sizeof conf, "%s/server-%s.conf", DIR, tag);
    FILE *fp = fopen(conf, "w");
    fprintf(fp, "listen = 127.0.0.1\nport = 0\ntls = off\ndb = %s\nupload_dir = %s/uploads-%s\n"
                "log_file = %s/server-%s.log\nthreads = 2\njob_workers = %d\njob_stale_s = 2\n"
                "dose_library = %s/lib.csv\n%s", inst_db ? inst_db : url, DIR, tag, DIR, tag,
            workers, DIR, inst_extra);
    fclose(fp);
    static const char *const kill_env[] = { "HM_TEST_JOB_KILL", "1", NULL };
    static const char *const stall_env[] = { "HM_TEST_JOB_STALL_MS", "1500", NULL };
    return hm_test_serve(conf, "http", mode == 1 ? kill_env : mode == 2 ? stall_env : NULL,
                         out_port);
}

static void start_server(int workers, int mode)
{
    server_pid = start_instance("main", workers, mode, &port);
}

static void stop_pid(pid_t pid)
{
    hm_test_serve_stop(pid);
}

static void stop_server(void)
{
    stop_pid(server_pid);
    server_pid = 0;
}

/* ---- an HTTP client ----------------------------------------------------- */

typedef hm_test_buf buf;

/* Status (0: no answer); body and headers malloc'd when asked. */
static long request(const char *method, const char *path, const char *token, const char *body,
                    char **resp, char **headers)
{
    CURL *c = curl_easy_init();
    char u[512], auth[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, u);
    struct curl_slist *h = NULL;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        h = curl_slist_append(h, "Content-Type: application/json");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    buf b = { NULL, 0 }, hd = { NULL, 0 };
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hm_test_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hm_test_buf_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
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
    if (headers)
        *headers = hd.p;
    else
        free(hd.p);
    return status;
}

static json_t *get_json(const char *path, const char *token, long want)
{
    char *resp = NULL;
    long st = request("GET", path, token, NULL, &resp, NULL);
    if (st != want)
        fprintf(stderr, "GET %s: %ld %s\n", path, st, resp ? resp : "");
    assert_int_equal(st, want);
    json_t *o = json_loads(resp, 0, NULL);
    assert_non_null(o);
    free(resp);
    return o;
}

static long submit(const char *token, const char *body, long want)
{
    char *resp = NULL;
    long st = request("POST", "/api/v1/jobs", token, body, &resp, NULL);
    if (st != want)
        fprintf(stderr, "POST /api/v1/jobs %s: %ld %s\n", body, st, resp ? resp : "");
    assert_int_equal(st, want);
    json_t *o = json_loads(resp, 0, NULL);
    assert_non_null(o);
    long id = (long)json_integer_value(json_object_get(o, "id"));
    if (want == 202) {
        assert_true(id > 0);
        assert_string_equal(json_string_value(json_object_get(o, "status")), "queued");
    }
    json_decref(o);
    free(resp);
    return id;
}

/* Polls a job until it leaves queued/running (30 s at most), checking that
 * its progress never goes down and stays in [0,1]; returns it. */
static json_t *wait_job(long id, const char *token, int *n_polls)
{
    char path[64];
    snprintf(path, sizeof path, "/api/v1/jobs/%ld", id);
    double last = 0;
    json_int_t attempt = -1;
    for (int i = 0; i < 6000; i++) {
        json_t *o = get_json(path, token, 200);
        const char *st = json_string_value(json_object_get(o, "status"));
        double p = json_number_value(json_object_get(o, "progress"));
        /* A job re-queued (killed instance) starts again from 0 in its
         * next attempt. */
        json_int_t at = json_integer_value(json_object_get(o, "attempts"));
        if (at != attempt || !strcmp(st, "queued"))
            last = 0;
        attempt = at;
        assert_true(p >= last - 1e-12 && p <= 1.0);
        last = p;
        if (n_polls)
            (*n_polls)++;
        if (strcmp(st, "queued") && strcmp(st, "running"))
            return o;
        json_decref(o);
        sleep_ms(5);
    }
    fail_msg("job %ld did not finish", id);
    return NULL;
}

/* ---- the database ------------------------------------------------------- */

static hm_db *open_db(void)
{
    return tdb_open(url);
}

static long db_long(const char *sql, const char *arg)
{
    hm_db *db = open_db();
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    if (arg)
        hm_stmt_bind_text(st, 1, arg);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    long n = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    hm_db_close(db);
    return n;
}

static double db_double(const char *sql, const char *arg)
{
    hm_db *db = open_db();
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    if (arg)
        hm_stmt_bind_text(st, 1, arg);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    double v = hm_stmt_column_double(st, 0);
    hm_stmt_finalize(st);
    hm_db_close(db);
    return v;
}

/* The rows of two epi_result runs are the same cell by cell (value and
 * label); returns how many rows the run has. */
static long same_runs(const char *a, const char *b)
{
    char sql[512];
    long na = db_long("SELECT COUNT(*) FROM epi_result WHERE run_id = ?", a);
    long nb = db_long("SELECT COUNT(*) FROM epi_result WHERE run_id = ?", b);
    assert_int_equal(na, nb);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM epi_result x JOIN epi_result y ON "
                              "x.cell = y.cell AND x.name = y.name AND y.run_id = '%s' WHERE "
                              "x.run_id = ? AND x.value = y.value AND (x.label = y.label OR "
                              "(x.label IS NULL AND y.label IS NULL))", b);
    assert_int_equal(db_long(sql, a), na);
    return na;
}

static void sh(const char *cmd)
{
    char out[8192];
    int rc = hm_test_run(cmd, out, sizeof out, 1);
    if (rc)
        fprintf(stderr, "%s\n%s\n", cmd, out);
    assert_int_equal(rc, 0);
}

/* ---- fixtures ---------------------------------------------------------- */

static void issue(hm_db *db, const char *name, hm_role role, const char *centre, char *tok)
{
    hm_error err;
    assert_int_equal(hm_user_add(db, name, role, centre, "correct horse battery staple", "t",
                                 "t", &err), HM_OK);
    assert_int_equal(hm_token_issue(db, name, 1, "t", "t", tok, 80, &err), HM_OK);
}

static int setup(void **state)
{
    (void)state;
    mkdir(DIR, 0700);
    sh("rm -rf " DIR "/uploads-* " DIR "/server-*.log " DIR "/syn " DIR "/ex " DIR "/ex_fr");
    tdb_new_url("jobs", url, sizeof url);
    hm_db *db = tdb_open(url);
    issue(db, "ana", HM_ROLE_ANALYST, "", tok_ana);
    issue(db, "ana2", HM_ROLE_ANALYST, "", tok_ana2);
    issue(db, "adm", HM_ROLE_ADMIN, "", tok_adm);
    issue(db, "fr", HM_ROLE_CENTRE_MANAGER, "FR01", tok_fr);
    issue(db, "aud", HM_ROLE_AUDITOR, "", tok_aud);
    hm_db_close(db);
    /* A small synthetic cohort with a dose effect, imported centre by
     * centre, its organ doses from the generator (method 'synthetic'). */
    char cmd[4096];
    sh(HM " synth --patients 1500 --seed 11 --out " DIR "/syn --organs red_marrow "
       "--true-err-per-100mgy 20 >/dev/null");
    snprintf(cmd, sizeof cmd, "for d in " DIR "/syn/*/; do c=$(basename $d); "
             HM " import --db '%s' --centre $c --dir $d >/dev/null || exit 1; "
             HM " import --db '%s' --centre $c organ_dose $d/truth_organ_dose.csv >/dev/null "
             "|| exit 1; done", url, url);
    sh(cmd);
    /* A tiny conversion-coefficient library for the dose jobs (6 phantoms x
     * 2 beams, 1000 photons a node: about 8 s; its values only have to be
     * the same for the job and the command line). */
    FILE *fp = fopen(DIR "/grid.csv", "w");
    fputs("key,values\nphantoms,newborn:H 1y:H 5y:H 10y:H 15y:M 15y:F\nkvp_kv,70\n"
          "filter_al_mm,3.5\nfilter_cu_mm,0.1\nprimary_deg,-180 0\nprimary_periodic,1\n"
          "secondary_deg,0\nfield_cm,10\noffset_cm,0\nsource_isocentre_cm,75\n"
          "anode_angle_deg,12\nhistories_per_node,1000\nseed,20240611\nvoxel_mm,4\n", fp);
    fclose(fp);
    sh(HM " dose table --grid " DIR "/grid.csv -o " DIR "/lib.csv >/dev/null");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_server(1, 0);
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

static long tab_id;

static void test_tabulate(void **state)
{
    (void)state;
    tab_id = submit(tok_ana, "{\"kind\":\"tabulate\"," TAB_PARAMS "}", 202);
    int polls = 0;
    json_t *o = wait_job(tab_id, tok_ana, &polls);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "done");
    assert_true(json_number_value(json_object_get(o, "progress")) == 1.0);
    json_t *res = json_object_get(o, "result");
    char run[32];
    snprintf(run, sizeof run, "job-%ld", tab_id);
    assert_string_equal(json_string_value(json_object_get(res, "run_id")), run);
    /* The CLI on the same database, stored as its own run. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, HM " epi tabulate --db '%s' " TAB_CLI " --store cli_tab -o "
             DIR "/cli_tab.csv 2>/dev/null", url);
    sh(cmd);
    long rows = same_runs(run, "cli_tab");
    long cells = db_long("SELECT COUNT(DISTINCT cell) FROM epi_result WHERE run_id = ?", run);
    assert_true(cells > 20);
    assert_true(rows > cells);
    assert_int_equal(json_integer_value(json_object_get(res, "cells")), cells);
    assert_int_equal(json_integer_value(json_object_get(res, "persons")), 1500);
    /* The summary's person-years and cases are the table's sums. */
    double pyr = db_double("SELECT SUM(value) FROM epi_result WHERE run_id = ? AND name = 'pyr'",
                           "cli_tab");
    double cases = db_double("SELECT SUM(value) FROM epi_result WHERE run_id = ? AND name = "
                             "'cases_haematological'", "cli_tab");
    assert_true(pyr > 1000);
    assert_true(cases >= 1);
    assert_true(fabs(json_number_value(json_object_get(res, "pyr")) - pyr) < 1e-6 * pyr);
    assert_true(json_number_value(json_object_get(json_object_get(res, "cases"),
                                                  "haematological")) == cases);
    fprintf(stderr, "tabulate job %ld: %ld cells, %.1f person-years, %.0f cases, %d polls\n",
            tab_id, cells, pyr, cases, polls);
    json_decref(o);
}

static void test_fit(void **state)
{
    (void)state;
    char body[512];
    snprintf(body, sizeof body, "{\"kind\":\"fit\",\"run\":\"job-%ld\",\"model\":\"" MODEL "\"}",
             tab_id);
    long id = submit(tok_ana, body, 202);
    json_t *o = wait_job(id, tok_ana, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "done");
    json_t *fit = json_object_get(json_object_get(o, "result"), "fit");
    /* The CLI's fit of the CSV its tabulate wrote. */
    char out[8192];
    assert_int_equal(hm_test_run(HM " epi fit " DIR "/cli_tab.csv --model '" MODEL
                                 "' --format json", out, sizeof out, 0), 0);
    json_t *cli = json_loads(out, 0, NULL);
    assert_non_null(cli);
    static const char *const keys[] = { "deviance", "cases", "pyr", NULL };
    for (int i = 0; keys[i]; i++) {
        double a = json_number_value(json_object_get(fit, keys[i]));
        double b = json_number_value(json_object_get(cli, keys[i]));
        assert_true(fabs(a - b) <= 1e-8 * fabs(b) + 1e-12);
    }
    json_t *pa = json_array_get(json_object_get(fit, "parameters"), 0);
    json_t *pb = json_array_get(json_object_get(cli, "parameters"), 0);
    assert_string_equal(json_string_value(json_object_get(pa, "name")), "beta:dose_mgy");
    double ea = json_number_value(json_object_get(pa, "estimate"));
    double eb = json_number_value(json_object_get(pb, "estimate"));
    fprintf(stderr, "fit job %ld: beta %.6g per mGy (CLI %.6g)\n", id, ea, eb);
    assert_true(fabs(ea - eb) <= 1e-6 * fabs(eb) + 1e-9);
    json_decref(cli);
    json_decref(o);
}

static void expect_failed(const char *body, const char *text)
{
    long id = submit(tok_ana, body, 202);
    json_t *o = wait_job(id, tok_ana, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "failed");
    const char *msg = json_string_value(json_object_get(o, "message"));
    if (!msg || !strstr(msg, text))
        fail_msg("job %ld: message '%s', expected '%s'", id, msg ? msg : "", text);
    assert_null(json_object_get(o, "result"));
    json_decref(o);
}

static void test_failing(void **state)
{
    (void)state;
    expect_failed("{\"kind\":\"tabulate\",\"outcome\":\"nosuch\"}", "unknown outcome group 'nosuch'");
    expect_failed("{\"kind\":\"tabulate\",\"lagg\":2}", "lagg: unknown parameter");
    expect_failed("{\"kind\":\"tabulate\",\"lag\":\"two\"}", "lag: a number is expected");
    expect_failed("{\"kind\":\"fit\",\"run\":\"nosuch\",\"model\":\"" MODEL "\"}", "no run 'nosuch'");
    expect_failed("{\"kind\":\"tabulate\",\"store\":\"../x\"}", "store: a run id");
    /* Refused at once: no kind the server runs, or not JSON. */
    submit(tok_ana, "{\"kind\":\"rm -rf\"}", 400);
    submit(tok_ana, "{\"kind\":", 400);
    submit(tok_ana, "[1,2]", 400);
}

static void test_roles(void **state)
{
    (void)state;
    char path[64], *resp = NULL;
    snprintf(path, sizeof path, "/api/v1/jobs/%ld", tab_id);
    const char *body = "{\"kind\":\"tabulate\"}";
    long before = db_long("SELECT COUNT(*) FROM server_job", NULL);
    assert_int_equal(request("POST", "/api/v1/jobs", tok_fr, body, NULL, NULL), 403);
    assert_int_equal(request("POST", "/api/v1/jobs", tok_aud, body, NULL, NULL), 403);
    assert_int_equal(request("GET", "/api/v1/jobs", tok_fr, NULL, NULL, NULL), 403);
    assert_int_equal(request("GET", path, tok_fr, NULL, NULL, NULL), 403);
    assert_int_equal(request("GET", path, tok_aud, NULL, NULL, NULL), 403);
    /* Another analyst: not someone else's job; an admin: any. */
    assert_int_equal(request("GET", path, tok_ana2, NULL, NULL, NULL), 403);
    strcat(path, "/cancel");
    assert_int_equal(request("POST", path, tok_fr, NULL, NULL, NULL), 403);
    assert_int_equal(request("POST", path, tok_ana2, NULL, NULL, NULL), 403);
    assert_int_equal(db_long("SELECT COUNT(*) FROM server_job", NULL), before);
    path[strlen(path) - 7] = 0;
    json_decref(get_json(path, tok_adm, 200));
    assert_int_equal(request("GET", "/api/v1/jobs/999999", tok_ana, NULL, &resp, NULL), 404);
    free(resp);
    /* Own jobs only, newest first, paged. */
    json_t *l = get_json("/api/v1/jobs?page_size=2", tok_ana, 200);
    json_t *jobs = json_object_get(l, "jobs");
    assert_int_equal(json_array_size(jobs), 2);
    assert_true(json_integer_value(json_object_get(json_array_get(jobs, 0), "id")) >
                json_integer_value(json_object_get(json_array_get(jobs, 1), "id")));
    assert_int_equal(json_integer_value(json_object_get(l, "next_page")), 1);
    json_decref(l);
    l = get_json("/api/v1/jobs?page_size=1000", tok_ana, 200);
    assert_int_equal((long)json_array_size(json_object_get(l, "jobs")),
                     db_long("SELECT COUNT(*) FROM server_job WHERE created_by = ?", "ana"));
    json_decref(l);
    l = get_json("/api/v1/jobs", tok_ana2, 200);
    assert_int_equal(json_array_size(json_object_get(l, "jobs")), 0);
    json_decref(l);
}

/* GET an export and compare it byte for byte with a file of `harmonic export`. */
static void export_equals(const char *path, const char *token, const char *file)
{
    char *resp = NULL, *hdr = NULL;
    assert_int_equal(request("GET", path, token, NULL, &resp, &hdr), 200);
    assert_non_null(strstr(hdr, "Content-Disposition: attachment; filename="));
    assert_non_null(strstr(hdr, "Transfer-Encoding: chunked"));     /* streamed */
    FILE *fp = fopen(file, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *want = malloc((size_t)n + 1);
    assert_int_equal(fread(want, 1, (size_t)n, fp), (size_t)n);
    want[n] = 0;
    fclose(fp);
    assert_int_equal(strlen(resp), (size_t)n);
    assert_memory_equal(resp, want, (size_t)n);
    free(want);
    free(resp);
    free(hdr);
}

static void test_export(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, HM " export --db '%s' --out " DIR "/ex >/dev/null 2>&1 && " HM
             " export --db '%s' --out " DIR "/ex_fr --centre FR01 >/dev/null 2>&1", url, url);
    sh(cmd);
    export_equals("/api/v1/export/patient?format=csv", tok_ana, DIR "/ex/patient.csv");
    export_equals("/api/v1/export/procedure", tok_adm, DIR "/ex/procedure.csv");
    export_equals("/api/v1/export/organ_dose?format=csv", tok_ana, DIR "/ex/organ_dose.csv");
    export_equals("/api/v1/export/procedure?centre=FR01", tok_ana, DIR "/ex_fr/procedure.csv");
    /* A centre manager: its own centre, whether it says so or not. */
    export_equals("/api/v1/export/patient", tok_fr, DIR "/ex_fr/patient.csv");
    export_equals("/api/v1/export/patient?centre=FR01", tok_fr, DIR "/ex_fr/patient.csv");
    long rows = db_long("SELECT COUNT(*) FROM procedure", NULL);
    assert_true(rows > 3000);           /* several chunks of the content reader */
    char *resp = NULL;
    static const struct { const char *path, *tok; long st; } bad[] = {
        { "/api/v1/export/patient?centre=NO01", NULL, 403 },
        { "/api/v1/export/patient", "aud", 403 },
        { "/api/v1/export/patient?format=xlsx", "ana", 400 },
        { "/api/v1/export/patient?centre=..", "ana", 400 },
        { "/api/v1/export/server_user", "ana", 404 },
        { "/api/v1/export/api_token", "adm", 404 },
        { "/api/v1/export/audit_log", "adm", 404 },
        { "/api/v1/export/server_job", "ana", 404 },
        { "/api/v1/export/%2e%2e", "ana", 400 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *t = !bad[i].tok ? tok_fr : !strcmp(bad[i].tok, "aud") ? tok_aud
                        : !strcmp(bad[i].tok, "adm") ? tok_adm : tok_ana;
        long st = request("GET", bad[i].path, t, NULL, &resp, NULL);
        if (st != bad[i].st)
            fprintf(stderr, "%s: %ld %s\n", bad[i].path, st, resp ? resp : "");
        assert_int_equal(st, bad[i].st);
        json_t *j = json_loads(resp, 0, NULL);
        assert_non_null(json_object_get(j, "error"));
        json_decref(j);
        free(resp);
        resp = NULL;
    }
}

static const char *job_status(long id, char *out, size_t size)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT status FROM server_job WHERE job_id = %ld", id);
    hm_db *db = open_db();
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    snprintf(out, size, "%s", hm_stmt_column_text(st, 0));
    hm_stmt_finalize(st);
    hm_db_close(db);
    return out;
}

static void cancel(long id, const char *token, long want, const char *status)
{
    char path[64], *resp = NULL;
    snprintf(path, sizeof path, "/api/v1/jobs/%ld/cancel", id);
    long st = request("POST", path, token, NULL, &resp, NULL);
    if (st != want)
        fprintf(stderr, "%s: %ld %s\n", path, st, resp ? resp : "");
    assert_int_equal(st, want);
    if (status) {
        json_t *o = json_loads(resp, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(o, "status")), status);
        json_decref(o);
    }
    free(resp);
}

/* The instance killed inside a job (HM_TEST_JOB_KILL: it exits once the
 * cohort is loaded, progress 0.4) waits for any instance to re-queue and
 * re-run it; a queued job cancelled never runs; a job cancelled while
 * its runner is gone stops at its next progress report. */
static void wait_exit_killed(void)
{
    int st;
    assert_int_equal(waitpid(server_pid, &st, 0), server_pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 137);
    server_pid = 0;
}

static void test_cancel_and_killed(void **state)
{
    (void)state;
    char s[32];
    stop_server();
    start_server(0, 0);               /* an instance that queues but runs nothing */
    const char *body = "{\"kind\":\"tabulate\"," TAB_PARAMS ",\"store\":\"rerun\"}";
    long a = submit(tok_ana, body, 202), b = submit(tok_ana, body, 202);
    long c = submit(tok_ana, body, 202);
    sleep_ms(500);
    assert_string_equal(job_status(c, s, sizeof s), "queued");
    cancel(c, tok_ana, 202, "cancelled");
    cancel(c, tok_ana, 409, NULL);
    stop_server();
    /* A dies with its instance, in the middle of its run. */
    start_server(1, 1);
    wait_exit_killed();
    char path[64];
    snprintf(path, sizeof path, "/api/v1/jobs/%ld", a);
    start_server(0, 0);
    json_t *o = get_json(path, tok_ana, 200);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "running");
    assert_true(json_number_value(json_object_get(o, "progress")) == 0.4);
    assert_non_null(strstr(json_string_value(json_object_get(o, "message")),
                           "cohort of 1500 persons loaded"));
    json_decref(o);
    /* Cancelled while its runner is dead: asked to stop. */
    cancel(a, tok_ana, 202, "cancel_requested");
    stop_server();
    /* B is claimed by a second instance that dies too (A may be re-queued
     * and cancelled by it first). */
    start_server(1, 1);
    wait_exit_killed();
    /* A normal instance: after job_stale_s both are re-queued; A stops at
     * its first report (cancelled), B runs to the end. */
    start_server(1, 0);
    json_t *ja = wait_job(a, tok_ana, NULL);
    json_t *jb = wait_job(b, tok_ana, NULL);
    assert_string_equal(json_string_value(json_object_get(ja, "status")), "cancelled");
    assert_string_equal(json_string_value(json_object_get(jb, "status")), "done");
    assert_true(json_integer_value(json_object_get(jb, "attempts")) >= 2);
    assert_true(json_number_value(json_object_get(jb, "progress")) == 1.0);
    assert_int_equal(same_runs("rerun", "cli_tab") > 0, 1);
    assert_string_equal(job_status(c, s, sizeof s), "cancelled");
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM server_job WHERE job_id = %ld AND started_at "
                              "IS NULL", c);
    assert_int_equal(db_long(sql, NULL), 1);
    json_decref(ja);
    json_decref(jb);
    /* Audit: every submit, cancel and finish, the chain intact. */
    long jobs = db_long("SELECT COUNT(*) FROM server_job", NULL);
    assert_int_equal(db_long("SELECT COUNT(*) FROM audit_log WHERE action = 'job_submit'", NULL),
                     jobs);
    assert_int_equal(db_long("SELECT COUNT(*) FROM audit_log WHERE action = 'job_cancel'", NULL),
                     2);
    assert_int_equal(db_long("SELECT COUNT(*) FROM audit_log WHERE action = 'job_finish'", NULL),
                     db_long("SELECT COUNT(*) FROM server_job WHERE finished_at IS NOT NULL",
                             NULL) - 1);        /* c was cancelled while queued: no finish */
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, HM " audit verify --db '%s'", url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "audit chain intact"));
}

/* SIGTERM while a job runs: the server finishes its stage, puts the job
 * back in the queue and exits 0; the next instance runs it to the end. */
static void test_graceful_stop(void **state)
{
    (void)state;
    stop_server();
    start_server(1, 2);
    long id = submit(tok_ana, "{\"kind\":\"tabulate\"," TAB_PARAMS ",\"store\":\"stopped\"}",
                     202);
    char path[64];
    snprintf(path, sizeof path, "/api/v1/jobs/%ld", id);
    int running = 0;
    for (int i = 0; i < 400 && !running; i++) {
        json_t *o = get_json(path, tok_ana, 200);
        running = json_number_value(json_object_get(o, "progress")) == 0.4;
        json_decref(o);
        if (!running)
            sleep_ms(5);
    }
    assert_true(running);
    stop_server();                    /* SIGTERM, exit status 0 */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM server_job WHERE job_id = %ld AND status = "
             "'queued' AND claimed_by IS NULL AND message = 're-queued: server stopped'", id);
    assert_int_equal(db_long(sql, NULL), 1);
    assert_int_equal(db_long("SELECT COUNT(*) FROM epi_result WHERE run_id = 'stopped'", NULL), 0);
    start_server(1, 0);
    json_t *o = wait_job(id, tok_ana, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "done");
    assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 2);
    assert_true(same_runs("stopped", "cli_tab") > 0);
    json_decref(o);
}

/* A job whose instance died in each of its MAX_ATTEMPTS (5) claims, as the
 * table holds it after the fifth death, is failed rather than run again. */
static void test_poison_job(void **state)
{
    (void)state;
    hm_db *db = open_db();
    hm_error err;
    assert_int_equal(hm_db_exec(db, "INSERT INTO server_job (job_id, kind, parameters, status, "
                                "progress, message, created_by, created_at, started_at, "
                                "claimed_by, heartbeat, attempts, cancel_requested) VALUES "
                                "(9000, 'tabulate', '{\"kind\":\"tabulate\"}', 'running', 0.4, "
                                "'tabulating', 'ana', '2000-01-01T00:00:00Z', "
                                "'2000-01-01T00:00:00Z', 'dead:1:x', '2000-01-01T00:00:00Z', 5, 0)",
                                &err), HM_OK);
    hm_db_close(db);
    json_t *o = wait_job(9000, tok_ana, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(o, "message")),
                        "its instance died in each of its attempts");
    assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 5);
    json_decref(o);
    assert_int_equal(db_long("SELECT COUNT(*) FROM audit_log WHERE action = 'job_finish' AND "
                             "record = '9000' AND new_value = 'failed'", NULL), 1);
}

/* Two instances with workers on one database share the queue: jobs queued
 * through either are each run exactly once (attempts 1), by both instances
 * between them, and their audit entries, appended by two processes at
 * once, still form one intact chain. */
static void test_two_instances(void **state)
{
    (void)state;
    int port_b;
    pid_t pid_b = start_instance("b", 1, 0, &port_b);
    int port_a = port;
    enum { N = 8 };
    long ids[N];
    for (int i = 0; i < N; i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"kind\":\"tabulate\"," TAB_PARAMS ",\"store\":\"two%d\"}",
                 i);
        port = i % 2 ? port_b : port_a;
        ids[i] = submit(tok_ana, body, 202);
    }
    port = port_a;
    for (int i = 0; i < N; i++) {
        json_t *o = wait_job(ids[i], tok_ana, NULL);
        assert_string_equal(json_string_value(json_object_get(o, "status")), "done");
        assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 1);
        json_decref(o);
        char run[16];
        snprintf(run, sizeof run, "two%d", i);
        assert_true(same_runs(run, "cli_tab") > 0);
    }
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(DISTINCT claimed_by) FROM server_job WHERE job_id "
             "BETWEEN %ld AND %ld", ids[0], ids[N - 1]);
    long runners = db_long(sql, NULL);
    fprintf(stderr, "%d jobs through two instances: run by %ld of them\n", N, runners);
    assert_int_equal(runners, 2);
    stop_pid(pid_b);
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, HM " audit verify --db '%s'", url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
}

/* SHA-256 (hex) of the doses a cohort run stores, without its run id:
 * best estimates, packed realizations, procedure tiers and effective doses. */
static void dose_fingerprint(char out[65])
{
    static const char *const q[] = {
        "SELECT centre_code, source_id, organ, method, realization, dose_mgy FROM organ_dose "
        "WHERE method <> 'synthetic' ORDER BY centre_code, source_id, organ, method, realization",
        "SELECT centre_code, source_id, organ, method, n_real, dose_mgy FROM organ_dose_real "
        "ORDER BY centre_code, source_id, organ, method",
        "SELECT centre_code, procedure_id, tier_used, effective_dose_msv FROM dose_procedure "
        "ORDER BY centre_code, procedure_id",
        NULL
    };
    hm_db *db = open_db();
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    for (int i = 0; q[i]; i++) {
        hm_stmt *st;
        hm_error err;
        assert_int_equal(hm_db_prepare(db, q[i], &st, &err), HM_OK);
        while (hm_stmt_step(st, &err) == 1)
            for (int c = 0; c < hm_stmt_column_count(st); c++) {
                char v[64];
                size_t n = 0;
                const unsigned char *b = NULL;
                if (i == 1 && c == 5) {
                    b = hm_stmt_column_blob(st, c, &n);
                } else if (c >= 4) {
                    snprintf(v, sizeof v, "%.17g", hm_stmt_column_double(st, c));
                    b = (const unsigned char *)v;
                    n = strlen(v);
                } else {
                    b = (const unsigned char *)hm_stmt_column_text(st, c);
                    n = strlen((const char *)b);
                }
                crypto_hash_sha256_update(&h, b, n);
                crypto_hash_sha256_update(&h, (const unsigned char *)"|", 1);
            }
        hm_stmt_finalize(st);
    }
    hm_db_close(db);
    unsigned char d[32];
    crypto_hash_sha256_final(&h, d);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The cohort dose job: the same stored doses as `harmonic dose cohort
 * --library` with the same seed, realizations and procedures (run after the
 * epi tests: the doses it adds would change their cohort). */
static void test_dose(void **state)
{
    (void)state;
    long id = submit(tok_ana, "{\"kind\":\"dose\",\"realizations\":5,\"seed\":3,"
                     "\"max_procedures\":300,\"organs\":\"red_marrow,lung\"}", 202);
    json_t *o = wait_job(id, tok_ana, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "done");
    json_t *res = json_object_get(o, "result");
    assert_int_equal(json_integer_value(json_object_get(res, "procedures")), 300);
    assert_int_equal(json_integer_value(json_object_get(res, "rows_best")), 600);
    json_t *tiers = json_object_get(res, "tiers");
    assert_int_equal(json_integer_value(json_array_get(tiers, 0)) +
                     json_integer_value(json_array_get(tiers, 1)) +
                     json_integer_value(json_array_get(tiers, 2)), 300);
    char run[32], job_fp[65], cli_fp[65];
    snprintf(run, sizeof run, "job-%ld", id);
    assert_int_equal(db_long("SELECT COUNT(*) FROM dose_procedure WHERE run_id = ?", run), 300);
    assert_int_equal(db_long("SELECT COUNT(*) FROM organ_dose WHERE method <> 'synthetic'", NULL),
                     600);
    dose_fingerprint(job_fp);
    /* The command line recomputes every procedure under its own run id. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, HM " dose cohort --db '%s' --library " DIR "/lib.csv "
             "--realizations 5 --seed 3 --max-procedures 300 --organs red_marrow,lung "
             "--run cli_dose --quiet >/dev/null 2>&1", url);
    sh(cmd);
    assert_int_equal(db_long("SELECT COUNT(*) FROM dose_procedure WHERE run_id = 'cli_dose'",
                             NULL), 300);
    dose_fingerprint(cli_fp);
    assert_string_equal(job_fp, cli_fp);
    json_decref(o);
    /* Bounded: a run too large for the server is refused by the job. */
    expect_failed("{\"kind\":\"dose\",\"realizations\":5000}", "realizations: an integer");
}

/* PostgreSQL: the server as a non-owner role (`harmonic server install`,
 * install = off), row-level security binding it.  A job's library calls open
 * their own connections: they must still see the pooled rows (the same table
 * as the CLI's), and an export the user's rows only. */
static void test_app_role(void **state)
{
    (void)state;
    if (!tdb_is_pg()) {
        fprintf(stderr, "SQLite: no database roles, app-role run skipped\n");
        return;
    }
    char role[64], sql[512], cmd[4096], app_url[1200];
    snprintf(role, sizeof role, "jobs_app_%ld", (long)getpid());
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s; CREATE ROLE %s LOGIN NOSUPERUSER "
             "NOBYPASSRLS", role, role);
    tdb_pg_exec(sql);
    snprintf(cmd, sizeof cmd, HM " server install --db '%s' --app-role %s >/dev/null", url, role);
    sh(cmd);
    snprintf(app_url, sizeof app_url, "%s&user=%s", url, role);
    inst_db = app_url;
    inst_extra = "install = off\n";
    stop_server();            /* its worker, as the owner, would take the job */
    int app_port;
    pid_t app = start_instance("app", 1, 0, &app_port);
    inst_db = NULL;
    inst_extra = "";
    port = app_port;
    long id = submit(tok_ana, "{\"kind\":\"tabulate\"," TAB_PARAMS ",\"store\":\"app_tab\"}", 202);
    int polls = 0;
    json_t *o = wait_job(id, tok_ana, &polls);
    const char *st = json_string_value(json_object_get(o, "status"));
    if (strcmp(st, "done"))
        fprintf(stderr, "app-role job %s: %s\n", st,
                json_string_value(json_object_get(o, "message")));
    assert_string_equal(st, "done");
    json_decref(o);
    /* cli_tab: the CLI's table of test_tabulate, as the owner */
    assert_true(same_runs("app_tab", "cli_tab") > 20);
    export_equals("/api/v1/export/patient", tok_ana, DIR "/ex/patient.csv");
    export_equals("/api/v1/export/patient", tok_fr, DIR "/ex_fr/patient.csv");
    stop_pid(app);
    start_server(1, 0);
    snprintf(sql, sizeof sql, "DROP OWNED BY %s; DROP ROLE %s", role, role);
    tdb_pg_exec(sql);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tabulate),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_failing),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_app_role),
        cmocka_unit_test(test_cancel_and_killed),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_poison_job),
        cmocka_unit_test(test_two_instances),
        cmocka_unit_test(test_dose),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
