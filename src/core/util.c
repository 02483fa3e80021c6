/* util.c — locating data files, the clock. */
/* realpath() is an XSI function, beyond the project-wide _POSIX_C_SOURCE. */
#define _XOPEN_SOURCE 700
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

/* share/harmonic beside the running executable's bin/ folder, so an install
 * moved elsewhere (cmake --install --prefix, DESTDIR packaging, a copied
 * tree) still finds its own data.  HM_BIN_TO_DATA is the relative path from
 * the install's bindir to its data dir (GNUInstallDirs, set by CMake). */
static int exe_data_dir(char *buf, size_t size)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    char joined[4096 + 64], real[4096];
    int len = snprintf(joined, sizeof joined, "%s/%s", exe, HM_BIN_TO_DATA);
    /* realpath: messages and `harmonic version` show a plain path, and a
     * build tree (no share/ beside bin/) is skipped here. */
    if (len <= 0 || (size_t)len >= sizeof joined || !realpath(joined, real))
        return -1;
    len = snprintf(buf, size, "%s", real);
    return len > 0 && (size_t)len < size ? 0 : -1;
}

int hm_data_path(const char *relative, char *buf, size_t size, hm_error *err)
{
    /* The environment wins so tests and users can point at another copy;
     * then the data installed beside the executable; then the configured
     * install dir; then the source tree the binary was built from (so a build
     * directory works without `make install`). */
    char beside[4096];
    const char *dirs[4] = { getenv("HARMONIC_DATA"),
                            exe_data_dir(beside, sizeof beside) ? NULL : beside,
                            HM_INSTALL_DATA_DIR, HM_SOURCE_DATA_DIR };
    for (int i = 0; i < 4; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        int n = snprintf(buf, size, "%s/%s", dirs[i], relative);
        if (n > 0 && (size_t)n < size && readable(buf))
            return HM_OK;
    }
    return hm_error_set(err, HM_ENOTFOUND, relative, 0, NULL,
                        "data file not found (looked in $HARMONIC_DATA, %s, %s, %s)",
                        dirs[1] ? dirs[1] : "(no executable path)", HM_INSTALL_DATA_DIR,
                        HM_SOURCE_DATA_DIR);
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
