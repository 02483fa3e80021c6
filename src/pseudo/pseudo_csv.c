/* pseudo_csv.c — turning a hospital CSV into a poolable one.
 *
 * The header decides everything: a filter gives each input column an action
 * (keep, hash, date -> day offset, birth_date -> birth_year, drop) once, then
 * rows are transformed one by one (the synthetic-cohort generator uses the
 * same filter, so its default output is exactly what pseudonymising its
 * hospital-format output gives).  The file driver writes to a temporary file
 * in the destination folder that is renamed over out_path only when every
 * row was good, so a failed run never leaves a partial file. */
#include "hm_pseudo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum action { A_DROP, A_KEEP, A_HASH, A_UID, A_DAY, A_YEAR, A_DATETIME };

struct column {
    enum action act;
    char out[64];      /* output column name */
    char out2[64];     /* second output column: A_DATETIME seconds, A_KEEP birth_year */
    char ns[40];       /* HMAC namespace for A_HASH / A_UID */
    int  required;     /* a hashed id that must not be empty (the patient's) */
    char *last_in, *last_out;   /* cache: organ-dose rows repeat the same id */
};

struct hm_pseudo_filter {
    const hm_pseudo_key *key;
    struct column *cols;
    char         **header;
    size_t         ncol;
    long           birth_col;        /* date offsets are counted from it; -1 none */
    int            key_version_col;  /* write key_version after the pseudonym */
    char           name[256];        /* input name for messages */
    char           dropped[1024];
    char          *row;              /* the row being built */
    size_t         row_len, row_cap;
};

static int known(const hm_pseudo_csv_opts *o, const char *name)
{
    for (size_t i = 0; i < o->n_known; i++)
        if (!strcmp(o->known[i], name))
            return 1;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* "" or "." followed by 1..6 digits (the fraction of a DICOM-style time). */
static int fraction_ok(const char *s)
{
    if (!*s)
        return 1;
    size_t n = strspn(s + 1, "0123456789");
    return s[0] == '.' && n >= 1 && n <= 6 && s[1 + n] == '\0';
}

static void add_dropped(hm_pseudo_filter *f, const char *name)
{
    size_t n = strlen(f->dropped);
    snprintf(f->dropped + n, sizeof f->dropped - n, "%s%s", n ? "," : "", name);
}

/* Decides what happens to input column `name`. */
static enum action plan_column(const hm_pseudo_csv_opts *o, const char *name, int has_year,
                               struct column *c)
{
    memset(c, 0, sizeof *c);
    size_t n = strlen(name);
    if (n >= sizeof c->out - 8)
        return A_DROP;
    if (!strcmp(name, "local_patient_id")) {
        c->act = A_HASH;
        c->required = 1;
        strcpy(c->out, "pseudonym");
        strcpy(c->ns, "patient");
    } else if (!strncmp(name, "local_", 6) && ends_with(name, "_uid") && n > 6 + 4) {
        c->act = A_UID;
        strcpy(c->out, name + 6);
        snprintf(c->ns, sizeof c->ns, "%s", name + 6);
    } else if (!strncmp(name, "local_", 6) && ends_with(name, "_id") && n > 6 + 3) {
        c->act = A_HASH;
        strcpy(c->out, name + 6);
        snprintf(c->ns, sizeof c->ns, "%.*s", (int)(n - 9), name + 6);
        /* Organ doses point at a procedure or a course through source_id. */
        if (!known(o, c->out) && known(o, "source_id"))
            strcpy(c->out, "source_id");
    } else if (o->offset_dates && ends_with(name, "_datetime")) {
        c->act = A_DATETIME;
        snprintf(c->out, sizeof c->out, "%.*s_day", (int)(n - 9), name);
        snprintf(c->out2, sizeof c->out2, "%.*s_time_s", (int)(n - 9), name);
        if (!known(o, c->out2))
            c->out2[0] = '\0';
    } else if (o->offset_dates && !strcmp(name, "birth_date")) {
        c->act = A_YEAR;
        strcpy(c->out, "birth_year");
    } else if (o->offset_dates && ends_with(name, "_date")) {
        c->act = A_DAY;
        snprintf(c->out, sizeof c->out, "%.*s_day", (int)(n - 5), name);
    } else {
        c->act = A_KEEP;
        strcpy(c->out, name);
        /* The dictionary wants birth_year even where the full date is kept. */
        if (!strcmp(name, "birth_date") && !has_year && known(o, "birth_year"))
            strcpy(c->out2, "birth_year");
    }
    if (!known(o, c->out))
        c->act = A_DROP;
    return c->act;
}

void hm_pseudo_filter_free(hm_pseudo_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ncol; i++) {
        free(f->header ? f->header[i] : NULL);
        if (f->cols) {
            free(f->cols[i].last_in);
            free(f->cols[i].last_out);
        }
    }
    free(f->header);
    free(f->cols);
    free(f->row);
    free(f);
}

int hm_pseudo_filter_new(const hm_pseudo_key *key, const hm_pseudo_csv_opts *opts,
                         const char *const *header, size_t ncol, const char *name,
                         hm_pseudo_filter **out, hm_error *err)
{
    *out = NULL;
    hm_pseudo_filter *f = calloc(1, sizeof *f);
    if (!f || !(f->cols = calloc(ncol ? ncol : 1, sizeof *f->cols))
        || !(f->header = calloc(ncol ? ncol : 1, sizeof *f->header))) {
        hm_pseudo_filter_free(f);
        return hm_error_set(err, HM_ENOMEM, name, 1, NULL, "out of memory");
    }
    f->key = key;
    f->ncol = ncol;
    f->birth_col = -1;
    snprintf(f->name, sizeof f->name, "%s", name ? name : "");
    int has_year = 0, need_birth = 0, have_patient = 0;
    for (size_t i = 0; i < ncol; i++)
        has_year |= !strcmp(header[i], "birth_year");
    for (size_t i = 0; i < ncol; i++) {
        if (!(f->header[i] = strdup(header[i]))) {
            hm_pseudo_filter_free(f);
            return hm_error_set(err, HM_ENOMEM, name, 1, NULL, "out of memory");
        }
        struct column *c = &f->cols[i];
        plan_column(opts, header[i], has_year, c);
        if (!strcmp(header[i], "key_version"))
            c->act = A_DROP;          /* we write the key's own version */
        if (c->act == A_DROP)
            add_dropped(f, header[i]);
        if (opts->offset_dates && !strcmp(header[i], "birth_date"))
            f->birth_col = (long)i;
        need_birth |= c->act == A_DAY || c->act == A_DATETIME;
        have_patient |= c->required && c->act != A_DROP;
    }
    f->key_version_col = known(opts, "key_version");
    int rc = HM_OK;
    for (size_t i = 0; i < ncol && rc == HM_OK; i++)
        for (size_t j = 0; j < i && rc == HM_OK; j++)
            if (f->cols[i].act != A_DROP && f->cols[j].act != A_DROP
                && !strcmp(f->cols[i].out, f->cols[j].out))
                rc = hm_error_set(err, HM_EPARSE, name, 1, header[i],
                                  "two input columns both give output column '%s'",
                                  f->cols[i].out);
    if (rc == HM_OK && need_birth && f->birth_col < 0)
        rc = hm_error_set(err, HM_EPARSE, name, 1, "birth_date",
                          "--offset-dates needs a birth_date column to turn dates into days since birth");
    if (rc == HM_OK && known(opts, "pseudonym") && !have_patient)
        rc = hm_error_set(err, HM_EPARSE, name, 1, "local_patient_id",
                          "missing column: table %s needs the local patient id", opts->table);
    if (rc) {
        hm_pseudo_filter_free(f);
        return rc;
    }
    *out = f;
    return HM_OK;
}

const char *hm_pseudo_filter_dropped(const hm_pseudo_filter *f)
{
    return f->dropped;
}

void hm_pseudo_filter_write_header(const hm_pseudo_filter *f, FILE *fp)
{
    int first = 1;
    for (size_t i = 0; i < f->ncol; i++) {
        const struct column *c = &f->cols[i];
        if (c->act == A_DROP)
            continue;
        fprintf(fp, "%s%s", first ? "" : ",", c->out);
        first = 0;
        if (c->out2[0])
            fprintf(fp, ",%s", c->out2);
        if (c->required && f->key_version_col)
            fputs(",key_version", fp);
    }
    fputc('\n', fp);
}

/* Appends to the row buffer; returns 0 when out of memory. */
static int put(hm_pseudo_filter *f, const char *s, size_t n)
{
    if (f->row_len + n + 1 > f->row_cap) {
        size_t cap = f->row_cap ? f->row_cap : 256;
        while (cap < f->row_len + n + 1)
            cap *= 2;
        char *p = realloc(f->row, cap);
        if (!p)
            return 0;
        f->row = p;
        f->row_cap = cap;
    }
    memcpy(f->row + f->row_len, s, n);
    f->row_len += n;
    f->row[f->row_len] = '\0';
    return 1;
}

static int puts_(hm_pseudo_filter *f, const char *s)
{
    return put(f, s, strlen(s));
}

static int put_field(hm_pseudo_filter *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return puts_(f, s);
    int ok = put(f, "\"", 1);
    for (; *s && ok; s++)
        ok = (*s == '"' ? put(f, "\"\"", 2) : put(f, s, 1));
    return ok && put(f, "\"", 1);
}

/* Adds file, line and field to an error from the identifier functions. */
static int locate(hm_error *err, const char *file, long line, const char *field)
{
    if (!err)
        return HM_EVALIDATE;
    char msg[sizeof err->msg];
    memcpy(msg, err->msg, sizeof msg);
    return hm_error_set(err, err->code, file, line, field, "%s", msg);
}

/* Hashes v (or reuses the previous row's result for the same v). */
static int hash_cached(hm_pseudo_filter *f, struct column *c, const char *v, long line,
                       const char *field, hm_error *err)
{
    if (c->last_in && !strcmp(c->last_in, v))
        return puts_(f, c->last_out) ? HM_OK
               : hm_error_set(err, HM_ENOMEM, f->name, line, NULL, "out of memory");
    char buf[HM_PSEUDO_HEX_SIZE > HM_PSEUDO_UID_SIZE ? HM_PSEUDO_HEX_SIZE : HM_PSEUDO_UID_SIZE];
    int rc = c->act == A_UID ? hm_pseudo_uid(f->key, c->ns, v, buf, err)
                             : hm_pseudo_id(f->key, c->ns, v, buf, err);
    if (rc)
        return locate(err, f->name, line, field);
    free(c->last_in);
    free(c->last_out);
    c->last_in = strdup(v);
    c->last_out = strdup(buf);
    if (!c->last_in || !c->last_out || !puts_(f, buf)) {
        free(c->last_in);
        free(c->last_out);
        c->last_in = c->last_out = NULL;
        return hm_error_set(err, HM_ENOMEM, f->name, line, NULL, "out of memory");
    }
    return HM_OK;
}

int hm_pseudo_filter_write_row(hm_pseudo_filter *f, FILE *fp, const char *const *fields,
                               size_t nfields, long line, hm_error *err)
{
    if (nfields != f->ncol)
        return hm_error_set(err, HM_EPARSE, f->name, line, NULL,
                            "%zu fields, expected %zu as in the header", nfields, f->ncol);
    long birth_days = 0;
    int have_birth = 0, ok = 1, first = 1;
    if (f->birth_col >= 0 && fields[f->birth_col][0]) {
        if (hm_date_parse(fields[f->birth_col], &birth_days))
            return hm_error_set(err, HM_EPARSE, f->name, line, "birth_date",
                                "'%s' is not a date YYYY-MM-DD", fields[f->birth_col]);
        have_birth = 1;
    }
    f->row_len = 0;
    for (size_t i = 0; i < f->ncol && ok; i++) {
        struct column *c = &f->cols[i];
        if (c->act == A_DROP)
            continue;
        if (!first)
            ok = put(f, ",", 1);
        first = 0;
        const char *v = fields[i];
        char buf[64];
        long days;
        int hh, mi, ss, rc;
        switch (c->act) {
        case A_HASH:
        case A_UID:
            if (!v[0]) {
                if (c->required)
                    return hm_error_set(err, HM_EVALIDATE, f->name, line, f->header[i],
                                        "empty local patient id");
                break;
            }
            if ((rc = hash_cached(f, c, v, line, f->header[i], err)))
                return rc;
            if (c->required && f->key_version_col) {
                snprintf(buf, sizeof buf, ",%d", f->key->version);
                ok = puts_(f, buf);
            }
            break;
        case A_DATETIME:
            /* YYYY-MM-DDThh:mm:ss[.fff] -> days since birth, seconds since midnight */
            if (!v[0]) {
                if (c->out2[0])
                    ok = put(f, ",", 1);
                break;
            }
            snprintf(buf, sizeof buf, "%.10s", v);
            if (strlen(v) < 19 || v[10] != 'T' || hm_date_parse(buf, &days)
                || sscanf(v + 11, "%2d:%2d:%2d", &hh, &mi, &ss) != 3 || hh > 23 || mi > 59
                || ss > 60 || hh < 0 || mi < 0 || ss < 0 || v[13] != ':' || v[16] != ':'
                || !fraction_ok(v + 19))
                return hm_error_set(err, HM_EPARSE, f->name, line, f->header[i],
                                    "'%s' is not a date-time YYYY-MM-DDThh:mm:ss", v);
            if (!have_birth)
                return hm_error_set(err, HM_EVALIDATE, f->name, line, "birth_date",
                                    "empty birth date: cannot compute %s", c->out);
            snprintf(buf, sizeof buf, "%ld", days - birth_days);
            ok = puts_(f, buf);
            if (c->out2[0]) {
                snprintf(buf, sizeof buf, ",%d%s", hh * 3600 + mi * 60 + ss, v + 19);
                ok = ok && puts_(f, buf);
            }
            break;
        case A_YEAR:
            if (v[0] && hm_date_parse(v, &days))
                return hm_error_set(err, HM_EPARSE, f->name, line, f->header[i],
                                    "'%s' is not a date YYYY-MM-DD", v);
            ok = put(f, v, v[0] ? 4 : 0);
            break;
        case A_DAY:
            if (!v[0])
                break;
            if (hm_date_parse(v, &days))
                return hm_error_set(err, HM_EPARSE, f->name, line, f->header[i],
                                    "'%s' is not a date YYYY-MM-DD", v);
            if (!have_birth)
                return hm_error_set(err, HM_EVALIDATE, f->name, line, "birth_date",
                                    "empty birth date: cannot compute %s", c->out);
            snprintf(buf, sizeof buf, "%ld", days - birth_days);
            ok = puts_(f, buf);
            break;
        default:
            ok = put_field(f, v);
            if (ok && c->out2[0]) {          /* birth_year beside a kept birth_date */
                if (v[0] && hm_date_parse(v, &days))
                    return hm_error_set(err, HM_EPARSE, f->name, line, f->header[i],
                                        "'%s' is not a date YYYY-MM-DD", v);
                snprintf(buf, sizeof buf, ",%.4s", v);
                ok = puts_(f, buf);
            }
        }
    }
    if (!ok || !put(f, "\n", 1))
        return hm_error_set(err, HM_ENOMEM, f->name, line, NULL, "out of memory");
    fwrite(f->row, 1, f->row_len, fp);
    return HM_OK;
}

static int tmp_beside(const char *out_path, char *tmp, size_t size, FILE **fp, hm_error *err)
{
    int n = snprintf(tmp, size, "%s.tmp.XXXXXX", out_path);
    if (n < 0 || (size_t)n >= size)
        return hm_error_set(err, HM_EINVAL, out_path, 0, NULL, "path too long");
    int fd = mkstemp(tmp);
    if (fd < 0)
        return hm_error_set(err, HM_EIO, out_path, 0, NULL, "cannot create a temporary file: %s",
                            strerror(errno));
    *fp = fdopen(fd, "w");
    if (!*fp) {
        close(fd);
        unlink(tmp);
        return hm_error_set(err, HM_EIO, out_path, 0, NULL, "cannot open: %s", strerror(errno));
    }
    return HM_OK;
}

int hm_pseudo_csv(const hm_pseudo_key *key, const hm_pseudo_csv_opts *opts,
                  const char *in_path, const char *out_path,
                  hm_pseudo_csv_result *result, hm_error *err)
{
    return hm_pseudo_csv_ex(key, opts, NULL, in_path, out_path, result, err);
}

int hm_pseudo_csv_ex(const hm_pseudo_key *key, const hm_pseudo_csv_opts *opts,
                     const hm_csv_dialect *dialect, const char *in_path, const char *out_path,
                     hm_pseudo_csv_result *result, hm_error *err)
{
    memset(result, 0, sizeof *result);
    hm_csv *csv = hm_csv_open_dialect(in_path, 0, dialect, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    if (!hm_csv_dialect_describe(hm_csv_dialect_seen(csv), result->dialect, sizeof result->dialect))
        result->dialect[0] = '\0';
    char **fields;
    size_t nf;
    int rc = hm_csv_next(csv, &fields, &nf, err);
    if (rc > 0 && hm_csv_header_check(csv, fields, nf, err))
        rc = HM_EPARSE;
    if (rc <= 0) {
        hm_csv_close(csv);
        return rc < 0 ? rc : hm_error_set(err, HM_EPARSE, in_path, 1, NULL, "empty file: no header");
    }
    hm_pseudo_filter *f;
    rc = hm_pseudo_filter_new(key, opts, (const char *const *)fields, nf, in_path, &f, err);
    if (rc) {
        hm_csv_close(csv);
        return rc;
    }
    snprintf(result->dropped, sizeof result->dropped, "%s", f->dropped);
    char tmp[4096];
    FILE *out = NULL;
    rc = tmp_beside(out_path, tmp, sizeof tmp, &out, err);
    if (rc) {
        hm_pseudo_filter_free(f);
        hm_csv_close(csv);
        return rc;
    }
    hm_pseudo_filter_write_header(f, out);
    while ((rc = hm_csv_next(csv, &fields, &nf, err)) == 1) {
        rc = hm_pseudo_filter_write_row(f, out, (const char *const *)fields, nf,
                                        hm_csv_line(csv), err);
        if (rc)
            break;
        result->rows++;
    }
    if (rc == HM_OK && (fflush(out) != 0 || ferror(out) || fsync(fileno(out)) != 0))
        rc = hm_error_set(err, HM_EIO, out_path, 0, NULL, "write failed: %s", strerror(errno));
    if (fclose(out) != 0 && rc == HM_OK)
        rc = hm_error_set(err, HM_EIO, out_path, 0, NULL, "write failed: %s", strerror(errno));
    if (rc == HM_OK && rename(tmp, out_path) != 0)
        rc = hm_error_set(err, HM_EIO, out_path, 0, NULL, "cannot rename the finished file: %s",
                          strerror(errno));
    if (rc != HM_OK) {
        unlink(tmp);
        result->rows = 0;
    }
    hm_pseudo_filter_free(f);
    hm_csv_close(csv);
    return rc;
}
