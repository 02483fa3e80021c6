/*
 * test_geom.c — landmarks, skin entrance, PCXMC-style scaling, marrow shares.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hm_phantom.h"

static const char *region_name(const hm_phantom *p, const double q[3])
{
    return hm_phantom_region_info(p, hm_phantom_region_at(p, q))->name;
}

static hm_phantom *p5;   /* one 5-year-old for all tests (the build is the costly part) */

static int setup(void **state)
{
    (void)state;
    hm_error err;
    return hm_phantom_build("5y", 'H', &p5, &err);
}

static int teardown(void **state)
{
    (void)state;
    hm_phantom_free(p5);
    return 0;
}

static void test_landmarks(void **state)
{
    (void)state;
    hm_phantom *p = p5;
    hm_error err;
    double c[3];
    assert_int_equal(hm_phantom_heart_centre(p, c), 0);
    /* The heart centre lies in the heart (its contents), in the upper trunk. */
    assert_string_equal(region_name(p, c), "heart_contents");
    double lo[3], hi[3];
    hm_phantom_bounds(p, lo, hi);
    /* Upper half of the trunk: above the body's mid-height, below the neck. */
    assert_true(c[2] > lo[2] + 0.5 * (hi[2] - lo[2]) && c[2] < hi[2] - 15);
    /* An AP ray from 50 cm in front enters the skin at the front surface. */
    double from[3] = { c[0], c[1] - 50, c[2] }, dir[3] = { 0, 1, 0 }, e[3];
    assert_int_equal(hm_phantom_skin_entrance(p, from, dir, e, &err), 0);
    assert_true(fabs(e[0] - c[0]) < 1e-9 && fabs(e[2] - c[2]) < 1e-9);
    double before[3] = { e[0], e[1] - 0.01, e[2] }, after[3] = { e[0], e[1] + 0.01, e[2] };
    assert_int_equal(hm_phantom_region_at(p, before), 0);
    assert_string_equal(region_name(p, after), "skin");
    assert_true(e[1] < c[1]);
    /* A ray that passes beside the body misses it. */
    double beside[3] = { 100, -50, c[2] };
    assert_int_equal(hm_phantom_skin_entrance(p, beside, dir, e, &err), HM_ENOTFOUND);
    /* Anatomy sanity: brain near the top of the head, lungs either side of the heart. */
    double head[3] = { 0, 0, hi[2] - 4 };
    assert_string_equal(region_name(p, head), "brain");
    double lung_l[3] = { c[0] + 4.5, 0, c[2] + 2 }, lung_r[3] = { c[0] - 5.5, 0, c[2] + 2 };
    assert_string_equal(region_name(p, lung_l), "lungs");
    assert_string_equal(region_name(p, lung_r), "lungs");
}

static void test_scaling(void **state)
{
    (void)state;
    hm_phantom *p = p5;   /* runs after test_landmarks; restored at the end */
    hm_error err;
    double h0 = hm_phantom_height_cm(p), m0 = hm_phantom_mass_kg(p);
    int nr = hm_phantom_region_count(p);
    double liver0 = 0;
    for (int r = 1; r <= nr; r++)
        if (!strcmp(hm_phantom_region_info(p, r)->name, "liver"))
            liver0 = hm_phantom_region_info(p, r)->mass_g;
    /* PCXMC: mass follows the patient's mass, height the patient's height,
     * each organ by the same volume factor. */
    assert_int_equal(hm_phantom_scale(p, 1.1 * h0, 1.3 * m0, &err), 0);
    assert_true(fabs(hm_phantom_height_cm(p) / h0 - 1.1) < 1e-9);
    assert_true(fabs(hm_phantom_mass_kg(p) / m0 - 1.3) < 0.03);
    for (int r = 1; r <= nr; r++)
        if (!strcmp(hm_phantom_region_info(p, r)->name, "liver"))
            assert_true(fabs(hm_phantom_region_info(p, r)->mass_g / liver0 - 1.3) < 0.02);
    /* Back to the reference. */
    assert_int_equal(hm_phantom_scale(p, h0, m0, &err), 0);
    assert_true(fabs(hm_phantom_mass_kg(p) / m0 - 1) < 0.02);
    assert_int_equal(hm_phantom_scale(p, 5, m0, &err), HM_EINVAL);
    assert_string_equal(err.field, "height_cm");
}

static void test_marrow_shares(void **state)
{
    (void)state;
    static const char *ages[] = { "newborn", "1y", "5y", "10y", "15y", "adult" };
    static const char *sites[] = { "skull", "spine_cervical", "spine_thoracic", "spine_lumbar", "sacrum", "ribs",
                                   "clavicles", "scapulae", "pelvis", "arms", "legs" };
    hm_error err;
    for (int a = 0; a < 6; a++) {
        double sum = 0, s;
        for (int i = 0; i < 11; i++) {
            assert_int_equal(hm_phantom_marrow_share(ages[a], sites[i], &s, &err), 0);
            assert_true(s > 0);
            sum += s;
        }
        assert_true(fabs(sum - 1) < 1e-9);
    }
    double nb, ad;
    /* Cristy 1981: the newborn's marrow sits in the skull and limbs, the adult's in the trunk. */
    assert_int_equal(hm_phantom_marrow_share("newborn", "skull", &nb, &err), 0);
    assert_int_equal(hm_phantom_marrow_share("adult", "skull", &ad, &err), 0);
    assert_true(fabs(nb - 0.278) < 0.002 && ad < 0.1);
    assert_int_equal(hm_phantom_marrow_share("newborn", "liver", &nb, &err), 0);
    assert_true(nb == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_landmarks),
        cmocka_unit_test(test_scaling),
        cmocka_unit_test(test_marrow_shares),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
