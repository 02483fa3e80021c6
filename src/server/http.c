/*
 * http.c — the libmicrohttpd daemon: TLS (GnuTLS), a thread pool, one
 * request context per request, uploads streamed to a file under the upload
 * dir (never held in memory) with the size limit, and the graceful stop
 * (MHD_quiesce_daemon: no new connections; in-flight requests finish).
 *
 * Order of checks for every request: route (400/404/405), Origin (403),
 * token or session cookie (401; the cookie's CSRF token: 403), role and
 * centre (403), size (413), then the handler.  All of them run before a
 * byte of an upload is written to disk.
 */
#include "srv_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Tokens recently checked, by SHA-256: a cache (a token's user and expiry
 * for TOKEN_CACHE_S seconds), so a read costs no look-up of its token.  A
 * change to a token or its user made elsewhere (`harmonic user revoke` or
 * `remove`, another server instance) is seen within that time: a revoked
 * token works for at most TOKEN_CACHE_S more seconds.  Revoked through this
 * server's API, the cache is emptied at once.  Sessions are not cached. */
#define TOKEN_CACHE_N 256
#define TOKEN_CACHE_S 10.0
typedef struct token_slot {
    char    digest[65];
    hm_user user;
    double  until;                 /* monotonic seconds */
} token_slot;

struct hm_server {
    hm_server_config  cfg;
    pthread_mutex_t   token_mu;
    token_slot        tokens[TOKEN_CACHE_N];
    struct MHD_Daemon *daemon;
    srv_pool         *pool;
    char             *cert, *key;
    atomic_int        inflight;
    int               port;
    srv_jobs         *jobs;                /* background job workers (jobs.c) */
};

typedef struct conn {
    double             t0;
    int                status;
    char               method[16], path[256], remote[64], reason[256];
    hm_route_match     route;
    hm_user            user;
    int                authed;
    int                has_upload;         /* a POST body goes to tmp */
    int                fd;                 /* its descriptor while open, else -1 */
    char               tmp[1100];
    unsigned long long bytes;
    int                too_big;
    int                refused;            /* status of a refusal found by begin() */
    int                web;                /* a web page (static.c), not an API route */
    const char        *refusal;
    /* sess: a cookie request's session; what the handler sends back. */
    char               cookie[65], csrf[65], session_expires[32];
    int                via_session;
    char               set_cookie[SRV_COOKIE_N];
    int                retry_after_s, tokens_changed;
    crypto_hash_sha256_state sha;
} conn;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *slurp(const char *path, hm_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        hm_error_set(err, HM_EIO, path, 0, NULL, "cannot read");
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
        hm_error_set(err, HM_EIO, path, 0, NULL, "cannot read");
    } else {
        buf[n] = 0;
    }
    fclose(fp);
    return buf;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, conn *x, srv_reply *r)
{
    if (!r->body)
        srv_reply_error(r, 500, "no response");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(r->body), r->body, MHD_RESPMEM_MUST_FREE);
    r->body = NULL;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"harmonic\"");
    if (x->set_cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", x->set_cookie);
    if (x->retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", x->retry_after_s);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    x->status = r->status;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, conn *x, int status, const char *msg)
{
    srv_reply r = { 0, NULL };
    srv_reply_error(&r, status, "%s", msg);
    return send_reply(c, x, &r);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, size, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

/* page and page_size query parameters: 0.. and 1..1000 (default 100). */
/* A query parameter of the request (NULL when absent). */
const char *srv_query_arg(const srv_request *q, const char *name)
{
    return q->mhd ? MHD_lookup_connection_value(q->mhd, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

static int paging(struct MHD_Connection *c, srv_request *q)
{
    const char *p = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page");
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page_size");
    q->page = 0;
    q->page_size = 100;
    char *end;
    if (p) {
        q->page = strtol(p, &end, 10);
        if (!*p || *end || q->page < 0 || q->page > 100000000)
            return 400;
    }
    if (s) {
        q->page_size = strtol(s, &end, 10);
        if (!*s || *end || q->page_size < 1 || q->page_size > 1000)
            return 400;
    }
    return 0;
}

static void run_handler(hm_server *srv, struct MHD_Connection *c, conn *x, srv_reply *r)
{
    srv_request q = { .route = &x->route, .user = &x->user, .remote = x->remote,
                      .reason = x->reason, .set_cookie = x->set_cookie,
                      .retry_after_s = &x->retry_after_s, .tokens_changed = &x->tokens_changed };
    if (x->via_session) {
        q.session_cookie = x->cookie;
        q.csrf_token = x->csrf;
        q.session_expires = x->session_expires;
    }
    if (paging(c, &q)) {
        srv_reply_error(r, 400, "page must be 0 or more, page_size 1..1000");
        return;
    }
    q.query_status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    /* DICOM submissions (routes_submit.c): the body's type, query parameters, limits. */
    q.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    q.mhd = c;
    q.cfg = &srv->cfg;
    char sha[65] = "";
    if (x->has_upload) {
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final(&x->sha, d);
        srv_hex(d, sizeof d, sha);
        q.upload_path = x->tmp;
        q.upload_bytes = x->bytes;
        q.upload_sha256 = sha;
    }
    hm_db *db = srv_pool_get(srv->pool);
    q.stmts = srv_pool_stmts(srv->pool, db);
    hm_error rls_err;
    if (srv_rls_set_on(db, q.stmts, x->authed ? &x->user : NULL, &rls_err))
        srv_reply_error(r, 500, "cannot set the request's centre: %s", rls_err.msg);
    else switch (x->route.id) {
    case HM_R_HEALTH:       srv_route_health(db, &q, r); break;
    case HM_R_TABLE_GET:    srv_route_table_get(db, &q, r); break;
    case HM_R_TABLE_POST:   srv_route_table_post(db, &q, r); break;
    case HM_R_COMPLETENESS: srv_route_completeness(db, &q, r); break;
    case HM_R_AUDIT:        srv_route_audit(db, &q, r); break;
    case HM_R_QUERY_OPEN:   srv_route_query_open(db, &q, r); break;
    case HM_R_QUERY_LIST:   srv_route_queries_list(db, &q, r); break;
    case HM_R_QUERY_ANSWER: srv_route_query_answer(db, &q, r); break;
    case HM_R_QUERY_CLOSE:  srv_route_query_close(db, &q, r); break;
    case HM_R_LOCK:         srv_route_lock(db, &q, r); break;
    /* sess */
    case HM_R_SESSION_NEW:  srv_route_session_new(db, &q, r); break;
    case HM_R_SESSION_GET:  srv_route_session_get(db, &q, r); break;
    case HM_R_SESSION_END:  srv_route_session_end(db, &q, r); break;
    case HM_R_TOKEN_REVOKE: srv_route_token_revoke(db, &q, r); break;
    case HM_R_OVERVIEW:     srv_route_overview(db, &q, r); break;   /* web */
    case HM_R_RDSR_POST:    srv_route_rdsr_post(db, &q, r); break;
    case HM_R_RT_POST:      srv_route_rt_post(db, &q, r); break;
    case HM_R_JOB_SUBMIT:   srv_route_job_submit(db, &q, r); break;
    case HM_R_JOBS_LIST:    srv_route_jobs_list(db, &q, r); break;
    case HM_R_JOB_GET:      srv_route_job_get(db, &q, r); break;
    case HM_R_JOB_CANCEL:   srv_route_job_cancel(db, &q, r); break;
    default:                srv_reply_error(r, 404, "no such route"); break;
    }
    srv_pool_put(srv->pool, db);
    if (x->tokens_changed) {              /* revoked here: not one more cached use */
        pthread_mutex_lock(&srv->token_mu);
        memset(srv->tokens, 0, sizeof srv->tokens);
        pthread_mutex_unlock(&srv->token_mu);
    }
}

static enum MHD_Result refuse(conn *x, int status, const char *msg)
{
    x->refused = status;
    x->refusal = msg;
    return MHD_YES;
}

static int token_slot_of(const char digest[65])
{
    int v = 0;
    for (int i = 0; i < 2; i++)
        v = v * 16 + (digest[i] <= '9' ? digest[i] - '0' : digest[i] - 'a' + 10);
    return v % TOKEN_CACHE_N;
}

/* hm_token_check through the cache: HM_OK, HM_EPERM or a database error. */
static int check_token(hm_server *srv, const char *token, hm_user *user)
{
    char digest[65], now[32];
    srv_sha256_hex(token, strlen(token), digest);
    srv_utc(now, 0);
    token_slot *slot = &srv->tokens[token_slot_of(digest)];
    int hit = 0;
    pthread_mutex_lock(&srv->token_mu);
    if (!strcmp(slot->digest, digest) && now_s() < slot->until &&
        strcmp(slot->user.token_expires, now) > 0) {
        *user = slot->user;
        hit = 1;
    }
    pthread_mutex_unlock(&srv->token_mu);
    if (hit)
        return HM_OK;
    hm_db *db = srv_pool_get(srv->pool);
    hm_error err;
    int rc = hm_token_check(db, token, user, &err);
    srv_pool_put(srv->pool, db);
    if (rc == HM_OK) {
        pthread_mutex_lock(&srv->token_mu);
        memcpy(slot->digest, digest, sizeof digest);
        slot->user = *user;
        slot->until = now_s() + TOKEN_CACHE_S;
        pthread_mutex_unlock(&srv->token_mu);
    }
    return rc;
}

/* sess: a present Origin header must be this server's own, scheme://Host
 * (RFC 6454; OWASP CSRF Prevention Cheat Sheet, "Verifying origin with
 * standard headers"): NULL when fine, else why not. */
static const char *check_origin(hm_server *srv, struct MHD_Connection *c)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!origin)
        return NULL;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    const char *scheme = srv->cfg.tls ? "https://" : "http://";
    size_t n = strlen(scheme);
    if (host && !strncmp(origin, scheme, n) && !strcmp(origin + n, host))
        return NULL;
    return "cross-origin request refused (Origin is not this server)";
}

/* sess: the request's user from EITHER its bearer token OR its hm_session
 * cookie (checked in the database every time: a signed-out session stops at
 * once).  With the cookie, a method other than GET/HEAD also needs the
 * session's CSRF token in X-CSRF-Token.  0, 401, 403 or 500. */
static int authenticate(hm_server *srv, struct MHD_Connection *c, conn *x)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (auth) {
        if (strncmp(auth, "Bearer ", 7))
            return 401;
        int rc = check_token(srv, auth + 7, &x->user);
        return rc == HM_OK ? 0 : rc == HM_EPERM ? 401 : 500;
    }
    const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "hm_session");
    if (!cookie)
        return 401;
    hm_db *db = srv_pool_get(srv->pool);
    hm_error err;
    int rc = srv_session_check(db, cookie, &x->user, x->csrf, x->session_expires, &err);
    srv_pool_put(srv->pool, db);
    if (rc)
        return rc == HM_EPERM ? 401 : 500;
    snprintf(x->cookie, sizeof x->cookie, "%s", cookie);
    x->via_session = 1;
    if (!strcmp(x->method, "GET") || !strcmp(x->method, "HEAD"))
        return 0;
    const char *sent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
    if (!sent || strlen(sent) != 64 || sodium_memcmp(sent, x->csrf, 64))
        return 403;
    return 0;
}

/* First call of a request: every check that needs no body.  A refusal is
 * only recorded: answered at once for a POST (its body is then never read
 * and the connection closes), at the end of the request otherwise (a
 * response queued before the request is complete would close a keep-alive
 * connection). */
static enum MHD_Result begin(hm_server *srv, struct MHD_Connection *c, conn *x)
{
    if (srv_static_path(x->method, x->path)) {   /* the web pages: no token, no body */
        x->web = 1;
        return MHD_YES;
    }
    int st = hm_route_match_path(x->method, x->path, &x->route);
    if (st == 400)
        return refuse(x, 400, "bad path: parameters are plain names [A-Za-z0-9_]");
    if (st == 404)
        return refuse(x, 404, "no such route (see openapi/harmonic.yaml)");
    if (st == 405)
        return refuse(x, 405, "method not allowed on this path");
    const char *origin_refusal = check_origin(srv, c);
    if (origin_refusal)
        return refuse(x, 403, origin_refusal);
    if (x->route.id != HM_R_HEALTH && x->route.id != HM_R_SESSION_NEW) {
        int st_auth = authenticate(srv, c, x);
        if (st_auth == 401)
            return refuse(x, 401, "missing or invalid credentials: an API token (Authorization: "
                                  "Bearer ...) or a session (POST /api/v1/session)");
        if (st_auth == 403)
            return refuse(x, 403, "missing or wrong X-CSRF-Token for this session");
        if (st_auth)
            return refuse(x, 500, "cannot check the credentials");
        x->authed = 1;
        srv_request q = { .route = &x->route, .user = &x->user };
        if (srv_allowed(&q))
            return refuse(x, 403, "your role or centre does not allow this");
    }
    const char *reason = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Harmonic-Reason");
    if (reason)
        snprintf(x->reason, sizeof x->reason, "%s", reason);
    /* Every POST body (CSV uploads, the queries' JSON) is streamed to disk.
     * A DELETE has no body: anything sent is dropped (take_chunk). */
    if (!strcmp(x->method, "POST")) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > srv->cfg.max_upload_bytes)
            return refuse(x, 413, "upload larger than max_upload_bytes");
        snprintf(x->tmp, sizeof x->tmp, "%s/upload-XXXXXX", srv->cfg.upload_dir);
        x->fd = mkstemp(x->tmp);
        x->has_upload = x->fd >= 0;
        if (x->fd < 0) {
            x->tmp[0] = 0;
            return refuse(x, 500, "cannot create the upload file");
        }
        crypto_hash_sha256_init(&x->sha);
    }
    return MHD_YES;
}

/* Writes a chunk of the body, or stops counting past the limit. */
static void take_chunk(hm_server *srv, conn *x, const char *data, size_t n)
{
    if (x->too_big || !x->has_upload)
        return;
    x->bytes += n;
    if (x->bytes > srv->cfg.max_upload_bytes) {
        x->too_big = 1;                   /* the rest is read and dropped, then 413 */
        return;
    }
    crypto_hash_sha256_update(&x->sha, (const unsigned char *)data, n);
    while (n) {
        ssize_t w = write(x->fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            x->too_big = 2;               /* disk full or the like: 500 */
            return;
        }
        data += w;
        n -= (size_t)w;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    hm_server *srv = cls;
    conn *x = *con_cls;
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x)
            return MHD_NO;
        x->fd = -1;
        x->t0 = now_s();
        snprintf(x->method, sizeof x->method, "%s", method);
        snprintf(x->path, sizeof x->path, "%s", url);
        client_addr(c, x->remote, sizeof x->remote);
        atomic_fetch_add(&srv->inflight, 1);
        *con_cls = x;
        if (begin(srv, c, x) != MHD_YES)
            return MHD_NO;
        if (x->refused && !strcmp(method, "POST"))
            return send_error(c, x, x->refused, x->refusal);
        return MHD_YES;
    }
    if (x->status) {                      /* answered early: drop any body */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        take_chunk(srv, x, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (x->refused)
        return send_error(c, x, x->refused, x->refusal);
    if (x->web)
        return (enum MHD_Result)srv_static_reply(c, srv->cfg.web_dir, x->path, &x->status);
    /* The whole body is on disk (or there was none). */
    if (x->fd >= 0 && close(x->fd))
        x->too_big = 2;
    x->fd = -1;
    /* The file goes before the answer does: a client seeing the answer never
     * finds its upload still on disk. */
    if (x->too_big && x->tmp[0]) {
        unlink(x->tmp);
        x->tmp[0] = 0;
    }
    if (x->too_big == 1)
        return send_error(c, x, 413, "upload larger than max_upload_bytes");
    if (x->too_big)
        return send_error(c, x, 500, "cannot write the upload file");
    if (x->route.id == HM_R_EXPORT) {      /* streamed, not one buffer (export.c) */
        int mhd = MHD_NO;
        x->status = srv_export_queue(c, srv->cfg.db, &x->user, x->route.table, &mhd);
        return mhd == MHD_YES ? MHD_YES : MHD_NO;
    }
    srv_reply r = { 0, NULL };
    run_handler(srv, c, x, &r);
    if (x->tmp[0])
        unlink(x->tmp);
    x->tmp[0] = 0;
    return send_reply(c, x, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    hm_server *srv = cls;
    conn *x = *con_cls;
    if (!x)
        return;
    if (x->fd >= 0)
        close(x->fd);
    if (x->tmp[0])
        unlink(x->tmp);
    /* A request that ended before a response (client gone) is logged as 499. */
    int status = x->status ? x->status : (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 200 : 499);
    srv_log_request(x->method, x->path, status, (now_s() - x->t0) * 1e3,
                    x->authed ? x->user.name : NULL, x->remote);
    free(x);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

/* What a killed predecessor left in this server's own upload dir: its
 * upload files and their staged audit entries (never part of the chain). */
static int sweep_uploads(hm_server *srv, hm_error *err)
{
    DIR *d = opendir(srv->cfg.upload_dir);
    if (!d)
        return hm_error_set(err, HM_EIO, srv->cfg.upload_dir, 0, "upload_dir", "cannot list");
    struct dirent *e;
    long n = 0;
    char path[2048];
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "upload-", 7)) {
            snprintf(path, sizeof path, "%s/%s", srv->cfg.upload_dir, e->d_name);
            n += unlink(path) == 0 || srv_rmtree(path) == 0;   /* extraction dirs too */
        }
    closedir(d);
    hm_db *db = srv_pool_get(srv->pool);
    hm_stmt *st;
    int rc = hm_db_prepare(db, "DELETE FROM audit_pending WHERE substr(upload_path, 1, ?) = ?",
                           &st, err);
    if (rc == HM_OK) {
        snprintf(path, sizeof path, "%s/upload-", srv->cfg.upload_dir);
        hm_stmt_bind_int64(st, 1, (int64_t)strlen(path));
        hm_stmt_bind_text(st, 2, path);
        rc = hm_stmt_step(st, err) < 0 ? HM_EDB : HM_OK;
        hm_stmt_finalize(st);
    }
    srv_pool_put(srv->pool, db);
    if (n) {
        char detail[64];
        snprintf(detail, sizeof detail, "%ld upload files removed", n);
        srv_log_event("sweep", detail);
    }
    return rc;
}

int hm_server_start(const hm_server_config *cfg, hm_server **out, hm_error *err)
{
    if (sodium_init() < 0)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "libsodium failed to initialise");
    hm_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    srv->cfg = *cfg;
    atomic_init(&srv->inflight, 0);
    pthread_mutex_init(&srv->token_mu, NULL);
    int rc = HM_OK;
    if (mkdir(cfg->upload_dir, 0700) && errno != EEXIST)
        rc = hm_error_set(err, HM_EIO, cfg->upload_dir, 0, "upload_dir", "cannot create: %s",
                          strerror(errno));
    int log_opened = 0;
    if (rc == HM_OK)
        log_opened = (rc = srv_log_open(cfg->log_file, err)) == HM_OK;
    if (rc == HM_OK)
        rc = srv_pool_open_ex(cfg->db, cfg->threads + 1, cfg->install, &srv->pool, err);
    if (rc == HM_OK) {
        /* install = off: no DDL, the owner ran `harmonic server install` (install.c). */
        hm_db *db = srv_pool_get(srv->pool);
        rc = srv_install_start(db, cfg->install, err);
        srv_pool_put(srv->pool, db);
    }
    if (rc == HM_OK)
        rc = sweep_uploads(srv, err);
    if (rc == HM_OK)
        rc = srv_jobs_start(cfg, &srv->jobs, err);
    if (rc == HM_OK && cfg->tls) {
        srv->cert = slurp(cfg->tls_cert, err);
        srv->key = srv->cert ? slurp(cfg->tls_key, err) : NULL;
        if (!srv->key)
            rc = HM_EIO;
    }
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    const struct sockaddr *sa = NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_AUTO;
    if (rc == HM_OK) {
        if (inet_pton(AF_INET, cfg->listen, &a4.sin_addr) == 1) {
            a4.sin_family = AF_INET;
            a4.sin_port = htons((uint16_t)cfg->port);
            sa = (const struct sockaddr *)&a4;
        } else if (inet_pton(AF_INET6, cfg->listen, &a6.sin6_addr) == 1) {
            a6.sin6_family = AF_INET6;
            a6.sin6_port = htons((uint16_t)cfg->port);
            sa = (const struct sockaddr *)&a6;
            flags |= MHD_USE_IPv6;
        } else {
            rc = hm_error_set(err, HM_EINVAL, NULL, 0, "listen",
                              "expected a numeric IPv4 or IPv6 address, found '%s'", cfg->listen);
        }
    }
    if (rc == HM_OK) {
        if (cfg->tls)
            flags |= MHD_USE_TLS;
        struct MHD_OptionItem tls_opts[] = {
            { cfg->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, srv->key },
            { MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert },
            { MHD_OPTION_END, 0, NULL }
        };
        srv->daemon = MHD_start_daemon(
            flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv,
            MHD_OPTION_SOCK_ADDR, sa,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
            MHD_OPTION_CONNECTION_TIMEOUT, 60u,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
            MHD_OPTION_ARRAY, tls_opts,
            MHD_OPTION_END);
        if (!srv->daemon)
            rc = hm_error_set(err, HM_EIO, NULL, 0, "listen",
                              "cannot listen on %s port %d (in use? bad certificate?)",
                              cfg->listen, cfg->port);
    }
    if (rc) {
        srv_jobs_stop(srv->jobs);
        srv_pool_close(srv->pool);
        if (log_opened)
            srv_log_close();              /* its writer thread (log.c) */
        free(srv->cert);
        free(srv->key);
        free(srv);
        return rc;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : cfg->port;
    char detail[128];
    snprintf(detail, sizeof detail, "%s://%s:%d", cfg->tls ? "https" : "http", cfg->listen,
             srv->port);
    srv_log_event("start", detail);
    *out = srv;
    return HM_OK;
}

int hm_server_port(const hm_server *srv)
{
    return srv->port;
}

void hm_server_stop(hm_server *srv)
{
    if (!srv)
        return;
    /* No new connections from here on; requests being served finish. */
    MHD_socket s = MHD_quiesce_daemon(srv->daemon);
    if (s != MHD_INVALID_SOCKET)
        close(s);
    double t0 = now_s();
    while (atomic_load(&srv->inflight) > 0 && now_s() - t0 < srv->cfg.shutdown_grace_s) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(srv->daemon);
    srv_jobs_stop(srv->jobs);              /* a running job goes back to the queue */
    char detail[64];
    snprintf(detail, sizeof detail, "in-flight at stop: %d", atomic_load(&srv->inflight));
    srv_log_event("stop", detail);
    srv_pool_close(srv->pool);
    pthread_mutex_destroy(&srv->token_mu);
    free(srv->cert);
    free(srv->key);
    free(srv);
    srv_log_close();
}
