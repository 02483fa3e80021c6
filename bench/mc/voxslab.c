/* voxslab.c — see voxslab.h */
#include "voxslab.h"

#include <stdio.h>
#include <stdlib.h>

hm_mc_scene *voxslab_scene(const char *dir, hm_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/spectrum_W_120kVp.csv", dir);
    hm_mc_spectrum spec;
    if (hm_mc_spectrum_read(path, HM_MC_BIN_CENTRE, &spec, err)) return NULL;
    hm_mc_scene *s;
    if (hm_mc_scene_new(&s, err)) { hm_mc_spectrum_free(&spec); return NULL; }
    int air = hm_mc_add_material(s, "tg195_air", 0, err);
    int tis = hm_mc_add_material(s, "tg195_soft_tissue", 0, err);
    int lung = hm_mc_add_material(s, "lung_icru44", 0.26, err);
    int bone = hm_mc_add_material(s, "cortical_bone_icru44", 0, err);
    if (air < 0 || tis < 0 || lung < 0 || bone < 0) { hm_mc_scene_free(s); hm_mc_spectrum_free(&spec); return NULL; }
    double lo[3] = { -100, -100, -10 }, hi[3] = { 100, 100, 200 };
    hm_mc_set_world(s, air, lo, hi, err);
    int nx = 78, ny = 78, nz = 40;
    uint8_t *ids = malloc((size_t)nx * ny * nz);
    uint16_t *reg = malloc((size_t)nx * ny * nz * sizeof(uint16_t));
    if (!ids || !reg) {
        free(ids); free(reg); hm_mc_scene_free(s); hm_mc_spectrum_free(&spec);
        hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        return NULL;
    }
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                size_t v = x + (size_t)nx * (y + (size_t)ny * z);
                int lungv = x > 10 && x < 35 && y > 15 && y < 60 && z > 8 && z < 30;
                int bonev = x > 36 && x < 42 && y > 5 && y < 72 && z > 25 && z < 32;
                ids[v] = bonev ? 3 : lungv ? 2 : 1;
                reg[v] = (uint16_t)(ids[v]);
            }
    int map[4] = { air, tis, lung, bone };
    hm_mc_voxels vx = { .nx = nx, .ny = ny, .nz = nz, .voxel_cm = { 0.5, 0.5, 0.5 },
                        .origin_cm = { -19.5, -19.5, 155 }, .mat8 = ids, .material_map = map,
                        .nmaterial_map = 4, .region = reg, .region_default = 1 };
    int rc = hm_mc_add_voxels(s, &vx, err);
    free(ids);
    free(reg);
    hm_mc_source src = { .kind = HM_MC_SRC_RECT, .position_cm = { 0, 0, 0 },
                         .direction = { 0, 0, 1 }, .up = { 1, 0, 0 }, .plane_distance_cm = 180,
                         .u_min_cm = -19.5, .u_max_cm = 19.5, .v_min_cm = -19.5, .v_max_cm = 19.5,
                         .spectrum = &spec };
    if (rc >= 0) rc = hm_mc_set_source(s, &src, err);
    hm_mc_spectrum_free(&spec);
    if (rc < 0) { hm_mc_scene_free(s); return NULL; }
    return s;
}
