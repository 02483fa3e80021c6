/*
 * db.c — the database handle: picks the back end from the URL, keeps the
 * dictionary, runs the migrations, and dispatches the statement layer.
 * SQLite statements map one to one; PostgreSQL ones are emulated in
 * db_pg.c with named prepared statements and text parameters.
 */
#include "registry_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int is_pg_url(const char *s)
{
    return !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11);
}

static int db_open(const char *url_or_path, int migrate, hm_db **out, hm_error *err)
{
    *out = NULL;
    if (!url_or_path || !url_or_path[0])
        return hm_error_set(err, HM_EINVAL, NULL, 0, "db", "empty database path or URL");
    hm_db *db = calloc(1, sizeof *db);
    if (!db)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int rc = hm_dict_load(NULL, &db->dict, err);
    if (rc == HM_OK) {
        db->cache = calloc(hm_dict_ntables(db->dict), sizeof *db->cache);
        if (!db->cache)
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    if (rc == HM_OK)
        rc = is_pg_url(url_or_path) ? hm__pg_open(db, url_or_path, err)
                                    : hm__sq_open(db, url_or_path, err);
    if (rc == HM_OK && migrate)
        rc = hm__schema_migrate(db, err);
    if (rc != HM_OK) {
        hm_db_close(db);
        return rc;
    }
    *out = db;
    return HM_OK;
}

int hm_db_open(const char *url_or_path, hm_db **out, hm_error *err)
{
    return db_open(url_or_path, 1, out, err);
}

/* For a role that may not run DDL (the server as a non-owner PostgreSQL role,
 * docs/server.md): even CREATE TABLE IF NOT EXISTS needs CREATE on the schema. */
int hm_db_open_nomigrate(const char *url_or_path, hm_db **out, hm_error *err)
{
    return db_open(url_or_path, 0, out, err);
}

void hm_db_close(hm_db *db)
{
    if (!db)
        return;
    if (db->cache) {
        for (size_t i = 0; i < hm_dict_ntables(db->dict); i++)
        {
            hm_stmt_finalize(db->cache[i].upsert);
            hm_stmt_finalize(db->cache[i].upsert_guard);
        }
        free(db->cache);
    }
    hm_stmt_finalize(db->find_centre);
    hm_stmt_finalize(db->find_patient);
    hm_stmt_finalize(db->find_procedure);
    hm_stmt_finalize(db->find_course);
    hm_stmt_finalize(db->put_real);
    hm_stmt_finalize(db->put_event);
    hm_stmt_finalize(db->put_proc);
    hm_stmt_finalize(db->mark_done);
    hm_stmt_finalize(db->find_device);
    if (db->in_tx)
        hm_db_rollback(db, NULL);
    if (db->sq)
        sqlite3_close(db->sq);
    if (db->pg)
        PQfinish(db->pg);
    hm_dict_free(db->dict);
    free(db);
}

hm_db_backend hm_db_kind(const hm_db *db) { return db->kind; }
const hm_dict *hm_db_dict(const hm_db *db) { return db->dict; }
int hm_db_in_transaction(const hm_db *db) { return db->in_tx; }

int hm_db_exec(hm_db *db, const char *sql, hm_error *err)
{
    db->centre_ok[0] = 0;     /* any statement may change what is registered */
    return db->kind == HM_DB_SQLITE ? hm__sq_exec(db, sql, err) : hm__pg_exec(db, sql, err);
}

int hm_db_begin(hm_db *db, hm_error *err)
{
    if (db->in_tx)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "a transaction is already open");
    /* SQLite: take the write lock now, so a second writer waits (busy
     * timeout) instead of failing when its read transaction must upgrade. */
    int rc = hm_db_exec(db, db->kind == HM_DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", err);
    if (rc == HM_OK)
        db->in_tx = 1;
    return rc;
}

int hm_db_commit(hm_db *db, hm_error *err)
{
    if (!db->in_tx)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "no transaction is open");
    int rc = hm_db_exec(db, "COMMIT", err);
    db->in_tx = 0;
    return rc;
}

int hm_db_rollback(hm_db *db, hm_error *err)
{
    if (!db->in_tx)
        return HM_OK;
    db->in_tx = 0;
    return hm_db_exec(db, "ROLLBACK", err);
}

int hm_db_schema_version(hm_db *db, int *version, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT MAX(version) FROM schema_version", &st, err);
    if (rc)
        return rc;
    rc = hm_stmt_step(st, err);
    if (rc >= 0) {
        *version = rc == 1 ? (int)hm_stmt_column_int64(st, 0) : 0;
        rc = HM_OK;
    }
    hm_stmt_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- */

int hm_db_prepare(hm_db *db, const char *sql, hm_stmt **out, hm_error *err)
{
    *out = NULL;
    db->centre_ok[0] = 0;     /* a caller's own SQL may change the centres */
    hm_stmt *st = calloc(1, sizeof *st);
    if (!st)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    st->db = db;
    int rc = HM_OK;
    if (db->kind == HM_DB_SQLITE) {
        if (sqlite3_prepare_v2(db->sq, sql, -1, &st->sq, NULL) != SQLITE_OK)
            rc = hm_error_set(err, HM_EDB, NULL, 0, NULL, "SQLite: %s (in: %.120s)",
                              sqlite3_errmsg(db->sq), sql);
    } else {
        rc = hm__pg_prepare(db, sql, st, err);
    }
    if (rc) {
        hm_stmt_finalize(st);
        return rc;
    }
    *out = st;
    return HM_OK;
}

static int pg_set_param(hm_stmt *st, int i, const char *text)
{
    if (i < 1 || i > st->nparams)
        return HM_EINVAL;
    free(st->params[i - 1]);
    st->params[i - 1] = NULL;
    if (st->pfmt && st->pfmt[i - 1]) {
        st->pfmt[i - 1] = 0;
        st->nbinary--;
    }
    if (text && !(st->params[i - 1] = strdup(text)))
        return HM_ENOMEM;
    return HM_OK;
}

int hm_stmt_bind_blob(hm_stmt *st, int i, const void *data, size_t n)
{
    if (!data)
        return hm_stmt_bind_null(st, i);
    if (n > INT32_MAX)
        return HM_EINVAL;
    if (st->sq)
        return sqlite3_bind_blob64(st->sq, i, data, n, SQLITE_TRANSIENT) == SQLITE_OK
               ? HM_OK : HM_EINVAL;
    /* libpq binary format: the value's bytes as they are, with their length
     * (PQexecParams / PQsendQueryPrepared, paramFormats 1). */
    int rc = pg_set_param(st, i, NULL);
    if (rc)
        return rc;
    if (!st->pfmt) {
        st->pfmt = calloc((size_t)st->nparams, sizeof *st->pfmt);
        st->plen = calloc((size_t)st->nparams, sizeof *st->plen);
        if (!st->pfmt || !st->plen)
            return HM_ENOMEM;
    }
    if (!(st->params[i - 1] = malloc(n ? n : 1)))
        return HM_ENOMEM;
    memcpy(st->params[i - 1], data, n);
    st->plen[i - 1] = (int)n;
    st->pfmt[i - 1] = 1;
    st->nbinary++;
    return HM_OK;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

const void *hm_stmt_column_blob(hm_stmt *st, int col, size_t *n)
{
    *n = 0;
    if (st->sq) {
        const void *p = sqlite3_column_blob(st->sq, col);
        *n = (size_t)sqlite3_column_bytes(st->sq, col);
        return p;
    }
    /* Text results: bytea arrives in the hex format ("\x" then two digits
     * a byte; the session sets bytea_output = hex, db_pg.c). */
    const char *s = hm_stmt_column_text(st, col);
    if (!s || s[0] != '\\' || s[1] != 'x')
        return NULL;
    size_t len = strlen(s + 2) / 2;
    if (len + 1 > st->blobcap) {
        unsigned char *b = realloc(st->blob, len + 1);
        if (!b)
            return NULL;
        st->blob = b;
        st->blobcap = len + 1;
    }
    for (size_t k = 0; k < len; k++) {
        int hi = hexval(s[2 + 2 * k]), lo = hexval(s[3 + 2 * k]);
        if (hi < 0 || lo < 0)
            return NULL;
        st->blob[k] = (unsigned char)(hi << 4 | lo);
    }
    *n = len;
    return st->blob;
}

int hm_stmt_bind_text(hm_stmt *st, int i, const char *v)
{
    if (st->sq) {
        int rc = v ? sqlite3_bind_text(st->sq, i, v, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st->sq, i);
        return rc == SQLITE_OK ? HM_OK : HM_EINVAL;
    }
    return pg_set_param(st, i, v);
}

int hm_stmt_bind_int64(hm_stmt *st, int i, int64_t v)
{
    if (st->sq)
        return sqlite3_bind_int64(st->sq, i, v) == SQLITE_OK ? HM_OK : HM_EINVAL;
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return pg_set_param(st, i, buf);
}

int hm_stmt_bind_double(hm_stmt *st, int i, double v)
{
    if (st->sq)
        return sqlite3_bind_double(st->sq, i, v) == SQLITE_OK ? HM_OK : HM_EINVAL;
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    return pg_set_param(st, i, buf);
}

int hm_stmt_bind_null(hm_stmt *st, int i)
{
    return hm_stmt_bind_text(st, i, NULL);
}

int hm_stmt_step(hm_stmt *st, hm_error *err)
{
    if (!st->sq)
        return hm__pg_step(st, err);
    int rc = sqlite3_step(st->sq);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return hm_error_set(err, HM_EDB, NULL, 0, NULL, "SQLite: %s",
                        sqlite3_errmsg(st->db->sq));
}

int hm_stmt_column_count(hm_stmt *st)
{
    if (st->sq)
        return sqlite3_column_count(st->sq);
    return st->res ? PQnfields(st->res) : 0;
}

const char *hm_stmt_column_name(hm_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_name(st->sq, col);
    return st->res && col < PQnfields(st->res) ? PQfname(st->res, col) : NULL;
}

int hm_stmt_column_isnull(hm_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_type(st->sq, col) == SQLITE_NULL;
    return !st->res || PQntuples(st->res) < 1 || PQgetisnull(st->res, 0, col);
}

const char *hm_stmt_column_text(hm_stmt *st, int col)
{
    if (st->sq)
        return (const char *)sqlite3_column_text(st->sq, col);
    if (hm_stmt_column_isnull(st, col))
        return NULL;
    return PQgetvalue(st->res, 0, col);
}

int64_t hm_stmt_column_int64(hm_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_int64(st->sq, col);
    const char *s = hm_stmt_column_text(st, col);
    return s ? strtoll(s, NULL, 10) : 0;
}

double hm_stmt_column_double(hm_stmt *st, int col)
{
    if (st->sq)
        return sqlite3_column_double(st->sq, col);
    const char *s = hm_stmt_column_text(st, col);
    return s ? strtod(s, NULL) : 0.0;
}

int hm_stmt_reset(hm_stmt *st)
{
    if (st->sq)
        return sqlite3_reset(st->sq) == SQLITE_OK ? HM_OK : HM_EDB;
    hm__pg_drain(st);
    return HM_OK;
}

void hm_stmt_finalize(hm_stmt *st)
{
    if (!st)
        return;
    if (st->sq)
        sqlite3_finalize(st->sq);
    if (st->pgname[0] && st->db->pg) {
        hm__pg_drain(st);
        char sql[64];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", st->pgname);
        hm__pg_exec(st->db, sql, NULL);
    }
    for (int i = 0; i < st->nparams; i++)
        free(st->params[i]);
    free(st->params);
    free(st->plen);
    free(st->pfmt);
    free(st->blob);
    free(st);
}

void hm__utc_stamp(char when[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
