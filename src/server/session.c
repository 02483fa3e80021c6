/*
 * session.c — password sign-in for browsers: POST/GET/DELETE /api/v1/session
 * and the check of the hm_session cookie (docs/server.md "Sessions").
 *
 * A session is a row of server_session keyed by the SHA-256 of the cookie
 * value (32 random bytes as hex), never held in process memory, so several
 * server instances share them and a copy of the database gives no working
 * cookie.  Sessions last SESSION_S from sign-in (absolute, no sliding) until
 * signed out.  The CSRF token (32 random bytes, hex) is issued with the
 * session; http.c requires it in X-CSRF-Token on every cookie request that
 * is not a GET.
 *
 * Sign-in runs Argon2id at libsodium's moderate limits (256 MiB, about 0.5 s
 * each), so it is bounded: at most SIGNIN_PARALLEL checks at a time in this
 * process (others get 503 with Retry-After), and a user name with
 * FAIL_MAX failures in the last FAIL_WINDOW_S gets 429 without a check
 * (OWASP Authentication Cheat Sheet, "Protect against automated attacks").
 * The cost: anyone can lock a name out for FAIL_WINDOW_S by guessing; its
 * tokens keep working.  The failures are rows of signin_failure (shared by
 * every instance); a successful sign-in clears its name's rows.
 */
#include "srv_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SESSION_S       28800        /* 8 h, the cookie's Max-Age */
#define SIGNIN_PARALLEL 2
#define FAIL_MAX        5
#define FAIL_WINDOW_S   900          /* 15 min */
#define SIGNIN_BODY_MAX 4096

static atomic_int signins_running;

static int hex64(const char *s)
{
    if (!s || strlen(s) != 64)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int srv_session_check(hm_db *db, const char *cookie, hm_user *user, char csrf[65],
                      char expires[32], hm_error *err)
{
    if (!hex64(cookie))
        return hm_error_set(err, HM_EPERM, NULL, 0, "hm_session", "malformed session cookie");
    char digest[65], now[32], name[64] = "", ended[32] = "";
    srv_sha256_hex(cookie, 64, digest);
    srv_utc(now, 0);
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT user_name, csrf_token, expires_at, ended_at FROM "
                               "server_session WHERE session_sha256 = ?", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, digest);
    rc = hm_stmt_step(st, err);
    if (rc == 1) {
        snprintf(name, sizeof name, "%s", hm_stmt_column_text(st, 0));
        snprintf(csrf, 65, "%s", hm_stmt_column_text(st, 1));
        snprintf(expires, 32, "%s", hm_stmt_column_text(st, 2));
        snprintf(ended, sizeof ended, "%s", hm_stmt_column_text(st, 3));
    }
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hm_error_set(err, HM_EPERM, NULL, 0, "hm_session", "unknown session");
    if (ended[0])
        return hm_error_set(err, HM_EPERM, NULL, 0, "hm_session", "session ended");
    if (strcmp(expires, now) <= 0)
        return hm_error_set(err, HM_EPERM, NULL, 0, "hm_session", "session expired");
    rc = srv_user_load(db, name, user, NULL, 0, err);
    return rc == HM_ENOTFOUND ? hm_error_set(err, HM_EPERM, NULL, 0, "hm_session",
                                             "user removed") : rc;
}

/* The JSON body of a small POST (at most SIGNIN_BODY_MAX bytes), or NULL
 * with the refusal in r. */
static json_t *read_body(const srv_request *q, srv_reply *r)
{
    if (!q->upload_path || q->upload_bytes > SIGNIN_BODY_MAX) {
        srv_reply_error(r, 400, "expected a JSON body of at most %d bytes", SIGNIN_BODY_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_load_file(q->upload_path, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        srv_reply_error(r, 400, "expected a JSON object: %s", j ? "not an object" : je.text);
        return NULL;
    }
    return j;
}

static void session_json(srv_reply *r, const hm_user *u, const char *csrf, const char *expires)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "user", u->name, "role",
                          hm_role_name(u->role), "centre", u->centre, "csrf_token", csrf,
                          "expires_at", expires);
    r->status = 200;
    r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
}

static long recent_failures(hm_db *db, const char *name, hm_error *err)
{
    char since[32];
    srv_utc(since, -FAIL_WINDOW_S);
    hm_stmt *st;
    if (hm_db_prepare(db, "SELECT COUNT(*) FROM signin_failure WHERE user_name = ? AND at > ?",
                      &st, err))
        return -1;
    hm_stmt_bind_text(st, 1, name);
    hm_stmt_bind_text(st, 2, since);
    long n = hm_stmt_step(st, err) == 1 ? (long)hm_stmt_column_int64(st, 0) : -1;
    hm_stmt_finalize(st);
    return n;
}

/* One statement of the sign-in's transaction: sql with text parameters. */
static int exec_texts(hm_db *db, const char *sql, const char *const *v, int n, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++)
        hm_stmt_bind_text(st, i + 1, v[i]);
    rc = hm_stmt_step(st, err) < 0 ? HM_EDB : HM_OK;
    hm_stmt_finalize(st);
    return rc;
}

/* The failure row and its audit entry (the name as given, never the password). */
static int record_failure(hm_db *db, const char *name, const char *remote, hm_error *err)
{
    char now[32];
    srv_utc(now, 0);
    int rc = hm_db_begin(db, err);
    const char *v[] = { name, now, remote };
    if (rc == HM_OK)
        rc = exec_texts(db, "INSERT INTO signin_failure (user_name, at, remote_addr) "
                            "VALUES (?, ?, ?)", v, 3, err);
    if (rc == HM_OK) {
        hm_audit_entry e = { .user = name, .remote_addr = remote, .action = "signin_failed",
                             .centre = "", .table = "server_session", .record = name,
                             .old_value = "", .new_value = "", .digest = "",
                             .reason = "wrong user name or password" };
        rc = hm_audit_append(db, &e, err);
    }
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    return rc;
}

static int start_session(hm_db *db, const hm_user *u, const char *remote, char cookie[65],
                         char csrf[65], char expires[32], hm_error *err)
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    srv_hex(raw, sizeof raw, cookie);
    randombytes_buf(raw, sizeof raw);
    srv_hex(raw, sizeof raw, csrf);
    sodium_memzero(raw, sizeof raw);
    char digest[65], now[32];
    srv_sha256_hex(cookie, 64, digest);
    srv_utc(now, 0);
    srv_utc(expires, SESSION_S);
    int rc = hm_db_begin(db, err);
    const char *v[] = { digest, u->name, csrf, now, expires, remote };
    if (rc == HM_OK)
        rc = exec_texts(db, "INSERT INTO server_session (session_sha256, user_name, csrf_token, "
                            "created_at, expires_at, ended_at, remote_addr) "
                            "VALUES (?, ?, ?, ?, ?, '', ?)", v, 6, err);
    if (rc == HM_OK)
        rc = exec_texts(db, "DELETE FROM signin_failure WHERE user_name = ?", v + 1, 1, err);
    if (rc == HM_OK) {
        /* The session is named by the start of its cookie's hash only. */
        char record[96], value[64];
        snprintf(record, sizeof record, "%s session %.12s", u->name, digest);
        snprintf(value, sizeof value, "expires %s", expires);
        hm_audit_entry e = { .user = u->name, .remote_addr = remote, .action = "signin",
                             .centre = u->centre, .table = "server_session", .record = record,
                             .old_value = "", .new_value = value, .digest = "",
                             .reason = "password sign-in" };
        rc = hm_audit_append(db, &e, err);
    }
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    return rc;
}

void srv_route_session_new(hm_db *db, const srv_request *q, srv_reply *r)
{
    json_t *j = read_body(q, r);
    if (!j)
        return;
    const char *name = json_string_value(json_object_get(j, "user"));
    const char *pw = json_string_value(json_object_get(j, "password"));
    if (!name || !pw || !name[0] || strlen(name) > 63 || strlen(pw) > 1024) {
        json_decref(j);
        srv_reply_error(r, 400, "expected {\"user\": \"...\", \"password\": \"...\"}");
        return;
    }
    hm_error err;
    long fails = recent_failures(db, name, &err);
    if (fails < 0) {
        json_decref(j);
        srv_reply_error(r, 500, "cannot check sign-in failures: %s", err.msg);
        return;
    }
    if (fails >= FAIL_MAX) {
        json_decref(j);
        *q->retry_after_s = FAIL_WINDOW_S;
        srv_reply_error(r, 429, "too many failed sign-ins for this user: try again later");
        return;
    }
    if (atomic_fetch_add(&signins_running, 1) >= SIGNIN_PARALLEL) {
        atomic_fetch_sub(&signins_running, 1);
        json_decref(j);
        *q->retry_after_s = 1;
        srv_reply_error(r, 503, "too many sign-ins at once: try again in a second");
        return;
    }
    /* Test hook: hold the slot this many ms (no CPU), so a test can see the
     * bound refuse without racing Argon2id's own time on a loaded machine. */
    const char *hold = getenv("HM_TEST_SIGNIN_HOLD_MS");
    if (hold) {
        long ms = strtol(hold, NULL, 10);
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        if (ms > 0)
            nanosleep(&ts, NULL);
    }
    hm_user u;
    int rc = hm_user_check_password(db, name, pw, &u, &err);
    atomic_fetch_sub(&signins_running, 1);
    if (rc == HM_EPERM) {
        rc = record_failure(db, name, q->remote, &err);
        json_decref(j);
        if (rc)
            srv_reply_error(r, 500, "cannot record the failure: %s", err.msg);
        else
            srv_reply_error(r, 401, "wrong user name or password");
        return;
    }
    json_decref(j);                       /* the password goes with it */
    char cookie[65], csrf[65], expires[32];
    if (rc == HM_OK)
        rc = start_session(db, &u, q->remote, cookie, csrf, expires, &err);
    if (rc) {
        srv_reply_error(r, 500, "cannot sign in: %s", err.msg);
        return;
    }
    snprintf(q->set_cookie, SRV_COOKIE_N,
             "hm_session=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%d", cookie,
             SESSION_S);
    sodium_memzero(cookie, sizeof cookie);
    session_json(r, &u, csrf, expires);
}

void srv_route_session_get(hm_db *db, const srv_request *q, srv_reply *r)
{
    (void)db;
    if (!q->session_cookie) {
        srv_reply_error(r, 401, "no session: sign in with POST /api/v1/session");
        return;
    }
    session_json(r, q->user, q->csrf_token, q->session_expires);
}

void srv_route_session_end(hm_db *db, const srv_request *q, srv_reply *r)
{
    if (!q->session_cookie) {
        srv_reply_error(r, 401, "no session: sign in with POST /api/v1/session");
        return;
    }
    char digest[65], now[32];
    srv_sha256_hex(q->session_cookie, 64, digest);
    srv_utc(now, 0);
    hm_error err;
    int rc = hm_db_begin(db, &err);
    const char *v[] = { now, digest };
    if (rc == HM_OK)
        rc = exec_texts(db, "UPDATE server_session SET ended_at = ? WHERE session_sha256 = ? "
                            "AND ended_at = ''", v, 2, &err);
    if (rc == HM_OK) {
        char record[96];
        snprintf(record, sizeof record, "%s session %.12s", q->user->name, digest);
        hm_audit_entry e = { .user = q->user->name, .remote_addr = q->remote,
                             .action = "signout", .centre = q->user->centre,
                             .table = "server_session", .record = record, .old_value = "",
                             .new_value = "ended", .digest = "", .reason = "signed out" };
        rc = hm_audit_append(db, &e, &err);
    }
    if (rc == HM_OK)
        rc = hm_db_commit(db, &err);
    else
        hm_db_rollback(db, NULL);
    if (rc) {
        srv_reply_error(r, 500, "cannot end the session: %s", err.msg);
        return;
    }
    snprintf(q->set_cookie, SRV_COOKIE_N,
             "hm_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    json_t *o = json_pack("{s:s, s:s}", "user", q->user->name, "ended_at", now);
    r->status = 200;
    r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
}

/* POST /api/v1/tokens/revoke {"user": N, "token": PREFIX} or {"user": N, "all": true}
 * (admin): hm_token_revoke, then this server's token cache is emptied. */
void srv_route_token_revoke(hm_db *db, const srv_request *q, srv_reply *r)
{
    json_t *j = read_body(q, r);
    if (!j)
        return;
    const char *name = json_string_value(json_object_get(j, "user"));
    const char *prefix = json_string_value(json_object_get(j, "token"));
    int all = json_is_true(json_object_get(j, "all"));
    if (!name || (!prefix == !all)) {
        json_decref(j);
        srv_reply_error(r, 400, "expected {\"user\": N, \"token\": PREFIX} or "
                                "{\"user\": N, \"all\": true}");
        return;
    }
    hm_error err;
    long n = 0;
    int rc = hm_token_revoke(db, name, all ? NULL : prefix, q->user->name, q->remote, &n, &err);
    if (rc == HM_OK) {
        *q->tokens_changed = 1;
        json_t *o = json_pack("{s:s, s:I}", "user", name, "revoked", (json_int_t)n);
        r->status = 200;
        r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
    } else {
        srv_reply_error(r, rc == HM_ENOTFOUND ? 404 : rc == HM_EINVAL ? 400 : 500, "%s", err.msg);
    }
    json_decref(j);
}
