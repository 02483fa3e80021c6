/*
 * srv_tar.h — the server's own small reader of POSIX ustar archives
 * (tar.c), for DICOM submissions.  It parses outside input: fuzzed by
 * tests/server/fuzz_tar.c.
 */
#ifndef HM_SRV_TAR_H
#define HM_SRV_TAR_H

#include "hm_core.h"

#include <stddef.h>
#include <stdint.h>

/* The bytes of an archive, read in order: returns how many bytes were put
 * in buf (fewer than n only at the end), or -1 on a read error. */
typedef long (*srv_tar_read_fn)(void *ctx, unsigned char *buf, size_t n);

/* Called for each entry: a directory (is_dir, size 0) or a regular file
 * whose size bytes follow through data(ctx, ...) in pieces; name is the
 * checked relative path ("a/b.dcm").  Returns HM_OK or an error. */
typedef struct srv_tar_sink {
    int (*begin)(void *ctx, const char *name, int is_dir, uint64_t size, hm_error *err);
    int (*data)(void *ctx, const unsigned char *p, size_t n, hm_error *err);
    int (*end)(void *ctx, hm_error *err);
    void *ctx;
} srv_tar_sink;

/* Limits: the total of the entries' sizes and the number of entries. */
#define SRV_TAR_MAX_ENTRIES 10000

/* Walks an archive: HM_OK after the end-of-archive blocks, HM_EPARSE for a
 * malformed, truncated or refused archive with err->file = the entry's name
 * (as written in the archive, printable) and err->msg saying why; HM_EINVAL
 * with err->field "size" when the sizes exceed max_bytes; or the sink's
 * error. */
int srv_tar_walk(srv_tar_read_fn rd, void *rctx, uint64_t max_bytes, const srv_tar_sink *sink,
                 hm_error *err);

/* Extracts the archive file tar_path into the existing empty directory dir
 * (regular files 0600, directories 0700, never through a link): same
 * returns as srv_tar_walk; on error dir may hold part of it (the caller
 * removes dir whatever happens). *nfiles counts the regular files. */
int srv_tar_extract(const char *tar_path, const char *dir, uint64_t max_bytes, size_t *nfiles,
                    hm_error *err);

#endif
