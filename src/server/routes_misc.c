/*
 * routes_misc.c — health, completeness per centre, the audit log.
 */
#include "srv_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The schema version through the connection's statement cache: prepared
 * each time it cost PostgreSQL a PREPARE and a DEALLOCATE round trip, and
 * the floor of every request came out slower than a page of rows. */
void srv_route_health(hm_db *db, const srv_request *q, srv_reply *r)
{
    int v = 0;
    hm_error err;
    hm_stmt *st;
    int rc = srv_stmt_get(q->stmts, db, "health:version", "SELECT MAX(version) FROM "
                          "schema_version", &st, &err);
    if (rc == HM_OK) {
        int step = hm_stmt_step(st, &err);
        if (step == 1)
            v = (int)hm_stmt_column_int64(st, 0);
        srv_stmt_done(q->stmts, st, step < 0);
        rc = step < 0 ? step : HM_OK;
    }
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "status", rc ? "degraded" : "ok", "backend",
                          hm_db_kind(db) == HM_DB_SQLITE ? "sqlite" : "postgresql",
                          "schema_version", v, "version", HM_VERSION_STRING);
    r->status = rc ? 503 : 200;
    r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
}

/* The registry's data-quality report (the same as `harmonic report --json`),
 * cut down to the centre asked for (or every centre for "all"). */
void srv_route_completeness(hm_db *db, const srv_request *q, srv_reply *r)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&buf, &n);
    if (!mem) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    hm_error err;
    int rc = hm_registry_report(db, mem, 1, &err);
    fclose(mem);
    json_t *rep = rc ? NULL : json_loads(buf, 0, NULL);
    free(buf);
    if (!rep) {
        srv_reply_error(r, 500, "report failed: %s", rc ? err.msg : "bad JSON");
        return;
    }
    json_t *centres = json_object_get(rep, "centres"), *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(centres, i, c) {
        const char *code = json_string_value(json_object_get(c, "centre_code"));
        if (!strcmp(q->route->centre, "all") || (code && !strcmp(code, q->route->centre)))
            json_array_append(out, c);
    }
    json_t *o = json_object();
    json_object_set_new(o, "centre", json_string(q->route->centre));
    json_object_set(o, "schema_version", json_object_get(rep, "schema_version"));
    json_object_set_new(o, "centres", out);
    json_decref(rep);
    r->status = 200;
    r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
}

void srv_route_audit(hm_db *db, const srv_request *q, srv_reply *r)
{
    hm_stmt *st;
    hm_error err;
    int rc = hm_db_prepare(db, "SELECT seq, at, user_name, remote_addr, action, centre_code, "
                               "table_name, record, old_value, new_value, digest, reason, "
                               "prev_hash, entry_hash FROM audit_log ORDER BY seq "
                               "LIMIT ? OFFSET ?", &st, &err);
    if (rc) {
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    hm_stmt_bind_int64(st, 1, q->page_size + 1);
    hm_stmt_bind_int64(st, 2, q->page * q->page_size);
    json_t *rows = json_array();
    long n = 0;
    int more = 0;
    while ((rc = hm_stmt_step(st, &err)) == 1) {
        if (n++ == q->page_size) {
            more = 1;
            break;
        }
        json_t *row = json_object();
        json_object_set_new(row, "seq", json_integer(hm_stmt_column_int64(st, 0)));
        for (int c = 1; c < 14; c++) {
            const char *s = hm_stmt_column_text(st, c);
            json_object_set_new(row, hm_stmt_column_name(st, c), s ? json_string(s) : json_null());
        }
        json_array_append_new(rows, row);
    }
    hm_stmt_finalize(st);
    if (rc < 0) {
        json_decref(rows);
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "page", json_integer(q->page));
    json_object_set_new(o, "page_size", json_integer(q->page_size));
    json_object_set_new(o, "next_page", more ? json_integer(q->page + 1) : json_null());
    json_object_set_new(o, "entries", rows);
    r->status = 200;
    r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
}
