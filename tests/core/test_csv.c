/* test_csv.c — the streaming CSV reader on tricky but valid and invalid input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hm_core.h"

static FILE *mem(const char *s)
{
    return fmemopen((void *)s, strlen(s), "r");
}

static void test_quoted_and_crlf(void **state)
{
    (void)state;
    FILE *fp = mem("a,b,c\r\n\"x,1\",\"he said \"\"hi\"\"\",\"two\nlines\"\n\n# not a comment here\n");
    hm_csv *c = hm_csv_from_file(fp, "t.csv", 0);
    char **f; size_t n; hm_error err;
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    assert_int_equal(n, 3);
    assert_string_equal(f[2], "c");
    assert_int_equal(hm_csv_line(c), 1);
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    assert_int_equal(n, 3);
    assert_string_equal(f[0], "x,1");
    assert_string_equal(f[1], "he said \"hi\"");
    assert_string_equal(f[2], "two\nlines");
    assert_int_equal(hm_csv_line(c), 2);
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);   /* '#' kept: comments off */
    assert_string_equal(f[0], "# not a comment here");
    assert_int_equal(hm_csv_line(c), 5);
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 0);
    hm_csv_close(c);
    fclose(fp);
}

static void test_comments_and_empty_fields(void **state)
{
    (void)state;
    FILE *fp = mem("# header comment\n,,\nlast,\"\"");
    hm_csv *c = hm_csv_from_file(fp, "t.csv", 1);
    char **f; size_t n; hm_error err;
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    assert_int_equal(n, 3);
    assert_string_equal(f[0], "");
    assert_int_equal(hm_csv_line(c), 2);
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    assert_int_equal(n, 2);
    assert_string_equal(f[0], "last");
    assert_string_equal(f[1], "");
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 0);
    hm_csv_close(c);
    fclose(fp);
}

static void expect_error(const char *text, long line, const char *what)
{
    FILE *fp = mem(text);
    hm_csv *c = hm_csv_from_file(fp, "bad.csv", 0);
    char **f; size_t n; hm_error err;
    int rc;
    while ((rc = hm_csv_next(c, &f, &n, &err)) == 1)
        ;
    assert_int_equal(rc, HM_EPARSE);
    assert_int_equal(err.line, line);
    assert_non_null(strstr(err.msg, what));
    char buf[600];
    hm_error_format(&err, buf, sizeof buf);
    assert_int_equal(strncmp(buf, "bad.csv:", 8), 0);
    hm_csv_close(c);
    fclose(fp);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("a,b\nx,y\"z\n", 2, "quote character inside");
    expect_error("a,\"b\"c\n", 1, "text after a closing quote");
    expect_error("a\n\"open\nstill\n", 4, "unterminated");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoted_and_crlf),
        cmocka_unit_test(test_comments_and_empty_fields),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
