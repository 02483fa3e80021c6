/*
 * hm_pseudo.h — pseudonymisation at the hospital: study keys, keyed
 * HMAC-SHA-256 pseudonyms of normalised local identifiers, dates turned into
 * day offsets from birth, and the CSV filter that does all of it to a
 * hospital export before it leaves the hospital.
 *
 * Why keyed: an unkeyed hash of a national or hospital number can be reversed
 * by enumerating every possible number (anchors.md §5), so a pseudonym is
 * HMAC-SHA-256(study key, namespace ":" normalised id) and the pooling centre
 * never holds the key.  The key version travels with every pseudonym so a
 * key can be rotated.  The rules are documented in docs/pseudonymisation.md.
 */
#ifndef HM_PSEUDO_H
#define HM_PSEUDO_H

#include <stddef.h>
#include <stdio.h>

#include "hm_core.h"

#define HM_PSEUDO_KEY_BYTES      32   /* keygen writes 32 random bytes */
#define HM_PSEUDO_KEY_MAX_BYTES  128  /* a loaded key may be 16..128 bytes */
#define HM_PSEUDO_VERSION_MAX    1000 /* key versions are integers 1..1000 */
#define HM_PSEUDO_HEX_SIZE       65   /* 64 lowercase hex digits + NUL */
#define HM_PSEUDO_UID_SIZE       48   /* "2.25." + at most 39 digits + NUL */
#define HM_PSEUDO_KEY_FORMAT     "harmonic-study-key-1"

typedef struct hm_pseudo_key {
    unsigned char key[HM_PSEUDO_KEY_MAX_BYTES];
    size_t        key_len;
    int           version;        /* 1..HM_PSEUDO_VERSION_MAX */
} hm_pseudo_key;

/* Parses a key version: a decimal integer 1..1000 (the dictionary's
 * patient.key_version).  Returns 1 and sets *version, or 0. */
int hm_pseudo_version_parse(const char *text, int *version);

/*
 * Writes a new study key (32 bytes from libsodium's CSPRNG) to `path`, mode
 * 0600.  Refuses (HM_EIO) if the file exists.  Version 1..1000.
 */
int hm_pseudo_keygen(const char *path, int version, hm_error *err);

/* Builds a key from raw bytes (tests, derived keys); 1..128 bytes. */
int hm_pseudo_key_from_bytes(hm_pseudo_key *key, const void *bytes, size_t len,
                             int version, hm_error *err);

/* Reads a key file written by hm_pseudo_keygen (format in the .md).  A file
 * that group or others may access is refused (HM_EPERM), as ssh does. */
int hm_pseudo_key_load(const char *path, hm_pseudo_key *key, hm_error *err);

/* Wipes the key bytes from memory. */
void hm_pseudo_key_wipe(hm_pseudo_key *key);

/* HMAC-SHA-256 (RFC 2104, FIPS 198-1) with a key of any length (libsodium). */
void hm_pseudo_hmac_sha256(const void *key, size_t key_len, const void *msg,
                           size_t msg_len, unsigned char out[32]);

/* Lowercase hex of n bytes into hex (2n+1 bytes). */
void hm_pseudo_hex(const unsigned char *bytes, size_t n, char *hex);

/*
 * The message that is hashed: "<ns>:<normalised id>".  `ns` (namespace) is
 * the identifier type, [a-z0-9_]+, e.g. "patient", "procedure",
 * "accession", "study_uid"; a different namespace gives a different
 * pseudonym for the same string.  Normalisation:
 *  - namespaces ending in "_uid" (DICOM UIDs): leading/trailing spaces and
 *    NULs trimmed (DICOM pads UIDs); what remains must be 1..64 characters
 *    of digits and dots; dots are significant and kept.
 *  - every other namespace: leading/trailing ASCII white space trimmed,
 *    ASCII letters upper-cased (bytes >= 0x80, i.e. UTF-8 sequences, are
 *    kept unchanged: no locale is involved), and the separators space, tab,
 *    '-', '.', '/' removed anywhere; at most 256 bytes; a control character
 *    is an error.
 * An identifier that is empty after normalisation is an error.
 */
int hm_pseudo_normalise(const char *ns, const char *local_id, char *out,
                        size_t size, hm_error *err);

/* hex = lowercase hex of HMAC-SHA-256(key, normalised message). */
int hm_pseudo_id(const hm_pseudo_key *key, const char *ns, const char *local_id,
                 char hex[HM_PSEUDO_HEX_SIZE], hm_error *err);

/*
 * A pseudonymised DICOM UID that is still a valid UID: "2.25." followed by
 * the decimal value of the first 128 bits of the HMAC, read as a big-endian
 * unsigned integer (the UUID-derived UID form of DICOM PS3.5 §B.2).  `ns`
 * normally ends in "_uid" (e.g. "study_uid", "event_uid").
 */
int hm_pseudo_uid(const hm_pseudo_key *key, const char *ns, const char *local_uid,
                  char uid[HM_PSEUDO_UID_SIZE], hm_error *err);

/*
 * Dates.  ISO 8601 calendar dates "YYYY-MM-DD" (years 1800..2199), as days
 * since 1970-01-01 (proleptic Gregorian).
 */
int  hm_date_parse(const char *s, long *days);
void hm_date_format(long days, char out[11]);
long hm_date_from_ymd(int year, int month, int day);
void hm_date_to_ymd(long days, int *year, int *month, int *day);

/*
 * Pseudonymising a hospital CSV (first line a header).  Column rules:
 *  - local_patient_id          -> pseudonym (namespace "patient"), plus
 *                                 key_version when the table knows it;
 *  - local_<x>_id              -> <x>_id    (namespace "<x>");
 *  - local_<x>_uid             -> <x>_uid   (namespace "<x>_uid", written
 *                                 as a 2.25. UID, see hm_pseudo_uid);
 *  - local_<x>_id where the table has no <x>_id but a source_id (organ
 *    doses)                    -> source_id (namespace "<x>");
 *    an empty local id other than the patient's stays empty;
 *  - without offset_dates a kept birth_date also gives birth_year when the
 *    table knows it and the file has none;
 *  - with offset_dates: birth_date -> birth_year, every <x>_date ->
 *    <x>_day = days since birth (the row's birth_date column is required),
 *    every <x>_datetime -> <x>_day and <x>_time_s (seconds since midnight);
 *  - any column whose (output) name the table does not know is dropped
 *    and listed in `dropped` (comma separated).
 * All or nothing: rows are written to a temporary file beside `out_path`
 * renamed at the end; on any bad row nothing is written and err names
 * file:line:field.
 */
typedef struct hm_pseudo_csv_opts {
    const char        *table;          /* for messages */
    int                offset_dates;
    const char *const *known;          /* columns the dictionary defines for table */
    size_t             n_known;
} hm_pseudo_csv_opts;

typedef struct hm_pseudo_csv_result {
    long rows;              /* data rows written */
    char dropped[1024];     /* dropped input columns, comma separated */
    char dialect[96];       /* how the input was read when not plain CSV (for a note); "" if plain */
} hm_pseudo_csv_result;

int hm_pseudo_csv(const hm_pseudo_key *key, const hm_pseudo_csv_opts *opts,
                  const char *in_path, const char *out_path,
                  hm_pseudo_csv_result *result, hm_error *err);
/* The same reading the input in a CSV dialect (hm_core.h; NULL: detect).
 * The output is always ','-separated UTF-8 with '.' decimals. */
int hm_pseudo_csv_ex(const hm_pseudo_key *key, const hm_pseudo_csv_opts *opts,
                     const hm_csv_dialect *dialect, const char *in_path, const char *out_path,
                     hm_pseudo_csv_result *result, hm_error *err);

/*
 * The same transformation one row at a time (used by hm_pseudo_csv and by
 * the synthetic-cohort generator).  `header` is the input header, `name` the
 * input's name for messages.  write_row formats the whole row before writing
 * it, so a bad row writes nothing.
 */
typedef struct hm_pseudo_filter hm_pseudo_filter;
int  hm_pseudo_filter_new(const hm_pseudo_key *key, const hm_pseudo_csv_opts *opts,
                          const char *const *header, size_t ncol, const char *name,
                          hm_pseudo_filter **filter, hm_error *err);
const char *hm_pseudo_filter_dropped(const hm_pseudo_filter *filter);
void hm_pseudo_filter_write_header(const hm_pseudo_filter *filter, FILE *out);
int  hm_pseudo_filter_write_row(hm_pseudo_filter *filter, FILE *out,
                                const char *const *fields, size_t nfields, long line,
                                hm_error *err);
void hm_pseudo_filter_free(hm_pseudo_filter *filter);

/* The fields data/dictionary.csv defines for `table` (HM_ENOTFOUND if none);
 * free with hm_pseudo_dict_free. */
int  hm_pseudo_dict_columns(const char *table, char ***cols, size_t *n, hm_error *err);
void hm_pseudo_dict_free(char **cols, size_t n);

#endif
