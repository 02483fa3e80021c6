/*
 * test_config.c — the server's configuration file (config.c): the defaults
 * (the request threads follow the cores), values read from a file, and the
 * errors a typo gets, each naming the file, the line and the key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_server.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DIR HM_TEST_TMPDIR

static const char *write_conf(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", DIR, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void test_defaults(void **state)
{
    (void)state;
    hm_server_config c;
    hm_server_config_defaults(&c);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(c.threads, cores < 2 ? 2 : cores > 64 ? 64 : cores);
    assert_true(c.threads >= 2);
    assert_int_equal(c.tls, 1);
    assert_string_equal(c.listen, "127.0.0.1");
    assert_int_equal(c.install, 1);
    assert_int_equal(c.job_workers, 1);
}

static void test_file(void **state)
{
    (void)state;
    hm_server_config c;
    hm_error err;
    hm_error_clear(&err);
    const char *p = write_conf("good.conf", "# a comment\n  port = 8443 \nthreads = 3\n"
                               "tls_cert = /etc/c.pem\ntls_key = /etc/k.pem # inline\n"
                               "max_upload_bytes = 1048576\ninstall = off\n");
    assert_int_equal(hm_server_config_load(p, &c, &err), HM_OK);
    assert_int_equal(c.port, 8443);
    assert_int_equal(c.threads, 3);
    assert_string_equal(c.tls_key, "/etc/k.pem");
    assert_int_equal(c.max_upload_bytes, 1048576);
    assert_int_equal(c.install, 0);
}

static void expect_error(const char *text, long line, const char *field, const char *words)
{
    hm_server_config c;
    hm_error err;
    hm_error_clear(&err);
    const char *p = write_conf("bad.conf", text);
    assert_int_not_equal(hm_server_config_load(p, &c, &err), HM_OK);
    assert_string_equal(err.file, p);
    assert_int_equal(err.line, line);
    assert_string_equal(err.field, field);
    if (!strstr(err.msg, words))
        fail_msg("'%s' not in '%s'", words, err.msg);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("tls = off\nthreads = 0\n", 2, "threads", "expected an integer 1..256");
    expect_error("tls = off\nthreads = four\n", 2, "threads", "found 'four'");
    expect_error("tls = off\n\nthread = 4\n", 3, "thread", "unknown key");
    expect_error("tls = off\nport 8443\n", 2, "", "expected 'key = value'");
    expect_error("port = 8443\n", 0, "tls_cert", "give tls_cert and tls_key");
    expect_error("tls = off\nlisten = 0.0.0.0\n", 0, "tls", "only allowed on a loopback");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
