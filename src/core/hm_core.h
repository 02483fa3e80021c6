/*
 * hm_core.h — what every harmonic subsystem shares: status codes, the error
 * record, locating data files, and a streaming CSV reader.
 *
 * Convention (as in libgit2): functions return 0 (HM_OK) on success and a
 * negative hm_status on failure, after filling the caller's hm_error with a
 * message that names the file, line/record and field involved.  The library
 * never prints and never calls exit(); the front end decides both.
 */
#ifndef HM_CORE_H
#define HM_CORE_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HM_VERSION_STRING "0.1.0"

typedef enum hm_status {
    HM_OK          = 0,
    HM_EINVAL      = -1,  /* bad argument or option */
    HM_EIO         = -2,  /* file cannot be read/written */
    HM_ENOMEM      = -3,
    HM_EDB         = -4,  /* database error */
    HM_EPARSE      = -5,  /* malformed input (CSV, JSON, DICOM) */
    HM_EVALIDATE   = -6,  /* well-formed input that breaks a rule */
    HM_ENOTFOUND   = -7,
    HM_EUNSUPPORTED= -8,  /* valid input harmonic does not handle (e.g. CT RDSR) */
    HM_ENUMERIC    = -9,  /* a fit or computation did not converge */
    HM_EPERM       = -10  /* not allowed (e.g. a centre writing another's rows) */
} hm_status;

typedef struct hm_error {
    int  code;        /* an hm_status */
    char file[256];   /* input file concerned, "" if none */
    long line;        /* 1-based line or record number, 0 if none */
    char field[64];   /* field/column/tag concerned, "" if none */
    char msg[512];
} hm_error;

void        hm_error_clear(hm_error *err);
/* Fills err (which may be NULL) and returns code, so callers can write
 * `return hm_error_set(err, HM_EPARSE, path, line, "kvp", "expected ...");` */
int         hm_error_set(hm_error *err, int code, const char *file, long line,
                         const char *field, const char *fmt, ...)
                         __attribute__((format(printf, 6, 7)));
/* "file:line:field: message" with the empty parts left out. */
size_t      hm_error_format(const hm_error *err, char *buf, size_t size);
const char *hm_strstatus(int code);

/*
 * Data files (data/ in the source tree, installed to share/harmonic).
 * Looked up in $HARMONIC_DATA, then the install dir, then the source tree.
 * Returns HM_OK and the full path in buf, or HM_ENOTFOUND.
 */
int hm_data_path(const char *relative, char *buf, size_t size, hm_error *err);

/* 1 if item is one of the sep-separated entries of list ("a|b|c"); 0 for a
 * NULL list or a NULL or empty item. */
int hm_list_has(const char *list, char sep, const char *item);

/*
 * Streaming CSV reader (RFC 4180: "quoted" fields with "" escapes and
 * embedded newlines, CRLF or LF).  Memory is bounded by the longest record,
 * never the file.  Lines starting with '#' outside quotes are comments and
 * skipped when skip_comments is set.
 *
 * Dialects (docs/csv.md): the separator (',', ';' or tab), the decimal mark
 * and the encoding are detected from the first 64 KiB unless forced, and
 * every record is handed over as UTF-8 with '.' decimals:
 *  - encoding: a byte order mark decides (UTF-8, UTF-16LE, UTF-16BE); else
 *    the first 64 KiB are UTF-8 if valid, Windows-1252 otherwise.  A later
 *    byte invalid in the chosen encoding is an error naming its line.
 *  - separator: the candidate occurring most often in the header record
 *    (outside quotes); ties go to ';', then tab, then ','; none: ','.
 *  - decimal mark: ',' only in a ';'- or tab-separated file whose sampled
 *    data records hold more decimal-comma numbers than decimal-point ones.
 *    Then every UNQUOTED field that is wholly such a number,
 *    [+-]?digits,digits([eE][+-]?digits)?, has its ',' turned into '.';
 *    anything else ("a,b", "1,2,3", "12,", quoted "1,5") is left alone.
 *  - blanks (spaces, tabs that are not the separator) around unquoted
 *    fields are dropped, in the header always and in data records unless
 *    keep_blanks is set; a quoted field keeps its blanks.
 * hm_csv_open / hm_csv_from_file detect everything (plain files read as before).
 */
typedef struct hm_csv hm_csv;

typedef enum hm_csv_encoding {
    HM_CSV_ENC_AUTO = 0,
    HM_CSV_ENC_UTF8,
    HM_CSV_ENC_CP1252,     /* Windows-1252 (Excel "CSV" on Western European Windows) */
    HM_CSV_ENC_LATIN1,     /* ISO-8859-1 */
    HM_CSV_ENC_UTF16,      /* byte order mark decides; little-endian without one */
    HM_CSV_ENC_UTF16LE,
    HM_CSV_ENC_UTF16BE
} hm_csv_encoding;

/* Zero-initialised: detect everything. */
typedef struct hm_csv_dialect {
    char delimiter;        /* ',', ';', '\t'; 0 = detect */
    char decimal;          /* '.', ','; 0 = detect */
    int  encoding;         /* an hm_csv_encoding */
    int  keep_blanks;      /* 1: data fields keep blanks around unquoted text */
} hm_csv_dialect;

hm_csv *hm_csv_open(const char *path, int skip_comments, hm_error *err);
/* d NULL = detect everything. */
hm_csv *hm_csv_open_dialect(const char *path, int skip_comments, const hm_csv_dialect *d,
                            hm_error *err);
/* Reads fp (not closed by hm_csv_close).  NULL on out of memory only;
 * a bad dialect shows at the first hm_csv_next. */
hm_csv *hm_csv_from_file(FILE *fp, const char *name, int skip_comments);
hm_csv *hm_csv_from_file_dialect(FILE *fp, const char *name, int skip_comments,
                                 const hm_csv_dialect *d);
/* Reads one record.  Returns 1 with *fields and *nfields set (valid until the next
 * call), 0 at end of file, or a negative hm_status with err filled. */
int     hm_csv_next(hm_csv *csv, char ***fields, size_t *nfields, hm_error *err);
/* Physical line on which the last record returned started (1-based; lines
 * of the decoded text, which are those of the file). */
long    hm_csv_line(const hm_csv *csv);
const char *hm_csv_name(const hm_csv *csv);
void    hm_csv_close(hm_csv *csv);

/* The dialect in use, every member resolved (nothing left at 0 but keep_blanks). */
const hm_csv_dialect *hm_csv_dialect_seen(const hm_csv *csv);
/* "';'-separated, decimal comma, Windows-1252" into buf; returns 1 when the
 * dialect is not plain (',', '.', UTF-8), i.e. worth a note to the user. */
int     hm_csv_dialect_describe(const hm_csv_dialect *d, char *buf, size_t size);
/* Opens path, resolves the dialect as hm_csv_next would, closes it. */
int     hm_csv_dialect_detect(const char *path, const hm_csv_dialect *want,
                              hm_csv_dialect *seen, hm_error *err);
/* Command-line values: delimiter ",", ";", "tab" (or "comma", "semicolon",
 * "\t"); decimal "." or ","; encoding "utf-8", "windows-1252"/"cp1252",
 * "latin-1"/"iso-8859-1", "utf-16", "utf-16le", "utf-16be".  NULL, "" or
 * "auto" leave a member to detection.  HM_EINVAL with err naming the
 * option (field "--delimiter" ...) for anything else. */
int     hm_csv_dialect_parse(const char *delimiter, const char *decimal, const char *encoding,
                             hm_csv_dialect *d, hm_error *err);
/* For the header record just read: when it has a single column that holds
 * another separator ("centre_code;pseudonym;..." read as ','-separated),
 * fills err with ONE message saying what was seen and which --delimiter to
 * use, and returns HM_EPARSE; else 0. */
int     hm_csv_header_check(const hm_csv *csv, char *const *fields, size_t nfields,
                            hm_error *err);

/* Finds a data file (hm_data_path; its full path in path, for the loader's
 * later messages) and opens it as CSV with comments skipped.  Returns HM_OK
 * with *csv set, or the error of whichever step failed. */
int     hm_data_csv_open(const char *relative, char *path, size_t size, hm_csv **csv,
                         hm_error *err);

/* Writes one CSV field, quoting only when needed. */
void hm_csv_write_field(FILE *fp, const char *s);

/* Monotonic wall clock in seconds, for progress and benchmarks. */
double hm_now_s(void);

#ifdef __cplusplus
}
#endif

#endif
