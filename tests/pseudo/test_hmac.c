/* test_hmac.c — HMAC-SHA-256 against RFC 4231, identifier normalisation,
 * namespaces, keys, UIDs and dates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hm_pseudo.h"

static void check_hmac(const unsigned char *key, size_t key_len, const char *data,
                       size_t data_len, const char *expect_hex)
{
    unsigned char mac[32];
    char hex[65];
    hm_pseudo_hmac_sha256(key, key_len, data, data_len, mac);
    size_t nbytes = strlen(expect_hex) / 2;     /* case 5 is truncated */
    hm_pseudo_hex(mac, nbytes, hex);
    assert_string_equal(hex, expect_hex);
}

/* RFC 4231 §4.2–4.8, HMAC-SHA-256 outputs. */
static void test_rfc4231(void **state)
{
    (void)state;
    unsigned char k[131];
    memset(k, 0x0b, 20);
    check_hmac(k, 20, "Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    check_hmac((const unsigned char *)"Jefe", 4, "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    char d[50];
    memset(k, 0xaa, 20);
    memset(d, 0xdd, 50);
    check_hmac(k, 20, d, 50,
               "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    for (int i = 0; i < 25; i++)
        k[i] = (unsigned char)(i + 1);
    memset(d, 0xcd, 50);
    check_hmac(k, 25, d, 50,
               "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    memset(k, 0x0c, 20);
    check_hmac(k, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b");
    memset(k, 0xaa, 131);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    check_hmac(k, 131, m6, strlen(m6),
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *m7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    check_hmac(k, 131, m7, strlen(m7),
               "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void norm_ok(const char *ns, const char *in, const char *expect)
{
    char out[300];
    hm_error err;
    assert_int_equal(hm_pseudo_normalise(ns, in, out, sizeof out, &err), HM_OK);
    assert_string_equal(out, expect);
}

static void norm_bad(const char *ns, const char *in, const char *what)
{
    char out[300];
    hm_error err;
    hm_error_clear(&err);
    assert_true(hm_pseudo_normalise(ns, in, out, sizeof out, &err) < 0);
    assert_non_null(strstr(err.msg, what));
}

static void test_normalise(void **state)
{
    (void)state;
    norm_ok("patient", "  ab-12.34/x\t", "patient:AB1234X");
    norm_ok("patient", "AB 12 34 X", "patient:AB1234X");
    /* UTF-8 bytes untouched, only ASCII letters upper-cased */
    norm_ok("patient", "m\xc3\xbcller-7", "patient:M\xc3\xbcLLER7");
    norm_ok("accession", "ab1234x", "accession:AB1234X");
    /* UIDs: padding trimmed, dots kept */
    norm_ok("study_uid", " 1.2.840.10008.1 ", "study_uid:1.2.840.10008.1");
    norm_bad("study_uid", "1.2.abc", "digits and dots");
    norm_bad("study_uid", "1.2345678901234567890123456789012345678901234567890123456789012345",
             "at most 64");
    norm_bad("patient", " - . ", "empty identifier");
    norm_bad("patient", "ab\x01" "c", "control character");
    norm_bad("Patient", "x", "namespace");
}

static void test_pseudonyms(void **state)
{
    (void)state;
    hm_pseudo_key k1, k2;
    hm_error err;
    unsigned char b1[32], b2[32];
    memset(b1, 1, sizeof b1);
    memset(b2, 1, sizeof b2);
    b2[31] = 2;
    assert_int_equal(hm_pseudo_key_from_bytes(&k1, b1, 32, 1, &err), HM_OK);
    assert_int_equal(hm_pseudo_key_from_bytes(&k2, b2, 32, 1, &err), HM_OK);
    char p1[65], p2[65], p3[65], p4[65];
    assert_int_equal(hm_pseudo_id(&k1, "patient", "ab-1234", p1, &err), HM_OK);
    assert_int_equal(hm_pseudo_id(&k1, "patient", " AB1234 ", p2, &err), HM_OK);
    assert_string_equal(p1, p2);                      /* same after normalisation */
    assert_int_equal(strlen(p1), 64);
    for (int i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", p1[i]));
    /* the pseudonym is HMAC(key, "patient:AB1234"), computed independently */
    unsigned char mac[32];
    char hex[65];
    hm_pseudo_hmac_sha256(b1, 32, "patient:AB1234", 14, mac);
    hm_pseudo_hex(mac, 32, hex);
    assert_string_equal(p1, hex);
    assert_int_equal(hm_pseudo_id(&k2, "patient", "AB1234", p3, &err), HM_OK);
    assert_string_not_equal(p1, p3);                  /* another key, another pseudonym */
    assert_int_equal(hm_pseudo_id(&k1, "accession", "AB1234", p4, &err), HM_OK);
    assert_string_not_equal(p1, p4);                  /* another namespace too */
    assert_int_equal(hm_pseudo_key_from_bytes(&k1, b1, 32, 0, &err), HM_EINVAL);
    assert_int_equal(hm_pseudo_key_from_bytes(&k1, b1, 0, 1, &err), HM_EINVAL);
}

static void test_uid(void **state)
{
    (void)state;
    hm_pseudo_key k;
    hm_error err;
    unsigned char b[32];
    memset(b, 7, sizeof b);
    assert_int_equal(hm_pseudo_key_from_bytes(&k, b, 32, 1, &err), HM_OK);
    char uid[HM_PSEUDO_UID_SIZE];
    assert_int_equal(hm_pseudo_uid(&k, "study_uid", "1.2.3.4", uid, &err), HM_OK);
    /* Value check: the digits are the big-endian 128-bit integer of the first
     * 16 MAC bytes; recompute it here with two 64-bit halves and long division. */
    unsigned char mac[32];
    hm_pseudo_hmac_sha256(b, 32, "study_uid:1.2.3.4", 17, mac);
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; i++) {
        hi = hi << 8 | mac[i];
        lo = lo << 8 | mac[8 + i];
    }
    char rev[48];
    int n = 0;
    do {   /* divide (hi:lo) by 10 using 32-bit limbs */
        uint64_t limbs[4] = { hi >> 32, hi & 0xffffffffu, lo >> 32, lo & 0xffffffffu };
        uint64_t rem = 0;
        for (int i = 0; i < 4; i++) {
            uint64_t cur = rem << 32 | limbs[i];
            limbs[i] = cur / 10;
            rem = cur % 10;
        }
        hi = limbs[0] << 32 | limbs[1];
        lo = limbs[2] << 32 | limbs[3];
        rev[n++] = (char)('0' + rem);
    } while (hi || lo);
    char expect[64] = "2.25.";
    for (int i = 0; i < n; i++)
        expect[5 + i] = rev[n - 1 - i];
    expect[5 + n] = '\0';
    assert_string_equal(uid, expect);
    assert_true(strlen(uid) <= 64);
}

static void test_dates(void **state)
{
    (void)state;
    long d;
    assert_int_equal(hm_date_parse("1970-01-01", &d), HM_OK);
    assert_int_equal(d, 0);
    assert_int_equal(hm_date_parse("2000-03-01", &d), HM_OK);
    assert_int_equal(d, 11017);
    assert_int_equal(hm_date_parse("2022-12-31", &d), HM_OK);
    assert_int_equal(d, 19357);
    assert_int_equal(hm_date_parse("1969-12-31", &d), HM_OK);
    assert_int_equal(d, -1);
    assert_int_equal(hm_date_parse("2020-02-29", &d), HM_OK);
    assert_int_equal(hm_date_parse("2021-02-29", &d), HM_EPARSE);
    assert_int_equal(hm_date_parse("1900-02-29", &d), HM_EPARSE);
    assert_int_equal(hm_date_parse("2021-1-02", &d), HM_EPARSE);
    assert_int_equal(hm_date_parse("2021-01-02x", &d), HM_EPARSE);
    char buf[11];
    hm_date_format(19357, buf);
    assert_string_equal(buf, "2022-12-31");
    for (long day = -30000; day < 30000; day += 37) {   /* round trip */
        hm_date_format(day, buf);
        assert_int_equal(hm_date_parse(buf, &d), HM_OK);
        assert_int_equal(d, day);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_pseudonyms),
        cmocka_unit_test(test_uid),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
