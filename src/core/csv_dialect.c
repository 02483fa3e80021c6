/*
 * csv_dialect.c — which separator, decimal mark and encoding a CSV file
 * uses: detection from the decoded first block (docs/csv.md gives the rules
 * users see), the command-line spellings, the one-line description commands
 * print, and the header diagnostic for a file read with the wrong separator.
 */
#include "csv_int.h"

#include <ctype.h>
#include <string.h>

/* Candidates in the order that wins a tie: a ';' file with decimal commas
 * has as many ',' as ';' in a two-column record, never the other way round. */
static const char CANDS[3] = { ';', '\t', ',' };

static int blank(unsigned char ch, char sep)
{
    return (ch == ' ' || ch == '\t') && ch != (unsigned char)sep;
}

int hm__csv_is_decimal(const char *s, size_t n, char mark)
{
    size_t i = 0, d;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (d = i; i < n && isdigit((unsigned char)s[i]); i++)
        ;
    if (i == d || i >= n || s[i] != mark)
        return 0;
    for (d = ++i; i < n && isdigit((unsigned char)s[i]); i++)
        ;
    if (i == d)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (d = i; i < n && isdigit((unsigned char)s[i]); i++)
            ;
        if (i == d)
            return 0;
    }
    return i == n;
}

/* Index of the next record's first byte: past empty lines and comments. */
static size_t next_record(const unsigned char *s, size_t n, size_t i, int skip_comments)
{
    while (i < n) {
        if (s[i] == '\n')
            i++;
        else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
            i += 2;
        else if (skip_comments && s[i] == '#')
            while (i < n && s[i] != '\n')
                i++;
        else
            break;
    }
    return i;
}

/* Counts each candidate outside quotes in the record at i; returns its end. */
static size_t count_header(const unsigned char *s, size_t n, size_t i, long counts[3])
{
    int quoted = 0;
    for (; i < n; i++) {
        if (s[i] == '"')
            quoted = !quoted;             /* "" toggles twice */
        else if (!quoted && s[i] == '\n')
            return i + 1;
        else if (!quoted)
            for (int k = 0; k < 3; k++)
                counts[k] += s[i] == (unsigned char)CANDS[k];
    }
    return i;
}

/* Classifies the unquoted fields of the record at i as decimal-comma or
 * decimal-point numbers; returns the record's end. */
static size_t classify_record(const unsigned char *s, size_t n, size_t i, char sep,
                              long *ncomma, long *ndot)
{
    while (i < n) {
        while (i < n && blank(s[i], sep))
            i++;
        if (i < n && s[i] == '"') {       /* quoted: text, not looked at */
            for (i++; i < n; i++)
                if (s[i] == '"' && !(i + 1 < n && s[i + 1] == '"'))
                    break;
                else if (s[i] == '"')
                    i++;
            while (i < n && s[i] != (unsigned char)sep && s[i] != '\n')
                i++;
        } else {
            size_t a = i;
            while (i < n && s[i] != (unsigned char)sep && s[i] != '\n')
                i++;
            size_t b = i;
            if (b > a && s[b - 1] == '\r' && (b == n || s[b] == '\n'))
                b--;
            while (b > a && blank(s[b - 1], sep))
                b--;
            *ncomma += hm__csv_is_decimal((const char *)s + a, b - a, ',');
            *ndot += hm__csv_is_decimal((const char *)s + a, b - a, '.');
        }
        if (i >= n || s[i] == '\n')
            return i + 1;
        i++;                              /* the separator */
    }
    return i;
}

void hm__csv_sniff(hm_csv *c)
{
    const unsigned char *s = c->block;
    size_t n = c->blen;
    size_t i = next_record(s, n, 0, c->skip_comments);
    long counts[3] = { 0, 0, 0 };
    i = count_header(s, n, i, counts);
    char sep = c->want.delimiter;
    if (!sep) {
        int best = 2;                     /* ',' when no candidate occurs at all */
        for (int k = 0; k < 3; k++)
            if (counts[k] > counts[best] || (counts[k] == counts[best] && counts[k] > 0 && k < best))
                best = k;
        sep = CANDS[best];
    }
    c->seen.delimiter = sep;
    char dec = c->want.decimal;
    if (!dec && sep == ',')
        dec = '.';
    if (!dec) {
        long ncomma = 0, ndot = 0;
        for (int r = 0; r < 200 && i < n; r++) {
            i = next_record(s, n, i, c->skip_comments);
            i = classify_record(s, n, i, sep, &ncomma, &ndot);
        }
        dec = ncomma > ndot ? ',' : '.';
    }
    c->seen.decimal = dec;
}

static const char *sep_word(char sep)
{
    return sep == '\t' ? "tab" : sep == ';' ? "';'" : "','";
}

int hm_csv_dialect_describe(const hm_csv_dialect *d, char *buf, size_t size)
{
    char sep = d->delimiter ? d->delimiter : ',';
    char dec = d->decimal ? d->decimal : '.';
    int enc = d->encoding ? d->encoding : HM_CSV_ENC_UTF8;
    snprintf(buf, size, "%s-separated, decimal %s, %s", sep_word(sep),
             dec == ',' ? "comma" : "point", hm__csv_encoding_name(enc));
    return sep != ',' || dec != '.' || enc != HM_CSV_ENC_UTF8;
}

const hm_csv_dialect *hm_csv_dialect_seen(const hm_csv *c)
{
    return &c->seen;
}

int hm_csv_dialect_detect(const char *path, const hm_csv_dialect *want, hm_csv_dialect *seen,
                          hm_error *err)
{
    hm_csv *c = hm_csv_open_dialect(path, 1, want, err);
    if (!c)
        return err ? err->code : HM_EIO;
    *seen = c->seen;
    hm_csv_close(c);
    return HM_OK;
}

/* s without '-', '_' and case, for matching encoding names. */
static void squash(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (; *s && o + 1 < size; s++)
        if (*s != '-' && *s != '_' && *s != ' ')
            out[o++] = (char)tolower((unsigned char)*s);
    out[o] = '\0';
}

static int is_auto(const char *s)
{
    return !s || !s[0] || !strcmp(s, "auto");
}

int hm_csv_dialect_parse(const char *delimiter, const char *decimal, const char *encoding,
                         hm_csv_dialect *d, hm_error *err)
{
    char sep = 0, dec = 0;
    int enc = HM_CSV_ENC_AUTO;
    if (!is_auto(delimiter)) {
        if (!strcmp(delimiter, ",") || !strcmp(delimiter, "comma"))
            sep = ',';
        else if (!strcmp(delimiter, ";") || !strcmp(delimiter, "semicolon"))
            sep = ';';
        else if (!strcmp(delimiter, "tab") || !strcmp(delimiter, "\t") || !strcmp(delimiter, "\\t"))
            sep = '\t';
        else
            return hm_error_set(err, HM_EINVAL, NULL, 0, "--delimiter",
                                "'%.40s': expected ',', ';' or tab (or auto to detect it)", delimiter);
    }
    if (!is_auto(decimal)) {
        if (!strcmp(decimal, ".") || !strcmp(decimal, "point") || !strcmp(decimal, "dot"))
            dec = '.';
        else if (!strcmp(decimal, ",") || !strcmp(decimal, "comma"))
            dec = ',';
        else
            return hm_error_set(err, HM_EINVAL, NULL, 0, "--decimal",
                                "'%.40s': expected '.' or ',' (or auto to detect it)", decimal);
    }
    if (!is_auto(encoding)) {
        static const struct { const char *name; int enc; } NAMES[] = {
            { "utf8", HM_CSV_ENC_UTF8 },       { "windows1252", HM_CSV_ENC_CP1252 },
            { "cp1252", HM_CSV_ENC_CP1252 },   { "latin1", HM_CSV_ENC_LATIN1 },
            { "iso88591", HM_CSV_ENC_LATIN1 }, { "utf16", HM_CSV_ENC_UTF16 },
            { "utf16le", HM_CSV_ENC_UTF16LE }, { "utf16be", HM_CSV_ENC_UTF16BE },
        };
        char key[32];
        squash(encoding, key, sizeof key);
        enc = -1;
        for (size_t k = 0; k < sizeof NAMES / sizeof *NAMES; k++)
            if (!strcmp(key, NAMES[k].name))
                enc = NAMES[k].enc;
        if (enc < 0)
            return hm_error_set(err, HM_EINVAL, NULL, 0, "--encoding",
                                "'%.40s': expected utf-8, windows-1252 (cp1252), latin-1 "
                                "(iso-8859-1), utf-16, utf-16le or utf-16be (or auto)", encoding);
    }
    if (sep == ',' && dec == ',')
        return hm_error_set(err, HM_EINVAL, NULL, 0, "--decimal",
                            "a decimal comma needs --delimiter ';' or tab: in a ','-separated "
                            "file it would split every number in two");
    d->delimiter = sep;
    d->decimal = dec;
    d->encoding = enc;
    return HM_OK;
}

int hm_csv_header_check(const hm_csv *c, char *const *fields, size_t nfields, hm_error *err)
{
    if (nfields != 1)
        return 0;
    for (int k = 0; k < 3; k++) {
        char other = CANDS[k];
        if (other == c->seen.delimiter || !strchr(fields[0], other))
            continue;
        size_t len = strlen(fields[0]);
        return hm_error_set(err, HM_EPARSE, c->name, c->rec_line, NULL,
                            "the header has one column '%.60s%s' (read as %s-separated%s): the "
                            "file looks %s-separated; use --delimiter %s",
                            fields[0], len > 60 ? "..." : "", sep_word(c->seen.delimiter),
                            c->want.delimiter ? ", as --delimiter asked" : "", sep_word(other),
                            other == '\t' ? "tab" : other == ';' ? "';'" : "','");
    }
    return 0;
}
