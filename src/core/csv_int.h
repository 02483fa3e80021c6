/*
 * csv_int.h — private to the CSV reader: the reader's state, shared by the
 * decoder (csv_decode.c: bytes in any accepted encoding -> UTF-8), the
 * dialect sniffer (csv_dialect.c) and the record parser (csv.c).
 */
#ifndef HM_CSV_INT_H
#define HM_CSV_INT_H

#include "hm_core.h"

#include <iconv.h>

#define CSV_BLOCK 65536            /* raw bytes read at a time; also the sniffed sample */
#define CSV_OUT   (3 * CSV_BLOCK + 16)  /* one block decoded: <= 3 UTF-8 bytes per byte */
#define CSV_BAD   (-2)             /* next_byte: an undecodable sequence comes next */

struct hm_csv {
    FILE  *fp;
    int    own_fp;
    int    skip_comments;
    char   name[256];
    hm_csv_dialect want;           /* as the caller asked */
    hm_csv_dialect seen;           /* resolved at open */
    int    enc_detected;           /* the encoding was chosen by looking, not forced */
    hm_error open_err;             /* a dialect problem found at open, reported by next */
    int    open_failed;
    /* decoder */
    unsigned char raw[CSV_BLOCK];  /* undecoded bytes (a split character is carried over) */
    size_t rlen;
    int    raw_eof;
    iconv_t cd;                    /* (iconv_t)-1 for UTF-8, which is only validated */
    unsigned char block[CSV_OUT];  /* decoded UTF-8 */
    size_t bpos, blen;
    int    bad;                    /* an invalid sequence follows block[blen] */
    int    bad_truncated;          /* ... which is a character cut off by the end of file */
    unsigned char bad_bytes[4];
    int    nbad;
    int    read_error;
    /* parser */
    long   line;                   /* current physical line */
    long   rec_line;               /* line where the last record started */
    long   nrecords;               /* records returned so far (the first is the header) */
    char  *buf;                    /* decoded record bytes */
    size_t buflen, bufcap;
    size_t *offs;                  /* field start offsets into buf */
    char  **fields;
    size_t nfields, fcap;
};

/* Sets up c->cd and strips a byte order mark from c->raw (already filled
 * with the first block); resolves c->seen.encoding.  HM_OK or an error. */
int  hm__csv_decoder_init(hm_csv *c, hm_error *err);
/* Decodes more input into c->block.  Returns 1, EOF, or CSV_BAD. */
int  hm__csv_refill(hm_csv *c);
/* The message for the pending CSV_BAD, at the parser's current line. */
int  hm__csv_bad_error(hm_csv *c, size_t field_no, hm_error *err);
/* Separator and decimal mark from the decoded first block (c->seen). */
void hm__csv_sniff(hm_csv *c);
/* 1 if s (NUL-terminated, blanks already trimmed) is wholly a number with
 * the given decimal mark: [+-]?D+<mark>D+([eE][+-]?D+)? */
int  hm__csv_is_decimal(const char *s, size_t n, char mark);
const char *hm__csv_encoding_name(int enc);

#endif
