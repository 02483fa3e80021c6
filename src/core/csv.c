/*
 * csv.c — streaming RFC 4180 reader.
 *
 * One record is decoded into a growable byte buffer; fields are NUL-terminated
 * slices of it.  The file is read through a fixed 64 KiB block buffer, so
 * memory stays bounded by the longest record whatever the file size.  The
 * reader rejects what RFC 4180 forbids and a data manager would want to know
 * about: a quote inside an unquoted field, text after a closing quote, an
 * unterminated quote at end of file, and NUL bytes.
 */
#include "hm_core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 65536

struct hm_csv {
    FILE  *fp;
    int    own_fp;
    int    skip_comments;
    char   name[256];
    unsigned char block[BLOCK];
    size_t bpos, blen;
    int    eof;
    long   line;        /* current physical line */
    long   rec_line;    /* line where the last record started */
    char  *buf;         /* decoded record bytes */
    size_t buflen, bufcap;
    size_t *offs;       /* field start offsets into buf */
    char  **fields;
    size_t nfields, fcap;
};

static int next_byte(hm_csv *c)
{
    if (c->bpos == c->blen) {
        if (c->eof)
            return EOF;
        c->blen = fread(c->block, 1, BLOCK, c->fp);
        c->bpos = 0;
        if (c->blen == 0) {
            c->eof = 1;
            return EOF;
        }
    }
    return c->block[c->bpos++];
}

static int peek_byte(hm_csv *c)
{
    int ch = next_byte(c);
    if (ch != EOF)
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

hm_csv *hm_csv_from_file(FILE *fp, const char *name, int skip_comments)
{
    hm_csv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fp = fp;
    c->skip_comments = skip_comments;
    c->line = 1;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    return c;
}

hm_csv *hm_csv_open(const char *path, int skip_comments, hm_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        hm_error_set(err, HM_EIO, path, 0, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    hm_csv *c = hm_csv_from_file(fp, path, skip_comments);
    if (!c) {
        fclose(fp);
        hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
        return NULL;
    }
    c->own_fp = 1;
    return c;
}

static int fail(hm_csv *c, hm_error *err, const char *msg)
{
    return hm_error_set(err, HM_EPARSE, c->name, c->line, NULL, "%s", msg);
}

int hm_csv_next(hm_csv *c, char ***fields, size_t *nfields, hm_error *err)
{
    int ch;
again:
    c->buflen = 0;
    c->nfields = 0;
    ch = peek_byte(c);
    if (ch == EOF)
        return 0;
    if (c->skip_comments && ch == '#') {
        while ((ch = next_byte(c)) != EOF && ch != '\n')
            ;
        c->line++;
        goto again;
    }
    c->rec_line = c->line;
    if (start_field(c) < 0)
        return hm_error_set(err, HM_ENOMEM, c->name, c->line, NULL, "out of memory");
    for (;;) {
        ch = next_byte(c);
        if (ch == '"') {
            /* A quote opens a quoted field only at its start. */
            if (c->buflen != c->offs[c->nfields - 1])
                return fail(c, err, "quote character inside an unquoted field");
            for (;;) {
                ch = next_byte(c);
                if (ch == EOF)
                    return fail(c, err, "unterminated quoted field at end of file");
                if (ch == '"') {
                    if (peek_byte(c) == '"') {
                        next_byte(c);
                    } else {
                        break;
                    }
                } else if (ch == '\n') {
                    c->line++;
                } else if (ch == 0) {
                    return fail(c, err, "NUL byte in input");
                }
                if (put(c, (char)ch) < 0)
                    return hm_error_set(err, HM_ENOMEM, c->name, c->line, NULL, "out of memory");
            }
            ch = next_byte(c);
            if (ch == '\r' && peek_byte(c) == '\n')
                ch = next_byte(c);
            if (ch != ',' && ch != '\n' && ch != EOF)
                return fail(c, err, "text after a closing quote");
        } else if (ch == '\r' && peek_byte(c) == '\n') {
            ch = next_byte(c);
        } else if (ch == 0) {
            return fail(c, err, "NUL byte in input");
        }
        if (ch == ',' || ch == '\n' || ch == EOF) {
            if (put(c, '\0') < 0)
                return hm_error_set(err, HM_ENOMEM, c->name, c->line, NULL, "out of memory");
            if (ch == ',') {
                if (start_field(c) < 0)
                    return hm_error_set(err, HM_ENOMEM, c->name, c->line, NULL, "out of memory");
                continue;
            }
            if (ch == '\n')
                c->line++;
            break;
        }
        if (put(c, (char)ch) < 0)
            return hm_error_set(err, HM_ENOMEM, c->name, c->line, NULL, "out of memory");
    }
    if (ferror(c->fp))
        return hm_error_set(err, HM_EIO, c->name, c->line, NULL, "read error");
    /* An empty line is not a record. */
    if (c->nfields == 1 && c->buf[0] == '\0')
        goto again;
    for (size_t i = 0; i < c->nfields; i++)
        c->fields[i] = c->buf + c->offs[i];
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
