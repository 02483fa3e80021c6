/*
 * test_mc_majorant_tree.c — the local majorants of voxel grids
 * (src/mc/majorant_tree.c): the leaves partition the grid exactly, each leaf's
 * majorant bounds mu of every voxel in it at every energy the tracking can
 * ask for, walks along random rays visit consecutive leaves whose boxes hold
 * the flight, and transport with the tree agrees within statistics with the
 * single grid majorant (HM_MC_GRID_TREE=0) while sampling fewer tentative
 * collisions.
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


static const mc_voxgrid *prepared_grid(hm_mc_scene *s, const mc_element **el)
{
    hm_error err;
    assert_int_equal(mc_scene_prepare(s, &err), 0);
    for (int i = 0; i < s->nel; i++)
        if (s->el[i].vox) { *el = &s->el[i]; return s->el[i].vox; }
    fail();
    return NULL;
}

static int energy_row(double e)
{
    int ke = (int)(e * (1.0 / MC_DE_KEV));
    return ke >= MC_NE - 1 ? MC_NE - 2 : ke;
}

static void check_tree(int densities)
{
    setenv("HM_MC_GRID_TREE", "1", 1);
    hm_mc_scene *s = mcts_body_scene(densities, 30);
    const mc_element *el;
    const mc_voxgrid *g = prepared_grid(s, &el);
    const mc_mtree *T = g->tree;
    assert_non_null(T);
    assert_true(T->nleaf > 4);           /* vacuum, tissue, lung and bone get cut apart */
    /* exact partition, leaf faces on voxel faces */
    int *cover = calloc((size_t)NX * NY * NZ, sizeof(int));
    assert_non_null(cover);
    const double e_kev[6] = { 1.3, 15.02, 33.17, 59.3, 100.0, 149.99 };
    for (int l = 0; l < T->nleaf; l++) {
        const mc_mtleaf *L = &T->leaf[l];
        for (int k = 0; k < 3; k++) {
            assert_true(L->vlo[k] >= 0 && L->vlo[k] < L->vhi[k]);
            assert_true(L->vhi[k] <= (k == 0 ? NX : k == 1 ? NY : NZ));
            assert_true(L->lo[k] == g->origin[k] + L->vlo[k] * g->d[k]);
            assert_true(L->hi[k] == g->origin[k] + L->vhi[k] * g->d[k]);
        }
        for (int z = L->vlo[2]; z < L->vhi[2]; z++)
            for (int y = L->vlo[1]; y < L->vhi[1]; y++)
                for (int x = L->vlo[0]; x < L->vhi[0]; x++) {
                    size_t v = x + (size_t)NX * (y + (size_t)NY * z);
                    cover[v]++;
                    int m = g->mat[v] - 1;
                    for (int i = 0; i < 6; i++) {
                        double mu = m < 0 ? 0
                                  : (g->density ? g->density[v] : s->mat[m].density_g_cm3) *
                                        mc_mu_tot(s->mat[m].xs, e_kev[i]);
                        float M = T->maj[(size_t)energy_row(e_kev[i]) * T->ncls + L->cls];
                        if (!(mu <= M)) fail_msg("leaf %d voxel %zu: mu %g > majorant %g at %g keV", l, v, mu, M, e_kev[i]);
                    }
                }
    }
    for (size_t v = 0; v < (size_t)NX * NY * NZ; v++) assert_int_equal(cover[v], 1);
    free(cover);
    /* the leaves are not all the single majorant: the vacuum and soft-tissue
     * ones are lower */
    int lower = 0;
    int ke = energy_row(60);
    float gm = g->maj[ke] > g->maj[ke + 1] ? g->maj[ke] : g->maj[ke + 1];
    for (int l = 0; l < T->nleaf; l++) lower += T->maj[(size_t)ke * T->ncls + T->leaf[l].cls] < 0.7f * gm;
    assert_true(lower > 0);
    /* walks along random rays: consecutive leaves, each holding the flight
     * between its entry and exit, to the grid's exit */
    uint64_t seed = 99;
    int walks = 0;
    for (int r = 0; r < 4000; r++) {
        double p[3], d[3], inv[3];
        for (int k = 0; k < 3; k++) p[k] = el->lo[k] + mcts_u01(&seed) * (el->hi[k] - el->lo[k]);
        double cz = 2 * mcts_u01(&seed) - 1, ph = 2 * 3.14159265358979 * mcts_u01(&seed), sz = sqrt(1 - cz * cz);
        d[0] = sz * cos(ph); d[1] = sz * sin(ph); d[2] = cz;
        if (r % 5 == 0) { d[0] = 0; d[1] = r % 10 ? 1 : -1; d[2] = 0; }   /* axis-parallel flights */
        for (int k = 0; k < 3; k++) inv[k] = d[k] != 0.0 ? 1.0 / d[k] : 1e300;
        double t1 = INFINITY;
        for (int k = 0; k < 3; k++) {
            double ta = (el->lo[k] - p[k]) * inv[k], tb = (el->hi[k] - p[k]) * inv[k];
            t1 = mc_min(mc_max(ta, tb), t1);
        }
        double t = 0, tl;
        float M;
        int steps = 0;
        while (t < t1) {
            /* -1 for the grid majorant: the fallback, which must not be needed */
            mc_mtree_locate(T, p, d, inv, t, t1, energy_row(60), -1.0f, &tl, &M);
            assert_true(tl > t && M >= 0);
            /* the midpoint of the stretch lies in a voxel the majorant covers */
            double tm = 0.5 * (t + tl), q[3];
            int ix[3];
            for (int k = 0; k < 3; k++) {
                q[k] = p[k] + tm * d[k];
                ix[k] = (int)((q[k] - g->origin[k]) * g->inv_d[k]);
            }
            size_t v = ix[0] + (size_t)NX * (ix[1] + (size_t)NY * ix[2]);
            int m = g->mat[v] - 1;
            double mu = m < 0 ? 0 : (g->density ? g->density[v] : s->mat[m].density_g_cm3) * mc_mu_tot(s->mat[m].xs, 60);
            assert_true(mu <= M);
            t = tl;
            assert_true(++steps < 10000);
        }
        walks += steps > 1;
    }
    assert_true(walks > 1000);
    hm_mc_scene_free(s);
}

static void test_partition_and_bounds(void **state)
{
    (void)state;
    check_tree(0);
    check_tree(1);
}

/* Transport with the tree against the single majorant: region energies
 * within 4.5 combined sigma (distinct random streams), fewer tentative
 * collisions, the same number of real ones within statistics. */
static void run_regions(int tree, double e_kev, double *edep, double *sig, hm_mc_stats *st)
{
    setenv("HM_MC_GRID_TREE", tree ? "1" : "0", 1);
    /* at 80 keV the model sees little gain in this small body (ratio 0.99): keep the
     * tree anyway, to test its transport there too */
    setenv("HM_MC_GRID_TREE_KEEP", "1", 1);
    hm_mc_scene *s = mcts_body_scene(1, e_kev);
    hm_mc_run_params p;
    hm_mc_run_params_default(&p);
    p.histories = 400000;
    p.threads = 2;
    p.seed = 5 + (uint64_t)tree;
    hm_mc_results r;
    hm_error err;
    hm_mc_stats_reset();
    assert_int_equal(hm_mc_run(s, &p, &r, &err), 0);
    hm_mc_stats_get(st);
    for (int i = 0; i < 5; i++) { edep[i] = r.edep_ev[i]; sig[i] = r.edep_ev_sigma[i]; }
    hm_mc_results_free(&r);
    hm_mc_scene_free(s);
}

static void test_transport_agrees(void **state)
{
    (void)state;
    const double energies[2] = { 30, 80 };
    for (int ie = 0; ie < 2; ie++) {
        double e0[5], s0[5], e1[5], s1[5];
        hm_mc_stats st0, st1;
        run_regions(0, energies[ie], e0, s0, &st0);
        run_regions(1, energies[ie], e1, s1, &st1);
        for (int i = 1; i < 5; i++) {
            double z = mcts_z(e0[i], s0[i], e1[i], s1[i]);
            printf("%g keV region %d: single %.5g +- %.2g eV, tree %.5g +- %.2g eV, z %+.2f\n", energies[ie], i,
                   e0[i], s0[i], e1[i], s1[i], z);
            assert_true(fabs(z) < 4.5 && (i == 1 || e0[i] > 0));   /* 1: the small air pocket */
        }
        double t0 = (double)st0.tentative / st0.histories, t1 = (double)st1.tentative / st1.histories;
        double r0 = (double)st0.real / st0.histories, r1 = (double)st1.real / st1.histories;
        printf("%g keV: tentative/history %.3f -> %.3f, real %.3f -> %.3f, leaf locates %.3f\n", energies[ie], t0, t1,
               r0, r1, (double)st1.leaf_locates / st1.histories);
        assert_true(st0.leaf_locates == 0 && st1.leaf_locates > 0);
        assert_true(t1 < 0.8 * t0);   /* 30 keV: 19.0 -> 3.1; 80 keV: 5.0 -> 3.6 */
        assert_true(fabs(r1 - r0) < 0.01 * r0);
    }
    unsetenv("HM_MC_GRID_TREE");
    unsetenv("HM_MC_GRID_TREE_KEEP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_and_bounds),
        cmocka_unit_test(test_transport_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
