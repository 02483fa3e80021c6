/* test_csv_memory.c — memory stays bounded by the longest record, not the
 * file: 64 MiB of Excel-style input (';', decimal comma, Windows-1252,
 * CRLF, one 200 KB field) generated on the fly through a cookie stream, so
 * nothing the size of the file exists anywhere.  Peak RSS (getrusage) may
 * grow by a few MiB at most.  Its own executable: the peak is per process. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "hm_core.h"

#define TOTAL_BYTES (64L << 20)
#define LONG_FIELD  200000L

typedef struct gen {
    long   emitted, record;
    char   line[LONG_FIELD + 128];
    size_t len, pos;
} gen;

static void next_line(gen *g)
{
    if (g->record == 0)
        g->len = (size_t)snprintf(g->line, sizeof g->line, "id;ville;dose_mgy\r\n");
    else if (g->record == 1000) {              /* one long quoted field */
        g->len = (size_t)snprintf(g->line, sizeof g->line, "%ld;\"", g->record);
        memset(g->line + g->len, 'x', LONG_FIELD);
        g->len += LONG_FIELD;
        g->len += (size_t)snprintf(g->line + g->len, 64, "\";1,5\r\n");
    } else
        g->len = (size_t)snprintf(g->line, sizeof g->line, "%ld;Saint-\xC9tienne \x80;%ld,%03ld\r\n",
                                  g->record, g->record % 97, g->record % 1000);
    g->record++;
    g->pos = 0;
}

static ssize_t gen_read(void *cookie, char *buf, size_t size)
{
    gen *g = cookie;
    size_t out = 0;
    while (out < size) {
        if (g->pos == g->len) {
            if (g->emitted >= TOTAL_BYTES)
                break;                         /* whole records only */
            next_line(g);
        }
        size_t n = g->len - g->pos < size - out ? g->len - g->pos : size - out;
        memcpy(buf + out, g->line + g->pos, n);
        g->pos += n;
        out += n;
        g->emitted += (long)n;
    }
    return (ssize_t)out;
}

static long peak_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static gen g;   /* static: its line buffer is not counted against the reader */

static void test_bounded(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    next_line(&g);
    g.pos = 0;
    g.record = 1;
    cookie_io_functions_t io = { gen_read, NULL, NULL, NULL };
    FILE *fp = fopencookie(&g, "r", io);
    assert_non_null(fp);
    long before = peak_kib();
    double t0 = hm_now_s();
    hm_csv *c = hm_csv_from_file(fp, "big.csv", 0);
    char **f;
    size_t n;
    hm_error err;
    long records = 0, longest = 0;
    int rc;
    while ((rc = hm_csv_next(c, &f, &n, &err)) == 1) {
        assert_int_equal(n, 3);
        if (records > 0 && records != 1000) {
            /* 0xC9 -> U+00C9, 0x80 -> U+20AC; 12,345 -> 12.345 */
            assert_int_equal(strncmp(f[1], "Saint-\xC3\x89tienne \xE2\x82\xAC", 17), 0);
            assert_non_null(strchr(f[2], '.'));
        }
        long len = (long)strlen(f[1]);
        if (len > longest)
            longest = len;
        records++;
    }
    double dt = hm_now_s() - t0;
    assert_int_equal(rc, 0);
    char desc[96];
    hm_csv_dialect_describe(hm_csv_dialect_seen(c), desc, sizeof desc);
    assert_string_equal(desc, "';'-separated, decimal comma, Windows-1252");
    hm_csv_close(c);
    fclose(fp);
    long grown = peak_kib() - before;
    print_message("%ld records, %.0f MiB in %.2f s (%.0f MiB/s); peak RSS grew %ld KiB\n", records,
                  TOTAL_BYTES / 1048576.0, dt, TOTAL_BYTES / 1048576.0 / dt, grown);
    assert_int_equal(longest, LONG_FIELD);
    assert_true(records > 1000000);
    assert_true(grown < 8 * 1024);             /* vs 64 MiB read */
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_bounded) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
