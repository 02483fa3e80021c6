/* hmac.c — identifier normalisation and keyed pseudonyms.
 *
 * HMAC-SHA-256 is RFC 2104 / FIPS 198-1 over SHA-256 (FIPS 180-4); libsodium's
 * crypto_auth_hmacsha256_init() accepts keys of any length (a key longer than
 * the 64-byte block is hashed first, as RFC 2104 §2 requires), so RFC 4231's
 * 131-byte test keys work unchanged. */
#include "hm_pseudo.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_ID_BYTES 256
#define MAX_UID_CHARS 64   /* DICOM PS3.5 §9.1: a UID is at most 64 characters */

void hm_pseudo_hmac_sha256(const void *key, size_t key_len, const void *msg,
                           size_t msg_len, unsigned char out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, msg, msg_len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

static int ns_valid(const char *ns)
{
    if (!ns || !*ns || strlen(ns) > 32)
        return 0;
    for (const char *p = ns; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static int is_uid_ns(const char *ns)
{
    size_t n = strlen(ns);
    return n >= 4 && !strcmp(ns + n - 4, "_uid");
}

static int normalise_uid(const char *id, char *out, size_t size, hm_error *err)
{
    const char *b = id, *e = id + strlen(id);
    while (b < e && *b == ' ')
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\0'))
        e--;
    size_t n = (size_t)(e - b);
    if (n == 0)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, NULL, "empty UID");
    if (n > MAX_UID_CHARS)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, NULL,
                            "UID of %zu characters, at most %d allowed", n, MAX_UID_CHARS);
    for (const char *p = b; p < e; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return hm_error_set(err, HM_EVALIDATE, NULL, 0, NULL,
                                "UID may contain only digits and dots, found '%c'", *p);
    if (n + 1 > size)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "output buffer too small");
    memcpy(out, b, n);
    out[n] = '\0';
    return HM_OK;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_separator(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '/';
}

static int normalise_code(const char *id, char *out, size_t size, hm_error *err)
{
    const unsigned char *b = (const unsigned char *)id;
    const unsigned char *e = b + strlen(id);
    while (b < e && is_ws(*b))
        b++;
    while (e > b && is_ws(e[-1]))
        e--;
    size_t n = 0;
    for (const unsigned char *p = b; p < e; p++) {
        unsigned char c = *p;
        if (is_separator(c))
            continue;
        if (c < 0x20 || c == 0x7f)
            return hm_error_set(err, HM_EVALIDATE, NULL, 0, NULL,
                                "control character 0x%02x in identifier", c);
        /* ASCII only: no locale, so a UTF-8 byte is never altered. */
        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 'a' + 'A');
        if (n + 1 >= size || n >= MAX_ID_BYTES)
            return hm_error_set(err, HM_EVALIDATE, NULL, 0, NULL,
                                "identifier longer than %d bytes", MAX_ID_BYTES);
        out[n++] = (char)c;
    }
    if (n == 0)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, NULL,
                            "empty identifier (after removing spaces, '-', '.', '/')");
    out[n] = '\0';
    return HM_OK;
}

int hm_pseudo_normalise(const char *ns, const char *local_id, char *out,
                        size_t size, hm_error *err)
{
    if (!ns_valid(ns))
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL,
                            "identifier namespace '%s': expected [a-z0-9_]+", ns ? ns : "");
    size_t pre = strlen(ns) + 1;
    if (!local_id || size < pre + 2)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "no identifier or buffer too small");
    memcpy(out, ns, pre - 1);
    out[pre - 1] = ':';
    return is_uid_ns(ns) ? normalise_uid(local_id, out + pre, size - pre, err)
                         : normalise_code(local_id, out + pre, size - pre, err);
}

int hm_pseudo_id(const hm_pseudo_key *key, const char *ns, const char *local_id,
                 char hex[HM_PSEUDO_HEX_SIZE], hm_error *err)
{
    char msg[MAX_ID_BYTES + 64];
    int rc = hm_pseudo_normalise(ns, local_id, msg, sizeof msg, err);
    if (rc)
        return rc;
    unsigned char mac[32];
    hm_pseudo_hmac_sha256(key->key, key->key_len, msg, strlen(msg), mac);
    hm_pseudo_hex(mac, sizeof mac, hex);
    return HM_OK;
}

int hm_pseudo_uid(const hm_pseudo_key *key, const char *ns, const char *local_uid,
                  char uid[HM_PSEUDO_UID_SIZE], hm_error *err)
{
    char msg[MAX_ID_BYTES + 64];
    int rc = hm_pseudo_normalise(ns, local_uid, msg, sizeof msg, err);
    if (rc)
        return rc;
    unsigned char mac[32];
    hm_pseudo_hmac_sha256(key->key, key->key_len, msg, strlen(msg), mac);
    /* Decimal of the 128-bit big-endian number mac[0..15]: long division of
     * four 32-bit limbs by 10^9, nine digits per round (least significant
     * chunk first). */
    uint32_t limb[4];
    for (int i = 0; i < 4; i++)
        limb[i] = (uint32_t)mac[4 * i] << 24 | (uint32_t)mac[4 * i + 1] << 16
                  | (uint32_t)mac[4 * i + 2] << 8 | mac[4 * i + 3];
    uint32_t chunk[5];
    int nchunk = 0;
    do {
        uint64_t rem = 0;
        for (int i = 0; i < 4; i++) {
            uint64_t cur = rem << 32 | limb[i];
            limb[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        chunk[nchunk++] = (uint32_t)rem;
    } while ((limb[0] | limb[1] | limb[2] | limb[3]) && nchunk < 5);
    char *p = uid + 5;
    memcpy(uid, "2.25.", 5);
    p += snprintf(p, 12, "%u", chunk[nchunk - 1]);           /* no leading zeros */
    for (int i = nchunk - 2; i >= 0; i--)
        p += snprintf(p, 10, "%09u", chunk[i]);
    *p = '\0';
    return HM_OK;
}
