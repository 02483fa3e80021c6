/*
 * fuzz_mc_scene.c — libFuzzer target for the scene loader: any bytes as a
 * scene file must give a scene or an error, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hm_mc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/hm_fuzz_mc_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    FILE *f = fdopen(fd, "wb");
    if (!f) { close(fd); unlink(path); return 0; }
    fwrite(data, 1, size, f);
    fclose(f);
    hm_mc_scene *s = NULL;
    hm_mc_run_params p;
    hm_error err;
    if (hm_mc_scene_load(path, &s, &p, &err) == 0) hm_mc_scene_free(s);
    unlink(path);
    return 0;
}
