/* test_csv_dialect.c — separators, decimal commas, encodings and blanks:
 * what the reader detects and what it hands over. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_core.h"

static FILE *cur_fp;

/* A reader over n bytes of s (the bytes may hold NULs: UTF-16). */
static hm_csv *over(const char *s, size_t n, const hm_csv_dialect *d)
{
    cur_fp = fmemopen((void *)s, n, "r");
    assert_non_null(cur_fp);
    hm_csv *c = hm_csv_from_file_dialect(cur_fp, "t.csv", 1, d);
    assert_non_null(c);
    return c;
}
#define OVER(lit, d) over(lit, sizeof lit - 1, d)

static void done(hm_csv *c)
{
    hm_csv_close(c);
    fclose(cur_fp);
}

/* Next record must be the n fields given (NULL-terminated list). */
static void expect(hm_csv *c, const char *f0, ...)
{
    char **f;
    size_t n, i = 0;
    hm_error err;
    hm_error_clear(&err);
    int rc = hm_csv_next(c, &f, &n, &err);
    if (rc != 1)
        fail_msg("hm_csv_next: %d %s", rc, err.msg);
    va_list ap;
    va_start(ap, f0);
    for (const char *want = f0; want; want = va_arg(ap, const char *), i++) {
        if (i >= n)
            fail_msg("only %zu fields, wanted '%s' next", n, want);
        assert_string_equal(f[i], want);
    }
    va_end(ap);
    assert_int_equal(n, i);
}

static void expect_end(hm_csv *c)
{
    char **f;
    size_t n;
    hm_error err;
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 0);
}

static void expect_seen(hm_csv *c, const char *desc)
{
    char buf[128];
    hm_csv_dialect_describe(hm_csv_dialect_seen(c), buf, sizeof buf);
    assert_string_equal(buf, desc);
}

static void test_separators(void **state)
{
    (void)state;
    hm_csv *c = OVER("id,dose\n1,2.5\n", NULL);
    expect_seen(c, "','-separated, decimal point, UTF-8");
    expect(c, "id", "dose", NULL);
    expect(c, "1", "2.5", NULL);
    expect_end(c);
    done(c);
    c = OVER("id;dose;note\r\n1;2,5;a,b\r\n", NULL);
    expect_seen(c, "';'-separated, decimal comma, UTF-8");
    expect(c, "id", "dose", "note", NULL);
    expect(c, "1", "2.5", "a,b", NULL);
    assert_int_equal(hm_csv_line(c), 2);
    expect_end(c);
    done(c);
    c = OVER("id\tdose\n1\t2,5\n", NULL);
    expect_seen(c, "tab-separated, decimal comma, UTF-8");
    expect(c, "id", "dose", NULL);
    expect(c, "1", "2.5", NULL);
    done(c);
    /* A two-column ';' file with decimal commas has as many ',' as ';'. */
    c = OVER("20;0,5\n21;0,75\n", NULL);
    expect(c, "20", "0.5", NULL);
    done(c);
    /* Separators inside quotes do not count; a single column stays one. */
    c = OVER("\"a;b;c\",x\n1,2\n", NULL);
    expect_seen(c, "','-separated, decimal point, UTF-8");
    expect(c, "a;b;c", "x", NULL);
    done(c);
    c = OVER("name\nalpha\n", NULL);
    expect(c, "name", NULL);
    expect(c, "alpha", NULL);
    done(c);
    /* Comment lines before the header are not the header. */
    c = OVER("# a;b;c;d;e\nx,y\n1;2,3\n", NULL);
    expect(c, "x", "y", NULL);
    expect(c, "1;2", "3", NULL);
    done(c);
}

static void test_decimal_comma(void **state)
{
    (void)state;
    hm_csv *c = OVER("a;b;c;d;e;f;g;h\n"
                     "1,5;-0,25;3,0E-2;a,b;1,2,3;12,;\"1,5\"; +7,125 \n", NULL);
    expect(c, "a", "b", "c", "d", "e", "f", "g", "h", NULL);
    expect(c, "1.5", "-0.25", "3.0E-2", "a,b", "1,2,3", "12,", "1,5", "+7.125", NULL);
    done(c);
    /* An empty first field (nothing in the record buffer yet). */
    c = OVER(";b\n;1,5\n", NULL);
    expect(c, "", "b", NULL);
    expect(c, "", "1.5", NULL);
    done(c);
    /* More decimal points than commas in the sample: '.' and nothing converted. */
    c = OVER("a;b;c\n1.5;2.5;1,5\n", NULL);
    expect_seen(c, "';'-separated, decimal point, UTF-8");
    expect(c, "a", "b", "c", NULL);
    expect(c, "1.5", "2.5", "1,5", NULL);
    done(c);
    /* Forced '.': a decimal comma stays as it is. */
    hm_csv_dialect d = { 0, '.', 0, 0 };
    c = OVER("a;b\n1,5;2\n", &d);
    expect(c, "a", "b", NULL);
    expect(c, "1,5", "2", NULL);
    done(c);
    /* Forced ',' in a ';' file whose sample holds integers only. */
    d.decimal = ',';
    c = OVER("a;b\n1;2\n3;4,5\n", &d);
    expect(c, "a", "b", NULL);
    expect(c, "1", "2", NULL);
    expect(c, "3", "4.5", NULL);
    done(c);
    /* ',' separator with a decimal comma cannot work. */
    d.delimiter = ',';
    cur_fp = fmemopen((void *)"a,b\n", 4, "r");
    c = hm_csv_from_file_dialect(cur_fp, "t.csv", 1, &d);
    char **f;
    size_t n;
    hm_error err;
    assert_int_equal(hm_csv_next(c, &f, &n, &err), HM_EINVAL);
    assert_non_null(strstr(err.msg, "decimal comma"));
    done(c);
}

static void test_quotes_crlf_and_blanks(void **state)
{
    (void)state;
    hm_csv *c = OVER("name;note\r\n\"x;y\";\"two\r\nlines\"\r\n \"pad\" ; 1,5 \r\n", NULL);
    expect(c, "name", "note", NULL);
    expect(c, "x;y", "two\r\nlines", NULL);
    expect(c, "pad", "1.5", NULL);
    assert_int_equal(hm_csv_line(c), 4);
    expect_end(c);
    done(c);
    /* RERF style: blanks after every separator, header and data. */
    c = OVER("city, sex, dose\n 1, 2,  0.5\n", NULL);
    expect(c, "city", "sex", "dose", NULL);
    expect(c, "1", "2", "0.5", NULL);
    done(c);
    hm_csv_dialect keep = { 0, 0, 0, 1 };
    c = OVER("city, sex\n 1, 2 \n", &keep);
    expect(c, "city", "sex", NULL);                 /* the header is always trimmed */
    expect(c, " 1", " 2 ", NULL);
    done(c);
    /* A tab separator is never a blank. */
    c = OVER("a\tb\n\t2\n", NULL);
    expect(c, "a", "b", NULL);
    expect(c, "", "2", NULL);
    done(c);
}

static void test_encodings(void **state)
{
    (void)state;
    /* UTF-8 with a byte order mark. */
    hm_csv *c = OVER("\xEF\xBB\xBFname,city\nx,Montr\xC3\xA9" "al\n", NULL);
    expect_seen(c, "','-separated, decimal point, UTF-8");
    expect(c, "name", "city", NULL);
    expect(c, "x", "Montr\xC3\xA9" "al", NULL);
    done(c);
    /* Windows-1252: 0xE9 e-acute, 0x80 euro sign. */
    c = OVER("nom;co\xFBt\r\nh\xE9pital;12,5 \x80\r\n", NULL);
    expect_seen(c, "';'-separated, decimal point, Windows-1252");
    expect(c, "nom", "co\xC3\xBBt", NULL);
    expect(c, "h\xC3\xA9pital", "12,5 \xE2\x82\xAC", NULL);
    done(c);
    /* Latin-1 forced: 0x80 is the C1 control U+0080. */
    hm_csv_dialect d = { 0, 0, HM_CSV_ENC_LATIN1, 0 };
    c = OVER("a\n\xE9\x80\n", &d);
    expect_seen(c, "','-separated, decimal point, Latin-1");
    expect(c, "a", NULL);
    expect(c, "\xC3\xA9\xC2\x80", NULL);
    done(c);
    /* Excel "Unicode text": UTF-16LE with BOM, tab separated, CRLF. */
    static const char u16le[] = "\xFF\xFE" "n\0o\0m\0\t\0v\0\r\0\n\0"
                                "\xE9\0t\0\xE9\0\t\0" "1\0,\0" "5\0 \0\xAC\x20\r\0\n\0";
    c = over(u16le, sizeof u16le - 1, NULL);
    expect_seen(c, "tab-separated, decimal point, UTF-16LE");
    expect(c, "nom", "v", NULL);
    expect(c, "\xC3\xA9t\xC3\xA9", "1,5 \xE2\x82\xAC", NULL);
    expect_end(c);
    done(c);
    static const char u16be[] = "\xFE\xFF" "\0a\0;\0b\0\n" "\0" "1\0;\0" "2\0,\0" "5\0\n";
    c = over(u16be, sizeof u16be - 1, NULL);
    expect_seen(c, "';'-separated, decimal comma, UTF-16BE");
    expect(c, "a", "b", NULL);
    expect(c, "1", "2.5", NULL);
    done(c);
}

static void expect_fail(hm_csv *c, int records_before, long line, const char *what, const char *hint)
{
    char **f;
    size_t n;
    hm_error err;
    hm_error_clear(&err);
    for (int i = 0; i < records_before; i++)
        assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    int rc = hm_csv_next(c, &f, &n, &err);
    if (rc >= 0)
        fail_msg("expected an error with '%s', got %d", what, rc);
    assert_int_equal(err.line, line);
    if (!strstr(err.msg, what) || (hint && !strstr(err.msg, hint)))
        fail_msg("message: %s", err.msg);
    assert_string_equal(err.file, "t.csv");
}

static void test_encoding_errors(void **state)
{
    (void)state;
    hm_csv_dialect u8 = { 0, 0, HM_CSV_ENC_UTF8, 0 };
    hm_csv *c = OVER("a,b\nx,y\nh\xE9pital,1\n", &u8);
    expect_fail(c, 2, 3, "byte 0xE9 (field 1) is not valid UTF-8", "--encoding windows-1252");
    done(c);
    /* 0x81 is no Windows-1252 character. */
    hm_csv_dialect w = { 0, 0, HM_CSV_ENC_CP1252, 0 };
    c = OVER("a\nok\nb\x81\n", &w);
    expect_fail(c, 2, 3, "byte 0x81 (field 1) is not valid Windows-1252", "--encoding latin-1");
    done(c);
    /* Auto-detection looks at the first 64 KiB: later bytes must agree. */
    size_t big = 70000;
    char *s = malloc(big + 32);
    strcpy(s, "a,b\n");
    size_t o = 4;
    long lines = 1;
    while (o < big) {
        memcpy(s + o, "x,1\n", 4);
        o += 4;
        lines++;
    }
    o += (size_t)sprintf(s + o, "caf\xE9,2\n");
    c = over(s, o, NULL);
    expect_fail(c, (int)lines, lines + 1, "0xE9", "first 64 KiB were valid UTF-8");
    done(c);
    free(s);
    /* A character cut off by the end of the file. */
    c = OVER("a\n\xC3", &u8);
    expect_fail(c, 1, 2, "ends inside a UTF-8 character", NULL);
    done(c);
    /* A byte order mark that contradicts the forced encoding. */
    cur_fp = fmemopen((void *)"\xFF\xFE" "a\0", 4, "r");
    c = hm_csv_from_file_dialect(cur_fp, "t.csv", 1, &w);
    expect_fail(c, 0, 1, "UTF-16 byte order mark", "--encoding utf-16");
    done(c);
}

/* Text much longer than a block, converted: nothing lost at block edges.
 * (The header too has its decimal comma converted: a file may have none.) */
static void test_block_edges(void **state)
{
    (void)state;
    const size_t nrec = 30000;   /* ~ 360 KB: several 64 KiB blocks */
    char *in = malloc(nrec * 16 + 16), *utf8 = malloc(nrec * 32 + 16);
    size_t ni = 0, nu = 0;
    for (size_t i = 0; i < nrec; i++) {
        ni += (size_t)sprintf(in + ni, "\xE9\x80%zu;%zu,5\n", i, i % 7);
        nu += (size_t)sprintf(utf8 + nu, "\xC3\xA9\xE2\x82\xAC%zu;%zu.5\n", i, i % 7);
    }
    hm_csv_dialect forms[2] = { { 0, 0, 0, 0 }, { 0, 0, HM_CSV_ENC_UTF8, 0 } };
    const char *texts[2] = { in, utf8 };
    size_t lens[2] = { ni, nu };
    for (int k = 0; k < 2; k++) {
        hm_csv *c = over(texts[k], lens[k], &forms[k]);
        char **f;
        size_t n, i = 0;
        hm_error err;
        int rc;
        char want0[40], want1[40];
        while ((rc = hm_csv_next(c, &f, &n, &err)) == 1) {
            snprintf(want0, sizeof want0, "\xC3\xA9\xE2\x82\xAC%zu", i);
            snprintf(want1, sizeof want1, "%zu.5", i % 7);
            assert_string_equal(f[1], want1);
            assert_int_equal(hm_csv_line(c), (long)i + 1);
            i++;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(i, nrec);
        done(c);
    }
    free(in);
    free(utf8);
}

static void test_header_check(void **state)
{
    (void)state;
    hm_csv_dialect comma = { ',', 0, 0, 0 };
    hm_csv *c = OVER("centre_code;pseudonym;sex;birth_year\nFR01;x;F;2001\n", &comma);
    char **f;
    size_t n;
    hm_error err;
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    assert_int_equal(n, 1);
    hm_error_clear(&err);
    assert_int_equal(hm_csv_header_check(c, f, n, &err), HM_EPARSE);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.msg, "the header has one column 'centre_code;pseudonym;"));
    assert_non_null(strstr(err.msg, "looks ';'-separated; use --delimiter ';'"));
    done(c);
    hm_csv_dialect semi = { ';', 0, 0, 0 };
    c = OVER("a\tb\tc\n", &semi);
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    assert_int_equal(hm_csv_header_check(c, f, n, &err), HM_EPARSE);
    assert_non_null(strstr(err.msg, "use --delimiter tab"));
    done(c);
    c = OVER("a;b\n", NULL);                 /* detected: fine */
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    assert_int_equal(hm_csv_header_check(c, f, n, &err), 0);
    done(c);
}

static void test_parse(void **state)
{
    (void)state;
    hm_csv_dialect d;
    hm_error err;
    memset(&d, 0, sizeof d);
    assert_int_equal(hm_csv_dialect_parse(";", ",", "Windows-1252", &d, &err), 0);
    assert_int_equal(d.delimiter, ';');
    assert_int_equal(d.decimal, ',');
    assert_int_equal(d.encoding, HM_CSV_ENC_CP1252);
    char buf[96];
    assert_int_equal(hm_csv_dialect_describe(&d, buf, sizeof buf), 1);
    assert_string_equal(buf, "';'-separated, decimal comma, Windows-1252");
    assert_int_equal(hm_csv_dialect_parse("tab", ".", "utf-16", &d, &err), 0);
    assert_int_equal(d.delimiter, '\t');
    assert_int_equal(d.encoding, HM_CSV_ENC_UTF16);
    assert_int_equal(hm_csv_dialect_parse(NULL, "auto", "ISO-8859-1", &d, &err), 0);
    assert_int_equal(d.delimiter, 0);
    assert_int_equal(d.decimal, 0);
    assert_int_equal(d.encoding, HM_CSV_ENC_LATIN1);
    assert_int_equal(hm_csv_dialect_parse(",", NULL, "cp1252", &d, &err), 0);
    assert_int_equal(hm_csv_dialect_describe(&(hm_csv_dialect){ ',', '.', HM_CSV_ENC_UTF8, 0 },
                                             buf, sizeof buf), 0);
    assert_int_equal(hm_csv_dialect_parse("|", NULL, NULL, &d, &err), HM_EINVAL);
    assert_string_equal(err.field, "--delimiter");
    assert_non_null(strstr(err.msg, "'|': expected ',', ';' or tab"));
    assert_int_equal(hm_csv_dialect_parse(NULL, ";", NULL, &d, &err), HM_EINVAL);
    assert_string_equal(err.field, "--decimal");
    assert_int_equal(hm_csv_dialect_parse(NULL, NULL, "ebcdic", &d, &err), HM_EINVAL);
    assert_string_equal(err.field, "--encoding");
    assert_int_equal(hm_csv_dialect_parse(",", ",", NULL, &d, &err), HM_EINVAL);
    assert_non_null(strstr(err.msg, "decimal comma needs --delimiter"));
}

static void test_detect_file(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/detect.csv", HM_TEST_TMPDIR);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("a;b\r\n1;0,5\r\n", fp);
    fclose(fp);
    hm_csv_dialect seen;
    hm_error err;
    assert_int_equal(hm_csv_dialect_detect(path, NULL, &seen, &err), 0);
    assert_int_equal(seen.delimiter, ';');
    assert_int_equal(seen.decimal, ',');
    assert_int_equal(seen.encoding, HM_CSV_ENC_UTF8);
    hm_csv_dialect bad = { ',', ',', 0, 0 };
    assert_null(hm_csv_open_dialect(path, 1, &bad, &err));
    assert_int_equal(err.code, HM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_decimal_comma),
        cmocka_unit_test(test_quotes_crlf_and_blanks),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_encoding_errors),
        cmocka_unit_test(test_block_edges),
        cmocka_unit_test(test_header_check),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_detect_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
