/*
 * srv_int.h — what the server's files share and no one else needs.
 */
#ifndef HM_SRV_INT_H
#define HM_SRV_INT_H

#include "hm_server.h"

#include <stddef.h>

/* UTC "YYYY-MM-DDThh:mm:ssZ" of now + offset_s (fixed width, so text order
 * is time order on both back ends). */
void srv_utc(char out[32], double offset_s);
/* Lower-case hex SHA-256 of n bytes. */
void srv_sha256_hex(const void *data, size_t n, char out[65]);
void srv_hex(const unsigned char *bytes, size_t n, char *out);

/* One JSON log line per request (log.c); never a token or a password. */
int  srv_log_open(const char *path, hm_error *err);
void srv_log_request(const char *method, const char *path, int status, double duration_ms,
                     const char *user, const char *remote);
void srv_log_event(const char *what, const char *detail);
void srv_log_close(void);

/* Database connections (pool.c): one per request at a time. */
typedef struct srv_pool srv_pool;
int  srv_pool_open(const char *url, int n, srv_pool **pool, hm_error *err);
/* migrate 0: connections opened without migrating (install = off, install.c). */
int  srv_pool_open_ex(const char *url, int n, int migrate, srv_pool **pool, hm_error *err);
hm_db *srv_pool_get(srv_pool *pool);
void srv_pool_put(srv_pool *pool, hm_db *db);
void srv_pool_close(srv_pool *pool);
/* Prepared statements kept on one pooled connection (pool.c), for the
 * request holding it: srv_stmt_get returns the statement cached under key
 * (the table and the query's shape), preparing sql the first time;
 * srv_stmt_done resets it after use (failed: drops it).  A NULL cache
 * prepares each time and finalizes in srv_stmt_done. */
typedef struct srv_stmt_cache srv_stmt_cache;
srv_stmt_cache *srv_pool_stmts(srv_pool *pool, hm_db *db);
int  srv_stmt_get(srv_stmt_cache *c, hm_db *db, const char *key, const char *sql,
                  hm_stmt **st, hm_error *err);
void srv_stmt_done(srv_stmt_cache *c, hm_stmt *st, int failed);
/* The statement cached under key, or NULL (then build its SQL and call
 * srv_stmt_get): a caller whose SQL text costs something to build. */
hm_stmt *srv_stmt_cached(srv_stmt_cache *c, const char *key);
/* What srv_rls_set_on last set harmonic.centre to on the cache's
 * connection (NULL: unknown), and the record of it (NULL: forget). */
const char *srv_stmt_centre(const srv_stmt_cache *c);
void srv_stmt_set_centre(srv_stmt_cache *c, const char *centre);

/* A response being built by a handler: status and a JSON body (malloc'd). */
typedef struct srv_reply {
    int   status;
    char *body;
} srv_reply;
/* {"error": msg} with status. */
void srv_reply_error(srv_reply *r, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* What a handler knows of its request. */
typedef struct srv_request {
    const hm_route_match *route;
    const hm_user *user;
    const char *remote;            /* client address */
    const char *reason;            /* X-Harmonic-Reason header, or NULL */
    long page, page_size;          /* query parameters, checked */
    const char *query_status;      /* ?status= of the queries list, or NULL */
    /* POST uploads: the body as streamed to disk, its size and SHA-256. */
    const char *upload_path;
    unsigned long long upload_bytes;
    const char *upload_sha256;
    srv_stmt_cache *stmts;         /* of the connection lent to this request */
    /* Sessions (session.c): set when the request came with the hm_session
     * cookie rather than a token. */
    const char *session_cookie, *csrf_token, *session_expires;
    char *set_cookie;              /* out: a Set-Cookie value (SRV_COOKIE_N bytes) */
    int *retry_after_s;            /* out: a Retry-After header when > 0 */
    int *tokens_changed;           /* out: tokens revoked: the token cache is emptied */
    /* DICOM submissions (routes_submit.c) */
    const char *content_type;      /* Content-Type header, or NULL */
    struct MHD_Connection *mhd;    /* for srv_query_arg */
    const hm_server_config *cfg;
} srv_request;
#define SRV_COOKIE_N 256

/* Role and centre rule of a route for a user: 0 allowed, else 403. */
int  srv_allowed(const srv_request *q);

/* Handlers (routes_*.c). */
void srv_route_health(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_table_get(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_table_post(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_completeness(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_audit(hm_db *db, const srv_request *q, srv_reply *r);
/* Data queries and record locks (queries.c). */
void srv_route_query_open(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_queries_list(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_query_answer(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_query_close(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_lock(hm_db *db, const srv_request *q, srv_reply *r);
/* Triggers refusing updates of locked records (queries.c). */
int  srv_lock_install(hm_db *db, hm_error *err);
/* PostgreSQL: harmonic.centre for this request's user (rls.c). */
int  srv_rls_set(hm_db *db, const hm_user *u, hm_error *err);
/* The same with the statement kept in the connection's cache (NULL: none). */
int  srv_rls_set_on(hm_db *db, srv_stmt_cache *stmts, const hm_user *u, hm_error *err);

/* Install/run split (install.c, infra): the audit and lock triggers and
 * the row-level security policies (what serve did at start, and still does
 * with install = on). */
int  srv_install_ddl(hm_db *db, hm_error *err);
/* At start: install on, srv_install_ddl (and on PostgreSQL a "warning" log
 * event: connected as the owner, RLS does not bind); off, the check. */
int  srv_install_start(hm_db *db, int install, hm_error *err);

/* Sessions, sign-in, token revocation (sess: session.c, auth.c). */
/* The account (password hash too when hash is not NULL); HM_ENOTFOUND for
 * no such account or a removed one. */
int  srv_user_load(hm_db *db, const char *name, hm_user *user, char *hash, size_t hsize,
                   hm_error *err);
/* The live session of a cookie value: HM_OK with its user, CSRF token and
 * expiry; HM_EPERM when malformed, unknown, ended, expired or its user removed. */
int  srv_session_check(hm_db *db, const char *cookie, hm_user *user, char csrf[65],
                       char expires[32], hm_error *err);
void srv_route_session_new(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_session_get(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_session_end(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_token_revoke(hm_db *db, const srv_request *q, srv_reply *r);
/* ---- web: the web pages and their data (issue 14 items 6, 7) ---- */
/* The pooled cohort overview for analysts and admins (routes_overview.c). */
void srv_route_overview(hm_db *db, const srv_request *q, srv_reply *r);
/* Web pages (static.c): GET/HEAD of "/" and "/web/..." from web_dir. */
struct MHD_Connection;
int  srv_static_path(const char *method, const char *path);
/* Content-Type of a file name, NULL if not a web file type. */
const char *srv_static_type(const char *name);
/* 200 and the real path of the file a path names, or 404 (outside web_dir,
 * a dotfile or "..", not a regular file, an unknown type). */
int  srv_static_resolve(const char *web_dir, const char *path, char *out, size_t size,
                        const char **type);
/* Queues the file (or 404) with the security headers; MHD_YES/MHD_NO. */
int  srv_static_reply(struct MHD_Connection *c, const char *web_dir, const char *path,
                      int *status);
/* ---- DICOM submissions (routes_submit.c, tar.c) ---- */
struct MHD_Connection;
const char *srv_query_arg(const srv_request *q, const char *name);
void srv_route_rdsr_post(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_rt_post(hm_db *db, const srv_request *q, srv_reply *r);
/* Removes a directory tree without following links: 0, or -1. */
int  srv_rmtree(const char *path);

/* Background jobs (jobs.c, routes_jobs.c) and exports (export.c). */
typedef struct srv_jobs srv_jobs;
/* Starts cfg->job_workers workers and the heartbeat thread (none: *jobs NULL). */
int  srv_jobs_start(const hm_server_config *cfg, srv_jobs **jobs, hm_error *err);
/* Stops them; a job being run is re-queued after its current stage. */
void srv_jobs_stop(srv_jobs *jobs);
int  srv_job_kind_known(const char *kind);
/* Wakes this process's idle workers (a job was just queued). */
void srv_jobs_wake(void);
void srv_route_job_submit(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_jobs_list(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_job_get(hm_db *db, const srv_request *q, srv_reply *r);
void srv_route_job_cancel(hm_db *db, const srv_request *q, srv_reply *r);
/* GET /api/v1/export/{table}: queues on c a streamed CSV (or a JSON error);
 * returns the HTTP status, *mhd the MHD_Result of the queueing. */
struct MHD_Connection;
int  srv_export_queue(struct MHD_Connection *c, const char *db_url, const hm_user *u,
                      const char *table, int *mhd);

#endif
