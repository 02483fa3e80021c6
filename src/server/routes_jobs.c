/*
 * routes_jobs.c — the background jobs' routes (jobs.c runs them):
 *
 *   POST /api/v1/jobs               {"kind": "tabulate"|"fit"|"dose", ...} -> 202 {"id"}
 *   GET  /api/v1/jobs               the caller's own jobs, newest first, paged
 *   GET  /api/v1/jobs/{id}          status, progress, message; result when done
 *   POST /api/v1/jobs/{id}/cancel   queued: cancelled now; running: asked to stop
 *
 * Analysts and admins only (srv_allowed); a job is seen and cancelled by its
 * submitter, or an admin.  Submit and cancel commit with their audit entry.
 */
#include "srv_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX 65536

/* Job ids are MAX+1 in the writer's transaction: one writer at a time in
 * this process; another instance losing the race fails on the PRIMARY KEY
 * and the insert is retried. */
static pthread_mutex_t job_mu = PTHREAD_MUTEX_INITIALIZER;

static const char JOB_COLS[] = "job_id, kind, parameters, status, progress, message, result, "
                               "created_by, created_at, started_at, finished_at, attempts, "
                               "cancel_requested";

static json_t *text_or_null(hm_stmt *st, int c)
{
    const char *s = hm_stmt_column_text(st, c);
    return s ? json_string(s) : json_null();
}

/* The job of the current row (JOB_COLS order) as JSON. */
static json_t *job_json(hm_stmt *st, int with_result)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(hm_stmt_column_int64(st, 0)));
    json_object_set_new(o, "kind", text_or_null(st, 1));
    json_t *p = json_loads(hm_stmt_column_text(st, 2) ? hm_stmt_column_text(st, 2) : "", 0, NULL);
    json_object_set_new(o, "parameters", p ? p : json_null());
    const char *status = hm_stmt_column_text(st, 3);
    json_object_set_new(o, "status", text_or_null(st, 3));
    json_object_set_new(o, "progress", json_real(hm_stmt_column_double(st, 4)));
    json_object_set_new(o, "message", text_or_null(st, 5));
    json_object_set_new(o, "created_by", text_or_null(st, 7));
    json_object_set_new(o, "created_at", text_or_null(st, 8));
    json_object_set_new(o, "started_at", text_or_null(st, 9));
    json_object_set_new(o, "finished_at", text_or_null(st, 10));
    json_object_set_new(o, "attempts", json_integer(hm_stmt_column_int64(st, 11)));
    json_object_set_new(o, "cancel_requested", json_boolean(hm_stmt_column_int64(st, 12)));
    if (with_result && status && !strcmp(status, "done")) {
        const char *r = hm_stmt_column_text(st, 6);
        json_t *res = r ? json_loads(r, 0, NULL) : NULL;
        json_object_set_new(o, "result", res ? res : json_null());
    }
    return o;
}

static void reply_json(srv_reply *r, int status, json_t *o)
{
    r->status = status;
    r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
}

static int audit(hm_db *db, const srv_request *q, const char *action, const char *record,
                 const char *old_v, const char *new_v, hm_error *err)
{
    hm_audit_entry e = { .user = q->user->name, .remote_addr = q->remote, .action = action,
                         .centre = "", .table = "server_job", .record = record,
                         .old_value = old_v, .new_value = new_v, .digest = "",
                         .reason = q->reason ? q->reason : "" };
    return hm_audit_append(db, &e, err);
}

void srv_route_job_submit(hm_db *db, const srv_request *q, srv_reply *r)
{
    if (!q->upload_path || q->upload_bytes > BODY_MAX) {
        srv_reply_error(r, q->upload_path ? 413 : 400, "a JSON body of at most %d bytes is "
                        "expected", BODY_MAX);
        return;
    }
    json_error_t je;
    json_t *body = json_load_file(q->upload_path, 0, &je);
    if (!json_is_object(body)) {
        json_decref(body);
        srv_reply_error(r, 400, "body: a JSON object is expected (line %d: %s)", je.line, je.text);
        return;
    }
    const char *kind = json_string_value(json_object_get(body, "kind"));
    if (!srv_job_kind_known(kind)) {
        json_decref(body);
        srv_reply_error(r, 400, "kind: expected \"tabulate\", \"fit\" or \"dose\" "
                        "(docs/server.md, \"Background jobs\")");
        return;
    }
    char *params = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char kind_copy[32];
    snprintf(kind_copy, sizeof kind_copy, "%s", kind);
    json_decref(body);
    char now[32], idtxt[24];
    srv_utc(now, 0);
    hm_error err;
    int64_t id = 0;
    int rc = HM_EDB;
    pthread_mutex_lock(&job_mu);
    for (int attempt = 0; attempt < 5 && rc; attempt++) {
        hm_stmt *st = NULL;
        rc = hm_db_begin(db, &err);
        if (rc == HM_OK)
            rc = hm_db_prepare(db, "SELECT COALESCE(MAX(job_id), 0) + 1 FROM server_job", &st,
                               &err);
        if (rc == HM_OK) {
            rc = hm_stmt_step(st, &err) == 1 ? HM_OK : HM_EDB;
            id = hm_stmt_column_int64(st, 0);
            hm_stmt_finalize(st);
        }
        if (rc == HM_OK)
            rc = hm_db_prepare(db, "INSERT INTO server_job (job_id, kind, parameters, status, "
                                   "progress, message, created_by, created_at, attempts, "
                                   "cancel_requested) VALUES (?, ?, ?, 'queued', 0, 'queued', ?, "
                                   "?, 0, 0)", &st, &err);
        if (rc == HM_OK) {
            hm_stmt_bind_int64(st, 1, id);
            hm_stmt_bind_text(st, 2, kind_copy);
            hm_stmt_bind_text(st, 3, params);
            hm_stmt_bind_text(st, 4, q->user->name);
            hm_stmt_bind_text(st, 5, now);
            rc = hm_stmt_step(st, &err) < 0 ? HM_EDB : HM_OK;
            hm_stmt_finalize(st);
        }
        snprintf(idtxt, sizeof idtxt, "%lld", (long long)id);
        if (rc == HM_OK)
            rc = audit(db, q, "job_submit", idtxt, "", params, &err);
        if (rc == HM_OK)
            rc = hm_db_commit(db, &err);
        if (rc && hm_db_in_transaction(db))
            hm_db_rollback(db, NULL);
    }
    pthread_mutex_unlock(&job_mu);
    free(params);
    if (rc) {
        srv_reply_error(r, 500, "cannot queue the job: %s", err.msg);
        return;
    }
    srv_jobs_wake();
    reply_json(r, 202, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "status", "queued",
                                 "kind", kind_copy));
}

/* The job named by the path, if the caller may see it: 1 (row in *st,
 * stepped), or 0 with the reply set. */
static int find_job(hm_db *db, const srv_request *q, hm_stmt **st, srv_reply *r)
{
    char sql[512];
    hm_error err;
    snprintf(sql, sizeof sql, "SELECT %s FROM server_job WHERE job_id = ?", JOB_COLS);
    if (hm_db_prepare(db, sql, st, &err)) {
        srv_reply_error(r, 500, "%s", err.msg);
        return 0;
    }
    hm_stmt_bind_int64(*st, 1, strtoll(q->route->id_param, NULL, 10));
    int rc = hm_stmt_step(*st, &err);
    if (rc != 1) {
        hm_stmt_finalize(*st);
        if (rc < 0)
            srv_reply_error(r, 500, "%s", err.msg);
        else
            srv_reply_error(r, 404, "no job %s", q->route->id_param);
        return 0;
    }
    const char *by = hm_stmt_column_text(*st, 7);
    if (q->user->role != HM_ROLE_ADMIN && (!by || strcmp(by, q->user->name))) {
        hm_stmt_finalize(*st);
        srv_reply_error(r, 403, "job %s belongs to another user", q->route->id_param);
        return 0;
    }
    return 1;
}

void srv_route_job_get(hm_db *db, const srv_request *q, srv_reply *r)
{
    hm_stmt *st;
    if (!find_job(db, q, &st, r))
        return;
    json_t *o = job_json(st, 1);
    hm_stmt_finalize(st);
    reply_json(r, 200, o);
}

void srv_route_jobs_list(hm_db *db, const srv_request *q, srv_reply *r)
{
    char sql[512];
    hm_error err;
    hm_stmt *st;
    snprintf(sql, sizeof sql, "SELECT %s FROM server_job WHERE created_by = ? ORDER BY job_id "
                              "DESC LIMIT ? OFFSET ?", JOB_COLS);
    if (hm_db_prepare(db, sql, &st, &err)) {
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    hm_stmt_bind_text(st, 1, q->user->name);
    hm_stmt_bind_int64(st, 2, q->page_size + 1);
    hm_stmt_bind_int64(st, 3, q->page * q->page_size);
    json_t *jobs = json_array();
    long n = 0;
    int more = 0, rc;
    while ((rc = hm_stmt_step(st, &err)) == 1) {
        if (n++ == q->page_size) {
            more = 1;
            break;
        }
        json_array_append_new(jobs, job_json(st, 0));
    }
    hm_stmt_finalize(st);
    if (rc < 0) {
        json_decref(jobs);
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "page", json_integer(q->page));
    json_object_set_new(o, "page_size", json_integer(q->page_size));
    json_object_set_new(o, "next_page", more ? json_integer(q->page + 1) : json_null());
    json_object_set_new(o, "jobs", jobs);
    reply_json(r, 200, o);
}

void srv_route_job_cancel(hm_db *db, const srv_request *q, srv_reply *r)
{
    hm_stmt *st;
    if (!find_job(db, q, &st, r))
        return;
    char status[16];
    snprintf(status, sizeof status, "%s", hm_stmt_column_text(st, 3));
    hm_stmt_finalize(st);
    int queued = !strcmp(status, "queued"), running = !strcmp(status, "running");
    if (!queued && !running) {
        srv_reply_error(r, 409, "job %s is %s already", q->route->id_param, status);
        return;
    }
    char now[32];
    srv_utc(now, 0);
    hm_error err;
    /* Guarded by the status read: a job claimed or finished meanwhile
     * changes nothing here, and the caller is told to look again. */
    int rc = hm_db_begin(db, &err), changed = 0;
    if (rc == HM_OK)
        rc = hm_db_prepare(db, queued ? "UPDATE server_job SET status = 'cancelled', message = "
                                        "'cancelled on request', finished_at = ? WHERE job_id = "
                                        "? AND status = 'queued' RETURNING job_id"
                                      : "UPDATE server_job SET cancel_requested = 1, message = "
                                        "'cancel requested' WHERE job_id = ? AND status = "
                                        "'running' RETURNING job_id", &st, &err);
    if (rc == HM_OK) {
        int k = 1;
        if (queued)
            hm_stmt_bind_text(st, k++, now);
        hm_stmt_bind_int64(st, k, strtoll(q->route->id_param, NULL, 10));
        int got = hm_stmt_step(st, &err);
        changed = got == 1;
        while (got == 1)
            got = hm_stmt_step(st, &err);
        hm_stmt_finalize(st);
        rc = got < 0 ? HM_EDB : HM_OK;
    }
    if (rc == HM_OK && changed)
        rc = audit(db, q, "job_cancel", q->route->id_param, status,
                   queued ? "cancelled" : "cancel_requested", &err);
    if (rc == HM_OK)
        rc = hm_db_commit(db, &err);
    if (rc) {
        if (hm_db_in_transaction(db))
            hm_db_rollback(db, NULL);
        srv_reply_error(r, 500, "cannot cancel: %s", err.msg);
        return;
    }
    if (!changed) {
        srv_reply_error(r, 409, "job %s changed state meanwhile; read it again",
                        q->route->id_param);
        return;
    }
    reply_json(r, 202, json_pack("{s:s, s:s}", "id", q->route->id_param, "status",
                                 queued ? "cancelled" : "cancel_requested"));
}
