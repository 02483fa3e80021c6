/*
 * routes_tables.c — submitting and reading one table of one centre.
 *
 * POST streams the CSV body to a file under the upload dir (http.c), then
 * runs the SAME validated all-or-nothing import as `harmonic import`
 * (hm_registry_import_csv): 200 with the validation report, or 422 with the
 * row/field errors and nothing stored.  The audit entry (who, where, the
 * SHA-256 of the file, the reason) is staged first and moved into the chain
 * inside the import's own transaction (audit.c).
 */
#include "srv_int.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* One chain append at a time in this process; other processes are kept in
 * line by audit_log's UNIQUE prev_hash (a lost race is retried). */
static pthread_mutex_t submit_mu = PTHREAD_MUTEX_INITIALIZER;

int srv_allowed(const srv_request *q)
{
    const hm_user *u = q->user;
    int own = u->role == HM_ROLE_CENTRE_MANAGER && !strcmp(u->centre, q->route->centre);
    int reader = u->role == HM_ROLE_ANALYST || u->role == HM_ROLE_ADMIN;
    switch (q->route->id) {
    case HM_R_HEALTH:       return 0;
    case HM_R_TABLE_POST:   return own ? 0 : 403;
    case HM_R_TABLE_GET:
    case HM_R_COMPLETENESS: return own || reader ? 0 : 403;
    case HM_R_AUDIT:        return u->role == HM_ROLE_AUDITOR || u->role == HM_ROLE_ADMIN ? 0 : 403;
    /* Queries: analysts open, close and lock; the query's own centre
     * answers (its centre is checked by the handler, the path has none). */
    case HM_R_QUERY_LIST:   return own || reader ? 0 : 403;
    case HM_R_QUERY_OPEN:
    case HM_R_QUERY_CLOSE:
    case HM_R_LOCK:         return reader ? 0 : 403;
    case HM_R_QUERY_ANSWER: return u->role == HM_ROLE_CENTRE_MANAGER ? 0 : 403;
    default:                return 403;
    }
}

/* The report as JSON, with the server's temporary file name replaced by
 * what the client sent (TABLE.csv). */
static char *report_json(const hm_import_report *rep, const char *table)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&buf, &n);
    if (!mem)
        return NULL;
    hm_error err;
    hm_import_report_json(rep, mem, &err);
    fclose(mem);
    json_t *o = json_loads(buf, 0, NULL);
    free(buf);
    if (!o)
        return NULL;
    char name[96];
    snprintf(name, sizeof name, "%s.csv", table);
    json_object_set_new(o, "file", json_string(name));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

void srv_route_table_post(hm_db *db, const srv_request *q, srv_reply *r)
{
    const hm_dict_table *t = hm_dict_find_table(hm_db_dict(db), q->route->table);
    if (!t) {
        srv_reply_error(r, 404, "no table '%s' (see harmonic dictionary)", q->route->table);
        return;
    }
    if (t->computed) {
        srv_reply_error(r, 400, "table %s is computed by harmonic, never submitted",
                        t->name);
        return;
    }
    char record[160];
    snprintf(record, sizeof record, "%s/%s (%llu bytes)", q->route->centre, t->name,
             q->upload_bytes);
    hm_import_report rep;
    hm_error err;
    int rc = HM_EDB, locked = 0;
    pthread_mutex_lock(&submit_mu);
    for (int attempt = 0; attempt < 3 && rc == HM_EDB && !locked; attempt++) {
        hm_import_report_init(&rep);
        hm_error_clear(&err);
        hm_audit_entry e = { .user = q->user->name, .remote_addr = q->remote,
                             .action = "submit", .centre = q->route->centre, .table = t->name,
                             .record = record, .old_value = "", .new_value = "",
                             .digest = q->upload_sha256,
                             .reason = q->reason && q->reason[0] ? q->reason : "submission" };
        rc = hm_audit_stage(db, q->upload_path, &e, &err);
        if (rc == HM_OK)
            rc = hm_registry_import_csv(db, q->route->centre, t->name, q->upload_path, &rep,
                                        &err);
        /* The lock trigger (queries.c) aborted it: a lost race is retried, this not. */
        locked = rc == HM_EDB && strstr(err.msg, "hm_record_locked") != NULL;
        if (rc != HM_OK)
            hm_audit_unstage(db, q->upload_path, NULL);
        if (rc == HM_EDB)
            hm_import_report_free(&rep);
    }
    pthread_mutex_unlock(&submit_mu);
    if (rc == HM_OK || rc == HM_EVALIDATE) {
        r->status = rc == HM_OK ? 200 : 422;
        r->body = report_json(&rep, t->name);
        if (!r->body)
            srv_reply_error(r, 500, "cannot write the report");
    } else if (locked) {
        srv_reply_error(r, 409, "the submission would change a locked record (data queries): "
                        "%s", err.msg);
    } else {
        srv_reply_error(r, 500, "import failed: %s", err.msg);
    }
    hm_import_report_free(&rep);
}

static json_t *cell(hm_stmt *st, int col, hm_field_type type)
{
    if (hm_stmt_column_isnull(st, col))
        return json_null();
    switch (type) {
    case HM_FT_INT:
    case HM_FT_BOOL:
        return json_integer(hm_stmt_column_int64(st, col));
    case HM_FT_REAL:
        return json_real(hm_stmt_column_double(st, col));
    case HM_FT_BLOB: {
        size_t n;
        const void *b = hm_stmt_column_blob(st, col, &n);
        size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
        char *s = malloc(len);
        if (!s)
            return json_null();
        sodium_bin2base64(s, len, b, n, sodium_base64_VARIANT_ORIGINAL);
        json_t *j = json_string(s);
        free(s);
        return j;
    }
    default: {
        const char *s = hm_stmt_column_text(st, col);
        json_t *j = json_string(s);
        return j ? j : json_string("?");     /* not UTF-8: never a broken document */
    }
    }
}

/* Rows of one table, ordered by its natural key, a page at a time.  A
 * centre manager reads its own centre; analysts and admins any centre, or
 * every centre pooled with centre "all" (the registry stores pseudonyms
 * only, and no submission file is ever served). */
void srv_route_table_get(hm_db *db, const srv_request *q, srv_reply *r)
{
    const hm_dict_table *t = hm_dict_find_table(hm_db_dict(db), q->route->table);
    if (!t) {
        srv_reply_error(r, 404, "no table '%s' (see harmonic dictionary)", q->route->table);
        return;
    }
    int pooled = !strcmp(q->route->centre, "all");
    /* Names come from the dictionary, never from the request. */
    size_t cap = 256 + t->nfields * 80;
    char *sql = malloc(cap);
    if (!sql) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    size_t o = (size_t)snprintf(sql, cap, "SELECT ");
    for (size_t i = 0; i < t->nfields; i++)
        o += (size_t)snprintf(sql + o, cap - o, "%s%s", i ? ", " : "", t->fields[i].name);
    o += (size_t)snprintf(sql + o, cap - o, " FROM %s%s ORDER BY ", t->name,
                          pooled ? "" : " WHERE centre_code = ?");
    int k = 0;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].key)
            o += (size_t)snprintf(sql + o, cap - o, "%s%s", k++ ? ", " : "", t->fields[i].name);
    snprintf(sql + o, cap - o, " LIMIT ? OFFSET ?");
    hm_stmt *st;
    hm_error err;
    int rc = hm_db_prepare(db, sql, &st, &err);
    free(sql);
    if (rc) {
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    int b = 1;
    if (!pooled)
        hm_stmt_bind_text(st, b++, q->route->centre);
    hm_stmt_bind_int64(st, b++, q->page_size + 1);       /* one more: is there a next page? */
    hm_stmt_bind_int64(st, b, q->page * q->page_size);
    json_t *rows = json_array();
    long n = 0;
    int more = 0;
    while ((rc = hm_stmt_step(st, &err)) == 1) {
        if (n == q->page_size) {
            more = 1;
            break;
        }
        json_t *row = json_object();
        for (size_t i = 0; i < t->nfields; i++)
            json_object_set_new(row, t->fields[i].name, cell(st, (int)i, t->fields[i].type));
        json_array_append_new(rows, row);
        n++;
    }
    hm_stmt_finalize(st);
    if (rc < 0) {
        json_decref(rows);
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    json_t *o2 = json_object();
    json_object_set_new(o2, "centre", json_string(q->route->centre));
    json_object_set_new(o2, "table", json_string(t->name));
    json_object_set_new(o2, "page", json_integer(q->page));
    json_object_set_new(o2, "page_size", json_integer(q->page_size));
    json_object_set_new(o2, "next_page", more ? json_integer(q->page + 1) : json_null());
    json_object_set_new(o2, "rows", rows);
    r->status = 200;
    r->body = json_dumps(o2, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o2);
}
