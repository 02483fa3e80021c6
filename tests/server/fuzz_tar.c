/*
 * fuzz_tar.c — raw bytes into the server's ustar reader (srv_tar_walk,
 * src/server/tar.c), which must never crash or read out of bounds, and
 * must hand the sink only checked names: relative, no "." or ".."
 * component, no control characters, data no longer than announced.
 */
#include "srv_tar.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem {
    const uint8_t *p;
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

static uint64_t announced, seen;

static int begin(void *ctx, const char *name, int is_dir, uint64_t size, hm_error *err)
{
    (void)ctx;
    (void)err;
    (void)is_dir;
    if (!name[0] || name[0] == '/')
        abort();
    for (const char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == '\\')
            abort();
    for (const char *c = name; *c;) {
        size_t len = strcspn(c, "/");
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && !strncmp(c, "..", 2)))
            abort();
        c += len + (c[len] == '/');
    }
    announced = size;
    seen = 0;
    return 0;
}

static int data(void *ctx, const unsigned char *p, size_t n, hm_error *err)
{
    (void)ctx;
    (void)p;
    (void)err;
    seen += n;
    if (seen > announced)
        abort();
    return 0;
}

static int end(void *ctx, hm_error *err)
{
    (void)ctx;
    (void)err;
    if (seen != announced)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    mem m = { d, size };
    srv_tar_sink sink = { begin, data, end, NULL };
    hm_error err;
    hm_error_clear(&err);
    srv_tar_walk(rd, &m, 1u << 20, &sink, &err);
    return 0;
}
