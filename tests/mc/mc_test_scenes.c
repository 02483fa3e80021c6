/* mc_test_scenes.c — voxel scenes shared by the grid-tracking tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "mc_test_scenes.h"

double mcts_u01(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

hm_mc_scene *mcts_body_scene(int densities, double e_kev)
{
    hm_error err;
    hm_mc_scene *s;
    assert_int_equal(hm_mc_scene_new(&s, &err), 0);
    int air = hm_mc_add_material(s, "air", 0, &err);
    int tis = hm_mc_add_material(s, "soft_tissue_icru46", 0, &err);
    int lung = hm_mc_add_material(s, "lung_icru44", 0.26, &err);
    int bone = hm_mc_add_material(s, "cortical_bone_icru44", 0, &err);
    assert_true(air >= 0 && tis >= 0 && lung >= 0 && bone >= 0);
    uint8_t *ids = malloc((size_t)NX * NY * NZ);
    uint16_t *reg = malloc((size_t)NX * NY * NZ * sizeof(uint16_t));
    float *rho = malloc((size_t)NX * NY * NZ * sizeof(float));
    assert_true(ids && reg && rho);
    uint64_t seed = 7;
    for (int z = 0; z < NZ; z++)
        for (int y = 0; y < NY; y++)
            for (int x = 0; x < NX; x++) {
                size_t v = x + (size_t)NX * (y + (size_t)NY * z);
                double fx = (x + 0.5 - NX / 2.0) / 17.0, fy = (y + 0.5 - NY / 2.0) / 12.0;
                int body = fx * fx + fy * fy < 1 && z >= 3 && z < 46;
                double lx = (fabs(x + 0.5 - NX / 2.0) - 8) / 5.0, ly = (y + 0.5 - NY / 2.0) / 6.0,
                       lz = (z - 28) / 12.0;
                int lungv = body && lx * lx + ly * ly + lz * lz < 1;
                int spine = body && abs(x - NX / 2) < 2 && y > 20 && y < 25;
                int pocket = body && x > 12 && x < 16 && y > 8 && y < 12 && z > 5 && z < 10;
                int id = !body ? 0 : spine ? 4 : lungv ? 3 : pocket ? 1 : 2;
                ids[v] = (uint8_t)id;
                reg[v] = (uint16_t)id;
                double mat_rho[5] = { 0, 1.205e-3, 1.0, 0.26, 1.85 };
                rho[v] = (float)(id == 2 && densities ? 0.95 + 0.15 * mcts_u01(&seed) : mat_rho[id]);
            }
    int map[5] = { -1, air, tis, lung, bone };
    hm_mc_voxels vx = { .nx = NX, .ny = NY, .nz = NZ, .voxel_cm = { VOX_CM, VOX_CM, VOX_CM },
                        .origin_cm = { -8, -6, 0 }, .mat8 = ids, .material_map = map, .nmaterial_map = 5,
                        .region = reg, .region_default = 0, .density_g_cm3 = densities ? rho : NULL };
    assert_true(hm_mc_add_voxels(s, &vx, &err) >= 0);
    free(ids); free(reg); free(rho);
    double lo[3] = { -30, -30, -60 }, hi[3] = { 30, 30, 30 };
    assert_int_equal(hm_mc_set_world(s, -1, lo, hi, &err), 0);
    /* a cone from below the body, wider than it: photons cross vacuum,
     * tissue, lung, bone */
    hm_mc_source src = { .kind = HM_MC_SRC_CONE, .position_cm = { 0.3, -0.2, -50 },
                         .direction = { 0, 0, 1 }, .half_angle_deg = 9, .energy_kev = e_kev };
    assert_int_equal(hm_mc_set_source(s, &src, &err), 0);
    return s;
}


double mcts_z(double a, double sa, double b, double sb)
{
    double s = hypot(sa, sb);
    if (s > 0) return (b - a) / s;
    return a == b ? 0.0 : INFINITY;
}
