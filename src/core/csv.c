/*
 * csv.c — streaming RFC 4180 reader with dialects.
 *
 * One record is decoded into a growable byte buffer; fields are NUL-terminated
 * slices of it.  The file is read (and converted to UTF-8, csv_decode.c)
 * through fixed 64 KiB blocks, so memory stays bounded by the longest record
 * whatever the file size.  The separator and decimal mark are resolved at
 * open from the first block (csv_dialect.c).  The reader rejects what
 * RFC 4180 forbids and a data manager would want to know about: a quote
 * inside an unquoted field, text after a closing quote, an unterminated
 * quote at end of file, NUL bytes and bytes invalid in the encoding.
 */
#include "csv_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int next_byte(hm_csv *c)
{
    if (c->bpos == c->blen) {
        int rc = hm__csv_refill(c);
        if (rc != 1)
            return rc;
    }
    return c->block[c->bpos++];
}

static int peek_byte(hm_csv *c)
{
    int ch = next_byte(c);
    if (ch >= 0)
        c->bpos--;
    return ch;
}

static int put(hm_csv *c, char ch)
{
    if (c->buflen + 1 >= c->bufcap) {
        size_t ncap = c->bufcap ? 2 * c->bufcap : 1024;
        char *nb = realloc(c->buf, ncap);
        if (!nb)
            return -1;
        c->buf = nb;
        c->bufcap = ncap;
    }
    c->buf[c->buflen++] = ch;
    return 0;
}

static int start_field(hm_csv *c)
{
    if (c->nfields == c->fcap) {
        size_t ncap = c->fcap ? 2 * c->fcap : 32;
        size_t *no = realloc(c->offs, ncap * sizeof *no);
        if (!no)
            return -1;
        c->offs = no;
        char **nf = realloc(c->fields, ncap * sizeof *nf);
        if (!nf)
            return -1;
        c->fields = nf;
        c->fcap = ncap;
    }
    c->offs[c->nfields++] = c->buflen;
    return 0;
}

/* Reads the first block, resolves the dialect.  Errors go to c->open_err. */
static void setup(hm_csv *c, const hm_csv_dialect *d)
{
    if (d)
        c->want = *d;
    c->seen.keep_blanks = c->want.keep_blanks;
    c->cd = (iconv_t)-1;
    while (!c->raw_eof && c->rlen < sizeof c->raw) {
        size_t n = fread(c->raw + c->rlen, 1, sizeof c->raw - c->rlen, c->fp);
        if (n == 0)
            c->raw_eof = 1;
        c->rlen += n;
    }
    int rc = hm__csv_decoder_init(c, &c->open_err);
    if (rc == HM_OK && hm__csv_refill(c) < 0)
        c->bpos = c->blen = 0;              /* EOF or an early bad byte: met by next */
    if (rc == HM_OK)
        hm__csv_sniff(c);
    if (rc == HM_OK && c->seen.delimiter == ',' && c->seen.decimal == ',')
        rc = hm_error_set(&c->open_err, HM_EINVAL, c->name, 0, NULL,
                          "the file is ','-separated, so its numbers cannot have a decimal comma: "
                          "leave --decimal out, or give --delimiter ';' or tab");
    if (rc != HM_OK)
        c->open_failed = 1;
}

hm_csv *hm_csv_from_file_dialect(FILE *fp, const char *name, int skip_comments,
                                 const hm_csv_dialect *d)
{
    hm_csv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fp = fp;
    c->skip_comments = skip_comments;
    c->line = 1;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    setup(c, d);
    return c;
}

hm_csv *hm_csv_from_file(FILE *fp, const char *name, int skip_comments)
{
    return hm_csv_from_file_dialect(fp, name, skip_comments, NULL);
}

hm_csv *hm_csv_open_dialect(const char *path, int skip_comments, const hm_csv_dialect *d,
                            hm_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        hm_error_set(err, HM_EIO, path, 0, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    hm_csv *c = hm_csv_from_file_dialect(fp, path, skip_comments, d);
    if (!c) {
        fclose(fp);
        hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
        return NULL;
    }
    c->own_fp = 1;
    if (c->open_failed) {
        if (err)
            *err = c->open_err;
        hm_csv_close(c);
        return NULL;
    }
    return c;
}

hm_csv *hm_csv_open(const char *path, int skip_comments, hm_error *err)
{
    return hm_csv_open_dialect(path, skip_comments, NULL, err);
}

static int fail(hm_csv *c, hm_error *err, const char *msg)
{
    return hm_error_set(err, HM_EPARSE, c->name, c->line, NULL, "%s", msg);
}

static int oom(hm_csv *c, hm_error *err)
{
    return hm_error_set(err, HM_ENOMEM, c->name, c->line, NULL, "out of memory");
}

/* A byte the decoder could not hand over: an invalid sequence or a read error. */
static int input_error(hm_csv *c, hm_error *err)
{
    if (c->bad)
        return hm__csv_bad_error(c, c->nfields, err);
    return hm_error_set(err, HM_EIO, c->name, c->line, NULL, "read error");
}

static int is_blank(const hm_csv *c, int ch)
{
    return (ch == ' ' || ch == '\t') && ch != c->seen.delimiter;
}

/* Ends the unquoted field that started at buf[start]: trims, converts a
 * decimal-comma number (see hm_core.h for the exact rule). */
static void finish_unquoted(hm_csv *c, size_t start, int trim)
{
    if (trim)
        while (c->buflen > start && is_blank(c, (unsigned char)c->buf[c->buflen - 1]))
            c->buflen--;
    if (c->buflen == start)               /* empty: buf may not even exist yet */
        return;
    if (c->seen.decimal == ',' && hm__csv_is_decimal(c->buf + start, c->buflen - start, ',')) {
        char *comma = memchr(c->buf + start, ',', c->buflen - start);
        *comma = '.';
    }
}

/* One quoted field, the opening quote read; leaves the byte after it in *end. */
static int quoted_field(hm_csv *c, int trim, int *end, hm_error *err)
{
    int ch;
    for (;;) {
        ch = next_byte(c);
        if (ch == EOF)
            return fail(c, err, "unterminated quoted field at end of file");
        if (ch < 0)
            return input_error(c, err);
        if (ch == '"') {
            if (peek_byte(c) != '"')
                break;
            next_byte(c);
        } else if (ch == '\n') {
            c->line++;
        } else if (ch == 0) {
            return fail(c, err, "NUL byte in input");
        }
        if (put(c, (char)ch) < 0)
            return oom(c, err);
    }
    ch = next_byte(c);
    while (trim && is_blank(c, ch))
        ch = next_byte(c);
    if (ch == '\r' && peek_byte(c) == '\n')
        ch = next_byte(c);
    if (ch < EOF)
        return input_error(c, err);
    if (ch != c->seen.delimiter && ch != '\n' && ch != EOF)
        return fail(c, err, "text after a closing quote");
    *end = ch;
    return HM_OK;
}

int hm_csv_next(hm_csv *c, char ***fields, size_t *nfields, hm_error *err)
{
    if (c->open_failed) {
        if (err)
            *err = c->open_err;
        return c->open_err.code;
    }
    /* The header's names are always trimmed: "city, sex" is a common export. */
    int trim = c->nrecords == 0 || !c->seen.keep_blanks;
    int ch;
again:
    c->buflen = 0;
    c->nfields = 0;
    ch = peek_byte(c);
    if (ch == EOF)
        return 0;
    if (ch < 0)
        return input_error(c, err);
    if (c->skip_comments && ch == '#') {
        while ((ch = next_byte(c)) >= 0 && ch != '\n')
            ;
        if (ch < EOF)
            return input_error(c, err);
        c->line++;
        goto again;
    }
    c->rec_line = c->line;
    for (;;) {                              /* one field per turn */
        if (start_field(c) < 0)
            return oom(c, err);
        size_t start = c->buflen;
        ch = next_byte(c);
        while (trim && is_blank(c, ch))
            ch = next_byte(c);
        if (ch == '"') {
            int rc = quoted_field(c, trim, &ch, err);
            if (rc)
                return rc;
        } else {
            for (;; ch = next_byte(c)) {
                if (ch == '\r' && peek_byte(c) == '\n')
                    ch = next_byte(c);
                if (ch == c->seen.delimiter || ch == '\n' || ch == EOF)
                    break;
                if (ch < 0)
                    return input_error(c, err);
                if (ch == '"')
                    return fail(c, err, "quote character inside an unquoted field");
                if (ch == 0)
                    return fail(c, err, c->seen.encoding == HM_CSV_ENC_UTF8
                                ? "NUL byte in input (a UTF-16 file without byte order mark? "
                                  "then use --encoding utf-16le)" : "NUL byte in input");
                if (put(c, (char)ch) < 0)
                    return oom(c, err);
            }
            finish_unquoted(c, start, trim);
        }
        if (put(c, '\0') < 0)
            return oom(c, err);
        if (ch == c->seen.delimiter)
            continue;
        if (ch == '\n')
            c->line++;
        break;
    }
    if (c->read_error)
        return hm_error_set(err, HM_EIO, c->name, c->line, NULL, "read error");
    /* An empty (or blank) line is not a record. */
    if (c->nfields == 1 && c->buf[0] == '\0')
        goto again;
    for (size_t i = 0; i < c->nfields; i++)
        c->fields[i] = c->buf + c->offs[i];
    c->nrecords++;
    *fields = c->fields;
    *nfields = c->nfields;
    return 1;
}

long hm_csv_line(const hm_csv *c) { return c->rec_line; }
const char *hm_csv_name(const hm_csv *c) { return c->name; }

void hm_csv_close(hm_csv *c)
{
    if (!c)
        return;
    if (c->own_fp && c->fp)
        fclose(c->fp);
    if (c->cd != (iconv_t)-1)
        iconv_close(c->cd);
    free(c->buf);
    free(c->offs);
    free(c->fields);
    free(c);
}

void hm_csv_write_field(FILE *fp, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}
