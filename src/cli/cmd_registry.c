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

/* Matches "--name value" and "--name=value"; advances *i past the value. */
static int opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n))
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != 0)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "harmonic: %s needs a value\n", name);
        *value = NULL;
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

static const char *default_db(void)
{
    const char *env = getenv("HARMONIC_DB");
    return env && env[0] ? env : "harmonic.db";
}

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

static int open_db(const char *url, hm_db **db)
{
    hm_error err;
    hm_error_clear(&err);
    if (hm_db_open(url, db, &err))
        return hm_cli_report(&err);
    return 0;
}

int hm_cmd_dictionary(int argc, char **argv)
{
    const char *format = "text", *template = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            printf("usage: harmonic dictionary [--format text|csv|json] [--template TABLE]\n"
                   "Prints the data dictionary (data/dictionary.csv) that drives validation,\n"
                   "the codebook and the R/Stata scripts; --template prints an empty import\n"
                   "file for TABLE (commented column rules, then the header row).\n");
            return 0;
        } else if ((r = opt(argc, argv, &i, "--template", &template))) {
            if (r < 0) return 2;
        } else if ((r = opt(argc, argv, &i, "--format", &format))) {
            if (r < 0) return 2;
        } else {
            fprintf(stderr, "harmonic dictionary: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
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

static void import_usage(FILE *fp)
{
    fprintf(fp, "usage: harmonic import [--db URL] --centre C [--report-json FILE] [--dry-run] [--quiet]\n"
                "                       TABLE FILE.csv\n"
                "       harmonic import [--db URL] --centre C [--dry-run] [--quiet] --dir DIR\n"
                "Validates every row of FILE.csv against the dictionary and the cross-field rules,\n"
                "prints each problem as file:line:field: message, and stores the file only if it\n"
                "has no error (one transaction; re-importing is idempotent).  Rows must all belong\n"
                "to centre C.  --dir imports DIR/TABLE.csv for every table present, in dictionary\n"
                "order (centre, patient, procedure...), stopping at the first rejected file.\n"
                "--dry-run checks everything and stores nothing.  Exit status 1 when a file was\n"
                "rejected.\n");
}

/* One file: prints the problems and a summary; returns an hm_status. */
static int import_one(hm_db *db, const char *centre, const char *table, const char *path,
                      unsigned flags, int quiet, const char *json_path, hm_error *err)
{
    hm_import_report rep;
    hm_import_report_init(&rep);
    double t0 = hm_now_s();
    int st = hm_registry_import_csv_ex(db, centre, table, path, flags, &rep, err);
    double dt = hm_now_s() - t0;
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

int hm_cmd_import(int argc, char **argv)
{
    const char *db_url = default_db(), *centre = NULL, *json_path = NULL, *dir = NULL;
    const char *pos[2] = { NULL, NULL };
    int npos = 0, quiet = 0;
    unsigned flags = 0;
    for (int i = 1; i < argc; i++) {
        int r = 0;
        if (is_help(argv[i])) {
            import_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (!strcmp(argv[i], "--dry-run")) {
            flags |= HM_IMPORT_DRY_RUN;
        } else if ((r = opt(argc, argv, &i, "--db", &db_url)) ||
                   (r = opt(argc, argv, &i, "--centre", &centre)) ||
                   (r = opt(argc, argv, &i, "--dir", &dir)) ||
                   (r = opt(argc, argv, &i, "--report-json", &json_path))) {
            if (r < 0) return 2;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "harmonic import: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            fprintf(stderr, "harmonic import: one TABLE and one FILE per call (or --dir)\n");
            return 2;
        }
    }
    if (!centre || (dir ? npos != 0 || json_path : npos != 2)) {
        import_usage(stderr);
        return 2;
    }
    hm_db *db;
    int rc = open_db(db_url, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    int st = HM_OK;
    if (!dir) {
        st = import_one(db, centre, pos[0], pos[1], flags, quiet, json_path, &err);
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
            st = import_one(db, centre, table, path, flags, quiet, NULL, &err);
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

int hm_cmd_export(int argc, char **argv)
{
    const char *db_url = default_db(), *out = NULL, *centre = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            printf("usage: harmonic export [--db URL] --out DIR [--centre C]\n"
                   "Writes one analysis-ready CSV per table (rows in natural-key order),\n"
                   "codebook.csv, codebook.md, load_harmonic.R and load_harmonic.do.\n");
            return 0;
        } else if ((r = opt(argc, argv, &i, "--db", &db_url)) ||
                   (r = opt(argc, argv, &i, "--out", &out)) ||
                   (r = opt(argc, argv, &i, "--centre", &centre))) {
            if (r < 0) return 2;
        } else {
            fprintf(stderr, "harmonic export: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!out) {
        fprintf(stderr, "usage: harmonic export [--db URL] --out DIR [--centre C]\n");
        return 2;
    }
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

int hm_cmd_report(int argc, char **argv)
{
    const char *db_url = default_db();
    int json = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            printf("usage: harmonic report [--db URL] [--json]\n"
                   "Data-quality summary and per-centre completeness table.\n");
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if ((r = opt(argc, argv, &i, "--db", &db_url))) {
            if (r < 0) return 2;
        } else {
            fprintf(stderr, "harmonic report: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
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

int hm_cmd_db(int argc, char **argv)
{
    const char *db_url = default_db(), *sub = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            printf("usage: harmonic db init|version [--db URL]\n"
                   "init creates the registry schema or applies pending migrations;\n"
                   "version prints the schema version.\n");
            return 0;
        } else if ((r = opt(argc, argv, &i, "--db", &db_url))) {
            if (r < 0) return 2;
        } else if (!sub && argv[i][0] != '-') {
            sub = argv[i];
        } else {
            fprintf(stderr, "harmonic db: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!sub || (strcmp(sub, "init") && strcmp(sub, "version"))) {
        fprintf(stderr, "usage: harmonic db init|version [--db URL]\n");
        return 2;
    }
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
    if (!strcmp(sub, "init"))
        printf("%s: registry schema at version %d\n", db_url, version);
    else
        printf("%d\n", version);
    return 0;
}
