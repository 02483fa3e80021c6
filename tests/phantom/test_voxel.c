/*
 * test_voxel.c — voxelisation: per-organ voxel volumes converge to the
 * analytic (exact-solid) volumes as voxels shrink; the disk cache returns the
 * same grid and survives a corrupt file; the side centroids of a paired organ
 * are mirror images about its centroid.  Argument "fine" adds the 1 mm grid
 * (release build only).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_phantom.h"

static int fine;
static hm_phantom *nb;

static int setup(void **state)
{
    (void)state;
    hm_error err;
    return hm_phantom_build("newborn", 'H', &nb, &err);
}

static int teardown(void **state)
{
    (void)state;
    hm_phantom_free(nb);
    return 0;
}

/* Mass-weighted mean absolute relative error of the voxel masses of organs
 * of at least 10 g. */
static double voxel_error(double mm)
{
    hm_voxel_phantom v;
    hm_error err;
    assert_int_equal(hm_phantom_voxelise(nb, mm, &v, &err), 0);
    assert_int_equal(v.nregions, hm_phantom_region_count(nb));
    double num = 0, den = 0;
    for (int r = 1; r <= v.nregions; r++) {
        double exact = hm_phantom_region_info(nb, r)->mass_g;
        if (exact < 10)
            continue;
        num += fabs(v.regions[r].mass_g - exact);
        den += exact;
    }
    /* Whole body: the voxel total against the analytic total. */
    double tot = 0;
    for (int r = 1; r <= v.nregions; r++)
        tot += v.regions[r].mass_g;
    assert_true(fabs(tot / 1000 / hm_phantom_mass_kg(nb) - 1) < (mm > 3 ? 0.06 : 0.03));
    hm_voxel_phantom_free(&v);
    return num / den;
}

static void test_convergence(void **state)
{
    (void)state;
    double e4 = voxel_error(4), e2 = voxel_error(2);
    fprintf(stderr, "newborn organ voxel-mass error: 4 mm %.4f, 2 mm %.4f\n", e4, e2);
    assert_true(e2 < e4);
    assert_true(e2 < 0.05);
    if (fine) {
        double e1 = voxel_error(1);
        fprintf(stderr, "newborn organ voxel-mass error: 1 mm %.4f\n", e1);
        assert_true(e1 < e2);
        assert_true(e1 < 0.025);
    }
}

static void test_cache(void **state)
{
    (void)state;
    const char *dir = HM_TEST_TMPDIR "/cache";
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    hm_voxel_phantom a, b, c;
    hm_error err;
    int from;
    assert_int_equal(hm_phantom_voxelise_cached(nb, 5, dir, &a, &from, &err), 0);
    assert_int_equal(from, 0);
    assert_int_equal(hm_phantom_voxelise_cached(nb, 5, dir, &b, &from, &err), 0);
    assert_int_equal(from, 1);
    assert_int_equal(a.nx, b.nx);
    assert_int_equal(a.nz, b.nz);
    assert_memory_equal(a.ids, b.ids, sizeof *a.ids * (size_t)a.nx * a.ny * a.nz);
    assert_true(fabs(a.regions[5].mass_g - b.regions[5].mass_g) < 1e-9);
    /* A different resolution is a different key. */
    assert_int_equal(hm_phantom_voxelise_cached(nb, 6, dir, &c, &from, &err), 0);
    assert_int_equal(from, 0);
    hm_voxel_phantom_free(&c);
    /* A truncated cache file is rebuilt, not trusted. */
    snprintf(cmd, sizeof cmd, "for f in '%s'/newborn_H_5mm_*.hmvox; do head -c 100 \"$f\" > \"$f.t\" && mv \"$f.t\" \"$f\"; done", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(hm_phantom_voxelise_cached(nb, 5, dir, &c, &from, &err), 0);
    assert_int_equal(from, 0);
    assert_memory_equal(a.ids, c.ids, sizeof *a.ids * (size_t)a.nx * a.ny * a.nz);
    hm_voxel_phantom_free(&a);
    hm_voxel_phantom_free(&b);
    hm_voxel_phantom_free(&c);
    assert_int_equal(hm_phantom_voxelise(nb, 0, &a, &err), HM_EINVAL);
}

/* The two kidneys of the left-right symmetric phantom: the side centroids lie
 * either side of the midline centroid, mirror images of each other, at the
 * same height and depth; side 0 is the whole organ. */
static void test_centroid_side(void **state)
{
    (void)state;
    hm_voxel_phantom v;
    hm_error err;
    assert_int_equal(hm_phantom_voxelise(nb, 4, &v, &err), 0);
    double w[3], l[3], r[3], z[3];
    assert_int_equal(hm_voxel_phantom_centroid(&v, "kidneys", w, &err), 0);
    assert_int_equal(hm_voxel_phantom_centroid_side(&v, "kidneys", 1, l, &err), 0);
    assert_int_equal(hm_voxel_phantom_centroid_side(&v, "kidneys", -1, r, &err), 0);
    assert_int_equal(hm_voxel_phantom_centroid_side(&v, "kidneys", 0, z, &err), 0);
    fprintf(stderr, "newborn kidneys: centroid x %.2f cm, left part %.2f, right part %.2f\n",
            w[0], l[0], r[0]);
    assert_true(fabs(w[0]) < 0.3);                    /* on the midline */
    assert_true(l[0] - w[0] > 1.0 && l[0] - w[0] < 5.0);
    assert_true(fabs((l[0] - w[0]) + (r[0] - w[0])) < 0.3);
    for (int k = 1; k < 3; k++) {
        assert_true(fabs(l[k] - r[k]) < 0.3);
        assert_true(fabs(z[k] - w[k]) < 1e-12);
    }
    assert_int_equal(hm_voxel_phantom_centroid_side(&v, "no_such_organ", 1, l, &err),
                     HM_ENOTFOUND);
    hm_voxel_phantom_free(&v);
}

int main(int argc, char **argv)
{
    fine = argc > 1 && !strcmp(argv[1], "fine");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convergence),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_centroid_side),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
