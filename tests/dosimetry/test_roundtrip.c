/*
 * test_roundtrip.c — a small generated phantom (newborn, 3 mm voxels) written
 * in the ICRP 110 format (and raw + header) and read back gives the same
 * organ doses as the phantom built in memory, same beam and seed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hm_dosimetry.h"

static void compare(const hm_dosimetry_result *a, const hm_dosimetry_result *b)
{
    assert_int_equal(a->n, b->n);
    int compared = 0;
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->organs[i].organ, b->organs[i].organ);
        assert_int_equal(a->organs[i].present, b->organs[i].present);
        double x = a->organs[i].dose_mgy_per_gy_cm2, y = b->organs[i].dose_mgy_per_gy_cm2;
        /* Same geometry, materials to 9 digits, same random streams: equal to
         * far better than the statistical uncertainty. */
        double tol = 1e-6 * fabs(x) + 0.01 * a->organs[i].sigma_mgy_per_gy_cm2;
        if (fabs(x - y) > tol)
            fprintf(stderr, "%s: %.9g vs %.9g\n", a->organs[i].organ, x, y);
        assert_true(fabs(x - y) <= tol);
        compared += x > 0;
    }
    assert_true(compared > 15);
}

static void test_same_doses(void **state)
{
    (void)state;
    hm_phantom *p;
    hm_voxel_phantom mem, f110, fraw;
    hm_error err;
    assert_int_equal(hm_phantom_build("newborn", 'H', &p, &err), 0);
    assert_int_equal(hm_phantom_voxelise(p, 3, &mem, &err), 0);
    hm_phantom_free(p);
    assert_int_equal(hm_voxel_phantom_write_icrp110(&mem, HM_TEST_TMPDIR "/nb", &err), 0);
    double mm[3] = { 10 * mem.voxel_cm[0], 10 * mem.voxel_cm[1], 10 * mem.voxel_cm[2] };
    assert_int_equal(hm_voxel_phantom_read_icrp110(HM_TEST_TMPDIR "/nb.dat", HM_TEST_TMPDIR "/nb_organs.dat",
                                                   HM_TEST_TMPDIR "/nb_media.dat", HM_TEST_TMPDIR "/nb_map.csv",
                                                   mem.nx, mem.ny, mem.nz, mm, &f110, &err), 0);
    /* ICRP 110 files carry no origin: the beam is placed on the heart of
     * whichever grid, so shifting the grid must not matter.  Put it where
     * the in-memory one is so that the random streams meet the same
     * floating-point boundaries. */
    memcpy(f110.origin_cm, mem.origin_cm, sizeof mem.origin_cm);
    assert_int_equal(hm_voxel_phantom_write_raw(&mem, HM_TEST_TMPDIR "/nbraw", &err), 0);
    assert_int_equal(hm_voxel_phantom_read_raw(HM_TEST_TMPDIR "/nbraw.hdr", &fraw, &err), 0);

    hm_dosimetry_beam b;
    assert_int_equal(hm_dosimetry_beam_cardiac("newborn", &b, &err), 0);
    hm_dosimetry_params prm = { 60000, 7, 1 };
    hm_dosimetry_result r1, r2, r3;
    int rc = hm_dosimetry_organ_doses(&mem, &b, &prm, &r1, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    rc = hm_dosimetry_organ_doses(&f110, &b, &prm, &r2, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", err.field, err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(hm_dosimetry_organ_doses(&fraw, &b, &prm, &r3, &err), 0);
    compare(&r1, &r2);
    compare(&r1, &r3);
    /* And the doses are real: the lungs in a chest beam get a dose. */
    assert_true(hm_dosimetry_find(&r1, "lung")->dose_mgy_per_gy_cm2 > 1);
    double e1, e2;
    assert_int_equal(hm_dosimetry_effective_dose(&r1, &r1, &e1, &err), 0);
    assert_int_equal(hm_dosimetry_effective_dose(&r2, &r2, &e2, &err), 0);
    assert_true(fabs(e1 - e2) < 1e-6 * e1 + 1e-9);
    hm_dosimetry_result_free(&r1);
    hm_dosimetry_result_free(&r2);
    hm_dosimetry_result_free(&r3);
    hm_voxel_phantom_free(&mem);
    hm_voxel_phantom_free(&f110);
    hm_voxel_phantom_free(&fraw);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_same_doses) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
