/* util.c — locating data files, the clock. */
#include "hm_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int readable(const char *path)
{
    return access(path, R_OK) == 0;
}

int hm_data_path(const char *relative, char *buf, size_t size, hm_error *err)
{
    /* The environment wins so tests and users can point at another copy;
     * then an installed copy; then the source tree the binary was built from
     * (so a build directory works without `make install`). */
    const char *dirs[3] = { getenv("HARMONIC_DATA"), HM_INSTALL_DATA_DIR, HM_SOURCE_DATA_DIR };
    for (int i = 0; i < 3; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        int n = snprintf(buf, size, "%s/%s", dirs[i], relative);
        if (n > 0 && (size_t)n < size && readable(buf))
            return HM_OK;
    }
    return hm_error_set(err, HM_ENOTFOUND, relative, 0, NULL,
                        "data file not found (looked in $HARMONIC_DATA, %s, %s)",
                        HM_INSTALL_DATA_DIR, HM_SOURCE_DATA_DIR);
}

int hm_data_csv_open(const char *relative, char *path, size_t size, hm_csv **csv, hm_error *err)
{
    *csv = NULL;
    int rc = hm_data_path(relative, path, size, err);
    if (rc)
        return rc;
    *csv = hm_csv_open(path, 1, err);
    return *csv ? HM_OK : (err ? err->code : HM_EIO);
}

int hm_list_has(const char *list, char sep, const char *item)
{
    size_t n = item ? strlen(item) : 0;
    for (const char *s = list; n && s && *s;) {
        const char *e = strchr(s, sep);
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && !strncmp(s, item, n))
            return 1;
        s = e ? e + 1 : NULL;
    }
    return 0;
}

double hm_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
