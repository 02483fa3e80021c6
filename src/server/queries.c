/*
 * queries.c — data queries and record locks (REDCap's data-resolution
 * workflow, anchors.md section 5; data/schema/009_queries.sql).
 *
 *   POST /api/v1/queries               analyst opens a query on a record field
 *   GET  /api/v1/centres/{c}/queries   the centre's queries (?status=open...)
 *   POST /api/v1/queries/{id}/answer   the centre's manager answers, optionally
 *                                      correcting the value (with a reason)
 *   POST /api/v1/queries/{id}/close    analyst closes an answered query
 *   POST /api/v1/centres/{c}/locks     analyst locks a cleaned record
 *
 * Every change and its audit entry commit in one transaction.  A correction
 * goes through hm_registry_upsert_row, so it meets the same validation as a
 * submission; a locked record refuses it (409).  Bodies are JSON, streamed
 * to disk like uploads (http.c) and read back here, at most 64 KiB.
 */
#include "srv_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX 65536

/* Query ids are MAX+1 in the writer's transaction: one writer at a time in
 * this process; another process losing the race fails on the PRIMARY KEY. */
static pthread_mutex_t query_mu = PTHREAD_MUTEX_INITIALIZER;

static json_t *read_body(const srv_request *q, srv_reply *r)
{
    if (!q->upload_path || q->upload_bytes > BODY_MAX) {
        srv_reply_error(r, q->upload_path ? 413 : 400, "a JSON body of at most %d bytes is "
                        "expected", BODY_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *o = json_load_file(q->upload_path, 0, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        srv_reply_error(r, 400, "body: a JSON object is expected (line %d: %s)", je.line,
                        je.text);
        return NULL;
    }
    return o;
}

static const char *str_member(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static const hm_dict_field *find_field(const hm_dict_table *t, const char *name)
{
    for (size_t i = 0; name && i < t->nfields; i++)
        if (!strcmp(t->fields[i].name, name))
            return &t->fields[i];
    return NULL;
}

/* The record key as stored (compact JSON of the key fields but centre_code,
 * in dictionary order) from the request's "key" object; 0 or a 400 reply. */
static int record_key(const hm_dict_table *t, json_t *key, char *out, size_t size,
                      srv_reply *r)
{
    if (!json_is_object(key)) {
        srv_reply_error(r, 400, "key: an object of the natural key fields of %s is expected",
                        t->name);
        return -1;
    }
    json_t *k = json_object();
    size_t n = 0;
    for (size_t i = 0; i < t->nfields; i++) {
        const hm_dict_field *f = &t->fields[i];
        if (!f->key || !strcmp(f->name, "centre_code"))
            continue;
        const char *v = str_member(key, f->name);
        if (!v) {
            json_decref(k);
            srv_reply_error(r, 400, "key.%s: a string is expected (natural key of %s)",
                            f->name, t->name);
            return -1;
        }
        json_object_set_new(k, f->name, json_string(v));
        n++;
    }
    char *s = json_dumps(k, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(k);
    if (!s || json_object_size(key) != n || strlen(s) >= size) {
        free(s);
        srv_reply_error(r, 400, "key: exactly the natural key fields of %s are expected",
                        t->name);
        return -1;
    }
    snprintf(out, size, "%s", s);
    free(s);
    return 0;
}

/* Every field of one record as text (values[i] malloc'd, NULL for NULL):
 * 1 found, 0 not found, <0 database error. */
static int load_record(hm_db *db, const hm_dict_table *t, const char *centre, json_t *key,
                       char **values, hm_error *err)
{
    size_t cap = 256 + t->nfields * 100;
    char *sql = malloc(cap);
    if (!sql)
        return HM_ENOMEM;
    /* Names come from the dictionary, never from the request. */
    size_t o = (size_t)snprintf(sql, cap, "SELECT ");
    for (size_t i = 0; i < t->nfields; i++)
        o += (size_t)snprintf(sql + o, cap - o, "%s%s", i ? ", " : "", t->fields[i].name);
    o += (size_t)snprintf(sql + o, cap - o, " FROM %s WHERE centre_code = ?", t->name);
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].key && strcmp(t->fields[i].name, "centre_code"))
            o += (size_t)snprintf(sql + o, cap - o, " AND %s = ?", t->fields[i].name);
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    free(sql);
    if (rc)
        return rc;
    int b = 1;
    hm_stmt_bind_text(st, b++, centre);
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].key && strcmp(t->fields[i].name, "centre_code"))
            hm_stmt_bind_text(st, b++, str_member(key, t->fields[i].name));
    rc = hm_stmt_step(st, err);
    if (rc == 1)
        for (size_t i = 0; i < t->nfields; i++)
            values[i] = hm_stmt_column_isnull(st, (int)i)
                            ? NULL : strdup(hm_stmt_column_text(st, (int)i));
    hm_stmt_finalize(st);
    return rc;
}

static void free_values(char **values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(values[i]);
    free(values);
}

/* 1 when the record is locked, 0 not, <0 database error. */
static int is_locked(hm_db *db, const char *centre, const char *table, const char *key,
                     hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT 1 FROM record_lock WHERE centre_code = ? AND "
                               "table_name = ? AND record_key = ?", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, centre);
    hm_stmt_bind_text(st, 2, table);
    hm_stmt_bind_text(st, 3, key);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc;
}

/* Runs one statement with text parameters (NULL binds NULL). */
static int exec_params(hm_db *db, const char *sql, const char *const *p, int n, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++)
        hm_stmt_bind_text(st, i + 1, p[i]);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

static void audit(hm_db *db, const srv_request *q, const char *action, const char *centre,
                  const char *table, const char *record, const char *old_v, const char *new_v,
                  const char *reason, int *rc, hm_error *err)
{
    if (*rc)
        return;
    hm_audit_entry e = { .user = q->user->name, .remote_addr = q->remote, .action = action,
                         .centre = centre, .table = table, .record = record,
                         .old_value = old_v ? old_v : "", .new_value = new_v ? new_v : "",
                         .digest = "", .reason = reason };
    *rc = hm_audit_append(db, &e, err);
}

static void reply_json(srv_reply *r, int status, json_t *o)
{
    r->status = status;
    r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!r->body)
        srv_reply_error(r, 500, "cannot write the reply");
}

static const char *reason_of(const srv_request *q, json_t *body, const char *dflt)
{
    const char *s = str_member(body, "reason");
    if (s && s[0])
        return s;
    return q->reason && q->reason[0] ? q->reason : dflt;
}

void srv_route_query_open(hm_db *db, const srv_request *q, srv_reply *r)
{
    json_t *body = read_body(q, r);
    if (!body)
        return;
    const char *centre = str_member(body, "centre"), *table = str_member(body, "table");
    const char *field = str_member(body, "field"), *text = str_member(body, "text");
    const hm_dict_table *t = table ? hm_dict_find_table(hm_db_dict(db), table) : NULL;
    char key[1024];
    if (!centre || !text || !text[0]) {
        srv_reply_error(r, 400, "body: centre, table, key, field and text are expected");
    } else if (!t || t->computed) {
        srv_reply_error(r, 404, "no submitted table '%s' (see harmonic dictionary)",
                        table ? table : "");
    } else if (!find_field(t, field)) {
        srv_reply_error(r, 400, "field: '%s' is not a field of %s", field ? field : "",
                        t->name);
    } else if (!record_key(t, json_object_get(body, "key"), key, sizeof key, r)) {
        char **values = calloc(t->nfields, sizeof *values);
        hm_error err;
        pthread_mutex_lock(&query_mu);
        int rc = values ? hm_db_begin(db, &err) : HM_ENOMEM;
        int found = rc ? rc : load_record(db, t, centre, json_object_get(body, "key"), values,
                                          &err);
        int64_t id = 0;
        if (found == 1) {
            hm_stmt *st;
            rc = hm_db_prepare(db, "SELECT COALESCE(MAX(query_id), 0) + 1 FROM data_query",
                               &st, &err);
            if (!rc && (rc = hm_stmt_step(st, &err)) == 1)
                id = hm_stmt_column_int64(st, 0), rc = 0;
            if (!rc)
                hm_stmt_finalize(st);
            char ids[32], at[32];
            snprintf(ids, sizeof ids, "%lld", (long long)id);
            srv_utc(at, 0);
            const char *p[] = { ids, centre, t->name, key, field, q->user->name, at, text };
            if (!rc)
                rc = exec_params(db, "INSERT INTO data_query (query_id, centre_code, "
                                     "table_name, record_key, field_name, opened_by, opened_at, "
                                     "query_text, status) VALUES (CAST(? AS BIGINT), ?, ?, ?, "
                                     "?, ?, ?, ?, 'open')", p, 8, &err);
            char record[1200];
            snprintf(record, sizeof record, "query %s: %s %s", ids, key, field);
            audit(db, q, "query_open", centre, t->name, record, "", text,
                  reason_of(q, body, "data query"), &rc, &err);
        }
        if (found == 1 && !rc)
            rc = hm_db_commit(db, &err);
        else if (hm_db_in_transaction(db))
            hm_db_rollback(db, NULL);
        pthread_mutex_unlock(&query_mu);
        if (found == 0)
            srv_reply_error(r, 404, "no %s record %s at centre %s", t->name, key, centre);
        else if (found < 0 || rc)
            srv_reply_error(r, 500, "cannot open the query: %s", err.msg);
        else
            reply_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "open"));
        if (values)
            free_values(values, t->nfields);
    }
    json_decref(body);
}

void srv_route_queries_list(hm_db *db, const srv_request *q, srv_reply *r)
{
    const char *status = q->query_status;
    if (status && strcmp(status, "open") && strcmp(status, "answered") &&
        strcmp(status, "closed")) {
        srv_reply_error(r, 400, "status must be open, answered or closed");
        return;
    }
    hm_stmt *st;
    hm_error err;
    int rc = hm_db_prepare(db, status
        ? "SELECT query_id, table_name, record_key, field_name, opened_by, opened_at, "
          "query_text, status, answer, answered_by, answered_at, closed_by, closed_at "
          "FROM data_query WHERE centre_code = ? AND status = ? ORDER BY query_id"
        : "SELECT query_id, table_name, record_key, field_name, opened_by, opened_at, "
          "query_text, status, answer, answered_by, answered_at, closed_by, closed_at "
          "FROM data_query WHERE centre_code = ? ORDER BY query_id", &st, &err);
    if (rc) {
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    hm_stmt_bind_text(st, 1, q->route->centre);
    if (status)
        hm_stmt_bind_text(st, 2, status);
    static const char *const names[] = { "id", "table", "key", "field", "opened_by",
                                         "opened_at", "text", "status", "answer",
                                         "answered_by", "answered_at", "closed_by",
                                         "closed_at" };
    json_t *rows = json_array();
    while ((rc = hm_stmt_step(st, &err)) == 1) {
        json_t *row = json_object();
        json_object_set_new(row, "id", json_integer(hm_stmt_column_int64(st, 0)));
        for (int i = 1; i < 13; i++) {
            const char *v = hm_stmt_column_isnull(st, i) ? NULL : hm_stmt_column_text(st, i);
            json_t *j = v ? json_string(v) : json_null();
            if (i == 2 && v)                /* the key is stored as JSON: return it as such */
                json_decref(j), j = json_loads(v, 0, NULL);
            json_object_set_new(row, names[i], j ? j : json_null());
        }
        json_array_append_new(rows, row);
    }
    hm_stmt_finalize(st);
    if (rc < 0) {
        json_decref(rows);
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    reply_json(r, 200, json_pack("{s:s, s:o}", "centre", q->route->centre, "queries", rows));
}

/* One stored query: 1 found (fields copied), 0 not, <0 error. */
typedef struct stored_query {
    char centre[64], table[64], key[1024], field[64], status[16];
} stored_query;

static int load_query(hm_db *db, const char *id, stored_query *sq, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT centre_code, table_name, record_key, field_name, status "
                               "FROM data_query WHERE query_id = CAST(? AS BIGINT)", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, id);
    rc = hm_stmt_step(st, err);
    if (rc == 1) {
        snprintf(sq->centre, sizeof sq->centre, "%s", hm_stmt_column_text(st, 0));
        snprintf(sq->table, sizeof sq->table, "%s", hm_stmt_column_text(st, 1));
        snprintf(sq->key, sizeof sq->key, "%s", hm_stmt_column_text(st, 2));
        snprintf(sq->field, sizeof sq->field, "%s", hm_stmt_column_text(st, 3));
        snprintf(sq->status, sizeof sq->status, "%s", hm_stmt_column_text(st, 4));
    }
    hm_stmt_finalize(st);
    return rc;
}

/* Applies value to the query's field of its record (inside the open
 * transaction) with its audit entry: 0, or the HTTP status of the refusal
 * with r filled. */
static int correct(hm_db *db, const srv_request *q, const stored_query *sq, const char *value,
                   const char *reason, srv_reply *r)
{
    hm_error err;
    const hm_dict_table *t = hm_dict_find_table(hm_db_dict(db), sq->table);
    json_t *key = json_loads(sq->key, 0, NULL);
    char **values = t ? calloc(t->nfields, sizeof *values) : NULL;
    int status = 0;
    int rc = values && key ? is_locked(db, sq->centre, sq->table, sq->key, &err) : HM_ENOMEM;
    if (rc == 1) {
        srv_reply_error(r, status = 409, "%s record %s is locked: it cannot be corrected",
                        sq->table, sq->key);
    } else if (rc == 0 && (rc = load_record(db, t, sq->centre, key, values, &err)) == 0) {
        srv_reply_error(r, status = 409, "the record of this query no longer exists");
    } else if (rc == 1) {
        const char **names = calloc(t->nfields, sizeof *names);
        size_t fi = 0;
        for (size_t i = 0; names && i < t->nfields; i++) {
            names[i] = t->fields[i].name;
            if (!strcmp(names[i], sq->field))
                fi = i;
        }
        char *old = values[fi];
        values[fi] = (char *)value;
        rc = names ? hm_registry_upsert_row(db, sq->centre, sq->table, names,
                                            (const char *const *)values, t->nfields, &err)
                   : HM_ENOMEM;
        values[fi] = old;
        free(names);
        char record[1200];
        snprintf(record, sizeof record, "%s %s", sq->key, sq->field);
        if (rc == HM_EVALIDATE)
            srv_reply_error(r, status = 422, "the corrected value is refused: %s", err.msg);
        else
            audit(db, q, "correct", sq->centre, sq->table, record, old ? old : "", value,
                  reason, &rc, &err);
    }
    if (!status && rc)
        srv_reply_error(r, status = 500, "cannot correct the record: %s", err.msg);
    json_decref(key);
    if (values)
        free_values(values, t->nfields);
    return status;
}

void srv_route_query_answer(hm_db *db, const srv_request *q, srv_reply *r)
{
    json_t *body = read_body(q, r);
    if (!body)
        return;
    const char *answer = str_member(body, "answer");
    json_t *jv = json_object_get(body, "value");
    const char *value = json_string_value(jv);
    const char *reason = reason_of(q, body, NULL);
    stored_query sq;
    hm_error err;
    int rc;
    if (!answer || !answer[0] || (jv && !value)) {
        srv_reply_error(r, 400, "body: answer (text) and optionally value (text) are expected");
    } else if (value && !reason) {
        srv_reply_error(r, 400, "a correction needs a reason (body reason or X-Harmonic-Reason)");
    } else if ((rc = hm_db_begin(db, &err)) != 0) {
        srv_reply_error(r, 500, "%s", err.msg);
    } else {
        int found = load_query(db, q->route->id_param, &sq, &err), status = 0;
        if (found < 0)
            srv_reply_error(r, status = 500, "%s", err.msg);
        else if (found == 0)
            srv_reply_error(r, status = 404, "no query %s", q->route->id_param);
        else if (strcmp(sq.centre, q->user->centre))
            srv_reply_error(r, status = 403, "query %s belongs to another centre",
                            q->route->id_param);
        else if (strcmp(sq.status, "open"))
            srv_reply_error(r, status = 409, "query %s is %s, not open", q->route->id_param,
                            sq.status);
        else if (value)
            status = correct(db, q, &sq, value, reason, r);
        if (!status) {
            char at[32];
            srv_utc(at, 0);
            const char *p[] = { answer, q->user->name, at, q->route->id_param };
            rc = exec_params(db, "UPDATE data_query SET status = 'answered', answer = ?, "
                                 "answered_by = ?, answered_at = ? WHERE query_id = "
                                 "CAST(? AS BIGINT)", p, 4, &err);
            char record[64];
            snprintf(record, sizeof record, "query %s", q->route->id_param);
            audit(db, q, "query_answer", sq.centre, sq.table, record, "", answer,
                  reason ? reason : "query answered", &rc, &err);
            if (!rc)
                rc = hm_db_commit(db, &err);
            if (rc)
                srv_reply_error(r, status = 500, "cannot answer the query: %s", err.msg);
            else
                reply_json(r, 200, json_pack("{s:s, s:s, s:b}", "id", q->route->id_param,
                                             "status", "answered", "corrected", value != NULL));
        }
        if (hm_db_in_transaction(db))
            hm_db_rollback(db, NULL);
    }
    json_decref(body);
}

void srv_route_query_close(hm_db *db, const srv_request *q, srv_reply *r)
{
    stored_query sq;
    hm_error err;
    int rc = hm_db_begin(db, &err), status = 0;
    int found = rc ? rc : load_query(db, q->route->id_param, &sq, &err);
    if (found < 0)
        srv_reply_error(r, status = 500, "%s", err.msg);
    else if (found == 0)
        srv_reply_error(r, status = 404, "no query %s", q->route->id_param);
    else if (!strcmp(sq.status, "closed"))
        srv_reply_error(r, status = 409, "query %s is already closed", q->route->id_param);
    if (!status) {
        char at[32];
        srv_utc(at, 0);
        const char *p[] = { q->user->name, at, q->route->id_param };
        rc = exec_params(db, "UPDATE data_query SET status = 'closed', closed_by = ?, "
                             "closed_at = ? WHERE query_id = CAST(? AS BIGINT)", p, 3, &err);
        char record[64];
        snprintf(record, sizeof record, "query %s", q->route->id_param);
        audit(db, q, "query_close", sq.centre, sq.table, record, sq.status, "closed",
              q->reason && q->reason[0] ? q->reason : "query closed", &rc, &err);
        if (!rc)
            rc = hm_db_commit(db, &err);
        if (rc)
            srv_reply_error(r, 500, "cannot close the query: %s", err.msg);
        else
            reply_json(r, 200, json_pack("{s:s, s:s}", "id", q->route->id_param, "status",
                                         "closed"));
    }
    if (hm_db_in_transaction(db))
        hm_db_rollback(db, NULL);
}

void srv_route_lock(hm_db *db, const srv_request *q, srv_reply *r)
{
    json_t *body = read_body(q, r);
    if (!body)
        return;
    const char *table = str_member(body, "table");
    const hm_dict_table *t = table ? hm_dict_find_table(hm_db_dict(db), table) : NULL;
    char key[1024];
    if (!t || t->computed) {
        srv_reply_error(r, 404, "no submitted table '%s' (see harmonic dictionary)",
                        table ? table : "");
    } else if (!record_key(t, json_object_get(body, "key"), key, sizeof key, r)) {
        const char *centre = q->route->centre;
        char **values = calloc(t->nfields, sizeof *values);
        hm_error err;
        int rc = values ? hm_db_begin(db, &err) : HM_ENOMEM, status = 0;
        int found = rc ? rc : load_record(db, t, centre, json_object_get(body, "key"), values,
                                          &err);
        int locked = found == 1 ? is_locked(db, centre, t->name, key, &err) : 0;
        if (found < 0 || locked < 0)
            srv_reply_error(r, status = 500, "%s", err.msg);
        else if (found == 0)
            srv_reply_error(r, status = 404, "no %s record %s at centre %s", t->name, key,
                            centre);
        else if (locked)
            srv_reply_error(r, status = 409, "%s record %s is already locked", t->name, key);
        if (!status) {
            char at[32];
            srv_utc(at, 0);
            const char *p[] = { centre, t->name, key, q->user->name, at };
            rc = exec_params(db, "INSERT INTO record_lock (centre_code, table_name, record_key, "
                                 "locked_by, locked_at) VALUES (?, ?, ?, ?, ?)", p, 5, &err);
            audit(db, q, "lock", centre, t->name, key, "", "locked",
                  reason_of(q, body, "record cleaned"), &rc, &err);
            if (!rc)
                rc = hm_db_commit(db, &err);
            if (rc)
                srv_reply_error(r, 500, "cannot lock the record: %s", err.msg);
            else
                reply_json(r, 201, json_pack("{s:s, s:s, s:O}", "centre", centre, "table",
                                             t->name, "key", json_object_get(body, "key")));
        }
        if (hm_db_in_transaction(db))
            hm_db_rollback(db, NULL);
        if (values)
            free_values(values, t->nfields);
    }
    json_decref(body);
}

/* The record key of OLD as SQL text, built the way record_key() writes it
 * (compact JSON, dictionary order); '||' concatenates on both back ends.
 * Key values with '"' or '\' would be escaped by jansson and not here: the
 * dictionary's key fields are codes, dates, uids and pseudonyms. */
static size_t key_expr(const hm_dict_table *t, char *out, size_t size)
{
    size_t o = (size_t)snprintf(out, size, "'{");
    int k = 0;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].key && strcmp(t->fields[i].name, "centre_code"))
            o += (size_t)snprintf(out + o, size - o, "%s\"%s\":\"' || OLD.%s || '\"",
                                  k++ ? "," : "", t->fields[i].name, t->fields[i].name);
    o += (size_t)snprintf(out + o, size - o, "}'");
    return o;
}

/* A re-submission (the import's upsert) that would change a locked record
 * aborts the import's transaction with "hm_record_locked" (srv_route_table_post
 * answers 409).  One BEFORE UPDATE trigger per submitted table, installed at
 * start like the audit trigger (the migration runner splits on ';'). */
int srv_lock_install(hm_db *db, hm_error *err)
{
    const hm_dict *d = hm_db_dict(db);
    size_t cap = 8192;
    char *sql = malloc(cap), *key = malloc(2048), *changed = malloc(4096);
    int rc = sql && key && changed ? HM_OK : HM_ENOMEM;
    for (size_t ti = 0; rc == HM_OK && ti < hm_dict_ntables(d); ti++) {
        const hm_dict_table *t = hm_dict_table_at(d, ti);
        if (t->computed || hm_dict_field_index(t, "centre_code") < 0)
            continue;
        key_expr(t, key, 2048);
        static const char check[] =
            "EXISTS (SELECT 1 FROM record_lock WHERE centre_code = OLD.centre_code AND "
            "table_name = '%s' AND record_key = %s)";
        if (hm_db_kind(db) == HM_DB_SQLITE) {
            size_t o = 0;
            for (size_t i = 0; i < t->nfields; i++)
                o += (size_t)snprintf(changed + o, 4096 - o, "%sOLD.%s IS NOT NEW.%s",
                                      i ? " OR " : "", t->fields[i].name, t->fields[i].name);
            int n = snprintf(sql, cap, "CREATE TRIGGER IF NOT EXISTS hm_lock_%s BEFORE UPDATE "
                                       "ON %s FOR EACH ROW WHEN (%s) AND ", t->name, t->name,
                             changed);
            n += snprintf(sql + n, cap - (size_t)n, check, t->name, key);
            snprintf(sql + n, cap - (size_t)n, " BEGIN SELECT RAISE(ABORT, 'hm_record_locked: "
                                               "a locked %s record'); END", t->name);
            rc = hm_db_exec(db, sql, err);
            continue;
        }
        int n = snprintf(sql, cap, "CREATE OR REPLACE FUNCTION hm_lock_%s() RETURNS trigger "
                                   "LANGUAGE plpgsql AS $$BEGIN IF ", t->name);
        n += snprintf(sql + n, cap - (size_t)n, check, t->name, key);
        snprintf(sql + n, cap - (size_t)n, " THEN RAISE EXCEPTION 'hm_record_locked: a locked "
                                           "%s record'; END IF; RETURN NEW; END$$", t->name);
        rc = hm_db_exec(db, sql, err);
        snprintf(sql, cap, "CREATE OR REPLACE TRIGGER hm_lock_%s BEFORE UPDATE ON %s FOR EACH "
                           "ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "
                           "hm_lock_%s()", t->name, t->name, t->name);
        if (rc == HM_OK)
            rc = hm_db_exec(db, sql, err);
    }
    free(sql);
    free(key);
    free(changed);
    return rc;
}
