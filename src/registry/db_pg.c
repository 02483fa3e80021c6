/*
 * db_pg.c — the PostgreSQL back end through libpq.  Statements are named
 * server-side prepared statements; '?' placeholders become $1..$n (outside
 * quoted literals and identifiers); parameters travel as text and the server
 * casts them to the column types.  Rows are read in single-row mode so an
 * export streams instead of loading the whole result.
 */
#include "registry_int.h"

#include <stdlib.h>
#include <string.h>

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int hm__pg_open(hm_db *db, const char *url, hm_error *err)
{
    db->kind = HM_DB_POSTGRES;
    db->pg = PQconnectdb(url);
    if (!db->pg || PQstatus(db->pg) != CONNECTION_OK) {
        const char *m = db->pg ? PQerrorMessage(db->pg) : "out of memory";
        char buf[400];
        snprintf(buf, sizeof buf, "%s", m);
        size_t n = strlen(buf);
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
            buf[--n] = 0;
        return hm_error_set(err, HM_EDB, NULL, 0, "db", "cannot connect to PostgreSQL: %s", buf);
    }
    /* Notices (e.g. "relation already exists, skipping") are not for users. */
    PQsetNoticeProcessor(db->pg, ignore_notice, NULL);
    int rc = hm__pg_exec(db, "SET client_min_messages = warning", err);
    /* Doubles as text must read back exactly (the default from PostgreSQL 12;
     * older servers print 15 digits unless asked for more). */
    if (rc == HM_OK)
        rc = hm__pg_exec(db, "SET extra_float_digits = 3", err);
    /* bytea as text in the hex format, which hm_stmt_column_blob decodes
     * (the default since PostgreSQL 9.0; set in case a server says escape). */
    if (rc == HM_OK)
        rc = hm__pg_exec(db, "SET bytea_output = hex", err);
    /* The bulk import's staging table is temporary: give it room in memory
     * (the default 8 MB spills a large file's batch rows to disk).  Only
     * settable before the session first uses a temporary table. */
    if (rc == HM_OK)
        rc = hm__pg_exec(db, "SET temp_buffers = '64MB'", err);
    return rc;
}

static int pg_error(hm_db *db, PGresult *res, const char *sql, hm_error *err)
{
    const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(db->pg);
    char buf[300];
    snprintf(buf, sizeof buf, "%s", m && m[0] ? m : "unknown error");
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = 0;
    return hm_error_set(err, HM_EDB, NULL, 0, NULL, "PostgreSQL: %s (in: %.100s)", buf, sql);
}

static int hold_active(hm_db *db, hm_error *err);

int hm__pg_exec(hm_db *db, const char *sql, hm_error *err)
{
    int hrc = hold_active(db, err);
    /* A failed COPY read here must not stop the ROLLBACK that undoes it. */
    if (hrc && strncmp(sql, "ROLLBACK", 8))
        return hrc;
    PGresult *res = PQexec(db->pg, sql);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = HM_OK;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        rc = pg_error(db, res, sql, err);
    PQclear(res);
    return rc;
}

/* Rewrites '?' as $n outside '...' and "..." and counts them. */
static char *translate(const char *sql, int *nparams)
{
    size_t len = strlen(sql), cap = len * 4 + 16;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    int n = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            out[o++] = *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            out[o++] = *p;
        } else if (*p == '?') {
            o += (size_t)snprintf(out + o, cap - o, "$%d", ++n);
        } else {
            out[o++] = *p;
        }
    }
    out[o] = 0;
    *nparams = n;
    return out;
}

int hm__pg_prepare(hm_db *db, const char *sql, hm_stmt *st, hm_error *err)
{
    char *pgsql = translate(sql, &st->nparams);
    if (!pgsql)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if (st->nparams && !(st->params = calloc((size_t)st->nparams, sizeof *st->params))) {
        free(pgsql);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    int hrc = hold_active(db, err);
    if (hrc) {
        free(pgsql);
        return hrc;
    }
    snprintf(st->pgname, sizeof st->pgname, "hm_s%u", ++db->next_stmt_id);
    PGresult *res = PQprepare(db->pg, st->pgname, pgsql, 0, NULL);
    int rc = HM_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = pg_error(db, res, sql, err);
        st->pgname[0] = 0;     /* nothing to deallocate */
    }
    PQclear(res);
    free(pgsql);
    return rc;
}

static void clear_held(hm_stmt *st)
{
    for (size_t i = st->held_pos; i < st->nheld; i++)
        PQclear(st->held[i]);
    free(st->held);
    st->held = NULL;
    st->nheld = st->held_pos = 0;
}

/* libpq runs one query at a time per connection.  When a statement must run
 * while another still has rows on the wire (a look-up inside a loop over a
 * result), the other's remaining rows are read into memory first, so both
 * keep working; only such nesting costs memory. */
/* The result of a COPY or a command sent without waiting (hm__pg_copy_end,
 * hm__pg_send). */
static int pending_result(hm_db *db, hm_error *err)
{
    db->pg_pending = 0;
    int rc = HM_OK;
    PGresult *r;
    while ((r = PQgetResult(db->pg))) {
        if (rc == HM_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
            const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            snprintf(db->pg_pending_state, sizeof db->pg_pending_state, "%s", st ? st : "");
            rc = pg_error(db, r, "a batch of the import", err);
        }
        else if (!strncmp(PQcmdStatus(r), "INSERT", 6))
            db->pg_pending_rows += atol(PQcmdTuples(r));
        PQclear(r);
    }
    return rc;
}

static int hold_active(hm_db *db, hm_error *err)
{
    if (db->pg_pending) {
        int crc = pending_result(db, err);
        if (crc)
            return crc;
    }
    hm_stmt *a = db->pg_active;
    if (!a)
        return HM_OK;
    db->pg_active = NULL;
    size_t cap = 0;
    PGresult *r;
    int rc = HM_OK;
    while ((r = PQgetResult(db->pg))) {
        if (PQresultStatus(r) != PGRES_SINGLE_TUPLE) {
            if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
                rc = pg_error(db, r, a->pgname, err);
            PQclear(r);
            continue;
        }
        if (a->nheld == cap) {
            cap = cap ? 2 * cap : 64;
            PGresult **v = realloc(a->held, cap * sizeof *v);
            if (!v) {
                PQclear(r);
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                continue;
            }
            a->held = v;
        }
        a->held[a->nheld++] = r;
    }
    a->running = 0;
    a->done = 0;
    if (!a->held) {
        a->done = 1;
    }
    return rc;
}

void hm__pg_drain(hm_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    clear_held(st);
    if (st->running) {
        PGresult *r;
        while ((r = PQgetResult(st->db->pg)))
            PQclear(r);
    }
    if (st->db->pg_active == st)
        st->db->pg_active = NULL;
    st->running = 0;
    st->done = 0;
}

int hm__pg_step(hm_stmt *st, hm_error *err)
{
    PGconn *pg = st->db->pg;
    if (st->held) {                       /* rows set aside by hold_active */
        PQclear(st->res);
        st->res = NULL;
        if (st->held_pos < st->nheld) {
            st->res = st->held[st->held_pos++];
            return 1;
        }
        clear_held(st);
        st->done = 1;
        return 0;
    }
    if (st->done)
        return 0;
    if (!st->running) {
        PQclear(st->res);
        st->res = NULL;
        int rc = hold_active(st->db, err);
        if (rc)
            return rc;
        if (!PQsendQueryPrepared(pg, st->pgname, st->nparams,
                                 (const char *const *)st->params,
                                 st->nbinary ? st->plen : NULL,
                                 st->nbinary ? st->pfmt : NULL, 0))
            return pg_error(st->db, NULL, st->pgname, err);
        PQsetSingleRowMode(pg);
        st->running = 1;
        st->db->pg_active = st;
    }
    PQclear(st->res);
    st->res = PQgetResult(pg);
    ExecStatusType s = st->res ? PQresultStatus(st->res) : PGRES_COMMAND_OK;
    if (s == PGRES_SINGLE_TUPLE)
        return 1;
    /* End of the result set (kept for column names) or an error: drain. */
    int rc = 0;
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK)
        rc = pg_error(st->db, st->res, st->pgname, err);
    PGresult *r;
    while ((r = PQgetResult(pg)))
        PQclear(r);
    st->running = 0;
    st->done = 1;
    st->db->pg_active = NULL;
    return rc;
}

/* ---------------------------------------------------------------- */
/* Straight libpq commands for the bulk import (import_pg.c).  Each first
 * sets aside the rows of a statement still on the wire, as above. */

int hm__pg_query(hm_db *db, const char *sql, int nparams, const char *const *params,
                 PGresult **out, char sqlstate[6], hm_error *err)
{
    if (out)
        *out = NULL;
    if (sqlstate)
        sqlstate[0] = 0;
    int rc = hold_active(db, err);
    if (rc)
        return rc;
    PGresult *res = PQexecParams(db->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (sqlstate && st)
            snprintf(sqlstate, 6, "%s", st);
        rc = pg_error(db, res, sql, err);
        PQclear(res);
        return rc;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return HM_OK;
}

int hm__pg_copy_begin(hm_db *db, const char *sql, hm_error *err)
{
    int rc = hold_active(db, err);
    if (rc)
        return rc;
    PGresult *res = PQexec(db->pg, sql);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN)
        rc = pg_error(db, res, sql, err);
    PQclear(res);
    return rc;
}

int hm__pg_copy_send(hm_db *db, const char *buf, size_t len, hm_error *err)
{
    /* Blocking connection: 1 = queued, -1 = failed (0 only when non-blocking). */
    while (len) {
        int n = len > (1u << 20) ? 1 << 20 : (int)len;
        if (PQputCopyData(db->pg, buf, n) != 1)
            return pg_error(db, NULL, "COPY data", err);
        buf += n;
        len -= (size_t)n;
    }
    return HM_OK;
}

int hm__pg_copy_end(hm_db *db, hm_error *err)
{
    /* The server then stores the rows while the client validates the next
     * batch; the result (an error too) is read before the next command on
     * the connection (hold_active), so nothing is committed unseen. */
    if (PQputCopyEnd(db->pg, NULL) != 1)
        return pg_error(db, NULL, "COPY end", err);
    db->pg_pending = 1;
    return HM_OK;
}

int hm__pg_send(hm_db *db, const char *sql, int nparams, const char *const *params,
                hm_error *err)
{
    int rc = hold_active(db, err);
    if (rc)
        return rc;
    if (!PQsendQueryParams(db->pg, sql, nparams, NULL, params, NULL, NULL, 0))
        return pg_error(db, NULL, sql, err);
    db->pg_pending = 1;
    return HM_OK;
}

int hm__pg_wait(hm_db *db, hm_error *err)
{
    return hold_active(db, err);
}
