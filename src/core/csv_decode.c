/*
 * csv_decode.c — the CSV reader's input layer: raw bytes in the file's
 * encoding become UTF-8 in c->block, one 64 KiB block at a time.
 *
 * UTF-8 input is only validated (and copied), everything else goes through
 * glibc's iconv.  A character cut by the block boundary stays in c->raw for
 * the next block.  An invalid sequence is not an error at once: the text
 * before it is handed over first, so the parser reaches it on the right line
 * and reports it there (hm__csv_bad_error).
 */
#include "csv_int.h"

#include <errno.h>
#include <string.h>

static const char *iconv_name(int enc)
{
    switch (enc) {
    case HM_CSV_ENC_CP1252:  return "CP1252";
    case HM_CSV_ENC_LATIN1:  return "ISO-8859-1";
    case HM_CSV_ENC_UTF16BE: return "UTF-16BE";
    default:                 return "UTF-16LE";
    }
}

const char *hm__csv_encoding_name(int enc)
{
    switch (enc) {
    case HM_CSV_ENC_UTF8:    return "UTF-8";
    case HM_CSV_ENC_CP1252:  return "Windows-1252";
    case HM_CSV_ENC_LATIN1:  return "Latin-1";
    case HM_CSV_ENC_UTF16:
    case HM_CSV_ENC_UTF16LE: return "UTF-16LE";
    case HM_CSV_ENC_UTF16BE: return "UTF-16BE";
    default:                 return "auto";
    }
}

/* Length of the UTF-8 character at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF); 0 if invalid; -1 if the n bytes
 * available are a valid but incomplete start. */
static int utf8_len(const unsigned char *p, size_t n)
{
    unsigned char b = p[0];
    int len;
    unsigned char lo = 0x80, hi = 0xBF;    /* allowed range of the second byte */
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF)
        len = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else
        return 0;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
        if (p[i] < lo_i || p[i] > hi_i)
            return 0;
    }
    return len;
}

/* 1 if p[0..n) is valid UTF-8; a character cut at the end counts as valid
 * when more input follows (cut_ok). */
static int valid_utf8(const unsigned char *p, size_t n, int cut_ok)
{
    for (size_t i = 0; i < n;) {
        int k = utf8_len(p + i, n - i);
        if (k == 0 || (k < 0 && !cut_ok))
            return 0;
        if (k < 0)
            return 1;
        i += (size_t)k;
    }
    return 1;
}

static void mark_bad(hm_csv *c, size_t at, int truncated)
{
    c->bad = 1;
    c->bad_truncated = truncated;
    c->nbad = 0;
    while (c->nbad < 4 && at + (size_t)c->nbad < c->rlen) {
        c->bad_bytes[c->nbad] = c->raw[at + (size_t)c->nbad];
        c->nbad++;
    }
}

static size_t decode_utf8(hm_csv *c)
{
    size_t i = 0;
    while (i < c->rlen) {
        if (c->raw[i] < 0x80) {
            i++;
            continue;
        }
        int k = utf8_len(c->raw + i, c->rlen - i);
        if (k > 0) {
            i += (size_t)k;
            continue;
        }
        if (k < 0 && !c->raw_eof)
            break;                         /* the rest comes with the next block */
        mark_bad(c, i, k < 0);
        break;
    }
    memcpy(c->block, c->raw, i);
    c->blen = i;
    return i;
}

static size_t decode_iconv(hm_csv *c)
{
    char *in = (char *)c->raw, *out = (char *)c->block;
    size_t inleft = c->rlen, outleft = sizeof c->block;
    size_t r = iconv(c->cd, &in, &inleft, &out, &outleft);
    int e = errno;
    size_t used = c->rlen - inleft;
    c->blen = sizeof c->block - outleft;
    if (r == (size_t)-1) {
        if (e == EILSEQ)
            mark_bad(c, used, 0);
        else if (e == EINVAL && c->raw_eof)
            mark_bad(c, used, 1);
    }
    return used;
}

int hm__csv_refill(hm_csv *c)
{
    c->bpos = c->blen = 0;
    for (;;) {
        if (c->bad)
            return CSV_BAD;
        if (!c->raw_eof && c->rlen < sizeof c->raw) {
            size_t n = fread(c->raw + c->rlen, 1, sizeof c->raw - c->rlen, c->fp);
            if (n == 0) {
                c->raw_eof = 1;
                c->read_error = ferror(c->fp) != 0;
            }
            c->rlen += n;
        }
        if (c->rlen == 0)
            return EOF;
        size_t used = c->cd == (iconv_t)-1 ? decode_utf8(c) : decode_iconv(c);
        memmove(c->raw, c->raw + used, c->rlen - used);
        c->rlen -= used;
        if (c->blen)
            return 1;
        if (!c->bad && c->raw_eof && c->rlen)   /* a cut character and no more input */
            mark_bad(c, 0, 1);
    }
}

static int starts(const hm_csv *c, const char *bom, size_t n)
{
    return c->rlen >= n && !memcmp(c->raw, bom, n);
}

static void drop(hm_csv *c, size_t n)
{
    memmove(c->raw, c->raw + n, c->rlen - n);
    c->rlen -= n;
}

static int bom_mismatch(hm_csv *c, const char *bom_is, const char *use, hm_error *err)
{
    return hm_error_set(err, HM_EPARSE, c->name, 1, NULL,
                        "the file starts with a %s byte order mark, so it is not %s: "
                        "use --encoding %s (or leave --encoding out to detect it)",
                        bom_is, hm__csv_encoding_name(c->want.encoding), use);
}

int hm__csv_decoder_init(hm_csv *c, hm_error *err)
{
    static const char U8[] = "\xEF\xBB\xBF", LE[] = "\xFF\xFE", BE[] = "\xFE\xFF";
    int u8 = starts(c, U8, 3), le = !u8 && starts(c, LE, 2), be = !u8 && starts(c, BE, 2);
    int enc = c->want.encoding;
    c->cd = (iconv_t)-1;
    switch (enc) {
    case HM_CSV_ENC_AUTO:
        c->enc_detected = 1;
        enc = u8 ? HM_CSV_ENC_UTF8 : le ? HM_CSV_ENC_UTF16LE : be ? HM_CSV_ENC_UTF16BE
            : valid_utf8(c->raw, c->rlen, !c->raw_eof) ? HM_CSV_ENC_UTF8 : HM_CSV_ENC_CP1252;
        break;
    case HM_CSV_ENC_UTF8:
        if (le || be)
            return bom_mismatch(c, "UTF-16", "utf-16", err);
        break;
    case HM_CSV_ENC_CP1252:
    case HM_CSV_ENC_LATIN1:
        if (u8)
            return bom_mismatch(c, "UTF-8", "utf-8", err);
        if (le || be)
            return bom_mismatch(c, "UTF-16", "utf-16", err);
        break;
    case HM_CSV_ENC_UTF16:
        enc = be ? HM_CSV_ENC_UTF16BE : HM_CSV_ENC_UTF16LE;   /* Excel writes LE */
        break;
    case HM_CSV_ENC_UTF16LE:
        if (be)
            return bom_mismatch(c, "big-endian UTF-16", "utf-16be", err);
        break;
    case HM_CSV_ENC_UTF16BE:
        if (le)
            return bom_mismatch(c, "little-endian UTF-16", "utf-16le", err);
        break;
    default:
        return hm_error_set(err, HM_EINVAL, c->name, 0, NULL, "unknown CSV encoding %d", enc);
    }
    if (enc == HM_CSV_ENC_UTF8 && u8)
        drop(c, 3);
    if ((enc == HM_CSV_ENC_UTF16LE && le) || (enc == HM_CSV_ENC_UTF16BE && be))
        drop(c, 2);
    c->seen.encoding = enc;
    if (enc != HM_CSV_ENC_UTF8) {
        c->cd = iconv_open("UTF-8", iconv_name(enc));
        if (c->cd == (iconv_t)-1)
            return hm_error_set(err, HM_EUNSUPPORTED, c->name, 0, NULL,
                                "this system's iconv cannot convert %s to UTF-8: %s",
                                hm__csv_encoding_name(enc), strerror(errno));
    }
    return HM_OK;
}

int hm__csv_bad_error(hm_csv *c, size_t field_no, hm_error *err)
{
    int enc = c->seen.encoding;
    int wide = enc == HM_CSV_ENC_UTF16LE || enc == HM_CSV_ENC_UTF16BE;
    char shown[32] = "";
    int nshow = c->nbad < (wide ? 2 : 1) ? c->nbad : (wide ? 2 : 1);
    for (int i = 0; i < nshow; i++)
        snprintf(shown + strlen(shown), sizeof shown - strlen(shown), "%s0x%02X", i ? " " : "",
                 c->bad_bytes[i]);
    const char *how = c->enc_detected ? "detected" : "chosen with --encoding";
    const char *hint =
        enc == HM_CSV_ENC_UTF8
            ? (c->enc_detected ? "the first 64 KiB were valid UTF-8; if the file comes from Excel "
                                 "or another Windows program, use --encoding windows-1252"
                               : "if the file comes from Excel or another Windows program, use "
                                 "--encoding windows-1252")
        : wide ? "the file is damaged or not UTF-16: use --encoding with the encoding it was saved in"
               : "try --encoding latin-1, or --encoding with the encoding the file was saved in";
    if (c->bad_truncated)
        return hm_error_set(err, HM_EPARSE, c->name, c->line, NULL,
                            "the file ends inside a %s character (field %zu; encoding %s); %s",
                            hm__csv_encoding_name(enc), field_no, how, hint);
    return hm_error_set(err, HM_EPARSE, c->name, c->line, NULL,
                        "byte%s %s (field %zu) %s not valid %s (encoding %s); %s",
                        nshow > 1 ? "s" : "", shown, field_no, nshow > 1 ? "are" : "is",
                        hm__csv_encoding_name(enc), how, hint);
}
