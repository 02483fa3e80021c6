/*
 * test_mc_voxel_dda.c — exact tracking through voxel grids (src/mc/voxel_dda.c,
 * mc_dda_walk): the optical depth the walk accumulates along random rays
 * equals the radiological path computed independently (Siddon 1985: all
 * plane crossings sorted, mu of the voxel at each segment's midpoint x its
 * length), a collision lies where the path reaches the drawn optical depth,
 * and transport with exact tracking agrees within statistics with Woodcock
 * tracking (HM_MC_GRID_MODE=woodcock) on a phantom-like grid (vacuum around
 * the body, per-voxel densities) and on a slab with lung and bone inserts
 * under an overlapping solid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_internal.h"

#include "mc_test_scenes.h"


/* A 30 x 30 x 10 cm soft-tissue slab of 0.5 cm voxels with a lung and a bone
 * insert in air; a PMMA box painted over one corner of the grid (a later
 * solid: there the box, not the voxels, is the medium) makes stretches that
 * stay on Woodcock tracking.  Regions: 1 tissue, 2 lung, 3 bone, 4 the box. */
static hm_mc_scene *slab_scene(double e_kev)
{
    hm_error err;
    hm_mc_scene *s;
    assert_int_equal(hm_mc_scene_new(&s, &err), 0);
    int air = hm_mc_add_material(s, "air", 0, &err);
    int tis = hm_mc_add_material(s, "soft_tissue_icru46", 0, &err);
    int lung = hm_mc_add_material(s, "lung_icru44", 0.26, &err);
    int bone = hm_mc_add_material(s, "cortical_bone_icru44", 0, &err);
    int pmma = hm_mc_add_material(s, "pmma", 0, &err);
    assert_true(air >= 0 && tis >= 0 && lung >= 0 && bone >= 0 && pmma >= 0);
    double lo[3] = { -40, -40, -60 }, hi[3] = { 40, 40, 40 };
    assert_int_equal(hm_mc_set_world(s, air, lo, hi, &err), 0);
    enum { SX = 60, SY = 60, SZ = 20 };
    uint8_t *ids = malloc((size_t)SX * SY * SZ);
    uint16_t *reg = malloc((size_t)SX * SY * SZ * sizeof(uint16_t));
    assert_true(ids && reg);
    for (int z = 0; z < SZ; z++)
        for (int y = 0; y < SY; y++)
            for (int x = 0; x < SX; x++) {
                size_t v = x + (size_t)SX * (y + (size_t)SY * z);
                int lungv = x > 8 && x < 28 && y > 12 && y < 48 && z > 4 && z < 15;
                int bonev = x > 30 && x < 35 && y > 4 && y < 56 && z > 10 && z < 16;
                ids[v] = (uint8_t)(bonev ? 3 : lungv ? 2 : 1);
                reg[v] = ids[v];
            }
    int map[4] = { air, tis, lung, bone };
    hm_mc_voxels vx = { .nx = SX, .ny = SY, .nz = SZ, .voxel_cm = { 0.5, 0.5, 0.5 },
                        .origin_cm = { -15, -15, 0 }, .mat8 = ids, .material_map = map, .nmaterial_map = 4,
                        .region = reg, .region_default = 1 };
    assert_true(hm_mc_add_voxels(s, &vx, &err) >= 0);
    free(ids); free(reg);
    hm_mc_solid box = { .kind = HM_MC_BOX, .center_cm = { 10, 10, 2 }, .half_cm = { 6, 6, 3 },
                        .material = pmma, .region = 4 };
    assert_true(hm_mc_add_solid(s, &box, &err) >= 0);
    hm_mc_source src = { .kind = HM_MC_SRC_CONE, .position_cm = { 0, 0, -40 },
                         .direction = { 0, 0, 1 }, .half_angle_deg = 25, .energy_kev = e_kev };
    assert_int_equal(hm_mc_set_source(s, &src, &err), 0);
    return s;
}

static const mc_voxgrid *prepared_grid(hm_mc_scene *s, const mc_element **el)
{
    hm_error err;
    assert_int_equal(mc_scene_prepare(s, &err), 0);
    for (int i = 0; i < s->nel; i++)
        if (s->el[i].vox) { *el = &s->el[i]; return s->el[i].vox; }
    fail();
    return NULL;
}

/* mu (1/cm) of voxel v at e_kev, from the material tables */
static double voxel_mu(const hm_mc_scene *s, const mc_voxgrid *g, size_t v, double e_kev)
{
    int m = g->mat[v] - 1;
    if (m < 0) return 0;
    double rho = g->density ? g->density[v] : s->mat[m].density_g_cm3;
    return rho * mc_mu_tot(s->mat[m].xs, e_kev);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Siddon (1985): the radiological path of p + t d over [ta, tb) in the grid,
 * from the sorted parameters of every plane crossing. */
static double siddon(const hm_mc_scene *s, const mc_voxgrid *g, const double p[3], const double d[3],
                     double ta, double tb, double e_kev)
{
    int n[3] = { g->nx, g->ny, g->nz };
    double *ts = malloc((size_t)(n[0] + n[1] + n[2] + 6) * sizeof(double));
    assert_non_null(ts);
    int nt = 0;
    ts[nt++] = ta;
    ts[nt++] = tb;
    for (int k = 0; k < 3; k++) {
        if (d[k] == 0) continue;
        for (int i = 0; i <= n[k]; i++) {
            double t = (g->origin[k] + i * g->d[k] - p[k]) / d[k];
            if (t > ta && t < tb) ts[nt++] = t;
        }
    }
    qsort(ts, (size_t)nt, sizeof *ts, cmp_d);
    double sum = 0;
    for (int j = 0; j + 1 < nt; j++) {
        double tm = 0.5 * (ts[j] + ts[j + 1]);
        int ix[3];
        for (int k = 0; k < 3; k++) {
            ix[k] = (int)floor((p[k] + tm * d[k] - g->origin[k]) / g->d[k]);
            if (ix[k] < 0 || ix[k] >= n[k]) { ix[0] = -1; break; }
        }
        if (ix[0] < 0) continue;
        size_t v = ix[0] + (size_t)n[0] * (ix[1] + (size_t)n[1] * ix[2]);
        sum += voxel_mu(s, g, v, e_kev) * (ts[j + 1] - ts[j]);
    }
    free(ts);
    return sum;
}

static void check_walks(int densities)
{
    setenv("HM_MC_GRID_MODE", "dda", 1);
    hm_mc_scene *s = mcts_body_scene(densities, 30);
    const mc_element *el;
    const mc_voxgrid *g = prepared_grid(s, &el);
    assert_non_null(g->dda);
    assert_null(g->tree);
    uint64_t seed = 11;
    int collided = 0;
    for (int r = 0; r < 3000; r++) {
        double e = 10 + 140 * mcts_u01(&seed);
        int ke = (int)(e * (1.0 / MC_DE_KEV));
        float f = (float)(e * (1.0 / MC_DE_KEV) - ke);
        const float *row = g->dda->mu + (size_t)ke * g->dda->ncol * 2;
        double p[3], d[3], inv[3];
        /* start inside the grid or outside it (entering at the box face) */
        int inside = r % 2;
        for (int k = 0; k < 3; k++) p[k] = el->lo[k] + mcts_u01(&seed) * (el->hi[k] - el->lo[k]);
        double cz = 2 * mcts_u01(&seed) - 1, ph = 2 * 3.14159265358979 * mcts_u01(&seed), sz = sqrt(1 - cz * cz);
        d[0] = sz * cos(ph); d[1] = sz * sin(ph); d[2] = cz;
        if (r % 7 == 0) { d[0] = 0; d[1] = r % 14 ? 1 : -1; d[2] = 0; }   /* axis-parallel */
        if (!inside)
            for (int k = 0; k < 3; k++) p[k] -= 30 * d[k];
        for (int k = 0; k < 3; k++) inv[k] = d[k] != 0.0 ? 1.0 / d[k] : 1e300;
        double t0 = 0, t1 = INFINITY;
        for (int k = 0; k < 3; k++) {
            double ta = (el->lo[k] - p[k]) * inv[k], tb = (el->hi[k] - p[k]) * inv[k];
            t0 = mc_max(mc_min(ta, tb), t0);
            t1 = mc_min(mc_max(ta, tb), t1);
        }
        if (!(t1 > t0)) continue;
        /* the whole stretch: no collision with a huge optical depth, and the
         * depth used is the radiological path */
        double ref = siddon(s, g, p, d, t0, t1, e), tc;
        float tau = 1e30f;
        size_t vox;
        long long steps = 0;
        assert_int_equal(mc_dda_walk(g, row, f, p, d, inv, t0, t1, &tau, &tc, &vox, &steps), 0);
        double used = 1e30 - (double)tau;
        /* 1e30 in float carries no digits of the path: redo with a depth just
         * above it instead */
        (void)used;
        tau = (float)(ref * 1.001 + 1e-3);
        float tau0 = tau;
        assert_int_equal(mc_dda_walk(g, row, f, p, d, inv, t0, t1, &tau, &tc, &vox, &steps), 0);
        double got = (double)tau0 - tau;
        if (fabs(got - ref) > 2e-5 * ref + 1e-6)
            fail_msg("ray %d: DDA optical depth %.8g, Siddon %.8g", r, got, ref);
        /* a collision at half the path: the voxel holds the point, and the
         * path up to it is half */
        if (ref > 0.01) {
            tau = (float)(0.5 * ref);
            assert_int_equal(mc_dda_walk(g, row, f, p, d, inv, t0, t1, &tau, &tc, &vox, &steps), 1);
            assert_true(tc >= t0 && tc <= t1);
            double half = siddon(s, g, p, d, t0, tc, e);
            if (fabs(half - 0.5 * ref) > 2e-5 * ref + 1e-6)
                fail_msg("ray %d: path to the collision %.8g, expected %.8g", r, half, 0.5 * ref);
            assert_true(voxel_mu(s, g, vox, e) > 0);
            int ix[3] = { (int)(vox % NX), (int)(vox / NX % NY), (int)(vox / ((size_t)NX * NY)) };
            for (int k = 0; k < 3; k++) {
                double x = p[k] + tc * d[k], lo = g->origin[k] + ix[k] * g->d[k];
                assert_true(x >= lo - 1e-9 && x <= lo + g->d[k] + 1e-9);
            }
            collided++;
        }
    }
    assert_true(collided > 1000);
    hm_mc_scene_free(s);
    unsetenv("HM_MC_GRID_MODE");
}

static void test_walks(void **state)
{
    (void)state;
    check_walks(0);
    check_walks(1);
}

/* Region energies (eV/history) and counts with the given grid mode. */
static void run_regions(hm_mc_scene *(*scene)(double), const char *mode, double e_kev, uint64_t seed,
                        double *edep, double *sig, int nreg, hm_mc_stats *st)
{
    setenv("HM_MC_GRID_MODE", mode, 1);
    hm_mc_scene *s = scene(e_kev);
    hm_mc_run_params p;
    hm_mc_run_params_default(&p);
    p.histories = 400000;
    p.threads = 2;
    p.seed = seed;
    hm_mc_results r;
    hm_error err;
    hm_mc_stats_reset();
    assert_int_equal(hm_mc_run(s, &p, &r, &err), 0);
    hm_mc_stats_get(st);
    assert_true(r.nregions >= nreg);
    for (int i = 0; i < nreg; i++) { edep[i] = r.edep_ev[i]; sig[i] = r.edep_ev_sigma[i]; }
    hm_mc_results_free(&r);
    hm_mc_scene_free(s);
    unsetenv("HM_MC_GRID_MODE");
}

static hm_mc_scene *body_dens(double e_kev) { return mcts_body_scene(1, e_kev); }

/* Woodcock tracking (the general loop) against `mode`: dda (exact) or delta
 * (the grid's own Woodcock loop) */
static void compare(const char *name, hm_mc_scene *(*scene)(double), int nreg, double e_kev, const char *mode)
{
    double e0[8], s0[8], e1[8], s1[8];
    hm_mc_stats st0, st1;
    int exact = !strcmp(mode, "dda");
    run_regions(scene, "woodcock", e_kev, 5, e0, s0, nreg, &st0);
    run_regions(scene, mode, e_kev, 6, e1, s1, nreg, &st1);
    for (int i = 1; i < nreg; i++) {
        double z = mcts_z(e0[i], s0[i], e1[i], s1[i]);
        printf("%s %g keV region %d: woodcock %.5g +- %.2g eV, %s %.5g +- %.2g eV, z %+.2f\n", name, e_kev, i,
               e0[i], s0[i], mode, e1[i], s1[i], z);
        /* body region 1 is the small air pocket: few or no deposits */
        assert_true(fabs(z) < 4.5 && (e0[i] > 0 || (!strcmp(name, "body") && i == 1)));
    }
    double r0 = (double)st0.real / st0.histories, r1 = (double)st1.real / st1.histories;
    double t0 = (double)st0.tentative / st0.histories, t1 = (double)st1.tentative / st1.histories;
    printf("%s %g keV %s: tentative/history %.3f -> %.3f, real %.3f -> %.3f, steps %.2f\n", name, e_kev, mode, t0,
           t1, r0, r1, (double)st1.voxel_steps / st1.histories);
    assert_true(st0.voxel_steps == 0 && st0.grid_dda == 0 && st1.grid_dda == (exact ? 1 : 2));
    assert_true(exact ? st1.voxel_steps > 0 : st1.voxel_steps == 0);
    /* the same real interactions within statistics (~0.2 % here); exact
     * tracking rejects almost nothing (only where the PMMA box is on top),
     * delta as many as Woodcock (the same majorant) */
    assert_true(fabs(r1 - r0) < 0.01 * r0);
    if (exact) assert_true(t1 < 0.7 * t0 && t1 > 0.9 * r1);
    else assert_true(fabs(t1 - t0) < 0.02 * t0);
}

static void test_transport_body(void **state)
{
    (void)state;
    compare("body", body_dens, 5, 30, "dda");
    compare("body", body_dens, 5, 80, "dda");
    compare("body", body_dens, 5, 30, "delta");
    compare("body", body_dens, 5, 80, "delta");
}

static void test_transport_slab(void **state)
{
    (void)state;
    compare("slab", slab_scene, 5, 60, "dda");
    compare("slab", slab_scene, 5, 60, "delta");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walks),
        cmocka_unit_test(test_transport_body),
        cmocka_unit_test(test_transport_slab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
