/*
 * test_tar.c — the server's ustar reader (src/server/tar.c) on archives
 * built here byte by byte (POSIX.1-2017 pax, "ustar Interchange Format"):
 * what it accepts (files, directories, the prefix field, the old GNU magic,
 * a signed-sum checksum) with the exact names and bytes, and every refusal
 * (entry types, names, checksum, sizes, truncation, end blocks), then
 * extraction (a name twice, a file as a parent directory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "srv_tar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIR HM_TEST_TMPDIR

/* ---- an archive in memory ---- */
typedef struct arch {
    unsigned char p[1 << 16];
    size_t n;
} arch;

typedef struct hdr_opt {
    const char *prefix;
    const char *magic;             /* 8 bytes; NULL: "ustar\0" "00" */
    int signed_sum;                /* checksum as a sum of signed chars */
    int base256;                   /* size field in base-256 */
    int bad_sum;
} hdr_opt;

static void add(arch *a, const char *name, char type, const char *data, size_t size,
                const hdr_opt *o)
{
    unsigned char *h = a->p + a->n;
    memset(h, 0, 512);
    memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
    snprintf((char *)h + 100, 8, "%07o", 0644);
    snprintf((char *)h + 124, 12, "%011lo", (unsigned long)size);
    if (o && o->base256) {
        memset(h + 124, 0, 12);
        h[124] = 0x80;
        h[135] = (unsigned char)size;
    }
    h[156] = (unsigned char)type;
    memcpy(h + 257, o && o->magic ? o->magic : "ustar\0" "00", 8);
    if (o && o->prefix)
        memcpy(h + 345, o->prefix, strlen(o->prefix));
    memset(h + 148, ' ', 8);
    long sum = 0;
    for (int i = 0; i < 512; i++)
        sum += o && o->signed_sum ? (signed char)h[i] : h[i];
    /* six octal digits: a header sums to at most 512 x 255 < 0777777 */
    snprintf((char *)h + 148, 8, "%06lo", ((unsigned long)sum + (o && o->bad_sum ? 1 : 0)) & 0777777ul);
    a->n += 512;
    memcpy(a->p + a->n, data, size);
    a->n += (size + 511) / 512 * 512;
}

static void end(arch *a, int blocks)
{
    memset(a->p + a->n, 0, 512 * (size_t)blocks);
    a->n += 512 * (size_t)blocks;
}

typedef struct mem {
    const unsigned char *p;
    size_t left;
} mem;

static long rd(void *ctx, unsigned char *buf, size_t n)
{
    mem *m = ctx;
    size_t k = n < m->left ? n : m->left;
    memcpy(buf, m->p, k);
    m->p += k;
    m->left -= k;
    return (long)k;
}

/* What the sink saw: "name[/]:bytes;" per entry. */
static char seen[4096];

static int s_begin(void *ctx, const char *name, int is_dir, uint64_t size, hm_error *err)
{
    (void)ctx;
    (void)err;
    (void)size;
    size_t o = strlen(seen);
    snprintf(seen + o, sizeof seen - o, "%s%s:", name, is_dir ? "/" : "");
    return 0;
}

static int s_data(void *ctx, const unsigned char *p, size_t n, hm_error *err)
{
    (void)ctx;
    (void)err;
    size_t o = strlen(seen);
    snprintf(seen + o, sizeof seen - o, "%.*s", (int)n, (const char *)p);
    return 0;
}

static int s_end(void *ctx, hm_error *err)
{
    (void)ctx;
    (void)err;
    size_t o = strlen(seen);
    snprintf(seen + o, sizeof seen - o, ";");
    return 0;
}

static int walk(const arch *a, uint64_t max, hm_error *err)
{
    mem m = { a->p, a->n };
    srv_tar_sink sink = { s_begin, s_data, s_end, NULL };
    seen[0] = 0;
    hm_error_clear(err);
    return srv_tar_walk(rd, &m, max, &sink, err);
}

static void test_accepted(void **state)
{
    (void)state;
    static arch a;
    a.n = 0;
    add(&a, "c1/", '5', "", 0, NULL);
    add(&a, "c1/a.dcm", '0', "abc", 3, NULL);
    hdr_opt pre = { .prefix = "p/q" };
    add(&a, "r.dcm", '0', "hello", 5, &pre);
    hdr_opt gnu = { .magic = "ustar  \0" };
    add(&a, "g.dcm", '\0', "x", 1, &gnu);
    hdr_opt sgn = { .signed_sum = 1 };
    add(&a, "\xc3\xa9t\xc3\xa9.dcm", '0', "", 0, &sgn);   /* "été": bytes >= 0x80 */
    end(&a, 2);
    hm_error err;
    assert_int_equal(walk(&a, 1 << 20, &err), HM_OK);
    assert_string_equal(seen, "c1/:;c1/a.dcm:abc;p/q/r.dcm:hello;g.dcm:x;\xc3\xa9t\xc3\xa9.dcm:;");
    /* Padding beyond two zero blocks (GNU tar writes whole records). */
    end(&a, 16);
    assert_int_equal(walk(&a, 1 << 20, &err), HM_OK);
}

/* One bad entry after a good one: refused, err naming it, why in msg. */
static void refused_as(const char *name, char type, const hdr_opt *o, int ends, int want_rc,
                       const char *entry, const char *why)
{
    static arch a;
    a.n = 0;
    add(&a, "ok.dcm", '0', "ok", 2, NULL);
    add(&a, name, type, "data", 4, o);
    end(&a, ends);
    hm_error err;
    int rc = walk(&a, 1000, &err);
    if (rc != want_rc || strcmp(err.file, entry) || !strstr(err.msg, why))
        fprintf(stderr, "%s: rc %d file '%s' msg '%s'\n", name, rc, err.file, err.msg);
    assert_int_equal(rc, want_rc);
    assert_string_equal(err.file, entry);
    assert_non_null(strstr(err.msg, why));
}

static void test_refused(void **state)
{
    (void)state;
    static const struct { char type; const char *why; } types[] = {
        { '1', "hard link" }, { '2', "symbolic link" }, { '3', "device" }, { '4', "device" },
        { '6', "FIFO" }, { 'x', "pax" }, { 'g', "pax" }, { 'L', "GNU long name" },
        { 'K', "GNU long name" }, { 'Z', "unknown" },
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        refused_as("e", types[i].type, NULL, 2, HM_EPARSE, "e", types[i].why);
    static const char *const names[] = { "/abs.dcm", "../up.dcm", "a/../b", "a/..", "..",
                                         "./a", "a/./b", "a//b", "a\\b", NULL };
    for (int i = 0; names[i]; i++)
        refused_as(names[i], '0', NULL, 2, HM_EPARSE, names[i], "bad name");
    refused_as("c\x01" "d", '0', NULL, 2, HM_EPARSE, "c?d", "control");
    hdr_opt bad = { .bad_sum = 1 }, b256 = { .base256 = 1 }, magic = { .magic = "ustaR\0" "00" };
    refused_as("sum.dcm", '0', &bad, 2, HM_EPARSE, "sum.dcm", "checksum");
    refused_as("big.dcm", '0', &b256, 2, HM_EPARSE, "big.dcm", "base-256");
    refused_as("m.dcm", '0', &magic, 2, HM_EPARSE, "m.dcm", "magic");
    refused_as("noend.dcm", '0', NULL, 0, HM_EPARSE, "", "no end-of-archive");
    refused_as("oneend.dcm", '0', NULL, 1, HM_EPARSE, "", "one zero block");
    /* Data after the end: a header behind the first zero block. */
    static arch a;
    a.n = 0;
    add(&a, "ok.dcm", '0', "ok", 2, NULL);
    end(&a, 1);
    add(&a, "late.dcm", '0', "x", 1, NULL);
    end(&a, 2);
    hm_error err;
    assert_int_equal(walk(&a, 1000, &err), HM_EPARSE);
    assert_non_null(strstr(err.msg, "after an end-of-archive"));
    /* Sizes: over the limit (one entry, or the sum); data cut. */
    a.n = 0;
    static char blob[3000];
    add(&a, "a.dcm", '0', blob, 600, NULL);
    add(&a, "b.dcm", '0', blob, 600, NULL);
    end(&a, 2);
    assert_int_equal(walk(&a, 1000, &err), HM_EINVAL);
    assert_string_equal(err.field, "size");
    assert_string_equal(err.file, "b.dcm");
    assert_int_equal(walk(&a, 1200, &err), HM_OK);
    a.n = 512 * 4 + 100;               /* a: header + 2 data blocks; b: header, then its data */
    assert_int_equal(walk(&a, 1200, &err), HM_EPARSE);
    assert_string_equal(err.file, "b.dcm");
    assert_non_null(strstr(err.msg, "truncated"));
    a.n = 512 * 3 + 300;               /* inside b.dcm's header */
    assert_int_equal(walk(&a, 1200, &err), HM_EPARSE);
    assert_non_null(strstr(err.msg, "header is cut"));
}

static void write_arch(const arch *a, const char *path)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(a->p, 1, a->n, fp), a->n);
    fclose(fp);
}

static void test_extract(void **state)
{
    (void)state;
    assert_int_equal(system("rm -rf " DIR " && mkdir -p " DIR "/x1 " DIR "/x2 " DIR "/x3"), 0);
    static arch a;
    a.n = 0;
    add(&a, "d/e/f.dcm", '0', "abc", 3, NULL);
    add(&a, "g.dcm", '0', "hello", 5, NULL);
    end(&a, 2);
    write_arch(&a, DIR "/ok.tar");
    size_t n = 0;
    hm_error err;
    assert_int_equal(srv_tar_extract(DIR "/ok.tar", DIR "/x1", 1000, &n, &err), HM_OK);
    assert_int_equal(n, 2);
    struct stat st;
    assert_int_equal(stat(DIR "/x1/d/e/f.dcm", &st), 0);
    assert_int_equal(st.st_size, 3);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(DIR "/x1/d/e", &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* The same name twice; a file used as a directory. */
    a.n = 0;
    add(&a, "g.dcm", '0', "1", 1, NULL);
    add(&a, "g.dcm", '0', "2", 1, NULL);
    end(&a, 2);
    write_arch(&a, DIR "/twice.tar");
    assert_int_equal(srv_tar_extract(DIR "/twice.tar", DIR "/x2", 1000, &n, &err), HM_EPARSE);
    assert_non_null(strstr(err.msg, "twice"));
    a.n = 0;
    add(&a, "g", '0', "1", 1, NULL);
    add(&a, "g/h.dcm", '0', "2", 1, NULL);
    end(&a, 2);
    write_arch(&a, DIR "/parent.tar");
    assert_int_equal(srv_tar_extract(DIR "/parent.tar", DIR "/x3", 1000, &n, &err), HM_EPARSE);
    assert_string_equal(err.file, "g/h.dcm");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_extract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
