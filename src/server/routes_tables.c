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
#include <math.h>
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
    /* sess: every signed-in user sees and ends its own session. */
    case HM_R_SESSION_NEW:
    case HM_R_SESSION_GET:
    case HM_R_SESSION_END:  return 0;
    case HM_R_TOKEN_REVOKE: return u->role == HM_ROLE_ADMIN ? 0 : 403;
    case HM_R_OVERVIEW:     return reader ? 0 : 403;      /* web: pooled, never a centre */
    /* DICOM submissions: only the centre's own manager, as for tables. */
    case HM_R_RDSR_POST:
    case HM_R_RT_POST:      return own ? 0 : 403;
    /* Jobs: analysts and admins; exports also a manager, its own centre
     * (checked by export.c, the path has no centre). */
    case HM_R_JOB_SUBMIT:
    case HM_R_JOBS_LIST:
    case HM_R_JOB_GET:
    case HM_R_JOB_CANCEL:   return reader ? 0 : 403;
    case HM_R_EXPORT:       return reader || u->role == HM_ROLE_CENTRE_MANAGER ? 0 : 403;
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

/* ---- the rows' JSON, written straight into one growing buffer ----
 * A page used to be a jansson object per row and a value per cell, then
 * dumped: allocations and frees per cell were a large part of a read's cost
 * under load (docs/server.md, benchmark).  JSON text as in RFC 8259. */
typedef struct jbuf {
    char  *p;
    size_t n, cap;
    int    oom;
} jbuf;

static char *jb_room(jbuf *b, size_t more)
{
    if (b->oom)
        return NULL;
    if (b->n + more + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->n + more + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    return b->p + b->n;
}

static void jb_put(jbuf *b, const char *s, size_t n)
{
    char *d = jb_room(b, n);
    if (d) {
        memcpy(d, s, n);
        b->n += n;
        b->p[b->n] = 0;
    }
}

static void jb_lit(jbuf *b, const char *s) { jb_put(b, s, strlen(s)); }

/* Length of the UTF-8 sequence at s (RFC 3629 section 4: no overlong forms,
 * no surrogates, nothing past U+10FFFF), 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        unsigned lo = s[0] == 0xE0 ? 0xA0 : 0x80, hi = s[0] == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        unsigned lo = s[0] == 0xF0 ? 0x90 : 0x80, hi = s[0] == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80
                   ? 4 : 0;
    }
    return 0;
}

/* A JSON string (RFC 8259 section 7: '"', '\' and controls escaped); text
 * that is not UTF-8 becomes "?", never a broken document (as before). */
static void jb_str(jbuf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, k; u[i]; i += k)
        if (!(k = utf8_len(u + i))) {
            jb_lit(b, "\"?\"");
            return;
        }
    jb_put(b, "\"", 1);
    const char *run = s;              /* bytes copied as they are, in runs */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jb_put(b, run, (size_t)(s - run));
        char esc[8];
        switch (c) {
        case '"':  jb_lit(b, "\\\""); break;
        case '\\': jb_lit(b, "\\\\"); break;
        case '\n': jb_lit(b, "\\n"); break;
        case '\r': jb_lit(b, "\\r"); break;
        case '\t': jb_lit(b, "\\t"); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            jb_lit(b, esc);
        }
        run = s + 1;
    }
    jb_put(b, run, (size_t)(s - run));
    jb_put(b, "\"", 1);
}

static void jb_int(jbuf *b, long long v)
{
    char t[32];
    jb_put(b, t, (size_t)snprintf(t, sizeof t, "%lld", v));
}

static void cell(jbuf *b, hm_stmt *st, int col, hm_field_type type)
{
    if (hm_stmt_column_isnull(st, col)) {
        jb_lit(b, "null");
        return;
    }
    switch (type) {
    case HM_FT_INT:
    case HM_FT_BOOL:
        jb_int(b, (long long)hm_stmt_column_int64(st, col));
        return;
    case HM_FT_REAL: {
        /* 17 significant digits give the double back exactly (IEEE 754-2008,
         * 5.12.2); a trailing ".0" keeps it a real, as jansson wrote it.  JSON
         * has no NaN or infinity: null. */
        double v = hm_stmt_column_double(st, col);
        char t[40];
        if (!isfinite(v)) {
            jb_lit(b, "null");
            return;
        }
        int n = snprintf(t, sizeof t, "%.17g", v);
        jb_put(b, t, (size_t)n);
        if (!strpbrk(t, ".eE"))
            jb_lit(b, ".0");
        return;
    }
    case HM_FT_BLOB: {
        size_t n;
        const void *bytes = hm_stmt_column_blob(st, col, &n);
        size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
        char *d = jb_room(b, len + 2);
        if (!d)
            return;
        d[0] = '"';
        sodium_bin2base64(d + 1, len, bytes, n, sodium_base64_VARIANT_ORIGINAL);
        b->n += len;                          /* len counts the NUL, replaced by '"' */
        b->p[b->n] = '"';
        b->p[++b->n] = 0;
        return;
    }
    default:
        jb_str(b, hm_stmt_column_text(st, col));
    }
}

/* The SELECT of a page: names come from the dictionary, never from the
 * request.  NULL when out of memory. */
static char *page_sql(const hm_dict_table *t, int pooled)
{
    size_t cap = 256 + t->nfields * 80;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
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
    return sql;
}

/* Rows of one table, ordered by its natural key, a page at a time.  A
 * centre manager reads its own centre; analysts and admins any centre, or
 * every centre pooled with centre "all" (the registry stores pseudonyms
 * only, and no submission file is ever served).  The statement is kept on
 * the pooled connection, keyed by table and shape (pool.c). */
void srv_route_table_get(hm_db *db, const srv_request *q, srv_reply *r)
{
    const hm_dict_table *t = hm_dict_find_table(hm_db_dict(db), q->route->table);
    if (!t) {
        srv_reply_error(r, 404, "no table '%s' (see harmonic dictionary)", q->route->table);
        return;
    }
    int pooled = !strcmp(q->route->centre, "all");
    char key[96];
    snprintf(key, sizeof key, "page:%s:%s", t->name, pooled ? "all" : "centre");
    /* The SQL text is built only when the connection has no statement for
     * it yet (it was formatted on every request before: vfprintf in perf). */
    hm_stmt *st = srv_stmt_cached(q->stmts, key);
    hm_error err;
    int rc = HM_OK;
    if (!st) {
        char *sql = page_sql(t, pooled);
        rc = sql ? srv_stmt_get(q->stmts, db, key, sql, &st, &err)
                 : hm_error_set(&err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        free(sql);
    }
    if (rc) {
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    int b = 1;
    if (!pooled)
        hm_stmt_bind_text(st, b++, q->route->centre);
    hm_stmt_bind_int64(st, b++, q->page_size + 1);       /* one more: is there a next page? */
    hm_stmt_bind_int64(st, b, q->page * q->page_size);
    /* Each column's member name, escaped once per page instead of once per
     * cell (jb_str was the largest part of the writer in perf): keys holds
     * ',"name":' for each field, at[i] its offset (the first without its
     * comma). */
    jbuf keys = { 0 };
    size_t at_small[64], *at = t->nfields + 1 <= 64 ? at_small
                                                    : malloc((t->nfields + 1) * sizeof *at);
    if (!at)
        keys.oom = 1;
    for (size_t i = 0; at && i < t->nfields; i++) {
        at[i] = keys.n;
        jb_put(&keys, ",", 1);
        jb_str(&keys, t->fields[i].name);
        jb_put(&keys, ":", 1);
    }
    if (at)
        at[t->nfields] = keys.n;
    jbuf rows = { 0 };
    long n = 0;
    int more = 0;
    while (!keys.oom && (rc = hm_stmt_step(st, &err)) == 1) {
        if (n == q->page_size) {
            more = 1;
            break;
        }
        jb_lit(&rows, n ? ",{" : "{");
        for (size_t i = 0; i < t->nfields; i++) {
            size_t skip = i ? 0 : 1;                 /* no comma before the first */
            jb_put(&rows, keys.p + at[i] + skip, at[i + 1] - at[i] - skip);
            cell(&rows, st, (int)i, t->fields[i].type);
        }
        jb_put(&rows, "}", 1);
        n++;
    }
    if (at != at_small)
        free(at);
    srv_stmt_done(q->stmts, st, rc < 0);
    /* The head, known only now (next_page), then the rows. */
    jbuf out = { 0 };
    jb_lit(&out, "{\"centre\":");
    jb_str(&out, q->route->centre);
    jb_lit(&out, ",\"table\":");
    jb_str(&out, t->name);
    jb_lit(&out, ",\"page\":");
    jb_int(&out, q->page);
    jb_lit(&out, ",\"page_size\":");
    jb_int(&out, q->page_size);
    jb_lit(&out, ",\"next_page\":");
    if (more)
        jb_int(&out, q->page + 1);
    else
        jb_lit(&out, "null");
    jb_lit(&out, ",\"rows\":[");
    if (rows.n)
        jb_put(&out, rows.p, rows.n);
    jb_lit(&out, "]}");
    int oom = rows.oom || out.oom || keys.oom;
    free(rows.p);
    free(keys.p);
    if (rc < 0 || oom) {
        free(out.p);
        srv_reply_error(r, 500, "%s", rc < 0 ? err.msg : "out of memory");
        return;
    }
    r->status = 200;
    r->body = out.p;
}
