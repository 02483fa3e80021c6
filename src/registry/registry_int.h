/*
 * registry_int.h — private to src/registry: the database handle, the two
 * back ends behind the statement layer, and helpers shared by import, export
 * and report.
 */
#ifndef HM_REGISTRY_INT_H
#define HM_REGISTRY_INT_H

#include "hm_registry.h"

#include <libpq-fe.h>
#include <sqlite3.h>

/* Most fields a dictionary table may have (the importer's fixed arrays). */
#define HM__MAX_FIELDS 128

typedef struct hm_pg_bulk hm_pg_bulk;

/* Prepared statements the importer keeps per table (built on first use). */
typedef struct hm_table_cache {
    hm_stmt *upsert;        /* plain: a repeated key updates the row */
    hm_stmt *upsert_guard;  /* file import: refuses to update a row of this import */
} hm_table_cache;

struct hm_db {
    hm_db_backend   kind;
    sqlite3        *sq;
    PGconn         *pg;
    hm_dict        *dict;
    int             in_tx;
    unsigned        next_stmt_id;   /* PostgreSQL prepared-statement names */
    hm_table_cache *cache;          /* one per dictionary table */
    hm_stmt        *find_centre, *find_patient, *find_procedure, *find_course;
    hm_stmt        *pg_active;      /* the statement whose rows are on the wire */
    int             pg_pending;     /* a COPY or sent command whose result is not read yet */
    long            pg_pending_rows;/* rows written by the INSERTs among those, summed */
    char            pg_pending_state[6]; /* SQLSTATE of the last failed one, "" if none */
    char            centre_ok[64];  /* centre found registered in this transaction */
    hm_pg_bulk     *bulk;           /* a PostgreSQL file import in progress (import_pg.c) */
    /* Dose-run writers (dose_store.c, dose_run.c), prepared on first use. */
    hm_stmt        *put_real, *put_event, *put_proc, *mark_done, *find_device;
    char            source_ok[256]; /* centre|type|id last found registered */
};

struct hm_stmt {
    hm_db        *db;
    sqlite3_stmt *sq;
    /* PostgreSQL: named prepared statement, parameters kept as text. */
    char          pgname[32];
    int           nparams;
    char        **params;          /* NULL entries bind SQL NULL */
    int          *plen, *pfmt;     /* per parameter: bytes and format (1 = binary blob) */
    int           nbinary;         /* parameters bound as binary now */
    unsigned char *blob;           /* column_blob's decoded bytea */
    size_t        blobcap;
    PGresult     *res;             /* the current row (single-row mode) */
    int           running;         /* a query was sent and not drained */
    int           done;
    /* Rows set aside when another statement needed the connection. */
    PGresult    **held;
    size_t        nheld, held_pos;
};

/* Back ends (db_sqlite.c, db_pg.c). */
int  hm__sq_open(hm_db *db, const char *path, hm_error *err);
int  hm__sq_exec(hm_db *db, const char *sql, hm_error *err);
int  hm__pg_open(hm_db *db, const char *url, hm_error *err);
int  hm__pg_exec(hm_db *db, const char *sql, hm_error *err);
int  hm__pg_prepare(hm_db *db, const char *sql, hm_stmt *st, hm_error *err);
int  hm__pg_step(hm_stmt *st, hm_error *err);
void hm__pg_drain(hm_stmt *st);
/* Straight libpq: one command with text parameters (*out, when given, gets
 * the result to PQclear; sqlstate, when given, the error's SQLSTATE), and
 * COPY ... FROM STDIN begin / data / end. */
int  hm__pg_query(hm_db *db, const char *sql, int nparams, const char *const *params,
                  PGresult **out, char sqlstate[6], hm_error *err);
int  hm__pg_copy_begin(hm_db *db, const char *sql, hm_error *err);
int  hm__pg_copy_send(hm_db *db, const char *buf, size_t len, hm_error *err);
int  hm__pg_copy_end(hm_db *db, hm_error *err);
/* Sends one command and returns at once: the server runs it while the client
 * goes on; its result is read before the next command on the connection (or
 * by hm__pg_wait), rows written by an INSERT added to db->pg_pending_rows. */
int  hm__pg_send(hm_db *db, const char *sql, int nparams, const char *const *params,
                 hm_error *err);
int  hm__pg_wait(hm_db *db, hm_error *err);

/* Migrations (schema.c). */
int  hm__schema_migrate(hm_db *db, hm_error *err);
/* The current UTC time as ISO 8601 ("2026-11-28T00:41:07Z"), as the registry
 * stamps imports and migrations. */
void hm__utc_stamp(char when[32]);

/* Dictionary helpers (dict.c, validate.c). */
/* The data file of a code list read from one ("@organs", "@chemo_agents"),
 * for messages and the codebook. */
const char *hm__code_list_file(const char *codes);
int  hm__is_pseudonym(const char *s);
size_t hm__utf8_len(const unsigned char *s);
/* Days since 1970-01-01 of a valid YYYY-MM-DD; returns 0 and sets *days, or -1. */
int  hm__parse_date(const char *s, long *days);
int  hm__parse_int(const char *s, long long *v);
int  hm__parse_real(const char *s, double *v);
/* The value with missing codes and "" mapped to NULL. */
const char *hm__normalise_missing(const hm_dict_field *f, const char *v);
/* Adds an issue (message formatted) to rep; counts it even when not kept. */
void hm__report_add(hm_import_report *rep, hm_severity sev, long line,
                    const char *field, const char *fmt, ...)
                    __attribute__((format(printf, 5, 6)));

/* Cross-field and reference rules (rules.c).  vals are normalised (NULL =
 * missing) in dictionary order and may be filled in (derived *_day values are
 * written into daybuf and pointed to). */
int  hm__check_row(hm_db *db, const hm_dict_table *t, const char **vals,
                   char daybuf[][24], long line, hm_import_report *rep,
                   hm_error *err);
/* The duplicate guard of an import of table t starting now (SQLite: the
 * highest rowid before it; PostgreSQL: 0, the guard uses the transaction id). */
int  hm__dup_guard(hm_db *db, const hm_dict_table *t, int64_t *guard, hm_error *err);
/* Binds vals and runs the table's upsert.  With guard >= 0, a row already
 * written by this import is left alone and *dup is set. */
int  hm__store_row(hm_db *db, const hm_dict_table *t, const char *const *vals,
                   int64_t guard, int *dup, hm_error *err);

/* The import's message for a row whose natural key an earlier row of the
 * same file has (import.c); vals holds at least the key fields. */
void hm__report_duplicate(const hm_dict_table *t, const char *const *vals, long line,
                          hm_import_report *rep);

/* PostgreSQL file import in batches (import_pg.c).  begin sets db->bulk;
 * rows that passed the field rules are queued with hm__pgbulk_row; per
 * batch one query answers every look-up hm__check_row makes (the lookup
 * functions below), the rows are checked in C as on SQLite and the good ones
 * sent with COPY to a staging table; finish flushes, reports duplicate keys
 * set-based, upserts from staging when the file has no error, and puts the
 * report back in line order.  end frees it and clears db->bulk.
 *
 * When the table holds no row of the centre yet and `staged` is 0, begin
 * takes the direct path: COPY straight into the table, no upsert (nothing
 * can conflict but the file's own repeated keys).  A repeated key (a unique
 * violation) or any error in the file then makes the import return
 * HM__RETRY_STAGED, and the caller rolls back and imports the file again
 * with staged = 1, which gives the exact report. */
#define HM__RETRY_STAGED (-100)
int  hm__pgbulk_begin(hm_db *db, const hm_dict_table *t, const char *centre, int staged,
                      hm_error *err);
int  hm__pgbulk_row(hm_db *db, const char *const *vals, long line, hm_import_report *rep,
                    hm_error *err);
int  hm__pgbulk_finish(hm_db *db, hm_import_report *rep, hm_error *err);
void hm__pgbulk_end(hm_db *db);
/* The batch's answers: 1 found (with the birth data), 0 not registered. */
int  hm__pgbulk_patient(hm_pg_bulk *b, const char *centre, const char *pseudonym,
                        const char **birth_date, long *birth_year);
/* what: "procedure" or "rt_course". */
int  hm__pgbulk_ref(hm_pg_bulk *b, const char *what, const char *centre, const char *id);

/* Shortest text that reads back as the same double (export round trip). */
void hm__format_double(double v, char *buf, size_t size);

#endif
