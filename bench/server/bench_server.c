/*
 * bench_server — `harmonic serve` under load from wrk on loopback (HTTPS,
 * keep-alive), each run bounded by its duration (wrk has no request count:
 * a Lua script stopping its threads early leaves wrk waiting out the
 * duration, and dividing by it); the requests made are printed:
 *   1. GET /api/v1/health              the floor: TLS, routing, logging
 *   2. GET .../tables/patient?page_size=20   a token check and a page of rows
 *   3. POST .../tables/patient          a 20-row validated submission (idempotent)
 *   4. 2 and 3 at once (reads at the given connections, submissions at 10)
 * Prints requests/s, p50/p99 latency and errors of each.  The server runs in
 * this process on an SQLite registry of 1,000 patients, or with
 * HM_BENCH_PG_URL (a superuser's URL) on PostgreSQL as deployed: a schema
 * and a role infra_bench_PID made here, `harmonic server install` done as
 * the owner (hm_server_install), the server connecting as that role with
 * install = off, so row-level security binds every read; both are dropped
 * at the end.
 *
 *   bench_server [connections=200] [seconds=10] [threads=0] [workdir=/tmp]
 *   threads 0: the server's default (hm_server_config_defaults)
 *   HM_BENCH_ONLY=health|read|submit|mixed   one phase only (for perf record)
 */
#include "hm_server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc)
        fprintf(stderr, "bench_server: failed (%d): %s\n", rc, cmd);
    return rc;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        fprintf(stderr, "bench_server: cannot write %s\n", path);
        exit(1);
    }
    fputs(text, fp);
    fclose(fp);
}

/* One wrk load: the endpoint's name, its URL, method, body and connections. */
typedef struct wrk_load {
    const char *name, *url, *method, *body_file;
    int conns;
} wrk_load;

/* The shell command of one wrk run for secs seconds, with the method, token
 * and body set by a Lua script; its --latency report goes to DIR/NAME.out. */
static void wrk_command(const wrk_load *w, const char *dir, const char *token, int secs,
                        char *cmd, size_t size)
{
    char lua[1100];
    snprintf(lua, sizeof lua, "%s/%s.lua", dir, w->name);
    FILE *fp = fopen(lua, "w");
    if (!fp) {
        fprintf(stderr, "bench_server: cannot write %s\n", lua);
        exit(1);
    }
    fprintf(fp, "wrk.method = \"%s\"\n", w->method);
    fprintf(fp, "wrk.headers[\"Authorization\"] = \"Bearer %s\"\n", token);
    if (w->body_file) {
        fprintf(fp, "local f = io.open(\"%s\", \"rb\"); wrk.body = f:read(\"*a\"); f:close()\n",
                w->body_file);
        fprintf(fp, "wrk.headers[\"Content-Type\"] = \"text/csv\"\n");
    }
    fclose(fp);
    snprintf(cmd, size, "wrk -t2 -c%d -d%ds --latency -s %s '%s' > %s/%s.out 2>&1", w->conns,
             secs, lua, w->url, dir, w->name);
}

/* One result line from DIR/NAME.out, labelled (e.g. "read+sub" in the mixed run). */
static void wrk_report(const wrk_load *w, const char *label, const char *dir)
{
    char out[1100];
    snprintf(out, sizeof out, "%s/%s.out", dir, w->name);
    FILE *fp = fopen(out, "r");
    if (!fp) {
        fprintf(stderr, "bench_server: no wrk report %s\n", out);
        return;
    }
    char line[512], rps[32] = "?", p50[32] = "?", p99[32] = "?", non2xx[32] = "0",
                     sock[160] = "none", reqs[32] = "?";
    while (fgets(line, sizeof line, fp)) {
        sscanf(line, " Requests/sec: %31s", rps);
        sscanf(line, " 50%% %31s", p50);
        sscanf(line, " 99%% %31s", p99);
        sscanf(line, " Non-2xx or 3xx responses: %31s", non2xx);
        if (strstr(line, " requests in "))
            sscanf(line, " %31s", reqs);
        if (!strncmp(line, "  Socket errors:", 16)) {
            snprintf(sock, sizeof sock, "%.150s", line + 17);
            sock[strcspn(sock, "\n")] = 0;
        }
    }
    fclose(fp);
    printf("%-10s %4d conns  %7s requests  %9s req/s  p50 %8s  p99 %8s  non-2xx %s  socket "
           "errors: %s\n", label, w->conns, reqs, rps, p50, p99, non2xx, sock);
    fflush(stdout);
}

/* HM_BENCH_ONLY=read: that phase alone (a profile of one path). */
static int phase_wanted(const char *name)
{
    const char *only = getenv("HM_BENCH_ONLY");
    return !(only && only[0] && strcmp(only, name));
}

/* A load alone for secs seconds. */
static void run_wrk(const wrk_load *w, const char *dir, const char *token, int secs)
{
    if (!phase_wanted(w->name))
        return;
    char cmd[4096];
    wrk_command(w, dir, token, secs, cmd, sizeof cmd);
    if (sh(cmd) == 0)
        wrk_report(w, w->name, dir);
}

/* Reads and submissions at once, as a pooling centre serves them (both wrk
 * runs start together and last secs seconds): a submission holding a
 * request thread (on SQLite, waiting for the write lock) delays the reads
 * bound to that thread, which reads alone never show. */
static void run_mixed(const wrk_load *read, const wrk_load *submit, const char *dir,
                      const char *token, int secs)
{
    if (!phase_wanted("mixed"))
        return;
    wrk_load r = *read, s = *submit;
    r.name = "mixed_read";
    s.name = "mixed_submit";
    char a[4096], b[4096], cmd[8400];
    wrk_command(&r, dir, token, secs, a, sizeof a);
    wrk_command(&s, dir, token, secs, b, sizeof b);
    snprintf(cmd, sizeof cmd, "%s & %s; wait", b, a);
    if (sh(cmd) == 0) {
        wrk_report(&r, "read+sub", dir);
        wrk_report(&s, "sub+read", dir);
    }
}

#define PSEUDO_FMT "%064x"

int main(int argc, char **argv)
{
    int conns = argc > 1 ? atoi(argv[1]) : 200;
    int secs = argc > 2 ? atoi(argv[2]) : 10;
    int threads = argc > 3 ? atoi(argv[3]) : 0;
    char dir[512];
    snprintf(dir, sizeof dir, "%.400s/bench_server_%ld", argc > 4 ? argv[4] : "/tmp", (long)getpid());
    mkdir(dir, 0700);
    char cmd[4096], path[1100];
    snprintf(path, sizeof path, "%s/cert.tmpl", dir);
    write_file(path, "cn = 127.0.0.1\nip_address = 127.0.0.1\nexpiration_days = 1\n"
                     "tls_www_server\nsigning_key\nencryption_key\n");
    snprintf(cmd, sizeof cmd, "cd %s && certtool --generate-privkey --key-type=ecdsa --outfile "
             "key.pem 2>/dev/null && certtool --generate-self-signed --load-privkey key.pem "
             "--template cert.tmpl --outfile cert.pem >/dev/null 2>&1", dir);
    if (sh(cmd))
        return 1;
    /* The registry: one centre, 1,000 patients, a manager and a token. */
    hm_error err;
    hm_db *db;
    char dbpath[1100], app_url[1400] = "", role[64] = "";
    snprintf(dbpath, sizeof dbpath, "%s/bench.db", dir);
    const char *pg = getenv("HM_BENCH_PG_URL");
    if (pg && pg[0]) {
        snprintf(role, sizeof role, "infra_bench_%ld", (long)getpid());
        if (hm_db_open_nomigrate(pg, &db, &err))      /* its own schema: no tables there */
            return fprintf(stderr, "bench_server: %s\n", err.msg), 1;
        snprintf(cmd, sizeof cmd, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s; "
                 "DROP ROLE IF EXISTS %s; CREATE ROLE %s LOGIN NOSUPERUSER NOBYPASSRLS", role,
                 role, role, role);
        int bad = hm_db_exec(db, cmd, &err);
        hm_db_close(db);
        if (bad)
            return fprintf(stderr, "bench_server: %s\n", err.msg), 1;
        snprintf(dbpath, sizeof dbpath, "%.900s%soptions=-csearch_path%%3D%s", pg,
                 strchr(pg, '?') ? "&" : "?", role);
        snprintf(app_url, sizeof app_url, "%s&user=%s", dbpath, role);
    }
    if (hm_db_open(dbpath, &db, &err))
        return fprintf(stderr, "bench_server: %s\n", err.msg), 1;
    snprintf(path, sizeof path, "%s/centre.csv", dir);
    write_file(path, "centre_code,country,name,cohort\nFR01,FR,Bench,both\n");
    hm_import_report rep;
    hm_import_report_init(&rep);
    int rc = hm_registry_import_csv(db, "FR01", "centre", path, &rep, &err);
    hm_import_report_free(&rep);
    static const char header[] = "centre_code,pseudonym,key_version,cohort,sex,birth_year,"
                                 "birth_date,syndrome,transplant_date,transplant_day,"
                                 "immunosuppression,consent\n";
    char body[1100];
    for (int f = 0; f < 2 && rc == HM_OK; f++) {
        snprintf(path, sizeof path, "%s/%s.csv", dir, f ? "submit" : "patients");
        if (f)
            snprintf(body, sizeof body, "%s", path);
        FILE *fp = fopen(path, "w");
        fputs(header, fp);
        for (int i = 0; i < (f ? 20 : 1000); i++)
            fprintf(fp, "FR01," PSEUDO_FMT ",1,cardiac,%s,2005,2005-03-14,none,,,0,given\n",
                    i + (f ? 5000 : 0), i % 2 ? "F" : "M");
        fclose(fp);
        hm_import_report_init(&rep);
        if (!f)
            rc = hm_registry_import_csv(db, "FR01", "patient", path, &rep, &err);
        hm_import_report_free(&rep);
    }
    char token[80];
    if (rc == HM_OK)
        rc = hm_user_add(db, "bench", HM_ROLE_CENTRE_MANAGER, "FR01", "bench password 123",
                         "bench", "bench", &err);
    if (rc == HM_OK)
        rc = hm_token_issue(db, "bench", 1, "bench", "bench", token, sizeof token, &err);
    if (rc == HM_OK && role[0])
        rc = hm_server_install(db, role, &err);
    /* Statistics, as autovacuum gathers them within a minute of a centre's
     * import: without them the planner guessed 1 row and read and sorted
     * all 1,000 (0.4 ms a page in EXPLAIN ANALYZE) instead of 21 rows in
     * key order from the primary key (0.03 ms). */
    if (rc == HM_OK && role[0])
        rc = hm_db_exec(db, "ANALYZE", &err);
    hm_db_close(db);
    if (rc)
        return fprintf(stderr, "bench_server: %s\n", err.msg), 1;
    hm_server_config cfg;
    hm_server_config_defaults(&cfg);
    snprintf(cfg.tls_cert, sizeof cfg.tls_cert, "%s/cert.pem", dir);
    snprintf(cfg.tls_key, sizeof cfg.tls_key, "%s/key.pem", dir);
    snprintf(cfg.db, sizeof cfg.db, "%.1000s", role[0] ? app_url : dbpath);
    cfg.install = !role[0];
    snprintf(cfg.upload_dir, sizeof cfg.upload_dir, "%s/uploads", dir);
    snprintf(cfg.log_file, sizeof cfg.log_file, "%s/server.log", dir);
    if (threads > 0)
        cfg.threads = threads;
    threads = cfg.threads;
    signal(SIGPIPE, SIG_IGN);
    hm_server *srv;
    if (hm_server_start(&cfg, &srv, &err))
        return fprintf(stderr, "bench_server: %s\n", err.msg), 1;
    int port = hm_server_port(srv);
    /* The machine's load sets the figures on a shared machine: printed with them. */
    double load[3] = { 0, 0, 0 };
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = 0;
        fclose(la);
    }
    printf("bench_server: harmonic serve on https://127.0.0.1:%d, %d threads, %s, "
           "1,000 patients; wrk 2 threads; load average %.2f %.2f %.2f\n", port, threads,
           role[0] ? "PostgreSQL as a non-owner role (RLS)" : "SQLite", load[0], load[1],
           load[2]);
    char health_url[256], read_url[256], submit_url[256];
    snprintf(health_url, sizeof health_url, "https://127.0.0.1:%d/api/v1/health", port);
    snprintf(read_url, sizeof read_url, "https://127.0.0.1:%d/api/v1/centres/FR01/tables/patient"
             "?page_size=20", port);
    snprintf(submit_url, sizeof submit_url, "https://127.0.0.1:%d/api/v1/centres/FR01/tables/"
             "patient", port);
    const wrk_load health = { "health", health_url, "GET", NULL, conns };
    const wrk_load read = { "read", read_url, "GET", NULL, conns };
    const wrk_load submit = { "submit", submit_url, "POST", body, 10 };
    run_wrk(&health, dir, token, secs);
    run_wrk(&read, dir, token, secs);
    run_wrk(&submit, dir, token, secs);
    run_mixed(&read, &submit, dir, token, secs);
    hm_server_stop(srv);
    if (role[0] && hm_db_open_nomigrate(pg, &db, &err) == HM_OK) {
        snprintf(cmd, sizeof cmd, "DROP SCHEMA %s CASCADE; DROP OWNED BY %s; DROP ROLE %s",
                 role, role, role);
        if (hm_db_exec(db, cmd, &err))
            fprintf(stderr, "bench_server: cleanup: %s\n", err.msg);
        hm_db_close(db);
    }
    if (!getenv("HM_BENCH_KEEP")) {          /* keep the log and wrk output to look at */
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        sh(cmd);
    }
    return 0;
}
