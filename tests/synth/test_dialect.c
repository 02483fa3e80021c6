/* test_dialect.c — what hospitals really send.  A synthetic cohort and an
 * Excel-style copy of every CSV (';'-separated, decimal comma,
 * Windows-1252, CRLF, non-ASCII text) are imported into two fresh SQLite
 * registries; the exports must be byte-identical.  The same for the
 * pseudonymiser on hospital-format files.  And a file read with the wrong
 * separator or encoding gets one clear message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hm_registry.h"
#include "synth_test_util.h"
#include "../support/hm_testdb.h"

static const char *const TABLES[] = { "centre", "patient", "procedure", "irradiation_event",
                                      "organ_dose", "outcome", "followup" };
#define NT 7

/* Non-ASCII text that Windows-1252 can hold (o-circumflex, en dash, guillemets). */
#define NAME "H\xC3\xB4pital Necker \xE2\x80\x93 Enfants \xC2\xAB malades \xC2\xBB"

/* [+-]?D+.D+([eE][+-]?D+)? : what Excel in a decimal-comma locale rewrites. */
static int point_number(const char *s)
{
    const char *p = s + (*s == '+' || *s == '-');
    const char *d = p;
    while (isdigit((unsigned char)*p)) p++;
    if (p == d || *p != '.') return 0;
    d = ++p;
    while (isdigit((unsigned char)*p)) p++;
    if (p == d) return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '+' || *p == '-';
        d = p;
        while (isdigit((unsigned char)*p)) p++;
        if (p == d) return 0;
    }
    return *p == '\0';
}

static void mkdir_p(const char *dir)
{
    char cmd[4500];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void excel_field(FILE *fp, const char *s, iconv_t cd)
{
    char u8[2048], w[2048];
    snprintf(u8, sizeof u8, "%s", s);
    if (point_number(u8))
        *strchr(u8, '.') = ',';
    char *in = u8, *out = w;
    size_t inleft = strlen(u8), outleft = sizeof w - 1;
    assert_int_not_equal(iconv(cd, &in, &inleft, &out, &outleft), (size_t)-1);
    *out = '\0';
    if (!strpbrk(w, ";\"\r\n")) {
        fputs(w, fp);
        return;
    }
    fputc('"', fp);
    for (const char *p = w; *p; p++) {
        if (*p == '"')
            fputc('"', fp);
        fputc(*p, fp);
    }
    fputc('"', fp);
}

/* Writes src again as plain CSV and as an Excel copy; column `col` of every
 * data row (if the file has it) gets `value` in both. */
static void make_copies(const char *src, const char *plain, const char *excel, const char *col,
                        const char *value)
{
    hm_error err;
    hm_csv *c = hm_csv_open(src, 0, &err);
    assert_non_null(c);
    FILE *p = fopen(plain, "w"), *x = fopen(excel, "wb");
    assert_non_null(p);
    assert_non_null(x);
    iconv_t cd = iconv_open("CP1252", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    char **f;
    size_t n;
    int rc, target = -1;
    long rec = 0;
    while ((rc = hm_csv_next(c, &f, &n, &err)) == 1) {
        if (rec++ == 0)
            target = tu_col(f, n, col);
        for (size_t i = 0; i < n; i++) {
            const char *v = rec > 1 && (int)i == target ? value : f[i];
            if (i) {
                fputc(',', p);
                fputc(';', x);
            }
            hm_csv_write_field(p, v);
            excel_field(x, v, cd);
        }
        fputc('\n', p);
        fputs("\r\n", x);
    }
    assert_int_equal(rc, 0);
    iconv_close(cd);
    hm_csv_close(c);
    fclose(p);
    fclose(x);
}

static void fail_report(const char *path, int rc, const hm_import_report *rep, const hm_error *err)
{
    fail_msg("%s: rc %d, %ld errors, first: %ld:%s: %s", path, rc, rep->n_errors,
             rep->nissues ? rep->issues[0].line : 0L, rep->nissues ? rep->issues[0].field : "",
             rep->nissues ? rep->issues[0].msg : err->msg);
}

/* Imports every centre's tables from base/<centre>/<table>.csv; returns the
 * export directory's path in out. */
static void import_all(const char *base, const char *tag, const hm_csv_dialect *d, int excel,
                       char *out, size_t size)
{
    char url[4300], path[4600];
    tdb_new_url_on(0, tag, url, sizeof url);
    hm_db *db = tdb_open(url);
    char codes[64][16];
    size_t nc = tu_centres(codes, 64);
    int saw_comma = 0, saw_1252 = 0;
    for (size_t c = 0; c < nc; c++)
        for (size_t t = 0; t < NT; t++) {
            snprintf(path, sizeof path, "%s/%s/%s.csv", base, codes[c], TABLES[t]);
            hm_import_report rep;
            hm_import_report_init(&rep);
            hm_error err;
            hm_error_clear(&err);
            int rc = hm_registry_import_csv_dialect(db, codes[c], TABLES[t], path, 0, d, &rep, &err);
            if (rc || rep.n_errors)
                fail_report(path, rc, &rep, &err);
            /* what a command would print as a note */
            if (excel && !d)
                assert_int_equal(strncmp(rep.dialect, "';'-separated, decimal ", 23), 0);
            if (!excel)
                assert_string_equal(rep.dialect, "");
            saw_comma |= strstr(rep.dialect, "decimal comma") != NULL;
            saw_1252 |= strstr(rep.dialect, "Windows-1252") != NULL;
            hm_import_report_free(&rep);
        }
    assert_int_equal(saw_comma, excel);
    assert_int_equal(saw_1252, excel);
    snprintf(out, size, "%s/export-%s", HM_TEST_TMPDIR, tag);
    hm_error err;
    if (hm_registry_export(db, out, NULL, &err))
        fail_msg("export: %s", err.msg);
    hm_db_close(db);
}

static void same_dirs(const char *a, const char *b)
{
    DIR *d = opendir(a);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    char pa[4400], pb[4400];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
        size_t la, lb;
        char *ta = tu_slurp(pa, &la), *tb = tu_slurp(pb, &lb);
        assert_non_null(ta);
        if (!tb || la != lb || memcmp(ta, tb, la))
            fail_msg("%s differs from %s", pb, pa);
        free(ta);
        free(tb);
        files++;
    }
    closedir(d);
    assert_true(files >= NT);
}

static void test_excel_import_matches_plain(void **state)
{
    (void)state;
    char dir[1024], src[2048], plain[4400], excel[4400], ep[4400], ex[4400], ef[4400];
    tu_fresh(dir, sizeof dir, "dialect");
    mkdir_p(dir);
    snprintf(src, sizeof src, "%s/cohort", dir);
    hm_synth_summary s;
    tu_synth(src, 120, 33, 1.0, 0, NULL, 1, NULL, &s);
    char codes[64][16];
    size_t nc = tu_centres(codes, 64);
    for (size_t c = 0; c < nc; c++) {
        snprintf(plain, sizeof plain, "%s/plain/%s", dir, codes[c]);
        snprintf(excel, sizeof excel, "%s/excel/%s", dir, codes[c]);
        mkdir_p(plain);
        mkdir_p(excel);
        for (size_t t = 0; t < NT; t++) {
            char a[4500], b[4500], x[4500];
            snprintf(a, sizeof a, "%s/%s/%s.csv", src, codes[c], TABLES[t]);
            snprintf(b, sizeof b, "%s/%s.csv", plain, TABLES[t]);
            snprintf(x, sizeof x, "%s/%s.csv", excel, TABLES[t]);
            make_copies(a, b, x, "name", NAME);
        }
    }
    /* the copy really is what Excel writes */
    snprintf(excel, sizeof excel, "%s/excel/%s/centre.csv", dir, codes[0]);
    char *text = tu_slurp(excel, NULL);
    assert_non_null(strstr(text, ";H\xF4pital Necker \x96 Enfants \xAB malades \xBB"));
    assert_non_null(strstr(text, "\r\n"));
    free(text);
    snprintf(plain, sizeof plain, "%s/plain", dir);
    snprintf(excel, sizeof excel, "%s/excel", dir);
    import_all(plain, "plain", NULL, 0, ep, sizeof ep);
    import_all(excel, "excel", NULL, 1, ex, sizeof ex);
    hm_csv_dialect forced = { ';', ',', HM_CSV_ENC_CP1252, 0 };
    import_all(excel, "forced", &forced, 1, ef, sizeof ef);
    same_dirs(ep, ex);
    same_dirs(ep, ef);
    snprintf(plain, sizeof plain, "%.4380s/centre.csv", ep);
    text = tu_slurp(plain, NULL);
    assert_non_null(strstr(text, NAME));           /* and it arrived as UTF-8 */
    free(text);
    assert_true(s.organ_dose_rows > 0);
}

/* A forced wrong separator: one message, not one per missing column; bad
 * bytes in a forced encoding: file, line and the --encoding hint. */
static void test_wrong_dialect_messages(void **state)
{
    (void)state;
    char dir[1024], src[2048], plain[4400], excel[4400], url[4300];
    tu_fresh(dir, sizeof dir, "dialect-msg");
    mkdir_p(dir);
    snprintf(src, sizeof src, "%s/cohort", dir);
    hm_synth_summary s;
    tu_synth(src, 20, 5, 1.0, 0, NULL, 1, NULL, &s);
    char codes[64][16];
    tu_centres(codes, 64);
    char a[4500];
    snprintf(a, sizeof a, "%s/%s/centre.csv", src, codes[0]);
    snprintf(plain, sizeof plain, "%s/centre-plain.csv", dir);
    snprintf(excel, sizeof excel, "%s/centre-excel.csv", dir);
    make_copies(a, plain, excel, "name", NAME);
    tdb_new_url_on(0, "msg", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_import_report rep;
    hm_error err;
    hm_csv_dialect comma = { ',', 0, 0, 0 };
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv_dialect(db, codes[0], "centre", excel, 0, &comma, &rep,
                                                    &err), HM_EVALIDATE);
    assert_int_equal(rep.n_errors, 1);
    assert_int_equal(rep.issues[0].line, 1);
    if (!strstr(rep.issues[0].msg, "the header has one column 'centre_code;") ||
        !strstr(rep.issues[0].msg, "the file looks ';'-separated; use --delimiter ';'"))
        fail_msg("message: %s", rep.issues[0].msg);
    hm_import_report_free(&rep);
    hm_csv_dialect utf8 = { 0, 0, HM_CSV_ENC_UTF8, 0 };
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv_dialect(db, codes[0], "centre", excel, 0, &utf8, &rep,
                                                    &err), HM_EVALIDATE);
    assert_int_equal(rep.n_errors, 1);
    assert_int_equal(rep.issues[0].line, 2);
    if (!strstr(rep.issues[0].msg, "byte 0xF4") || !strstr(rep.issues[0].msg, "--encoding windows-1252"))
        fail_msg("message: %s", rep.issues[0].msg);
    hm_import_report_free(&rep);
    hm_import_report_init(&rep);                    /* detected: it simply works */
    assert_int_equal(hm_registry_import_csv(db, codes[0], "centre", excel, &rep, &err), 0);
    assert_int_equal(rep.rows_stored, 1);
    hm_import_report_free(&rep);
    hm_db_close(db);
}

/* A ';' Windows-1252 hospital file pseudonymises to the same pooled file. */
static void test_pseudonymise_excel_file(void **state)
{
    (void)state;
    char dir[1024], src[2048];
    tu_fresh(dir, sizeof dir, "dialect-pseudo");
    mkdir_p(dir);
    snprintf(src, sizeof src, "%s/hospital", dir);
    hm_pseudo_key key;
    hm_error err;
    assert_int_equal(hm_pseudo_key_from_bytes(&key, "0123456789abcdef0123456789abcdef", 32, 1, &err), 0);
    hm_synth_summary s;
    tu_synth(src, 60, 8, 1.0, 1, NULL, 1, &key, &s);
    static const char *const cols[NT] = { "name", "family_name", "device_model", "protocol",
                                          "organ", "", "" };
    long rows = 0;
    for (size_t t = 1; t < NT; t++) {
        char a[4500], p[4500], x[4500], po[4500], xo[4500];
        snprintf(a, sizeof a, "%s/FR01/%s.csv", src, TABLES[t]);
        snprintf(p, sizeof p, "%s/%s-plain.csv", dir, TABLES[t]);
        snprintf(x, sizeof x, "%s/%s-excel.csv", dir, TABLES[t]);
        snprintf(po, sizeof po, "%s/%s-plain.pseudo.csv", dir, TABLES[t]);
        snprintf(xo, sizeof xo, "%s/%s-excel.pseudo.csv", dir, TABLES[t]);
        make_copies(a, p, x, cols[t], "M\xC3\xBCller \xE2\x80\x93 Lef\xC3\xA8vre");
        char **known;
        size_t nknown;
        assert_int_equal(hm_pseudo_dict_columns(TABLES[t], &known, &nknown, &err), 0);
        hm_pseudo_csv_opts o = { TABLES[t], 1, (const char *const *)known, nknown };
        hm_pseudo_csv_result rp, rx;
        if (hm_pseudo_csv(&key, &o, p, po, &rp, &err) || hm_pseudo_csv_ex(&key, &o, NULL, x, xo, &rx, &err))
            fail_msg("%s: %s:%ld: %s", TABLES[t], err.file, err.line, err.msg);
        hm_pseudo_dict_free(known, nknown);
        assert_string_equal(rp.dialect, "");
        assert_int_equal(strncmp(rx.dialect, "';'-separated", 13), 0);
        assert_int_equal(rp.rows, rx.rows);
        rows += rp.rows;
        if (t == 1) {                     /* family names hold non-ASCII text */
            assert_true(rp.rows > 0);
            assert_string_equal(rx.dialect, "';'-separated, decimal point, Windows-1252");
        }
        size_t la, lb;
        char *ta = tu_slurp(po, &la), *tb = tu_slurp(xo, &lb);
        if (la != lb || memcmp(ta, tb, la))
            fail_msg("%s differs from %s", xo, po);
        free(ta);
        free(tb);
    }
    assert_true(rows > 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_excel_import_matches_plain),
        cmocka_unit_test(test_wrong_dialect_messages),
        cmocka_unit_test(test_pseudonymise_excel_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
