/*
 * fuzz_raw.c — libFuzzer target for the voxel phantom readers: the input is
 * split into a raw header, an organ list and a media list (ICRP 110 layout).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hm_phantom.h"

static void put(const char *path, const uint8_t *d, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return;
    fwrite(d, 1, n, fp);
    fclose(fp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/hm_fuzz_raw_%ld", (long)getpid());
    mkdir(dir, 0700);
    /* Parts separated by 0xff bytes: header, organs, media, ids (ASCII). */
    const uint8_t *part[4] = { data, NULL, NULL, NULL };
    size_t len[4] = { size, 0, 0, 0 };
    int k = 0;
    for (size_t i = 0; i < size && k < 3; i++)
        if (data[i] == 0xff) {
            len[k] = (size_t)(data + i - part[k]);
            part[++k] = data + i + 1;
            len[k] = size - i - 1;
        }
    char p[4][128];
    static const char *names[4] = { "h.hdr", "o.dat", "m.dat", "ids.dat" };
    for (int i = 0; i < 4; i++) {
        snprintf(p[i], sizeof p[i], "%s/%s", dir, names[i]);
        put(p[i], part[i] ? part[i] : (const uint8_t *)"", part[i] ? len[i] : 0);
    }
    hm_voxel_phantom v;
    hm_error err;
    if (!hm_voxel_phantom_read_raw(p[0], &v, &err))
        hm_voxel_phantom_free(&v);
    double mm[3] = { 1, 1, 1 };
    if (!hm_voxel_phantom_read_icrp110(p[3], p[1], p[2], NULL, 4, 4, 4, mm, &v, &err))
        hm_voxel_phantom_free(&v);
    return 0;
}
