/*
 * import_pg.c — the PostgreSQL file import in batches, with a constant
 * number of round trips per batch instead of about two per row.
 *
 * Rows that passed the field rules (C, per row, in import.c) are queued.  A
 * full batch is checked with the same hm__check_row as on SQLite, so every
 * rule and message is the same by construction; only its database look-ups
 * (the row's patient and birth data, the procedure, course or device it refers to)
 * are answered from one query per batch:
 *   1. each queued row is checked with the look-ups only recorded; a row
 *      that asked none (centre, patient files) is final, the others' issues
 *      are taken back out of the report;
 *   2. one query fetches every recorded key (= ANY of an array per kind);
 *   3. the rows that asked are checked again against those answers;
 *   4. the rows without error go by COPY ... FROM STDIN into a temporary
 *      staging table (dropped at the end of the transaction), with their
 *      line number.
 * At the end, when the file has no error, one INSERT ... SELECT ... ON
 * CONFLICT DO UPDATE writes everything; duplicate natural keys are found in
 * staging (every row after the first with a key; rows with errors never
 * reach staging, as on SQLite, where they are not stored) when the file has
 * errors or the upsert reports a key twice (see write_or_report).  Issues are
 * then sorted back into line order (stable: a row's own issues keep their
 * order), which is the order the SQLite path reports them in.
 *
 * Memory: one batch (HM_PG_BATCH_ROWS rows, 10000 by default, or 16 MiB of
 * values, whichever comes first) and its COPY text.
 */
#include "registry_int.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BATCH_ROWS 10000
#define BATCH_BYTES (16u << 20)
#define NO_VALUE UINT32_MAX

enum { K_PATIENT, K_PROCEDURE, K_COURSE, K_DEVICE, NKINDS };

typedef struct buf { char *p; size_t len, cap; int failed; } buf;

struct hm_pg_bulk {
    hm_db               *db;
    const hm_dict_table *t;
    char                *centre;
    size_t               max_rows;
    /* The queued batch: per row its line and one arena offset per field. */
    size_t               nrows;
    long                *lines;
    uint32_t            *offs;
    unsigned char       *pending;      /* asked a look-up in pass 1 */
    buf                  arena;
    /* Look-ups: recording (pass 1) into array literals, answers (pass 3). */
    int                  recording, asked;
    buf                  keys[NKINDS];
    PGresult            *answers;
    int                 *slots;        /* open addressing: answer row or -1 */
    size_t               nslots;
    /* Staging. */
    buf                  copy;
    int                  direct;       /* COPY into the table itself (see registry_int.h) */
    int                  staged_table;
    long                 nstaged;
    long                 nupsert;      /* staged rows whose batch upsert was sent */
    int                  nraw, rawfield[HM__MAX_FIELDS];  /* numeric key fields as sent */
};

/* ---------------------------------------------------------------- */

static int buf_add(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return HM_ENOMEM;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return HM_OK;
}

static int buf_str(buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

/* COPY text format: backslash, tab, newline and carriage return escaped
 * (PostgreSQL manual, COPY, "Text Format"). */
static void copy_text(buf *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *esc = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" : *s == '\n' ? "\\n"
                        : *s == '\r' ? "\\r" : NULL;
        if (esc) {
            buf_add(b, run, (size_t)(s - run));
            buf_add(b, esc, 2);
            run = s + 1;
        }
    }
    buf_add(b, run, (size_t)(s - run));
}

/* An element of an array literal: double-quoted, '"' and '\' escaped. */
static void array_elem(buf *b, const char *s)
{
    buf_add(b, b->len > 1 ? ",\"" : "\"", b->len > 1 ? 2 : 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_add(b, "\\", 1);
        buf_add(b, s, 1);
    }
    buf_add(b, "\"", 1);
}

static uint64_t hash_key(int kind, const char *s)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Row of the answers for (kind, id), or -1. */
static int answer_row(hm_pg_bulk *b, int kind, const char *id)
{
    if (!b->nslots)
        return -1;
    for (size_t i = hash_key(kind, id) & (b->nslots - 1);; i = (i + 1) & (b->nslots - 1)) {
        int r = b->slots[i];
        if (r < 0)
            return -1;
        if (atoi(PQgetvalue(b->answers, r, 0)) == kind && !strcmp(PQgetvalue(b->answers, r, 1), id))
            return r;
    }
}

static int index_answers(hm_pg_bulk *b)
{
    size_t n = (size_t)PQntuples(b->answers), want = 16;
    while (want < 2 * n)
        want *= 2;
    if (want > b->nslots) {
        int *s = realloc(b->slots, want * sizeof *s);
        if (!s)
            return HM_ENOMEM;
        b->slots = s;
    }
    b->nslots = want;
    memset(b->slots, 0xff, want * sizeof *b->slots);
    for (size_t r = 0; r < n; r++) {
        size_t i = hash_key(atoi(PQgetvalue(b->answers, (int)r, 0)), PQgetvalue(b->answers, (int)r, 1))
                   & (want - 1);
        while (b->slots[i] >= 0)
            i = (i + 1) & (want - 1);
        b->slots[i] = (int)r;
    }
    return HM_OK;
}

static int record(hm_pg_bulk *b, int kind, const char *id)
{
    b->asked = 1;
    array_elem(&b->keys[kind], id);
    return 1;                 /* pass 1 only records: its issues are dropped */
}

int hm__pgbulk_patient(hm_pg_bulk *b, const char *centre, const char *pseudonym,
                       const char **birth_date, long *birth_year)
{
    *birth_date = NULL;
    *birth_year = 0;
    if (b->recording)
        return record(b, K_PATIENT, pseudonym);
    int r = strcmp(centre, b->centre) ? -1 : answer_row(b, K_PATIENT, pseudonym);
    if (r < 0)
        return 0;
    if (!PQgetisnull(b->answers, r, 2))
        *birth_date = PQgetvalue(b->answers, r, 2);
    *birth_year = strtol(PQgetvalue(b->answers, r, 3), NULL, 10);
    return 1;
}

int hm__pgbulk_ref(hm_pg_bulk *b, const char *what, const char *centre, const char *id)
{
    int kind = !strcmp(what, "procedure") ? K_PROCEDURE
             : !strcmp(what, "device") ? K_DEVICE : K_COURSE;
    if (b->recording)
        return record(b, kind, id);
    return !strcmp(centre, b->centre) && answer_row(b, kind, id) >= 0;
}

/* ---------------------------------------------------------------- */

/* Nothing of the centre in the table yet: the direct path may be taken. */
static int centre_has_rows(hm_pg_bulk *b, int *has, hm_error *err)
{
    buf s = { 0 };
    buf_str(&s, "SELECT 1 FROM ");
    buf_str(&s, b->t->name);
    buf_str(&s, " WHERE centre_code = $1 LIMIT 1");
    const char *params[1] = { b->centre };
    PGresult *res = NULL;
    int rc = s.failed ? hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory")
                      : hm__pg_query(b->db, s.p, 1, params, &res, NULL, err);
    free(s.p);
    *has = rc == HM_OK && PQntuples(res) > 0;
    PQclear(res);
    return rc;
}

int hm__pgbulk_begin(hm_db *db, const hm_dict_table *t, const char *centre, int staged,
                     hm_error *err)
{
    hm_pg_bulk *b = calloc(1, sizeof *b);
    if (!b)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    b->db = db;
    b->t = t;
    const char *env = getenv("HM_PG_BATCH_ROWS");      /* tuning, and tests of batching */
    long n = env ? strtol(env, NULL, 10) : 0;
    b->max_rows = n > 0 ? (size_t)n : DEFAULT_BATCH_ROWS;
    b->centre = strdup(centre);
    b->lines = malloc(b->max_rows * sizeof *b->lines);
    b->offs = malloc(b->max_rows * t->nfields * sizeof *b->offs);
    b->pending = malloc(b->max_rows);
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].key && (t->fields[i].type == HM_FT_INT || t->fields[i].type == HM_FT_REAL ||
                                 t->fields[i].type == HM_FT_BOOL))
            b->rawfield[b->nraw++] = (int)i;
    db->bulk = b;
    db->pg_pending_rows = 0;
    db->pg_pending_state[0] = '\0';
    if (!b->centre || !b->lines || !b->offs || !b->pending)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int has = 1;
    int rc = staged ? HM_OK : centre_has_rows(b, &has, err);
    b->direct = !has;
    return rc;
}

void hm__pgbulk_end(hm_db *db)
{
    hm_pg_bulk *b = db->bulk;
    if (!b)
        return;
    free(b->centre);
    free(b->lines);
    free(b->offs);
    free(b->pending);
    free(b->arena.p);
    for (int k = 0; k < NKINDS; k++)
        free(b->keys[k].p);
    PQclear(b->answers);
    free(b->slots);
    free(b->copy.p);
    free(b);
    db->bulk = NULL;
}

/* "a, b, c" of the table's columns (keys only when keys_only), plus extra. */
static void column_list(buf *s, const hm_dict_table *t, int keys_only, const char *prefix)
{
    int first = 1;
    for (size_t i = 0; i < t->nfields; i++) {
        if (keys_only && !t->fields[i].key)
            continue;
        if (!first)
            buf_str(s, ", ");
        buf_str(s, prefix);
        buf_str(s, t->fields[i].name);
        first = 0;
    }
}

static int create_staging(hm_pg_bulk *b, hm_error *err)
{
    buf s = { 0 };
    buf_str(&s, "CREATE TEMPORARY TABLE hm_stage (LIKE ");
    buf_str(&s, b->t->name);
    buf_str(&s, ", hm_line BIGINT NOT NULL");
    char col[48];
    for (int k = 0; k < b->nraw; k++) {
        snprintf(col, sizeof col, ", hm_raw%d TEXT", b->rawfield[k]);
        buf_str(&s, col);
    }
    buf_str(&s, ") ON COMMIT DROP");
    int rc = s.failed ? hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory")
                      : hm__pg_query(b->db, s.p, 0, NULL, NULL, NULL, err);
    free(s.p);
    if (rc == HM_OK)
        b->staged_table = 1;
    return rc;
}

static void encode_row(hm_pg_bulk *b, const char *const *vals, long line)
{
    const hm_dict_table *t = b->t;
    char num[48];
    for (size_t i = 0; i < t->nfields; i++) {
        const char *v = vals[i];
        if (i)
            buf_add(&b->copy, "\t", 1);
        if (!v) {
            buf_add(&b->copy, "\\N", 2);
        } else {
            /* Numbers go as written: they passed hm__parse_int / _real (no
             * spaces, no hex, inf or nan, in range), and PostgreSQL reads
             * them as strtoll and strtod do (int8in; float8in calls strtod),
             * so the stored values are those hm__store_row binds. */
            copy_text(&b->copy, v);
        }
    }
    if (b->direct) {                 /* the table's own columns only */
        buf_add(&b->copy, "\n", 1);
        b->nstaged++;
        return;
    }
    buf_add(&b->copy, num, (size_t)snprintf(num, sizeof num, "\t%ld", line));
    for (int k = 0; k < b->nraw; k++) {          /* key as written, for the duplicate message */
        buf_add(&b->copy, "\t", 1);
        copy_text(&b->copy, vals[b->rawfield[k]]);
    }
    buf_add(&b->copy, "\n", 1);
    b->nstaged++;
}

static void row_vals(hm_pg_bulk *b, size_t r, const char **vals)
{
    const uint32_t *o = b->offs + r * b->t->nfields;
    for (size_t i = 0; i < b->t->nfields; i++)
        vals[i] = o[i] == NO_VALUE ? NULL : b->arena.p + o[i];
}

/* Checks row r (hm__check_row) and stages it when it added no error.  While
 * recording, a row that asked a look-up is marked pending and what it added
 * to the report is taken back out (the report only appends, so restoring
 * its counts does). */
static int check_and_stage(hm_pg_bulk *b, size_t r, hm_import_report *rep, hm_error *err)
{
    const char *vals[HM__MAX_FIELDS];
    char daybuf[HM__MAX_FIELDS][24];
    row_vals(b, r, vals);
    size_t nissues = rep->nissues;
    long nerr = rep->n_errors, nwarn = rep->n_warnings;
    b->asked = 0;
    int rc = hm__check_row(b->db, b->t, vals, daybuf, b->lines[r], rep, err);
    b->pending[r] = (unsigned char)(b->recording && b->asked);
    if (b->pending[r]) {
        rep->nissues = nissues;
        rep->n_errors = nerr;
        rep->n_warnings = nwarn;
    } else if (rc == HM_OK && rep->n_errors == nerr) {
        encode_row(b, vals, b->lines[r]);
    }
    return rc;
}

static int fetch_answers(hm_pg_bulk *b, hm_error *err)
{
    static const char *sql =
        "SELECT 0, pseudonym, birth_date, birth_year FROM patient "
        "WHERE centre_code = $1 AND pseudonym = ANY ($2::text[]) "
        "UNION ALL SELECT 1, procedure_id, NULL, NULL FROM procedure "
        "WHERE centre_code = $1 AND procedure_id = ANY ($3::text[]) "
        "UNION ALL SELECT 2, course_id, NULL, NULL FROM rt_course "
        "WHERE centre_code = $1 AND course_id = ANY ($4::text[]) "
        "UNION ALL SELECT 3, device_id, NULL, NULL FROM device "
        "WHERE centre_code = $1 AND device_id = ANY ($5::text[])";
    const char *params[1 + NKINDS] = { b->centre };
    for (int k = 0; k < NKINDS; k++) {
        buf_add(&b->keys[k], "}", 1);
        if (b->keys[k].failed)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        params[1 + k] = b->keys[k].p;
    }
    PQclear(b->answers);
    b->answers = NULL;
    int rc = hm__pg_query(b->db, sql, 1 + NKINDS, params, &b->answers, NULL, err);
    if (rc == HM_OK && index_answers(b))
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    return rc;
}

static int send_copy(hm_pg_bulk *b, hm_error *err)
{
    if (!b->copy.len)
        return HM_OK;
    if (b->copy.failed)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int rc = b->staged_table || b->direct ? HM_OK : create_staging(b, err);
    buf s = { 0 };
    buf_str(&s, "COPY ");
    buf_str(&s, b->direct ? b->t->name : "hm_stage");
    buf_str(&s, " (");
    column_list(&s, b->t, 0, "");
    if (!b->direct) {
        buf_str(&s, ", hm_line");
        char col[32];
        for (int k = 0; k < b->nraw; k++) {
            snprintf(col, sizeof col, ", hm_raw%d", b->rawfield[k]);
            buf_str(&s, col);
        }
    }
    buf_str(&s, ") FROM STDIN");
    if (rc == HM_OK && s.failed)
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if (rc == HM_OK)
        rc = hm__pg_copy_begin(b->db, s.p, err);
    free(s.p);
    if (rc == HM_OK) {
        rc = hm__pg_copy_send(b->db, b->copy.p, b->copy.len, err);
        int end = hm__pg_copy_end(b->db, rc ? NULL : err);
        rc = rc ? rc : end;
    }
    b->copy.len = 0;
    return rc;
}

static int send_upsert(hm_pg_bulk *b, long first_line, long last_line, hm_error *err);

/* On the direct path a unique violation is the file repeating a key (the
 * table had no row of the centre): import it again staged. */
static int retry_if_repeated(hm_pg_bulk *b, int rc)
{
    if (rc != HM_OK && b->direct && !strcmp(b->db->pg_pending_state, "23505"))
        return HM__RETRY_STAGED;
    return rc;
}

/* Checks the queued batch (passes 1-3 above), sends its good rows and the
 * upsert that writes them. */
static int flush(hm_pg_bulk *b, hm_import_report *rep, hm_error *err)
{
    if (!b->nrows)
        return HM_OK;
    long staged_before = b->nstaged;
    int rc = b->arena.failed ? hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory") : HM_OK;
    int any_pending = 0;
    for (int k = 0; k < NKINDS; k++) {
        b->keys[k].len = 0;
        buf_add(&b->keys[k], "{", 1);
    }
    b->recording = 1;
    for (size_t r = 0; r < b->nrows && rc == HM_OK; r++) {
        rc = check_and_stage(b, r, rep, err);
        any_pending |= b->pending[r];
    }
    b->recording = 0;
    if (rc == HM_OK && any_pending)
        rc = fetch_answers(b, err);
    for (size_t r = 0; r < b->nrows && rc == HM_OK; r++)
        if (b->pending[r])
            rc = check_and_stage(b, r, rep, err);
    /* Direct path: a file with an error is imported again staged (for the
     * exact report), so this pass stops at the first one. */
    if (rc == HM_OK && b->direct && rep->n_errors)
        rc = HM__RETRY_STAGED;
    if (rc == HM_OK)
        rc = send_copy(b, err);
    /* Once the file has an error it will not be committed: stop writing. */
    if (rc == HM_OK && !b->direct && b->nstaged > staged_before && rep->n_errors == 0) {
        rc = send_upsert(b, b->lines[0], b->lines[b->nrows - 1], err);
        b->nupsert += b->nstaged - staged_before;
    }
    b->nrows = 0;
    b->arena.len = 0;
    return rc;
}

int hm__pgbulk_row(hm_db *db, const char *const *vals, long line, hm_import_report *rep,
                   hm_error *err)
{
    hm_pg_bulk *b = db->bulk;
    uint32_t *o = b->offs + b->nrows * b->t->nfields;
    for (size_t i = 0; i < b->t->nfields; i++) {
        o[i] = vals[i] && b->arena.len < NO_VALUE ? (uint32_t)b->arena.len : NO_VALUE;
        if (vals[i])
            buf_add(&b->arena, vals[i], strlen(vals[i]) + 1);
    }
    b->lines[b->nrows++] = line;
    if (b->nrows == b->max_rows || b->arena.len >= BATCH_BYTES || b->arena.failed)
        return retry_if_repeated(b, flush(b, rep, err));
    return HM_OK;
}

/* Every row after the first with a natural key, in line order, reported as
 * the SQLite path does (hm__report_duplicate).  Rows are read one at a time
 * (the statement layer's single-row mode), so a file of duplicates costs no
 * memory.  Tables whose every field is a key have no duplicates to report:
 * their upsert does nothing for a repeated row, as on SQLite. */
static int report_duplicates(hm_pg_bulk *b, hm_import_report *rep, hm_error *err)
{
    const hm_dict_table *t = b->t;
    if (!b->nstaged || t->nkeys == t->nfields)
        return HM_OK;
    buf s = { 0 };
    buf_str(&s, "SELECT hm_line");
    int col[HM__MAX_FIELDS], ncol = 0;
    char raw[32];
    for (size_t i = 0; i < t->nfields; i++) {
        if (!t->fields[i].key)
            continue;
        int k = 0;
        while (k < b->nraw && b->rawfield[k] != (int)i)
            k++;
        buf_str(&s, ", ");
        if (k < b->nraw) {
            snprintf(raw, sizeof raw, "hm_raw%d", (int)i);
            buf_str(&s, raw);
        } else {
            buf_str(&s, t->fields[i].name);
        }
        col[ncol++] = (int)i;
    }
    buf_str(&s, " FROM (SELECT *, row_number() OVER (PARTITION BY ");
    column_list(&s, t, 1, "");
    buf_str(&s, " ORDER BY hm_line) AS hm_n FROM hm_stage) AS s WHERE hm_n > 1 ORDER BY hm_line");
    if (s.failed) {
        free(s.p);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    hm_stmt *st;
    int rc = hm_db_prepare(b->db, s.p, &st, err);
    free(s.p);
    if (rc)
        return rc;
    const char *vals[HM__MAX_FIELDS] = { 0 };
    while ((rc = hm_stmt_step(st, err)) == 1) {
        for (int k = 0; k < ncol; k++)
            vals[col[k]] = hm_stmt_column_text(st, 1 + k);
        hm__report_duplicate(t, vals, (long)hm_stmt_column_int64(st, 0), rep);
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

/* Each batch is written as soon as it is staged, by one natural-key upsert
 * sent without waiting, so the server writes a batch while the client reads
 * the next; the whole row is replaced as hm__store_row does.  Duplicate keys
 * of the file must not replace each other: DISTINCT ON keeps a batch's first
 * row of a key, and the WHERE on xmin (rows this transaction wrote have xmin
 * = its xid, txid_current() modulo 2^32: the guard of hm__store_row) leaves
 * alone a row an earlier batch wrote.  So the rows written fall short of the
 * rows staged exactly when the file repeats a key, and then the duplicates
 * are found in staging (report_duplicates).  centre_code = the importing
 * centre holds for every staged row already (checked in C per row); saying
 * it again here keeps another centre's rows out of reach whatever reached
 * staging. */
static int send_upsert(hm_pg_bulk *b, long first_line, long last_line, hm_error *err)
{
    const hm_dict_table *t = b->t;
    buf s = { 0 };
    buf_str(&s, "INSERT INTO ");
    buf_str(&s, t->name);
    buf_str(&s, " (");
    column_list(&s, t, 0, "");
    buf_str(&s, ") SELECT DISTINCT ON (");
    column_list(&s, t, 1, "");
    buf_str(&s, ") ");
    column_list(&s, t, 0, "");
    buf_str(&s, " FROM hm_stage WHERE centre_code = $1 AND hm_line BETWEEN $2 AND $3 ORDER BY ");
    column_list(&s, t, 1, "");
    buf_str(&s, ", hm_line ON CONFLICT (");
    column_list(&s, t, 1, "");
    if (t->nkeys == t->nfields) {
        buf_str(&s, ") DO NOTHING");
    } else {
        buf_str(&s, ") DO UPDATE SET ");
        int first = 1;
        for (size_t i = 0; i < t->nfields; i++) {
            if (t->fields[i].key)
                continue;
            buf_str(&s, first ? "" : ", ");
            buf_str(&s, t->fields[i].name);
            buf_str(&s, " = excluded.");
            buf_str(&s, t->fields[i].name);
            first = 0;
        }
        buf_str(&s, " WHERE (");
        buf_str(&s, t->name);
        buf_str(&s, ".xmin::text)::bigint <> txid_current() % 4294967296");
    }
    char lo[24], hi[24];
    snprintf(lo, sizeof lo, "%ld", first_line);
    snprintf(hi, sizeof hi, "%ld", last_line);
    const char *params[3] = { b->centre, lo, hi };
    int rc = s.failed ? hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory")
                      : hm__pg_send(b->db, s.p, 3, params, err);
    free(s.p);
    return rc;
}

/* After the last batch: a clean file is written already, unless the rows
 * written fall short of the rows staged (a repeated key, see send_upsert);
 * a file with errors is never committed, and only its duplicates are looked
 * for, as on SQLite. */
static int write_or_report(hm_pg_bulk *b, hm_import_report *rep, hm_error *err)
{
    int rc = hm__pg_wait(b->db, err);
    if (rc || !b->nstaged)
        return rc;
    if (rep->n_errors)
        return report_duplicates(b, rep, err);
    if (b->t->nkeys == b->t->nfields)          /* DO NOTHING: no duplicate to find */
        return HM_OK;
    if (b->nupsert == b->nstaged && b->db->pg_pending_rows == b->nstaged)
        return HM_OK;
    long before = rep->n_errors;
    rc = report_duplicates(b, rep, err);
    if (rc == HM_OK && rep->n_errors == before)     /* cannot be: say so, not pass */
        rc = hm_error_set(err, HM_EDB, NULL, 0, NULL,
                          "PostgreSQL: %ld of %ld rows written, and no duplicate key found",
                          b->db->pg_pending_rows, b->nstaged);
    return rc;
}

typedef struct issue_pos { long line; size_t i; } issue_pos;

static int cmp_pos(const void *a, const void *b)
{
    const issue_pos *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Stable sort of the kept issues by line (batches report a row's
 * look-up-dependent issues after later rows' field issues). */
static int sort_issues(hm_import_report *rep)
{
    size_t n = rep->nissues, k = 1;
    while (k < n && rep->issues[k - 1].line <= rep->issues[k].line)
        k++;
    if (k >= n)
        return HM_OK;
    issue_pos *pos = malloc(n * sizeof *pos);
    hm_issue *sorted = malloc(n * sizeof *sorted);
    if (!pos || !sorted) {
        free(pos);
        free(sorted);
        return HM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        pos[i] = (issue_pos){ rep->issues[i].line, i };
    qsort(pos, n, sizeof *pos, cmp_pos);
    for (size_t i = 0; i < n; i++)
        sorted[i] = rep->issues[pos[i].i];
    free(rep->issues);
    free(pos);
    rep->issues = sorted;
    rep->cap = n;
    return HM_OK;
}

int hm__pgbulk_finish(hm_db *db, hm_import_report *rep, hm_error *err)
{
    hm_pg_bulk *b = db->bulk;
    int rc = flush(b, rep, err);
    if (rc == HM_OK && b->direct)
        rc = rep->n_errors ? HM__RETRY_STAGED : hm__pg_wait(db, err);
    else if (rc == HM_OK)
        rc = write_or_report(b, rep, err);
    rc = retry_if_repeated(b, rc);
    /* Test hook: die with the file written but not committed. */
    if (rc == HM_OK && rep->n_errors == 0 && getenv("HM_TEST_KILL_BEFORE_COMMIT"))
        raise(SIGKILL);
    if (sort_issues(rep) && rc == HM_OK)
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    return rc;
}
