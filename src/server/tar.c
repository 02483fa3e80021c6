/*
 * tar.c — a small reader of POSIX ustar archives (IEEE Std 1003.1-2017,
 * pax, "ustar Interchange Format"; also the old GNU header that `tar -cf`
 * writes for short names, magic "ustar  ").  Only what a submission needs:
 * 512-byte headers, checksum verified, regular files and directories.
 * Everything else refuses the whole archive naming the entry: links
 * (hard and symbolic), devices, FIFOs, pax and GNU long-name headers,
 * absolute names, "." or ".." components, sizes in base-256 or beyond the
 * limit, a missing end-of-archive.
 */
#include "srv_tar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 512

/* Header fields (offset, length) of the ustar format. */
enum { NAME_OFF = 0, NAME_LEN = 100, SIZE_OFF = 124, SIZE_LEN = 12, CHK_OFF = 148,
       CHK_LEN = 8, TYPE_OFF = 156, MAGIC_OFF = 257, PREFIX_OFF = 345, PREFIX_LEN = 155 };

/* Reads exactly n bytes: 1, 0 at a clean end (nothing read), -1 when cut. */
static int read_full(srv_tar_read_fn rd, void *ctx, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        long k = rd(ctx, buf + got, n - got);
        if (k < 0)
            return -1;
        if (k == 0)
            return got ? -1 : 0;
        got += (size_t)k;
    }
    return 1;
}

/* An octal field: digits, then spaces or NULs; 0 when it is not one. */
static int octal(const unsigned char *p, size_t n, uint64_t *v)
{
    size_t i = 0;
    *v = 0;
    while (i < n && p[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++, digits++) {
        if (*v >> 60)
            return 0;
        *v = *v * 8 + (uint64_t)(p[i] - '0');
    }
    for (; i < n; i++)
        if (p[i] != ' ' && p[i] != 0)
            return 0;
    return digits > 0;
}

/* The name for messages: printable ASCII only (others as '?'). */
static void printable(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
    out[i] = 0;
}

static int refuse(hm_error *err, const char *name, const char *fmt, const char *what)
{
    char shown[256];
    printable(name, shown, sizeof shown);
    hm_error_set(err, HM_EPARSE, shown, 0, "entry", fmt, what);
    return HM_EPARSE;
}

/* A relative path of plain components: no leading '/', no empty, "." or
 * ".." component, no control characters or backslashes.  A trailing '/'
 * (directories) is dropped. */
static int name_ok(char *name, const char **why)
{
    size_t n = strlen(name);
    while (n > 1 && name[n - 1] == '/')
        name[--n] = 0;
    if (!n) {
        *why = "empty name";
        return 0;
    }
    if (name[0] == '/') {
        *why = "absolute path";
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '\\') {
            *why = "control character or backslash in the name";
            return 0;
        }
    for (const char *c = name; *c;) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) {
            *why = len ? "'.' or '..' in the path" : "empty path component";
            return 0;
        }
        c += len + (e ? 1 : 0);
    }
    return 1;
}

int srv_tar_walk(srv_tar_read_fn rd, void *rctx, uint64_t max_bytes, const srv_tar_sink *sink,
                 hm_error *err)
{
    unsigned char h[BLOCK], data[BLOCK];
    uint64_t total = 0;
    size_t entries = 0;
    char name[NAME_LEN + PREFIX_LEN + 2];
    for (;;) {
        int k = read_full(rd, rctx, h, BLOCK);
        if (k < 0)
            return refuse(err, "", "%s", "truncated archive (a header is cut)");
        if (k == 0)
            return refuse(err, "", "%s", "no end-of-archive blocks (truncated archive?)");
        int zero = 1;
        for (int i = 0; i < BLOCK && zero; i++)
            zero = h[i] == 0;
        if (zero) {
            /* The end: a second zero block must follow (some writers pad more). */
            if (read_full(rd, rctx, h, BLOCK) != 1)
                return refuse(err, "", "%s", "truncated end-of-archive (one zero block)");
            for (int i = 0; i < BLOCK; i++)
                if (h[i])
                    return refuse(err, "", "%s", "data after an end-of-archive block");
            return HM_OK;
        }
        /* The name first, so every refusal below can name the entry. */
        size_t o = 0;
        if (!memcmp(h + MAGIC_OFF, "ustar\0", 6) && h[PREFIX_OFF]) {
            o = strnlen((const char *)h + PREFIX_OFF, PREFIX_LEN);
            memcpy(name, h + PREFIX_OFF, o);
            name[o++] = '/';
        }
        size_t nl = strnlen((const char *)h + NAME_OFF, NAME_LEN);
        memcpy(name + o, h + NAME_OFF, nl);
        name[o + nl] = 0;
        /* Checksum: the header's bytes summed with the field as 8 spaces
         * (unsigned, as POSIX says; some old writers summed signed chars). */
        uint64_t want;
        if (!octal(h + CHK_OFF, CHK_LEN, &want))
            return refuse(err, name, "%s", "checksum field is not octal (not a tar header)");
        long us = 0, ss = 0;
        for (int i = 0; i < BLOCK; i++) {
            int c = i >= CHK_OFF && i < CHK_OFF + CHK_LEN ? ' ' : h[i];
            us += c;
            ss += i >= CHK_OFF && i < CHK_OFF + CHK_LEN ? ' ' : (signed char)h[i];
        }
        if ((uint64_t)us != want && (uint64_t)(ss < 0 ? 0 : ss) != want)
            return refuse(err, name, "%s", "header checksum does not match (corrupt archive)");
        if (memcmp(h + MAGIC_OFF, "ustar\0", 6) && memcmp(h + MAGIC_OFF, "ustar  \0", 8))
            return refuse(err, name, "%s", "not a ustar header (magic): use tar --format=ustar");
        if (++entries > SRV_TAR_MAX_ENTRIES)
            return refuse(err, name, "%s", "more than 10000 entries");
        char type = (char)h[TYPE_OFF];
        const char *what = NULL;
        switch (type) {
        case '0': case '\0': case '7': break;             /* '7': contiguous = regular */
        case '5': break;
        case '1': what = "a hard link"; break;
        case '2': what = "a symbolic link"; break;
        case '3': case '4': what = "a device"; break;
        case '6': what = "a FIFO"; break;
        case 'x': case 'g': what = "a pax extended header (use tar --format=ustar)"; break;
        case 'L': case 'K': what = "a GNU long name (names over 100 bytes: shorten them)"; break;
        default:  what = "an unknown entry type"; break;
        }
        if (what)
            return refuse(err, name, "entry is %s: only regular files and directories", what);
        const char *why;
        if (!name_ok(name, &why))
            return refuse(err, name, "bad name: %s", why);
        uint64_t size;
        if (h[SIZE_OFF] & 0x80)
            return refuse(err, name, "%s", "size in base-256 (over 8 GiB)");
        if (!octal(h + SIZE_OFF, SIZE_LEN, &size))
            return refuse(err, name, "%s", "size field is not octal");
        if (type == '5')
            size = 0;                                      /* a directory has no data */
        if (size > max_bytes || total + size > max_bytes) {
            char shown[256];
            printable(name, shown, sizeof shown);
            return hm_error_set(err, HM_EINVAL, shown, 0, "size",
                                "the entries add up to more than the upload limit of %llu bytes",
                                (unsigned long long)max_bytes);
        }
        total += size;
        int rc = sink->begin(sink->ctx, name, type == '5', size, err);
        if (rc)
            return rc;
        /* The data, padded to whole blocks. */
        for (uint64_t left = size; left > 0;) {
            if (read_full(rd, rctx, data, BLOCK) != 1)
                return refuse(err, name, "%s", "truncated archive (the entry's data is cut)");
            size_t n = left < BLOCK ? (size_t)left : BLOCK;
            if ((rc = sink->data(sink->ctx, data, n, err)))
                return rc;
            left -= n;
        }
        if ((rc = sink->end(sink->ctx, err)))
            return rc;
    }
}

/* ---- extraction into a directory ---- */

typedef struct extract {
    const char *dir;
    int fd;                        /* the file being written, else -1 */
    char path[2048];
    size_t nfiles;
} extract;

static long read_fd(void *ctx, unsigned char *buf, size_t n)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t k = read(fd, buf, n);
        if (k >= 0 || errno != EINTR)
            return (long)k;
    }
}

/* Makes the parent directories of rel under dir (0700); a path component
 * that exists already must be a directory (never a link: extraction makes
 * none, and lstat says so). */
static int make_parents(extract *x, const char *rel, hm_error *err)
{
    char p[2048];
    int n = snprintf(p, sizeof p, "%s/%s", x->dir, rel);
    if (n < 0 || (size_t)n >= sizeof p)
        return hm_error_set(err, HM_EPARSE, rel, 0, "entry", "name too long");
    size_t base = strlen(x->dir) + 1;
    for (char *s = p + base; (s = strchr(s, '/')); s++) {
        *s = 0;
        struct stat st;
        if (mkdir(p, 0700) && (errno != EEXIST || lstat(p, &st) || !S_ISDIR(st.st_mode))) {
            *s = '/';
            return hm_error_set(err, HM_EPARSE, rel, 0, "entry",
                                "a parent of this entry is not a directory");
        }
        *s = '/';
    }
    return HM_OK;
}

static int x_begin(void *ctx, const char *name, int is_dir, uint64_t size, hm_error *err)
{
    (void)size;
    extract *x = ctx;
    int rc = make_parents(x, name, err);
    if (rc)
        return rc;
    snprintf(x->path, sizeof x->path, "%s/%s", x->dir, name);
    if (is_dir) {
        struct stat st;
        if (mkdir(x->path, 0700) && (errno != EEXIST || lstat(x->path, &st)
                                     || !S_ISDIR(st.st_mode)))
            return hm_error_set(err, HM_EPARSE, name, 0, "entry", "cannot make this directory");
        return HM_OK;
    }
    /* O_EXCL: a name twice in one archive is refused, and nothing is ever
     * opened through a link. */
    x->fd = open(x->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (x->fd < 0)
        return hm_error_set(err, HM_EPARSE, name, 0, "entry", "%s",
                            errno == EEXIST ? "the same name twice in the archive"
                                            : "cannot write this entry");
    x->nfiles++;
    return HM_OK;
}

static int x_data(void *ctx, const unsigned char *p, size_t n, hm_error *err)
{
    extract *x = ctx;
    if (x->fd < 0)
        return HM_OK;
    while (n) {
        ssize_t k = write(x->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return hm_error_set(err, HM_EIO, x->path, 0, "upload_dir", "cannot write: %s",
                                strerror(errno));
        p += k;
        n -= (size_t)k;
    }
    return HM_OK;
}

static int x_end(void *ctx, hm_error *err)
{
    extract *x = ctx;
    if (x->fd >= 0) {
        int bad = close(x->fd);
        x->fd = -1;
        if (bad)
            return hm_error_set(err, HM_EIO, x->path, 0, "upload_dir", "cannot write");
    }
    return HM_OK;
}

int srv_tar_extract(const char *tar_path, const char *dir, uint64_t max_bytes, size_t *nfiles,
                    hm_error *err)
{
    int fd = open(tar_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hm_error_set(err, HM_EIO, tar_path, 0, NULL, "cannot read the upload");
    extract x = { .dir = dir, .fd = -1 };
    srv_tar_sink sink = { x_begin, x_data, x_end, &x };
    int rc = srv_tar_walk(read_fd, &fd, max_bytes, &sink, err);
    if (x.fd >= 0)
        close(x.fd);
    close(fd);
    *nfiles = x.nfiles;
    return rc;
}
