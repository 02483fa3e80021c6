/*
 * import.c — validated, all-or-nothing import of one CSV file, and the
 * single-row upsert used by other subsystems (RDSR storage).
 *
 * The file is streamed: one record at a time is parsed, validated, checked
 * against the rows already stored and written with a prepared upsert, all in
 * one transaction.  After the first error nothing more is written, but every
 * remaining row is still validated so the report lists every problem; the
 * transaction is then rolled back.  Memory is bounded by the longest record.
 */
#include "registry_int.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 128

typedef struct row_ctx {
    const hm_dict_table *t;
    const char *vals[MAX_FIELDS];
    char daybuf[MAX_FIELDS][24];
    int64_t dup_guard;             /* see hm__store_row; -1 when not detecting */
} row_ctx;

/* Duplicate natural keys inside one file: the second row would silently
 * replace the first, so the upsert used by file imports refuses to update a
 * row written earlier in the same import (see hm__store_row) and says so. */
void hm__report_duplicate(const hm_dict_table *t, const char *const *vals, long line,
                          hm_import_report *rep)
{
    char shown[200];
    size_t so = 0;
    shown[0] = 0;
    for (size_t i = 1; i < t->nfields && so < sizeof shown; i++)
        if (t->fields[i].key)
            so += (size_t)snprintf(shown + so, sizeof shown - so, "%s%s %.30s", so ? ", " : "",
                                   t->fields[i].name, vals[i] ? vals[i] : "");
    hm__report_add(rep, HM_SEV_ERROR, line, t->fields[t->nfields > 1 ? 1 : 0].name,
                   "duplicate key (%s): an earlier row of this file has the same key", shown);
}

/* Validates (fields, then cross-field and references) and stores if the
 * report has no error so far.  raw[i] is the text for field i or NULL. */
static int process_row(hm_db *db, row_ctx *rc_, const char *const *raw, const char *centre,
                       long line, hm_import_report *rep, int *stored, hm_error *err)
{
    const hm_dict_table *t = rc_->t;
    long before = rep->n_errors;
    *stored = 0;
    if (raw[0] && strcmp(raw[0], centre)) {
        hm__report_add(rep, HM_SEV_ERROR, line, "centre_code",
                       "'%.40s' is not the importing centre %s: a centre may only send its own rows",
                       raw[0], centre);
        return HM_OK;
    }
    hm_dict_validate_row(t, raw, line, rep);
    for (size_t i = 0; i < t->nfields; i++)
        rc_->vals[i] = hm__normalise_missing(&t->fields[i], raw[i]);
    /* PostgreSQL file import: the rest is done per batch (import_pg.c). */
    if (db->bulk && rep->n_errors == before) {
        *stored = 1;      /* provisional: any later error zeroes rows_stored */
        return hm__pgbulk_row(db, rc_->vals, line, rep, err);
    }
    /* Cross-field rules need well-formed fields. */
    if (rep->n_errors == before) {
        int rc = hm__check_row(db, t, rc_->vals, rc_->daybuf, line, rep, err);
        if (rc)
            return rc;
    }
    if (rep->n_errors > before)
        return HM_OK;
    /* A valid row is written even after errors in earlier rows: the import
     * is rolled back anyway, and later rows' references and duplicate keys
     * are then still checked against it. */
    int dup = 0;
    int rc = hm__store_row(db, t, rc_->vals, rc_->dup_guard, &dup, err);
    if (rc == HM_OK && dup)
        hm__report_duplicate(t, rc_->vals, line, rep);
    else if (rc == HM_OK)
        *stored = 1;
    return rc;
}

static int log_import(hm_db *db, const char *centre, const char *table, const char *source,
                      long rows, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "INSERT INTO import_log (centre_code, table_name, source, "
                               "rows_stored, imported_at) VALUES (?, ?, ?, ?, ?)", &st, err);
    if (rc)
        return rc;
    char when[32];
    hm__utc_stamp(when);
    hm_stmt_bind_text(st, 1, centre);
    hm_stmt_bind_text(st, 2, table);
    hm_stmt_bind_text(st, 3, source);
    hm_stmt_bind_int64(st, 4, rows);
    hm_stmt_bind_text(st, 5, when);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

/* Maps header names to dictionary fields; problems go to rep (line 1). */
static void map_header(const hm_dict_table *t, char **f, size_t nf, int *colfield,
                       hm_import_report *rep, long line)
{
    int seen[MAX_FIELDS] = { 0 };
    for (size_t j = 0; j < nf; j++) {
        const char *name = f[j];
        if (j == 0 && !strncmp(name, "\xEF\xBB\xBF", 3))   /* UTF-8 byte order mark */
            name += 3;
        int k = hm_dict_field_index(t, name);
        colfield[j] = k;
        if (k < 0)
            hm__report_add(rep, HM_SEV_ERROR, line, name,
                           "unknown column for table %s (see harmonic dictionary)", t->name);
        else if (seen[k]++)
            hm__report_add(rep, HM_SEV_ERROR, line, name, "column appears twice");
    }
    for (size_t i = 0; i < t->nfields; i++)
        if (!seen[i] && t->fields[i].required == HM_REQ_YES)
            hm__report_add(rep, HM_SEV_ERROR, line, t->fields[i].name, "required column is missing");
}

int hm_registry_import_csv(hm_db *db, const char *centre, const char *table,
                           const char *path, hm_import_report *rep, hm_error *err)
{
    return hm_registry_import_csv_ex(db, centre, table, path, 0, rep, err);
}

int hm_registry_import_csv_ex(hm_db *db, const char *centre, const char *table,
                              const char *path, unsigned flags, hm_import_report *rep,
                              hm_error *err)
{
    return hm_registry_import_csv_dialect(db, centre, table, path, flags, NULL, rep, err);
}

/* One pass over the file; pg_staged forces PostgreSQL's staged path (see
 * hm__pgbulk_begin). */
static int import_file(hm_db *db, const char *centre, const char *table, const char *path,
                       unsigned flags, const hm_csv_dialect *dialect, int pg_staged,
                       hm_import_report *rep, hm_error *err)
{
    snprintf(rep->table, sizeof rep->table, "%s", table);
    snprintf(rep->file, sizeof rep->file, "%s", path);
    snprintf(rep->centre, sizeof rep->centre, "%s", centre ? centre : "");
    const hm_dict_table *t = hm_dict_find_table(db->dict, table);
    if (!t)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "table", "unknown table '%s'", table);
    if (!centre || !centre[0])
        return hm_error_set(err, HM_EINVAL, NULL, 0, "centre", "the importing centre is required");
    if (t->nfields > MAX_FIELDS)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "table", "table %s has too many fields", table);
    /* A computed table's file (an export folder imported back with --dir
     * holds one) is skipped with a warning saying so, not an error: the rows
     * are recomputed by `harmonic dose cohort` from what is imported. */
    if (t->computed) {
        hm__report_add(rep, HM_SEV_WARNING, 0, "table",
                       "%s is computed by harmonic dose cohort, never imported: file skipped, "
                       "nothing stored (run harmonic dose cohort after importing the events)",
                       table);
        return HM_OK;
    }
    if (db->in_tx)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL,
                            "import runs its own transaction; one is already open");
    hm_csv *csv = hm_csv_open_dialect(path, 1, dialect, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    if (!hm_csv_dialect_describe(hm_csv_dialect_seen(csv), rep->dialect, sizeof rep->dialect))
        rep->dialect[0] = '\0';
    /* Test hook: die by SIGKILL after N stored rows, inside the transaction,
     * to prove a killed import leaves the database as it was. */
    const char *kill_env = getenv("HM_TEST_KILL_AFTER_ROWS");
    long kill_after = kill_env ? strtol(kill_env, NULL, 10) : -1;

    row_ctx *ctx = calloc(1, sizeof *ctx);
    int colfield[MAX_FIELDS * 2];
    const char *raw[MAX_FIELDS];
    char **f;
    size_t nf, ncols = 0;
    int rc = ctx ? hm_db_begin(db, err) : hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if (rc == HM_OK) {
        ctx->t = t;
        rc = hm__dup_guard(db, t, &ctx->dup_guard, err);
    }
    if (rc == HM_OK && db->kind == HM_DB_POSTGRES)
        rc = hm__pgbulk_begin(db, t, centre, pg_staged, err);
    if (rc == HM_OK) {
        rc = hm_csv_next(csv, &f, &nf, err);
        hm_error sep_err;
        if (rc == 0) {
            hm__report_add(rep, HM_SEV_ERROR, 1, NULL, "empty file: expected a header row");
        } else if (rc == 1) {
            if (nf > MAX_FIELDS * 2) {
                hm__report_add(rep, HM_SEV_ERROR, hm_csv_line(csv), NULL,
                               "%zu columns: more than any table has", nf);
            } else if (hm_csv_header_check(csv, f, nf, &sep_err)) {
                /* a wrong separator: one message instead of one per missing column */
                hm__report_add(rep, HM_SEV_ERROR, sep_err.line, NULL, "%s", sep_err.msg);
            } else {
                map_header(t, f, nf, colfield, rep, hm_csv_line(csv));
                if (rep->n_errors == 0)     /* rows are read only under a sound header */
                    ncols = nf;
            }
            rc = HM_OK;
        }
    }
    while (rc == HM_OK && ncols && (rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        rc = HM_OK;
        long line = hm_csv_line(csv);
        rep->rows_read++;
        if (nf != ncols) {
            hm__report_add(rep, HM_SEV_ERROR, line, NULL, "expected %zu fields as in the header, found %zu",
                           ncols, nf);
            continue;
        }
        for (size_t i = 0; i < t->nfields; i++)
            raw[i] = NULL;
        for (size_t j = 0; j < nf; j++)
            if (colfield[j] >= 0)
                raw[colfield[j]] = f[j];
        int stored;
        rc = process_row(db, ctx, raw, centre, line, rep, &stored, err);
        if (rc < 0 && err) {               /* a database failure: say where */
            snprintf(err->file, sizeof err->file, "%.255s", path);
            err->line = line;
        }
        if (stored && ++rep->rows_stored == kill_after)
            raise(SIGKILL);
    }
    if (rc < 0 && err && err->code == HM_EPARSE) {
        /* A malformed CSV record is a problem of the file like any other. */
        hm__report_add(rep, HM_SEV_ERROR, err->line, err->field, "%s", err->msg);
        rc = HM_OK;
    }
    hm_csv_close(csv);
    free(ctx);
    if (db->bulk) {                        /* the last batch, duplicates, upsert */
        if (rc == HM_OK)
            rc = hm__pgbulk_finish(db, rep, err);
        hm__pgbulk_end(db);
    }
    int dry = (flags & HM_IMPORT_DRY_RUN) != 0;
    rep->dry_run = dry;
    if (rc == HM_OK && rep->n_errors == 0 && !dry) {
        rc = log_import(db, centre, table, path, rep->rows_stored, err);
        if (rc == HM_OK)
            rc = hm_db_commit(db, err);
    }
    if (rc != HM_OK || rep->n_errors || dry) {
        hm_db_rollback(db, NULL);
        rep->rows_stored = 0;
    }
    if (rc == HM_OK && rep->n_errors)
        rc = hm_error_set(err, HM_EVALIDATE, path, 0, NULL,
                          "%ld error%s: nothing imported", rep->n_errors,
                          rep->n_errors == 1 ? "" : "s");
    return rc;
}

int hm_registry_import_csv_dialect(hm_db *db, const char *centre, const char *table,
                                   const char *path, unsigned flags,
                                   const hm_csv_dialect *dialect, hm_import_report *rep,
                                   hm_error *err)
{
    int rc = import_file(db, centre, table, path, flags, dialect, 0, rep, err);
    if (rc != HM__RETRY_STAGED)
        return rc;
    /* PostgreSQL's direct path met a repeated key or an error: the file was
     * rolled back; the staged pass gives the report, exactly as SQLite's. */
    hm_import_report_free(rep);
    hm_import_report_init(rep);
    if (err)
        hm_error_clear(err);
    return import_file(db, centre, table, path, flags, dialect, 1, rep, err);
}

int hm_registry_upsert_row(hm_db *db, const char *centre, const char *table,
                           const char *const *names, const char *const *values, size_t n,
                           hm_error *err)
{
    const hm_dict_table *t = hm_dict_find_table(db->dict, table);
    if (!t)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "table", "unknown table '%s'", table);
    if (t->nfields > MAX_FIELDS)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "table", "table %s has too many fields", table);
    const char *raw[MAX_FIELDS] = { 0 };
    for (size_t j = 0; j < n; j++) {
        int k = hm_dict_field_index(t, names[j]);
        if (k < 0)
            return hm_error_set(err, HM_EINVAL, NULL, 0, names[j], "unknown field of table %s", table);
        if (t->fields[k].type == HM_FT_BLOB && values[j])
            return hm_error_set(err, HM_EINVAL, NULL, 0, names[j],
                                "bytes are not written as text: use hm_registry_put_dose_procedure "
                                "or hm_registry_put_realizations");
        raw[k] = values[j];
    }
    if (!raw[0] || !centre || strcmp(raw[0], centre))
        return hm_error_set(err, HM_EPERM, NULL, 0, "centre_code",
                            "'%s' is not the writing centre %s: a centre may only write its own rows",
                            raw[0] ? raw[0] : "", centre ? centre : "(none)");
    row_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    ctx->t = t;
    ctx->dup_guard = -1;                  /* repeated writes of a row update it */
    hm_import_report rep;
    hm_import_report_init(&rep);
    int stored = 0;
    int rc = process_row(db, ctx, raw, centre, 0, &rep, &stored, err);
    if (rc == HM_OK && rep.n_errors)
        rc = rep.nissues ? hm_error_set(err, HM_EVALIDATE, table, 0, rep.issues[0].field, "%s",
                                        rep.issues[0].msg)
                         : hm_error_set(err, HM_EVALIDATE, table, 0, NULL, "row rejected");
    hm_import_report_free(&rep);
    free(ctx);
    return rc;
}
