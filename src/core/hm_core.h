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
 * Streaming CSV reader (RFC 4180: comma separated, "quoted" fields with ""
 * escapes and embedded newlines, CRLF or LF).  Memory is bounded by the
 * longest record, never the file.  Lines starting with '#' outside quotes are
 * comments and skipped when skip_comments is set.
 */
typedef struct hm_csv hm_csv;

hm_csv *hm_csv_open(const char *path, int skip_comments, hm_error *err);
hm_csv *hm_csv_from_file(FILE *fp, const char *name, int skip_comments);
/* Reads one record.  Returns 1 with *fields and *nfields set (valid until the next
 * call), 0 at end of file, or a negative hm_status with err filled. */
int     hm_csv_next(hm_csv *csv, char ***fields, size_t *nfields, hm_error *err);
/* Physical line on which the last record returned started (1-based). */
long    hm_csv_line(const hm_csv *csv);
const char *hm_csv_name(const hm_csv *csv);
void    hm_csv_close(hm_csv *csv);

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
