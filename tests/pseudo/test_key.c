/* test_key.c — key generation (0600, no overwrite, random), loading, and
 * clear errors for malformed key files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hm_pseudo.h"

static void path_of(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", HM_TEST_TMPDIR, name);
    unlink(buf);
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, 0600), 0);
}

static void test_keygen(void **state)
{
    (void)state;
    char a[512], b[512];
    path_of(a, sizeof a, "a.key");
    path_of(b, sizeof b, "b.key");
    hm_error err;
    assert_int_equal(hm_pseudo_keygen(a, 3, &err), HM_OK);
    struct stat st;
    assert_int_equal(stat(a, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never overwrite */
    hm_error_clear(&err);
    assert_int_equal(hm_pseudo_keygen(a, 3, &err), HM_EIO);
    assert_non_null(strstr(err.msg, "refusing to overwrite"));
    assert_int_equal(hm_pseudo_keygen(b, 1, &err), HM_OK);
    assert_int_equal(hm_pseudo_keygen(b, 0, &err), HM_EINVAL);

    hm_pseudo_key ka, kb;
    assert_int_equal(hm_pseudo_key_load(a, &ka, &err), HM_OK);
    assert_int_equal(hm_pseudo_key_load(b, &kb, &err), HM_OK);
    assert_int_equal(ka.key_len, 32);
    assert_int_equal(ka.version, 3);
    assert_int_equal(kb.version, 1);
    assert_memory_not_equal(ka.key, kb.key, 32);      /* two keys are random */
    char pa[65], pb[65];
    assert_int_equal(hm_pseudo_id(&ka, "patient", "12345", pa, &err), HM_OK);
    assert_int_equal(hm_pseudo_id(&kb, "patient", "12345", pb, &err), HM_OK);
    assert_string_not_equal(pa, pb);
}

static void test_load_known_key(void **state)
{
    (void)state;
    char p[512];
    path_of(p, sizeof p, "known.key");
    write_text(p, "# comment\nformat: harmonic-study-key-1\nversion: 7\n"
                  "key-hex: 000102030405060708090A0B0C0D0E0F\n");
    hm_pseudo_key k;
    hm_error err;
    assert_int_equal(hm_pseudo_key_load(p, &k, &err), HM_OK);
    assert_int_equal(k.key_len, 16);
    assert_int_equal(k.version, 7);
    for (int i = 0; i < 16; i++)
        assert_int_equal(k.key[i], i);
    /* readable by others: refused */
    assert_int_equal(chmod(p, 0644), 0);
    hm_error_clear(&err);
    assert_int_equal(hm_pseudo_key_load(p, &k, &err), HM_EPERM);
    assert_non_null(strstr(err.msg, "chmod 600"));
}

static void expect_bad(const char *text, long line, const char *field, const char *what)
{
    char p[512];
    path_of(p, sizeof p, "bad.key");
    write_text(p, text);
    hm_pseudo_key k;
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(hm_pseudo_key_load(p, &k, &err), HM_EPARSE);
    assert_int_equal(err.line, line);
    assert_string_equal(err.field, field);
    assert_non_null(strstr(err.msg, what));
}

static void test_bad_keys(void **state)
{
    (void)state;
    const char *hex = "key-hex: 000102030405060708090a0b0c0d0e0f\n";
    char buf[256];
    expect_bad("format: other-1\nversion: 1\n", 1, "format", "not a key format");
    snprintf(buf, sizeof buf, "format: harmonic-study-key-1\nversion: x\n%s", hex);
    expect_bad(buf, 2, "version", "integer 1..1000");
    expect_bad("format: harmonic-study-key-1\nversion: 1\nkey-hex: 0011\n", 3, "key-hex",
               "even number");
    expect_bad("format: harmonic-study-key-1\nversion: 1\n"
               "key-hex: 000102030405060708090a0b0c0d0eZZ\n", 3, "key-hex", "not a hex digit");
    expect_bad("format: harmonic-study-key-1\nversion: 1\n", 0, "key-hex", "missing entry");
    snprintf(buf, sizeof buf, "format: harmonic-study-key-1\n%sversion 1\n", hex);
    expect_bad(buf, 3, "", "expected 'name: value'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen),
        cmocka_unit_test(test_load_known_key),
        cmocka_unit_test(test_bad_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
