/*
 * export.c — GET /api/v1/export/{table}?format=csv[&centre=C]: one dictionary
 * table's pseudonymised rows as the CSV `harmonic export` writes
 * (src/registry/export.c: the dictionary's columns in order, rows in
 * natural-key order with text keys in byte order, reals as the shortest of
 * %.15g..%.17g that reads back, integers plain, BLOBs in base64, RFC 4180
 * quoting), streamed: rows are read a chunk at a time by libmicrohttpd's
 * content reader, never held whole in memory.
 *
 * Analysts and admins get every centre pooled, or one with ?centre=.
 * A centre manager gets its own centre's rows only (another centre: 403).
 * Only dictionary tables: the system tables (accounts, tokens, audit, jobs)
 * and the submitted files are never served.  The stream has its own
 * database connection (not one of the request pool, so a slow download
 * never starves the other requests), closed when the response ends.
 */
#include "srv_int.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 16384

typedef struct stream {
    hm_db               *db;
    hm_stmt             *st;
    const hm_dict_table *t;
    char                *buf;
    size_t               len, off, cap;
    int                  done;
} stream;

static int put(stream *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = (s->len + n + 1) * 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return -1;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return 0;
}

/* RFC 4180 quoting exactly as hm_csv_write_field: quoted only when the text
 * holds a comma, quote, CR or LF; quotes doubled. */
static int put_field(stream *s, const char *v)
{
    if (!v)
        return 0;
    if (!strpbrk(v, ",\"\r\n"))
        return put(s, v, strlen(v));
    int rc = put(s, "\"", 1);
    for (; *v && !rc; v++)
        rc = *v == '"' ? put(s, "\"\"", 2) : put(s, v, 1);
    return rc ? rc : put(s, "\"", 1);
}

/* The shortest of %.15g..%.17g that reads back as the same double (17
 * significant digits always round-trip, IEEE 754 binary64), as the
 * command-line export writes reals. */
static int put_real(stream *s, double v)
{
    char b[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    return put(s, b, strlen(b));
}

/* RFC 4648 base64 with '=' padding (section 4), as export.c writes BLOBs. */
static int put_base64(stream *s, const unsigned char *b, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0) |
                     (i + 2 < n ? b[i + 2] : 0);
        char q[4] = { A[v >> 18 & 63], A[v >> 12 & 63], i + 1 < n ? A[v >> 6 & 63] : '=',
                      i + 2 < n ? A[v & 63] : '=' };
        rc = put(s, q, 4);
    }
    return rc;
}

static int put_row(stream *s)
{
    int rc = 0;
    for (size_t i = 0; i < s->t->nfields && !rc; i++) {
        if (i)
            rc = put(s, ",", 1);
        if (rc || hm_stmt_column_isnull(s->st, (int)i))
            continue;
        hm_field_type ty = s->t->fields[i].type;
        if (ty == HM_FT_REAL) {
            rc = put_real(s, hm_stmt_column_double(s->st, (int)i));
        } else if (ty == HM_FT_INT || ty == HM_FT_BOOL) {
            char b[32];
            snprintf(b, sizeof b, "%lld", (long long)hm_stmt_column_int64(s->st, (int)i));
            rc = put(s, b, strlen(b));
        } else if (ty == HM_FT_BLOB) {
            size_t n;
            const unsigned char *b = hm_stmt_column_blob(s->st, (int)i, &n);
            rc = put_base64(s, b, b ? n : 0);
        } else {
            rc = put_field(s, hm_stmt_column_text(s->st, (int)i));
        }
    }
    return rc ? rc : put(s, "\n", 1);
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    stream *s = cls;
    while (s->off == s->len) {
        if (s->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        s->len = s->off = 0;
        hm_error err;
        while (s->len < CHUNK) {
            int rc = hm_stmt_step(s->st, &err);
            if (rc == 0) {
                s->done = 1;
                break;
            }
            if (rc < 0 || put_row(s)) {
                srv_log_event("export_failed", rc < 0 ? err.msg : "out of memory");
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
        }
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(out, s->buf + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream *s = cls;
    if (s->st)
        hm_stmt_finalize(s->st);
    hm_db_close(s->db);
    free(s->buf);
    free(s);
}

/* The SELECT of export.c: the dictionary's columns, natural-key order. */
static char *select_sql(const hm_dict_table *t, int pg, int by_centre)
{
    const char *coll = pg ? " COLLATE \"C\"" : "";
    size_t cap = 128 + t->nfields * 80;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    size_t o = (size_t)snprintf(sql, cap, "SELECT ");
    for (size_t i = 0; i < t->nfields; i++)
        o += (size_t)snprintf(sql + o, cap - o, "%s%s", i ? ", " : "", t->fields[i].name);
    o += (size_t)snprintf(sql + o, cap - o, " FROM %s%s ORDER BY ", t->name,
                          by_centre ? " WHERE centre_code = ?" : "");
    int first = 1;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].key) {
            int text = t->fields[i].type != HM_FT_INT && t->fields[i].type != HM_FT_BOOL;
            o += (size_t)snprintf(sql + o, cap - o, "%s%s%s", first ? "" : ", ",
                                  t->fields[i].name, text ? coll : "");
            first = 0;
        }
    return sql;
}

static int plain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int queue_error(struct MHD_Connection *c, int status, const char *msg, int *mhd)
{
    srv_reply r = { 0, NULL };
    srv_reply_error(&r, status, "%s", msg);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(r.body), r.body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r.body);
        *mhd = MHD_NO;
        return status;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    *mhd = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return status;
}

int srv_export_queue(struct MHD_Connection *c, const char *db_url, const hm_user *u,
                     const char *table, int *mhd)
{
    const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    const char *centre = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "centre");
    if (format && strcmp(format, "csv"))
        return queue_error(c, 400, "format: only csv is served", mhd);
    if (centre && !plain(centre))
        return queue_error(c, 400, "centre: a plain name [A-Za-z0-9_] is expected", mhd);
    if (u->role == HM_ROLE_CENTRE_MANAGER) {
        if (centre && strcmp(centre, u->centre))
            return queue_error(c, 403, "a centre manager exports its own centre only", mhd);
        centre = u->centre;
    } else if (u->role != HM_ROLE_ANALYST && u->role != HM_ROLE_ADMIN) {
        return queue_error(c, 403, "your role does not allow exports", mhd);
    }
    stream *s = calloc(1, sizeof *s);
    if (!s)
        return queue_error(c, 500, "out of memory", mhd);
    hm_error err;
    if (hm_db_open(db_url, &s->db, &err)) {
        free(s);
        return queue_error(c, 500, "cannot open the database", mhd);
    }
    s->t = hm_dict_find_table(hm_db_dict(s->db), table);
    int status = 0;
    const char *why = NULL;
    if (!s->t)
        status = 404, why = "no such table in the dictionary (harmonic dictionary)";
    else if (centre && hm_dict_field_index(s->t, "centre_code") < 0)
        status = u->role == HM_ROLE_CENTRE_MANAGER ? 403 : 400,
        why = "this table has no centre_code: pooled export only, by analysts and admins";
    else if (srv_rls_set(s->db, u, &err))
        status = 500, why = "cannot set the request's centre";
    char *sql = status ? NULL : select_sql(s->t, hm_db_kind(s->db) == HM_DB_POSTGRES, centre != NULL);
    if (!status && (!sql || hm_db_prepare(s->db, sql, &s->st, &err)))
        status = 500, why = "cannot read the table";
    free(sql);
    if (status) {
        stream_free(s);
        return queue_error(c, status, why, mhd);
    }
    if (centre)
        hm_stmt_bind_text(s->st, 1, centre);
    for (size_t i = 0; i < s->t->nfields; i++) {
        if ((i && put(s, ",", 1)) || put_field(s, s->t->fields[i].name)) {
            stream_free(s);
            return queue_error(c, 500, "out of memory", mhd);
        }
    }
    put(s, "\n", 1);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, reader, s, stream_free);
    if (!resp) {
        stream_free(s);
        *mhd = MHD_NO;
        return 500;
    }
    char disp[128];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.csv\"", s->t->name);
    MHD_add_response_header(resp, "Content-Type", "text/csv; charset=utf-8");
    MHD_add_response_header(resp, "Content-Disposition", disp);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    *mhd = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return 200;
}
