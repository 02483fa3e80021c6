/*
 * hm_server.h — `harmonic serve`: the multi-centre HTTPS API over the same
 * registry library as the command line (docs/server.md).
 *
 *   config.c   the one configuration file
 *   auth.c     accounts (Argon2id passwords), API tokens (SHA-256 stored), roles
 *   audit.c    the hash-chained audit log and its verification
 *   route.c    the route table and request-target parsing (fuzzed)
 *   routes_*.c the handlers
 *   http.c     libmicrohttpd daemon: TLS, streaming uploads, graceful stop
 *   pool.c     database connections (a cache: the process keeps no other state)
 *   log.c      one JSON line per request (buffered, a writer thread)
 *   install.c  the install/run split: `harmonic server install`, install = off
 *
 * Every function returns HM_OK or a negative hm_status and fills hm_error.
 */
#ifndef HM_SERVER_H
#define HM_SERVER_H

#include "hm_core.h"
#include "hm_registry.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------ */
/* Configuration (config.c): "key = value" lines, '#' comments.        */

typedef struct hm_server_config {
    char     listen[64];           /* numeric address, default 127.0.0.1 */
    int      port;                 /* 0: any free port (printed on start) */
    int      tls;                  /* 1 unless "tls = off" (loopback only) */
    char     tls_cert[1024], tls_key[1024];
    char     db[1024];             /* SQLite path or postgresql:// URL */
    char     upload_dir[1024];
    uint64_t max_upload_bytes;     /* default 64 MiB */
    char     log_file[1024];       /* "" or "-": stderr */
    int      threads;              /* libmicrohttpd thread pool, default: cores (>= 2) */
    int      shutdown_grace_s;     /* how long in-flight requests may take at stop */
    char     web_dir[1024];        /* web pages served at / and /web/ ("": none; static.c) */
    /* RDSR/RT submissions: CENTRE.key (harmonic keygen, mode 0600) per centre,
     * the directory itself 0700; "" refuses those submissions (503). */
    char     pseudonym_key_dir[1024];
    int      install;              /* 1 (default): migrations, triggers, policies at start
                                    * (connected as the owner); 0: none, only checked
                                    * (install.c, a non-owner role on PostgreSQL) */
    /* Background jobs (jobs.c). */
    int      job_workers;          /* worker threads, default 1; 0: this instance runs none */
    int      job_stale_s;          /* a running job's heartbeat older than this: re-queued */
    char     dose_library[1024];   /* conversion-coefficient library of dose jobs ("": none) */
} hm_server_config;

void hm_server_config_defaults(hm_server_config *cfg);
int  hm_server_config_load(const char *path, hm_server_config *cfg, hm_error *err);

/* ------------------------------------------------------------------ */
/* Roles and accounts (auth.c).                                        */

typedef enum hm_role {
    HM_ROLE_NONE = 0,
    HM_ROLE_CENTRE_MANAGER,        /* sees and changes only its own centre */
    HM_ROLE_ANALYST,               /* reads pooled pseudonymised rows, never submits */
    HM_ROLE_AUDITOR,               /* reads the audit log */
    HM_ROLE_ADMIN
} hm_role;

hm_role     hm_role_parse(const char *name);       /* HM_ROLE_NONE if unknown */
const char *hm_role_name(hm_role role);

typedef struct hm_user {
    char    name[64];
    hm_role role;
    char    centre[64];            /* "" when not bound to a centre */
    char    token_expires[32];     /* set by hm_token_check: the token's expiry (UTC) */
} hm_user;

/* Adds an account (password hashed with crypto_pwhash_str, moderate limits)
 * and its audit entry, in one transaction.  by/from: who and where (CLI:
 * the Unix user, "cli"). */
int hm_user_add(hm_db *db, const char *name, hm_role role, const char *centre,
                const char *password, const char *by, const char *from, hm_error *err);
/* 0 when the password is right, HM_EPERM when not or no such user. */
int hm_user_check_password(hm_db *db, const char *name, const char *password, hm_user *user,
                           hm_error *err);
/* Issues "hm_" + 64 hex digits (32 random bytes) into token (>= 68 bytes),
 * storing only its SHA-256, valid for days days (fractions allowed; tests
 * use negative values for expired tokens). */
int hm_token_issue(hm_db *db, const char *name, double days, const char *by,
                   const char *from, char *token, size_t size, hm_error *err);
/* HM_OK and the user; HM_EPERM for an unknown, tampered, expired or revoked
 * token, or one whose user was removed. */
int hm_token_check(hm_db *db, const char *token, hm_user *user, hm_error *err);
/* Revokes name's live tokens (accounts.c): the one whose SHA-256 (hex) starts
 * with prefix (8-64 hex digits; or the whole "hm_..." token), or every one
 * when prefix is NULL; *n_revoked says how many.  One audit entry per token.
 * A server's token cache may keep a revoked token working for up to 10 s
 * (TOKEN_CACHE_S in http.c); revoked through that server's API: at once. */
int hm_token_revoke(hm_db *db, const char *name, const char *prefix, const char *by,
                    const char *from, long *n_revoked, hm_error *err);
/* Disables an account: its tokens are revoked, its sessions ended, its rows
 * kept for the audit log (which gets one entry). */
int hm_user_remove(hm_db *db, const char *name, const char *by, const char *from,
                   hm_error *err);
/* Accounts, one line each, and their tokens (by the start of their SHA-256). */
int hm_user_list(hm_db *db, FILE *out, hm_error *err);

/* ------------------------------------------------------------------ */
/* Audit chain (audit.c).                                              */

typedef struct hm_audit_entry {
    int64_t seq;                   /* set by append */
    char at[32];                   /* UTC, set by append when empty */
    const char *user, *remote_addr, *action, *centre, *table, *record;
    const char *old_value, *new_value, *digest, *reason;
    char prev_hash[65], entry_hash[65];   /* set by append */
} hm_audit_entry;

/* hex SHA-256 of prev_hash (64 hex) followed by the canonical entry: each
 * field as "<length>:<bytes>\n" in a fixed order (seq, at, user, remote_addr,
 * action, centre, table, record, old_value, new_value, digest, reason). */
void hm_audit_hash(const char *prev_hash, const hm_audit_entry *e, char out[65]);
/* Appends e after the last entry; must run inside the caller's transaction
 * (the change it records). */
int hm_audit_append(hm_db *db, hm_audit_entry *e, hm_error *err);
/* Prepares e as the next entry (seq, prev_hash, entry_hash) and stores it in
 * audit_pending under upload_path: the import of that file moves it into
 * audit_log in its own transaction (hm_audit_install). */
int hm_audit_stage(hm_db *db, const char *upload_path, hm_audit_entry *e, hm_error *err);
int hm_audit_unstage(hm_db *db, const char *upload_path, hm_error *err);
/* Creates the import_log trigger that moves staged entries (idempotent). */
int hm_audit_install(hm_db *db, hm_error *err);
/* Checks the whole chain: HM_OK and *n_entries, or HM_EVALIDATE with
 * *bad_seq the first bad entry (its position when the seq itself is wrong)
 * and err->msg saying what is wrong. */
int hm_audit_verify(hm_db *db, long *n_entries, int64_t *bad_seq, hm_error *err);

/* ------------------------------------------------------------------ */
/* Row-level security (rls.c).                                         */

/* PostgreSQL (no-op on SQLite): the policy hm_centre on every table with a
 * centre_code, rows visible and writable only where centre_code equals the
 * setting harmonic.centre ('*': every centre; unset: none).  Binds roles
 * that do not own the tables; run by the owner (`harmonic server install`,
 * or serve itself with install = on). */
int hm_server_rls_install(hm_db *db, hm_error *err);

/* ------------------------------------------------------------------ */
/* Install/run split (install.c).                                      */

/* Run by the owner (db opened with hm_db_open, so migrated): the audit and
 * lock triggers, the row-level security policies, then on PostgreSQL the
 * DML the server needs granted to app_role, every table of the schema by
 * its kind (docs/server.md).  Refuses (HM_EPERM) an app_role that is
 * superuser or BYPASSRLS, owns a table or is a member of a table's owner.
 * app_role is ignored on SQLite (no roles: a single-site trial). */
int hm_server_install(hm_db *db, const char *app_role, hm_error *err);
/* What a server with "install = off" checks at start (db opened without
 * migrating): the schema at this build's latest migration, the triggers and
 * policies there and, on PostgreSQL, the connection NOT the owner, superuser
 * or BYPASSRLS.  HM_EINVAL / HM_EPERM saying what to run otherwise. */
int hm_server_check_installed(hm_db *db, hm_error *err);

/* ------------------------------------------------------------------ */
/* Routes (route.c): the table the OpenAPI test compares with           */
/* openapi/harmonic.yaml.                                               */

typedef enum hm_route_id {
    HM_R_HEALTH, HM_R_TABLE_GET, HM_R_TABLE_POST, HM_R_COMPLETENESS, HM_R_AUDIT,
    HM_R_QUERY_OPEN, HM_R_QUERY_LIST, HM_R_QUERY_ANSWER, HM_R_QUERY_CLOSE, HM_R_LOCK,
    /* sess: sessions and token revocation (session.c) */
    HM_R_SESSION_NEW, HM_R_SESSION_GET, HM_R_SESSION_END, HM_R_TOKEN_REVOKE,
    /* web: the pooled cohort overview (routes_overview.c) */
    HM_R_OVERVIEW,
    /* DICOM submissions (routes_submit.c) */
    HM_R_RDSR_POST, HM_R_RT_POST,
    /* Background jobs and exports (jobs.c, routes_jobs.c, export.c). */
    HM_R_JOB_SUBMIT, HM_R_JOBS_LIST, HM_R_JOB_GET, HM_R_JOB_CANCEL, HM_R_EXPORT,
    HM_R_COUNT
} hm_route_id;

typedef struct hm_route {
    hm_route_id id;
    const char *method;
    const char *pattern;           /* OpenAPI path, {name} parameters */
} hm_route;

size_t hm_server_nroutes(void);
const hm_route *hm_server_route_at(size_t i);

typedef struct hm_route_match {
    hm_route_id id;
    char centre[33], table[65];
    char id_param[21];             /* {id}: 1-18 decimal digits */
} hm_route_match;

/* Matches a method and a decoded path: 200 and m, 404 (no such route), 405
 * (the path exists for another method) or 400 (a parameter that is not a
 * plain name: only [A-Za-z0-9_], 1-32 characters for a centre, 64 for a
 * table, 1-18 digits for an id, so "..", "/" and "%2e" never reach a file or SQL name). */
int hm_route_match_path(const char *method, const char *path, hm_route_match *m);

/* Parses a raw HTTP/1.1 request head (request line and headers, up to the
 * empty line) as the fuzz target feeds it: method, path and query into the
 * buffers; returns the status hm_route_match_path gives, or 400 when the
 * head is malformed.  The server itself gets these from libmicrohttpd. */
int hm_route_parse_head(const char *bytes, size_t n, char *method, size_t msize, char *path,
                        size_t psize, hm_route_match *m);

/* ------------------------------------------------------------------ */
/* The server (http.c).                                                */

typedef struct hm_server hm_server;

/* Opens the database pool, installs the audit trigger and starts listening. */
int  hm_server_start(const hm_server_config *cfg, hm_server **srv, hm_error *err);
int  hm_server_port(const hm_server *srv);
/* Graceful stop: no new connections, in-flight requests finish (up to
 * cfg->shutdown_grace_s), then everything is freed. */
void hm_server_stop(hm_server *srv);

#endif
