/*
 * hm_registry.h — the HARMONIC registry: one schema on SQLite (default, a file)
 * or PostgreSQL (a "postgresql://..." URL), the data dictionary that drives
 * validation, validated all-or-nothing CSV import, export with codebook and
 * R/Stata scripts, and the data-quality report.
 *
 * Every function returns HM_OK (0) or a negative hm_status and fills the
 * caller's hm_error.  Nothing here prints unless given a FILE*.
 *
 * Typical use (the dicom subsystem storing an RDSR):
 *
 *     hm_db *db; hm_error err;
 *     if (hm_db_open("harmonic.db", &db, &err)) ...        // creates/migrates
 *     hm_db_begin(db, &err);
 *     const char *names[]  = { "centre_code", "procedure_id", ... };
 *     const char *values[] = { "FR01", "P123", ... };
 *     if (hm_registry_upsert_row(db, "FR01", "procedure", names, values, n, &err))
 *         { hm_db_rollback(db, NULL); ... }                // err names the field
 *     hm_db_commit(db, &err);
 *     hm_db_close(db);
 */
#ifndef HM_REGISTRY_H
#define HM_REGISTRY_H

#include "hm_core.h"

#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------ */
/* Database handle and a prepared-statement layer over both back ends. */

typedef struct hm_db hm_db;
typedef struct hm_stmt hm_stmt;

typedef enum hm_db_backend {
    HM_DB_SQLITE = 1,
    HM_DB_POSTGRES = 2
} hm_db_backend;

/* Opens "postgresql://..." / "postgres://..." with libpq, anything else as an
 * SQLite file path (created if absent).  Loads the data dictionary and applies
 * the pending migrations of data/schema/ (each in its own transaction), so the
 * database is always at the current schema version on return. */
int  hm_db_open(const char *url_or_path, hm_db **db, hm_error *err);
/* The same without migrating: for a connection that may not run DDL; the
 * caller checks hm_db_schema_version itself. */
int  hm_db_open_nomigrate(const char *url_or_path, hm_db **db, hm_error *err);
void hm_db_close(hm_db *db);
hm_db_backend hm_db_kind(const hm_db *db);
/* Schema version recorded in the schema_version table. */
int  hm_db_schema_version(hm_db *db, int *version, hm_error *err);

/* One transaction at a time (no nesting: a second begin is HM_EINVAL). */
int  hm_db_begin(hm_db *db, hm_error *err);
int  hm_db_commit(hm_db *db, hm_error *err);
int  hm_db_rollback(hm_db *db, hm_error *err);
int  hm_db_in_transaction(const hm_db *db);
/* Runs one SQL statement without parameters or results. */
int  hm_db_exec(hm_db *db, const char *sql, hm_error *err);

/* SQL uses '?' placeholders on both back ends (translated to $n for
 * PostgreSQL outside quoted literals).  Indices are 1-based for bind, 0-based
 * for columns, as in SQLite.  Column count and names are known after the
 * first hm_stmt_step (even one returning 0).  Statements may be nested (a
 * look-up inside a loop over a result): on PostgreSQL the outer statement's
 * remaining rows are then read into memory first. */
int  hm_db_prepare(hm_db *db, const char *sql, hm_stmt **stmt, hm_error *err);
int  hm_stmt_bind_text(hm_stmt *st, int index, const char *value);  /* NULL binds NULL */
int  hm_stmt_bind_int64(hm_stmt *st, int index, int64_t value);
int  hm_stmt_bind_double(hm_stmt *st, int index, double value);
int  hm_stmt_bind_null(hm_stmt *st, int index);
/* Bytes (BLOB on SQLite, bytea on PostgreSQL, sent as a binary parameter);
 * copied, so data may go at once.  data NULL binds NULL. */
int  hm_stmt_bind_blob(hm_stmt *st, int index, const void *data, size_t n);
/* Returns 1 when a row is available, 0 when done, or a negative hm_status. */
int  hm_stmt_step(hm_stmt *st, hm_error *err);
int  hm_stmt_column_count(hm_stmt *st);
const char *hm_stmt_column_name(hm_stmt *st, int col);
int  hm_stmt_column_isnull(hm_stmt *st, int col);
/* Text of the column (NULL for SQL NULL), valid until the next step/reset. */
const char *hm_stmt_column_text(hm_stmt *st, int col);
int64_t hm_stmt_column_int64(hm_stmt *st, int col);     /* 0 for NULL */
/* Bytes of a BLOB / bytea column (NULL and *n = 0 for SQL NULL), valid until
 * the next step/reset; not aligned for any type (memcpy out). */
const void *hm_stmt_column_blob(hm_stmt *st, int col, size_t *n);
double  hm_stmt_column_double(hm_stmt *st, int col);    /* 0 for NULL */
/* Ready to step again; bindings are kept until rebound. */
int  hm_stmt_reset(hm_stmt *st);
void hm_stmt_finalize(hm_stmt *st);

/* ------------------------------------------------------------------ */
/* Data dictionary (data/dictionary.csv): one row per field.           */

typedef enum hm_field_type {
    HM_FT_TEXT, HM_FT_INT, HM_FT_REAL, HM_FT_DATE, HM_FT_DATETIME,
    HM_FT_CODE, HM_FT_UID, HM_FT_PSEUDONYM, HM_FT_BOOL,
    HM_FT_BLOB             /* bytes: BLOB / bytea; base64 in CSV exports */
} hm_field_type;

typedef enum hm_required {
    HM_REQ_NO = 0,
    HM_REQ_YES = 1,
    HM_REQ_PAIR = 2        /* at least one of X_date / X_day */
} hm_required;

typedef struct hm_dict_field {
    char          *table, *name, *unit, *description;
    hm_field_type  type;
    hm_required    required;
    char          *min, *max;          /* as written ("" when none) */
    int            has_min, has_max;
    double         min_num, max_num;   /* numbers; dates as days since 1970-01-01 */
    char          *codes;              /* as written, ';'-separated or "@list" */
    char         **code_list;          /* split codes (organ ids for @organs) */
    size_t         ncodes;
    char         **missing;            /* missing-value codes */
    size_t         nmissing;
    int            key;                /* part of the natural key */
    int            pair;               /* index of the X_date/X_day sibling, -1 if none */
} hm_dict_field;

typedef struct hm_dict_table {
    char          *name;
    hm_dict_field *fields;             /* in dictionary order */
    size_t         nfields;
    size_t         nkeys;
    int            computed;           /* origin "computed": written by harmonic (dose
                                          runs), exported, never imported */
} hm_dict_table;

typedef struct hm_dict hm_dict;

/* path NULL: data/dictionary.csv (and data/organs.csv) via hm_data_path(). */
int    hm_dict_load(const char *path, hm_dict **dict, hm_error *err);
void   hm_dict_free(hm_dict *dict);
size_t hm_dict_ntables(const hm_dict *dict);
const hm_dict_table *hm_dict_table_at(const hm_dict *dict, size_t i);
const hm_dict_table *hm_dict_find_table(const hm_dict *dict, const char *name);
/* Index of a field in its table, or -1. */
int    hm_dict_field_index(const hm_dict_table *t, const char *name);
const char *hm_field_type_name(hm_field_type type);
/* The dictionary the database was opened with. */
const hm_dict *hm_db_dict(const hm_db *db);
/* format: "text", "csv" or "json". */
int    hm_dict_write(const hm_dict *dict, const char *format, FILE *out, hm_error *err);
/* An import template for one table: '#' comment lines saying what each
 * column takes (the importer skips them), then the header row. */
int    hm_dict_write_template(const hm_dict *dict, const char *table, FILE *out, hm_error *err);

/* ------------------------------------------------------------------ */
/* Validation reports.                                                 */

typedef enum hm_severity { HM_SEV_ERROR = 0, HM_SEV_WARNING = 1 } hm_severity;

typedef struct hm_issue {
    hm_severity severity;
    long        line;
    char        field[64];
    char        msg[256];
} hm_issue;

typedef struct hm_import_report {
    char      table[64];
    char      file[256];
    char      centre[64];
    long      rows_read;
    long      rows_stored;     /* 0 whenever n_errors > 0 (all-or-nothing) */
    long      n_errors, n_warnings;
    int       dry_run;         /* validated only (HM_IMPORT_DRY_RUN) */
    hm_issue *issues;          /* the first HM_REPORT_MAX_ISSUES, in file order */
    size_t    nissues, cap;
    char      dialect[96];     /* how the file was read when not plain CSV ("';'-separated,
                                  decimal comma, Windows-1252", for a note); "" if plain */
} hm_import_report;

#define HM_REPORT_MAX_ISSUES 10000

void hm_import_report_init(hm_import_report *rep);
void hm_import_report_free(hm_import_report *rep);
/* "file:line:field: message" per issue, errors and warnings. */
void hm_import_report_print(const hm_import_report *rep, FILE *out);
int  hm_import_report_json(const hm_import_report *rep, FILE *out, hm_error *err);

/* Field-level validation of one row (type, range, codes, required, missing
 * codes, date pairs); values[i] belongs to t->fields[i], NULL = column absent.
 * Problems are appended to rep; returns the number of errors added. */
int  hm_dict_validate_row(const hm_dict_table *t, const char *const *values,
                          long line, hm_import_report *rep);

/* ------------------------------------------------------------------ */
/* Writing rows.                                                       */

/* Validates one row (field rules, cross-field rules and references to
 * patient/procedure/course rows already stored) and inserts or updates it on
 * its natural key.  names/values are parallel (n of them); fields not named
 * are NULL.  A centre_code other than `centre` is HM_EPERM; a validation
 * failure is HM_EVALIDATE with the first problem in err.  Runs inside the
 * caller's transaction if one is open. */
int  hm_registry_upsert_row(hm_db *db, const char *centre, const char *table,
                            const char *const *names, const char *const *values,
                            size_t n, hm_error *err);

/* Validated import of one CSV file (header row = field names) into table for
 * centre: every problem goes to rep; nothing is stored unless there is no
 * error (one transaction).  Returns HM_OK, HM_EVALIDATE (rows rejected,
 * database unchanged) or another hm_status (file or database failure). */
int  hm_registry_import_csv(hm_db *db, const char *centre, const char *table,
                            const char *csv_path, hm_import_report *rep,
                            hm_error *err);
/* The same with flags: HM_IMPORT_DRY_RUN validates everything (references
 * included) and rolls back even when the file is clean. */
#define HM_IMPORT_DRY_RUN 1
int  hm_registry_import_csv_ex(hm_db *db, const char *centre, const char *table,
                               const char *csv_path, unsigned flags,
                               hm_import_report *rep, hm_error *err);
/* The same with a CSV dialect (hm_core.h; NULL or zeroed: detect separator,
 * decimal mark and encoding).  A header read with the wrong separator is
 * one error saying which --delimiter to use. */
int  hm_registry_import_csv_dialect(hm_db *db, const char *centre, const char *table,
                                    const char *csv_path, unsigned flags,
                                    const hm_csv_dialect *dialect,
                                    hm_import_report *rep, hm_error *err);

/* Analysis-ready CSV per table (rows ordered by natural key), codebook.csv,
 * codebook.md, load_harmonic.R and load_harmonic.do into outdir (created).
 * centre NULL exports every centre. */
int  hm_registry_export(hm_db *db, const char *outdir, const char *centre,
                        hm_error *err);

/* Data-quality summary and per-centre completeness, as text or JSON. */
int  hm_registry_report(hm_db *db, FILE *out, int json, hm_error *err);

/* ------------------------------------------------------------------ */
/* Treatment exposures (treatment.c, docs/registry.md "Treatment tables"). */
/*
 * Per patient, from the chemotherapy rows and the factors of
 * data/rt/chemo_agents.csv: the cyclophosphamide-equivalent dose (Green et
 * al., Pediatr Blood Cancer 2014) and the doxorubicin isotoxic equivalent
 * (COG LTFU Guidelines v6.0, 2023; Feijen et al., JAMA Oncol 2019), both
 * sum(factor x cumulative dose) in mg/m2; agents without a factor add 0.
 */
typedef struct hm_chemo_factors hm_chemo_factors;
/* path NULL: data/rt/chemo_agents.csv via hm_data_path(). */
int  hm_chemo_factors_load(const char *path, hm_chemo_factors **factors, hm_error *err);
void hm_chemo_factors_free(hm_chemo_factors *factors);
/* 1 and the agent's factors (NAN where it has none), or 0: unknown agent. */
int  hm_chemo_factors_get(const hm_chemo_factors *factors, const char *agent,
                          double *ced_per_mg_m2, double *die_per_mg_m2);
/* CED and DIE of one row (0 for an agent without that factor); an unknown
 * agent or a negative dose is HM_EVALIDATE. */
int  hm_chemo_row_exposure(const hm_chemo_factors *factors, const char *agent,
                           double dose_mg_m2, double *ced_mg_m2, double *die_mg_m2,
                           hm_error *err);

typedef struct hm_treatment_exposure {
    char   centre[64];
    char   pseudonym[72];
    long   chemo_rows;           /* chemotherapy rows (agents) of the patient */
    double ced_mg_m2, die_mg_m2; /* over all of them */
    long   sct_rows, surgery_rows;
} hm_treatment_exposure;
/* One entry per patient with any treatment row (centre NULL: every centre),
 * in (centre, pseudonym) byte order; *out is malloc'd (free it). */
int  hm_registry_treatment_exposures(hm_db *db, const char *centre,
                                     const hm_chemo_factors *factors,
                                     hm_treatment_exposure **out, size_t *n, hm_error *err);

/* ------------------------------------------------------------------ */
/* Dose runs: what `harmonic dose cohort` writes (docs/registry.md).   */
/*
 * Realizations are stored packed, one row per (source, organ, method) of
 * table organ_dose_real holding n little-endian float32 values; the best
 * estimates stay organ_dose rows with realization 0.  Per-event and
 * per-procedure results go to dose_event and dose_procedure.  A run is a
 * dose_run row; the procedures it finished are dose_run_done rows, each
 * committed in the same transaction as the procedure's doses, so a killed
 * run leaves only whole procedures and resumes with hm_dose_run_pending.
 *
 * The writers validate their arguments (codes, ranges, the source being
 * registered for the centre) and upsert on the natural key; they run inside
 * the caller's transaction when one is open.  Typical runner:
 *
 *     hm_dose_run_open(db, run, params_json, "0.9", lib_id, &created, &err);
 *     hm_dose_writer *w;  hm_dose_writer_open(db, run, 200, &w, &err);
 *     hm_dose_run_pending(db, run, per_procedure, ctx, &err);
 *         // per_procedure: hm_dose_writer_start(w), hm_registry_put_...,
 *         //                hm_dose_writer_done(w, centre, procedure_id)
 *     hm_dose_writer_close(w, &err);        // commits the last K
 */

/* Realizations of one organ dose (n of them, mGy); upsert. */
int hm_registry_put_realizations(hm_db *db, const char *centre, const char *source_type,
                                 const char *source_id, const char *organ, const char *method,
                                 const char *run_id, const float *dose_mgy, int n,
                                 hm_error *err);

typedef struct hm_realization_row {
    const char  *centre, *source_type, *source_id, *organ, *method, *run_id;
    int          n;
    const float *dose_mgy;         /* n values, valid during the callback */
} hm_realization_row;
/* Returns 0 to go on; anything else stops the read and is returned. */
typedef int (*hm_realization_fn)(void *arg, const hm_realization_row *row);
/* Streams the realizations of one organ (centre NULL: every centre) ordered
 * by centre, source_id, source_type, method (byte order on both back ends);
 * memory is one row. */
int hm_registry_read_realizations(hm_db *db, const char *organ, const char *centre,
                                  hm_realization_fn fn, void *arg, hm_error *err);

/* One irradiation event's dosimetry.  NAN leaves a real NULL; imputed is the
 * comma-separated names of the imputed inputs ("" or NULL: none). */
typedef struct hm_dose_event_row {
    const char *centre, *procedure_id, *event_uid, *run_id;
    const char *imputed;           /* e.g. "kvp,field,position" */
    const char *method;            /* "library" or "direct" */
    double      effective_dose_msv, kap_used_gy_cm2;
} hm_dose_event_row;
int hm_registry_put_dose_event(hm_db *db, const hm_dose_event_row *row, hm_error *err);

typedef struct hm_dose_procedure_row {
    const char *centre, *procedure_id, *run_id;
    int         tier_used;         /* 1, 2 or 3 */
    double      effective_dose_msv, peak_skin_dose_mgy;   /* NAN: NULL */
    const void *skin_map;          /* NULL: none; stored as given */
    size_t      skin_map_bytes;
} hm_dose_procedure_row;
int hm_registry_put_dose_procedure(hm_db *db, const hm_dose_procedure_row *row, hm_error *err);

typedef struct hm_dose_run {
    char  run_id[128];
    char  created_at[32];
    char *params;                  /* the runner's JSON (malloc'd; hm_dose_run_clear) */
    char  engine_version[64];
    char  library_id[256];
} hm_dose_run;
void hm_dose_run_clear(hm_dose_run *run);
/* Creates run_id (stamped now) or, when it exists, leaves it as it is:
 * *created (may be NULL) says which. */
int hm_dose_run_open(hm_db *db, const char *run_id, const char *params_json,
                     const char *engine_version, const char *library_id, int *created,
                     hm_error *err);
/* HM_ENOTFOUND when there is no such run. */
int hm_dose_run_find(hm_db *db, const char *run_id, hm_dose_run *run, hm_error *err);
/* Marks a procedure finished: only inside the transaction that wrote its
 * doses (HM_EINVAL otherwise). */
int hm_dose_run_mark_done(hm_db *db, const char *run_id, const char *centre,
                          const char *procedure_id, hm_error *err);
int hm_dose_run_count_done(hm_db *db, const char *run_id, long *n, hm_error *err);
/* Calls fn for every procedure not finished by run_id, in (centre,
 * procedure_id) byte order, with its dose_tier; fn returning nonzero stops
 * and that value is returned.  fn may write (the rows still to come were
 * read first on PostgreSQL; SQLite's read sees no row of later procedures
 * change). */
typedef int (*hm_pending_fn)(void *arg, const char *centre, const char *procedure_id,
                             int dose_tier);
int hm_dose_run_pending(hm_db *db, const char *run_id, hm_pending_fn fn, void *arg,
                        hm_error *err);

/* Bulk writing for one writer: hm_dose_writer_start opens a transaction if
 * none is open; hm_dose_writer_done marks the procedure finished and commits
 * every commit_every procedures; close commits the rest, abort rolls back
 * what is not committed (those procedures stay pending). */
typedef struct hm_dose_writer hm_dose_writer;
int  hm_dose_writer_open(hm_db *db, const char *run_id, int commit_every,
                         hm_dose_writer **w, hm_error *err);
int  hm_dose_writer_start(hm_dose_writer *w, hm_error *err);
int  hm_dose_writer_done(hm_dose_writer *w, const char *centre, const char *procedure_id,
                         hm_error *err);
long hm_dose_writer_committed(const hm_dose_writer *w);   /* procedures committed */
int  hm_dose_writer_close(hm_dose_writer *w, hm_error *err);
void hm_dose_writer_abort(hm_dose_writer *w);

#endif
