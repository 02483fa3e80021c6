/*
 * cmd_registry.c — registry commands: dictionary, import, export, report, db.
 * Each parses its options and calls hm_registry; nothing else lives here.
 * The database is --db (a file path or postgresql:// URL), else $HARMONIC_DB,
 * else harmonic.db in the current folder.
 */
#include "cli.h"
#include "hm_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *default_db(void)
{
    const char *env = getenv("HARMONIC_DB");
    return env && env[0] ? env : "harmonic.db";
}

#define DB_OPT HM_OPT_STR("db", "URL", "registry: a SQLite file or postgresql:// URL", \
                          "$HARMONIC_DB, else harmonic.db")

static int open_db(const char *url, hm_db **db)
{
    hm_error err;
    hm_error_clear(&err);
    if (hm_db_open(url, db, &err))
        return hm_cli_report(&err);
    return 0;
}

static int run_dictionary(const hm_args *a)
{
    const char *format = hm_args_str(a, "format", "text"), *template = hm_args_str(a, "template", NULL);
    hm_error err;
    hm_error_clear(&err);
    hm_dict *d;
    int rc = hm_dict_load(NULL, &d, &err);
    if (rc == HM_OK) {
        rc = template ? hm_dict_write_template(d, template, stdout, &err)
                      : hm_dict_write(d, format, stdout, &err);
        hm_dict_free(d);
    }
    return rc ? hm_cli_report(&err) : 0;
}

static const hm_cli_opt dictionary_opts[] = {
    HM_OPT_CHOICE("format", "FORMAT", "output format", "text", "text|csv|json"),
    HM_OPT_STR("template", "TABLE", "print an empty import file for TABLE instead", NULL),
    HM_OPT_END
};
const hm_cli_cmd hm_cli_dictionary = {
    "dictionary", "print the data dictionary (text, CSV, JSON)",
    "Prints the data dictionary (data/dictionary.csv) that drives validation,\n"
    "the codebook and the R/Stata scripts; --template prints an empty import\n"
    "file for TABLE (commented column rules, then the header row).\n",
    dictionary_opts, NULL, run_dictionary, NULL, 0
};

/* One file: prints the problems and a summary; returns an hm_status. */
static int import_one(hm_db *db, const char *centre, const char *table, const char *path,
                      unsigned flags, const hm_csv_dialect *dialect, int quiet,
                      const char *json_path, hm_error *err)
{
    hm_import_report rep;
    hm_import_report_init(&rep);
    double t0 = hm_now_s();
    int st = hm_registry_import_csv_dialect(db, centre, table, path, flags, dialect, &rep, err);
    double dt = hm_now_s() - t0;
    hm_cli_dialect_note(path, rep.dialect);
    if (st == HM_OK || st == HM_EVALIDATE) {
        hm_import_report_print(&rep, stderr);
        if (!quiet || st != HM_OK)
            fprintf(st == HM_OK ? stdout : stderr,
                    "%s: %s %s: %ld rows read, %ld stored, %ld errors, %ld warnings (%.2f s)\n",
                    path, st != HM_OK ? "REJECTED, nothing stored in"
                          : flags ? "valid (dry run, nothing stored) for" : "imported into",
                    table, rep.rows_read, rep.rows_stored, rep.n_errors, rep.n_warnings, dt);
    }
    if (json_path && (st == HM_OK || st == HM_EVALIDATE)) {
        FILE *fp = fopen(json_path, "w");
        hm_error jerr;
        hm_error_clear(&jerr);
        if (!fp || hm_import_report_json(&rep, fp, &jerr)) {
            fprintf(stderr, "harmonic: %s: cannot write the JSON report\n", json_path);
            if (st == HM_OK)
                st = hm_error_set(err, HM_EIO, json_path, 0, NULL, "cannot write the JSON report");
        }
        if (fp)
            fclose(fp);
    }
    hm_import_report_free(&rep);
    return st;
}

static int run_import(const hm_args *a)
{
    const char *db_url = hm_args_str(a, "db", default_db()), *centre = hm_args_str(a, "centre", NULL);
    const char *json_path = hm_args_str(a, "report-json", NULL), *dir = hm_args_str(a, "dir", NULL);
    const char *const *pos = a->pos;
    int quiet = hm_args_flag(a, "quiet");
    unsigned flags = hm_args_flag(a, "dry-run") ? HM_IMPORT_DRY_RUN : 0;
    if (dir && a->npos)
        return hm_cli_usage_error(a, "--dir imports every TABLE.csv of DIR: give no TABLE or FILE");
    if (dir && json_path)
        return hm_cli_usage_error(a, "--report-json is for one file, not with --dir");
    if (!dir && a->npos != 2)
        return hm_cli_usage_error(a, "missing argument %s (or give --dir DIR)",
                                  a->npos ? "FILE.csv" : "TABLE");
    hm_csv_dialect dialect;
    int rc = hm_cli_dialect(a, &dialect);
    if (rc)
        return rc;
    hm_db *db;
    rc = open_db(db_url, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    int st = HM_OK;
    if (!dir) {
        st = import_one(db, centre, pos[0], pos[1], flags, &dialect, quiet, json_path, &err);
    } else {
        const hm_dict *d = hm_db_dict(db);
        int found = 0;
        for (size_t i = 0; i < hm_dict_ntables(d) && st == HM_OK; i++) {
            const char *table = hm_dict_table_at(d, i)->name;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.csv", dir, table);
            FILE *probe = fopen(path, "r");
            if (!probe)
                continue;
            fclose(probe);
            found++;
            st = import_one(db, centre, table, path, flags, &dialect, quiet, NULL, &err);
        }
        if (!found)
            st = hm_error_set(&err, HM_ENOTFOUND, dir, 0, NULL,
                              "no TABLE.csv file of the dictionary's tables in this folder");
    }
    hm_db_close(db);
    if (st == HM_EVALIDATE)
        return 1;
    return st ? hm_cli_report(&err) : 0;
}

static const hm_cli_opt import_opts[] = {
    DB_OPT,
    { "centre", 0, HM_OPT_T_STRING, "C", "the centre every row belongs to", NULL,
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_PATH("report-json", "FILE", "also write the problems as JSON to FILE", NULL),
    HM_OPT_FLAG("dry-run", "check everything, store nothing"),
    HM_OPT_FLAG("quiet", "no summary line for accepted files"),
    HM_OPT_PATH("dir", "DIR", "import DIR/TABLE.csv for every table present", NULL),
    HM_OPT_DIALECT,
    HM_OPT_END
};
static const hm_cli_pos import_pos[] = {
    { "TABLE", "dictionary table the file holds (centre, patient, procedure...)", 0, 1,
      HM_OPT_T_STRING },
    { "FILE.csv", "the file to import", 0, 1, HM_OPT_T_PATH },
    HM_POS_END
};
const hm_cli_cmd hm_cli_import = {
    "import", "validate and import a CSV file into the registry",
    "Validates every row of FILE.csv against the dictionary and the cross-field rules,\n"
    "prints each problem as file:line:field: message, and stores the file only if it\n"
    "has no error (one transaction; re-importing is idempotent).  Rows must all belong\n"
    "to centre C.  --dir imports DIR/TABLE.csv for every table present, in dictionary\n"
    "order (centre, patient, procedure...), stopping at the first rejected file.\n"
    "--dry-run checks everything and stores nothing.  Exit status 1 when a file was\n"
    "rejected.\n",
    import_opts, import_pos, run_import, NULL, 0
};

static int run_export(const hm_args *a)
{
    const char *db_url = hm_args_str(a, "db", default_db()), *out = hm_args_str(a, "out", NULL);
    const char *centre = hm_args_str(a, "centre", NULL);
    hm_db *db;
    int rc = open_db(db_url, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    rc = hm_registry_export(db, out, centre, &err);
    hm_db_close(db);
    if (rc)
        return hm_cli_report(&err);
    printf("exported to %s\n", out);
    return 0;
}

static const hm_cli_opt export_opts[] = {
    DB_OPT,
    { "out", 0, HM_OPT_T_PATH, "DIR", "folder to write", NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_STR("centre", "C", "export only centre C", "all centres"),
    HM_OPT_END
};
const hm_cli_cmd hm_cli_export = {
    "export", "export analysis-ready CSVs, codebook, R and Stata scripts",
    "Writes one analysis-ready CSV per table (rows in natural-key order),\n"
    "codebook.csv, codebook.md, load_harmonic.R and load_harmonic.do.\n",
    export_opts, NULL, run_export, NULL, 0
};

static int run_report(const hm_args *a)
{
    const char *db_url = hm_args_str(a, "db", default_db());
    int json = hm_args_flag(a, "json");
    hm_db *db;
    int rc = open_db(db_url, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    rc = hm_registry_report(db, stdout, json, &err);
    hm_db_close(db);
    return rc ? hm_cli_report(&err) : 0;
}

static const hm_cli_opt report_opts[] = {
    DB_OPT,
    HM_OPT_FLAG("json", "print JSON instead of text"),
    HM_OPT_END
};
const hm_cli_cmd hm_cli_report_cmd = {
    "report", "data-quality and per-centre completeness report",
    "Data-quality summary and per-centre completeness table.\n",
    report_opts, NULL, run_report, NULL, 0
};

/* `db init` and `db version` both open the database, which creates or
 * migrates the schema, and report its version. */
static int db_version(const hm_args *a, int init)
{
    const char *db_url = hm_args_str(a, "db", default_db());
    hm_db *db;
    int rc = open_db(db_url, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    int version = 0;
    rc = hm_db_schema_version(db, &version, &err);
    hm_db_close(db);
    if (rc)
        return hm_cli_report(&err);
    if (init)
        printf("%s: registry schema at version %d\n", db_url, version);
    else
        printf("%d\n", version);
    return 0;
}

static int run_db_init(const hm_args *a)
{
    return db_version(a, 1);
}

static int run_db_version(const hm_args *a)
{
    return db_version(a, 0);
}

static const hm_cli_opt db_opts[] = { DB_OPT, HM_OPT_END };
static const hm_cli_cmd db_init = {
    "init", "create the registry schema or apply pending migrations", NULL, db_opts, NULL,
    run_db_init, NULL, 0
};
static const hm_cli_cmd db_version_cmd = {
    "version", "print the schema version (migrating first, like init)", NULL, db_opts, NULL,
    run_db_version, NULL, 0
};
static const hm_cli_cmd *const db_subs[] = { &db_init, &db_version_cmd, NULL };
static const hm_cli_opt group_opts[] = { HM_OPT_END };
const hm_cli_cmd hm_cli_db = {
    "db", "create or migrate a registry database", NULL, group_opts, NULL, NULL, db_subs, 0
};
