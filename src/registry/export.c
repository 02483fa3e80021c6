/*
 * export.c — analysis-ready CSVs (one per table, rows in natural-key order,
 * so two exports of the same content are byte-identical), a codebook in CSV
 * and Markdown, and R and Stata loading scripts generated from the
 * dictionary.  Each file is written to a temporary name and renamed, so an
 * interrupted export never leaves a truncated file behind.
 */
#include "registry_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void hm__format_double(double v, char *buf, size_t size)
{
    /* The shortest of %.15g..%.17g that reads back as the same double:
     * 17 significant digits always round-trip (IEEE 754 binary64). */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* RFC 4648 base64 (section 4, with '=' padding): BLOB columns in CSV, the
 * same text for the same bytes on both back ends. */
static void write_base64(FILE *fp, const unsigned char *b, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0) |
                     (i + 2 < n ? b[i + 2] : 0);
        char q[4] = { A[v >> 18 & 63], A[v >> 12 & 63], i + 1 < n ? A[v >> 6 & 63] : '=',
                      i + 2 < n ? A[v & 63] : '=' };
        fwrite(q, 1, 4, fp);
    }
}

typedef struct out_file {
    FILE *fp;
    char  path[1024], tmp[1040];
} out_file;

static int out_open(out_file *o, const char *dir, const char *name, hm_error *err)
{
    snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp", o->path);
    o->fp = fopen(o->tmp, "w");
    if (!o->fp)
        return hm_error_set(err, HM_EIO, o->tmp, 0, NULL, "cannot write: %s", strerror(errno));
    return HM_OK;
}

static int out_close(out_file *o, int ok, hm_error *err)
{
    int bad = ferror(o->fp);
    bad |= fclose(o->fp) != 0;
    if (!ok || bad) {
        remove(o->tmp);
        return ok ? hm_error_set(err, HM_EIO, o->path, 0, NULL, "write failed") : HM_OK;
    }
    if (rename(o->tmp, o->path))
        return hm_error_set(err, HM_EIO, o->path, 0, NULL, "cannot rename: %s", strerror(errno));
    return HM_OK;
}

static int export_table(hm_db *db, const hm_dict_table *t, const char *dir, const char *centre,
                        hm_error *err)
{
    /* Byte order for text keys on both engines (PostgreSQL would otherwise
     * sort by the database's locale). */
    const char *coll = db->kind == HM_DB_POSTGRES ? " COLLATE \"C\"" : "";
    size_t cap = 128 + t->nfields * 80;
    char *sql = malloc(cap);
    if (!sql)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    size_t o = (size_t)snprintf(sql, cap, "SELECT ");
    for (size_t i = 0; i < t->nfields; i++)
        o += (size_t)snprintf(sql + o, cap - o, "%s%s", i ? ", " : "", t->fields[i].name);
    o += (size_t)snprintf(sql + o, cap - o, " FROM %s%s ORDER BY ", t->name,
                          centre ? " WHERE centre_code = ?" : "");
    int first = 1;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].key) {
            int text = t->fields[i].type != HM_FT_INT && t->fields[i].type != HM_FT_BOOL;
            o += (size_t)snprintf(sql + o, cap - o, "%s%s%s", first ? "" : ", ",
                                  t->fields[i].name, text ? coll : "");
            first = 0;
        }
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    free(sql);
    if (rc)
        return rc;
    if (centre)
        hm_stmt_bind_text(st, 1, centre);
    char name[128];
    snprintf(name, sizeof name, "%s.csv", t->name);
    out_file of;
    if ((rc = out_open(&of, dir, name, err))) {
        hm_stmt_finalize(st);
        return rc;
    }
    for (size_t i = 0; i < t->nfields; i++) {
        if (i)
            fputc(',', of.fp);
        hm_csv_write_field(of.fp, t->fields[i].name);
    }
    fputc('\n', of.fp);
    while ((rc = hm_stmt_step(st, err)) == 1) {
        for (size_t i = 0; i < t->nfields; i++) {
            if (i)
                fputc(',', of.fp);
            if (hm_stmt_column_isnull(st, (int)i))
                continue;
            if (t->fields[i].type == HM_FT_REAL) {
                char buf[40];
                hm__format_double(hm_stmt_column_double(st, (int)i), buf, sizeof buf);
                fputs(buf, of.fp);
            } else if (t->fields[i].type == HM_FT_INT || t->fields[i].type == HM_FT_BOOL) {
                fprintf(of.fp, "%lld", (long long)hm_stmt_column_int64(st, (int)i));
            } else if (t->fields[i].type == HM_FT_BLOB) {
                size_t n;
                const unsigned char *b = hm_stmt_column_blob(st, (int)i, &n);
                write_base64(of.fp, b, b ? n : 0);
            } else {
                hm_csv_write_field(of.fp, hm_stmt_column_text(st, (int)i));
            }
        }
        fputc('\n', of.fp);
    }
    hm_stmt_finalize(st);
    int rc2 = out_close(&of, rc == 0, err);
    return rc < 0 ? rc : rc2;
}

/* Allowed values or range, as one readable cell. */
static void allowed(const hm_dict_field *f, char *buf, size_t size)
{
    if (f->codes[0] == '@' && !f->ncodes)
        snprintf(buf, size, "%s", f->codes + 1);
    else if (f->codes[0])
        snprintf(buf, size, "%s%s", f->codes[0] == '@' ? "see " : "",
                 f->codes[0] == '@' ? hm__code_list_file(f->codes) : f->codes);
    else if (f->type == HM_FT_BLOB)
        snprintf(buf, size, "base64 (RFC 4648) of the bytes");
    else if (f->has_min || f->has_max)
        snprintf(buf, size, "%s to %s", f->has_min ? f->min : "", f->has_max ? f->max : "");
    else
        buf[0] = 0;
}

static int write_codebook(const hm_dict *d, const char *dir, hm_error *err)
{
    out_file c, m;
    int rc = out_open(&c, dir, "codebook.csv", err);
    if (rc)
        return rc;
    if ((rc = out_open(&m, dir, "codebook.md", err))) {
        out_close(&c, 0, err);
        return rc;
    }
    fputs("table,variable,type,unit,required,allowed,key,description\n", c.fp);
    fputs("# harmonic export codebook\n\nGenerated from data/dictionary.csv. Empty cells are "
          "missing values (the dictionary's missing codes are stored as empty).\n", m.fp);
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        const hm_dict_table *t = hm_dict_table_at(d, i);
        fprintf(m.fp, "\n## %s (`%s.csv`)\n\n%s| variable | type | unit | required | allowed | "
                      "description |\n|---|---|---|---|---|---|\n", t->name, t->name,
                t->computed ? "Computed by `harmonic dose cohort` (not imported by the centres).\n\n"
                            : "");
        for (size_t j = 0; j < t->nfields; j++) {
            const hm_dict_field *f = &t->fields[j];
            char al[1024];
            allowed(f, al, sizeof al);
            const char *req = f->required == HM_REQ_YES ? "yes"
                            : f->required == HM_REQ_PAIR ? "date or day" : "no";
            const char *cells[] = { t->name, f->name, hm_field_type_name(f->type), f->unit, req,
                                    al, f->key ? "1" : "0", f->description };
            for (size_t k = 0; k < sizeof cells / sizeof *cells; k++) {
                if (k)
                    fputc(',', c.fp);
                hm_csv_write_field(c.fp, cells[k]);
            }
            fputc('\n', c.fp);
            for (char *p = al; *p; p++)
                if (*p == ';')
                    *p = ',';
            fprintf(m.fp, "| %s%s%s | %s | %s | %s | %s | %s |\n", f->key ? "**" : "", f->name,
                    f->key ? "**" : "", hm_field_type_name(f->type), f->unit, req, al,
                    f->description);
        }
    }
    rc = out_close(&c, 1, err);
    int rc2 = out_close(&m, 1, err);
    return rc ? rc : rc2;
}

/* R: read.csv with explicit column classes; codes become factors with the
 * dictionary's levels, dates Date objects. */
static int write_r(const hm_dict *d, const char *dir, hm_error *err)
{
    out_file o;
    int rc = out_open(&o, dir, "load_harmonic.R", err);
    if (rc)
        return rc;
    FILE *fp = o.fp;
    fputs("# Generated by `harmonic export` from data/dictionary.csv.\n"
          "# Usage: source(\"load_harmonic.R\"); h <- load_harmonic(\"export-dir\")\n"
          "load_harmonic <- function(dir = \".\") {\n  h <- list()\n", fp);
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        const hm_dict_table *t = hm_dict_table_at(d, i);
        fprintf(fp, "  x <- read.csv(file.path(dir, \"%s.csv\"), na.strings = \"\", "
                    "stringsAsFactors = FALSE,\n    colClasses = c(", t->name);
        for (size_t j = 0; j < t->nfields; j++) {
            hm_field_type ty = t->fields[j].type;
            const char *cls = ty == HM_FT_INT || ty == HM_FT_BOOL ? "integer"
                            : ty == HM_FT_REAL ? "numeric" : "character";
            fprintf(fp, "%s%s = \"%s\"", j ? ", " : "", t->fields[j].name, cls);
        }
        fputs("))\n", fp);
        for (size_t j = 0; j < t->nfields; j++) {
            const hm_dict_field *f = &t->fields[j];
            if (f->type == HM_FT_DATE) {
                fprintf(fp, "  x$%s <- as.Date(x$%s)\n", f->name, f->name);
            } else if (f->type == HM_FT_CODE && f->ncodes) {
                fprintf(fp, "  x$%s <- factor(x$%s, levels = c(", f->name, f->name);
                for (size_t k = 0; k < f->ncodes; k++)
                    fprintf(fp, "%s\"%s\"", k ? ", " : "", f->code_list[k]);
                fputs("))\n", fp);
            }
            fprintf(fp, "  attr(x$%s, \"label\") <- \"", f->name);
            for (const char *p = f->description; *p; p++)
                fputs(*p == '"' ? "\\\"" : (char[]){ *p, 0 }, fp);
            fprintf(fp, "%s%s%s\"\n", f->unit[0] ? " [" : "", f->unit, f->unit[0] ? "]" : "");
        }
        fprintf(fp, "  h$%s <- x\n", t->name);
    }
    fputs("  h\n}\n", fp);
    return out_close(&o, 1, err);
}

/* Stata: one .dta per table, strings kept as strings, labels from the dictionary. */
static int write_stata(const hm_dict *d, const char *dir, hm_error *err)
{
    out_file o;
    int rc = out_open(&o, dir, "load_harmonic.do", err);
    if (rc)
        return rc;
    FILE *fp = o.fp;
    fputs("* Generated by `harmonic export` from data/dictionary.csv.\n"
          "* Usage (in the export folder): do load_harmonic.do\n", fp);
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        const hm_dict_table *t = hm_dict_table_at(d, i);
        fprintf(fp, "\nimport delimited using \"%s.csv\", clear varnames(1) "
                    "bindquotes(strict) stringcols(", t->name);
        int n = 0;
        for (size_t j = 0; j < t->nfields; j++) {
            hm_field_type ty = t->fields[j].type;
            if (ty != HM_FT_INT && ty != HM_FT_BOOL && ty != HM_FT_REAL)
                fprintf(fp, "%s%zu", n++ ? " " : "", j + 1);
        }
        fputs(")\n", fp);
        for (size_t j = 0; j < t->nfields; j++) {
            const hm_dict_field *f = &t->fields[j];
            fprintf(fp, "label variable %s \"", f->name);
            /* Stata variable labels hold 80 characters. */
            size_t len = 0;
            for (const char *p = f->description; *p && len < 72; p++, len++)
                fputc(*p == '"' ? '\'' : *p, fp);
            fputs("\"\n", fp);
            if (f->type == HM_FT_DATE)
                fprintf(fp, "generate %s_d = date(%s, \"YMD\")\nformat %s_d %%td\n", f->name,
                        f->name, f->name);
        }
        fprintf(fp, "save \"%s.dta\", replace\n", t->name);
    }
    return out_close(&o, 1, err);
}

int hm_registry_export(hm_db *db, const char *dir, const char *centre, hm_error *err)
{
    if (mkdir(dir, 0777) && errno != EEXIST)
        return hm_error_set(err, HM_EIO, dir, 0, NULL, "cannot create folder: %s", strerror(errno));
    int rc = HM_OK;
    for (size_t i = 0; i < hm_dict_ntables(db->dict) && rc == HM_OK; i++)
        rc = export_table(db, hm_dict_table_at(db->dict, i), dir, centre, err);
    if (rc == HM_OK)
        rc = write_codebook(db->dict, dir, err);
    if (rc == HM_OK)
        rc = write_r(db->dict, dir, err);
    if (rc == HM_OK)
        rc = write_stata(db->dict, dir, err);
    return rc;
}
