/*
 * cmd_serve.c — `harmonic serve --config FILE`: starts the HTTPS API
 * (src/server), prints where it listens, and on SIGTERM or SIGINT stops
 * gracefully (no new connections, in-flight requests finish).
 * `harmonic server install --db URL --app-role NAME`: run by the owner, so
 * that serve can run as NAME with install = off (src/server/install.c).
 */
#include "cli.h"
#include "hm_server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static int run_serve(const hm_args *a)
{
    hm_server_config cfg;
    hm_error err;
    hm_error_clear(&err);
    if (hm_server_config_load(hm_args_str(a, "config", NULL), &cfg, &err))
        return hm_cli_report(&err);
    /* Signals are taken by sigwait below only: block them before the
     * server's threads start so that every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);          /* a client gone mid-reply is not fatal */
    hm_server *srv;
    if (hm_server_start(&cfg, &srv, &err))
        return hm_cli_report(&err);
    printf("harmonic serve: listening on %s://%s:%d\n", cfg.tls ? "https" : "http", cfg.listen,
           hm_server_port(srv));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    printf("harmonic serve: signal %d, finishing in-flight requests\n", sig);
    fflush(stdout);
    hm_server_stop(srv);
    printf("harmonic serve: stopped\n");
    return 0;
}

static const hm_cli_opt serve_opts[] = {
    { "config", 0, HM_OPT_T_PATH, "FILE", "the server configuration (docs/server.md)", NULL,
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_END
};
const hm_cli_cmd hm_cli_serve = {
    "serve", "the multi-centre HTTPS API: submissions, reads, completeness, audit",
    "Reads one configuration file of 'key = value' lines: listen (127.0.0.1), port (0 = any,\n"
    "printed on start), tls (on; off only on loopback), tls_cert, tls_key, db, upload_dir,\n"
    "max_upload_bytes, log_file, threads, shutdown_grace_s, web_dir (the web pages at /),\n"
    "pseudonym_key_dir, install (on; off: no DDL, run `harmonic server install` first).\n"
    "SIGTERM or SIGINT stops it gracefully.  See docs/server.md and openapi/harmonic.yaml.\n",
    serve_opts, NULL, run_serve, NULL, 0
};

static int run_server_install(const hm_args *a)
{
    hm_db *db;
    hm_error err;
    hm_error_clear(&err);
    const char *url = hm_args_str(a, "db", NULL), *role = hm_args_str(a, "app-role", NULL);
    /* Checked before opening: opening migrates. */
    int pg = !strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11);
    if (pg && !role) {
        hm_error_set(&err, HM_EINVAL, NULL, 0, "app-role", "PostgreSQL: give --app-role, the "
                     "role serve connects as (NOSUPERUSER NOBYPASSRLS, owning nothing)");
        return hm_cli_report(&err);
    }
    if (hm_db_open(url, &db, &err))
        return hm_cli_report(&err);
    int version = 0;
    int rc = hm_server_install(db, role, &err);
    if (rc == HM_OK)
        rc = hm_db_schema_version(db, &version, &err);
    hm_db_close(db);
    if (rc)
        return hm_cli_report(&err);
    if (pg)
        printf("harmonic server install: schema version %d, triggers and row-level security "
               "installed, DML granted to %s; serve as %s with install = off\n", version, role,
               role);
    else
        printf("harmonic server install: schema version %d, triggers installed (SQLite: no "
               "roles, no row-level security)\n", version);
    return 0;
}

static const hm_cli_opt install_opts[] = {
    { "db", 0, HM_OPT_T_STRING, "URL", "registry: a SQLite file or postgresql:// URL (as the "
      "owner)", NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    { "app-role", 0, HM_OPT_T_STRING, "NAME", "PostgreSQL role the server connects as "
      "(NOSUPERUSER NOBYPASSRLS, owning nothing)", NULL, 0, 0, 0, NULL, 0, 0 },
    HM_OPT_END
};
static const hm_cli_cmd server_install = {
    "install", "migrations, triggers, row-level security, grants to the server's role",
    "Run by the owner of the registry.  Applies the migrations, creates the audit and lock\n"
    "triggers and the row-level security policies, and on PostgreSQL grants the app role\n"
    "what the server needs: SELECT, INSERT, UPDATE on data tables, SELECT, INSERT on the\n"
    "audit log, USAGE on sequences.  Refuses a superuser or BYPASSRLS role, or one that owns\n"
    "tables.  Then run `harmonic serve` as that role with install = off.  Re-run it after an\n"
    "upgrade (new migrations, new tables).\n",
    install_opts, NULL, run_server_install, NULL, 0
};
static const hm_cli_cmd *const server_subs[] = { &server_install, NULL };
static const hm_cli_opt no_opts[] = { HM_OPT_END };
const hm_cli_cmd hm_cli_server = {
    "server", "set up the database for `harmonic serve` (install)", NULL, no_opts, NULL, NULL,
    server_subs, 0
};
