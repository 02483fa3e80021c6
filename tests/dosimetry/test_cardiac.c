/*
 * test_cardiac.c — the frontal cardiac-catheterisation beam
 * (data/phantoms/cardiac_beams.csv) on the age series against the published
 * anchors (anchors.md section 2):
 *  - 5-year phantom: lungs and oesophagus receive the highest doses of the
 *    ICRP 103 weighted tissues (Harbron 2015; anchors.md: "Lungs and
 *    oesophagus get the highest organ doses in cardiac catheterization").
 *  - E/KAP by age within the published values: Karambatsakidou 2009 BJR
 *    (3.7, 1.9, 1.0, 0.6, 0.4 mSv/(Gy cm2) at 0, 1, 5, 10, 15 y) and Ubeda
 *    2017 Phys Med (1.70, 0.89, 0.58, 0.40 at <1, 1-5, 5-10, 10-16 y): the
 *    envelope of both for the age band, widened by 30 % either side, because
 *    those are clinical mixes of projections and field sizes while this is one
 *    frontal beam on a stylized phantom.
 * Argument "all" runs every age (release build); else the 5-year-old alone,
 * with one shared run and fewer histories (sanitizer build).
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

#include "hm_dosimetry.h"

static int all_ages;
static hm_dosimetry_result shared_5y;   /* the one run of the reduced mode */

static double run(const char *age, char sex, hm_dosimetry_result *r, long long histories)
{
    if (!all_ages && shared_5y.n) {
        /* Reduced mode: every request is the 5-year-old's one run. */
        *r = shared_5y;
        r->organs = malloc(sizeof *r->organs * shared_5y.n);
        assert_non_null(r->organs);
        memcpy(r->organs, shared_5y.organs, sizeof *r->organs * shared_5y.n);
        return 0;
    }
    hm_phantom *p;
    hm_voxel_phantom v;
    hm_error err;
    assert_int_equal(hm_phantom_build(age, sex, &p, &err), 0);
    assert_int_equal(hm_phantom_voxelise(p, all_ages ? 4 : 5, &v, &err), 0);
    hm_phantom_free(p);
    hm_dosimetry_beam b;
    assert_int_equal(hm_dosimetry_beam_cardiac(age, &b, &err), 0);
    hm_dosimetry_params prm = { histories, 11, 2 };
    int rc = hm_dosimetry_organ_doses(&v, &b, &prm, r, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    hm_voxel_phantom_free(&v);
    return 0;
}

static void test_ranking_5y(void **state)
{
    (void)state;
    hm_dosimetry_result r;
    run("5y", 'H', &r, 400000);
    static const char *weighted[] = { "red_marrow", "colon", "lung", "stomach", "breast", "bladder", "oesophagus",
                                      "liver", "thyroid", "bone_surface", "brain", "salivary_glands", "skin" };
    const char *first = NULL, *second = NULL;
    double d1 = -1, d2 = -1;
    for (size_t i = 0; i < sizeof weighted / sizeof weighted[0]; i++) {
        double d = hm_dosimetry_find(&r, weighted[i])->dose_mgy_per_gy_cm2;
        fprintf(stderr, "5y %-16s %.4g mGy/(Gy cm2)\n", weighted[i], d);
        if (d > d1) { d2 = d1; second = first; d1 = d; first = weighted[i]; }
        else if (d > d2) { d2 = d; second = weighted[i]; }
    }
    assert_string_equal(first, "lung");
    assert_string_equal(second, "oesophagus");
    /* Heart in the field too; brain and bladder far outside it. */
    assert_true(hm_dosimetry_find(&r, "heart")->dose_mgy_per_gy_cm2 > 0.5 * d1);
    assert_true(hm_dosimetry_find(&r, "brain")->dose_mgy_per_gy_cm2 < 0.02 * d1);
    hm_dosimetry_result_free(&r);
}

static void test_effective_dose_by_age(void **state)
{
    (void)state;
    struct { const char *age; double lo, hi; } ref[] = {
        { "newborn", 1.70, 3.7 }, { "1y", 0.89, 1.9 }, { "5y", 0.58, 1.0 },
        { "10y", 0.40, 0.6 }, { "15y", 0.40, 0.40 } };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        if (!all_ages && strcmp(ref[i].age, "5y"))
            continue;
        hm_dosimetry_result m, f;
        double e;
        hm_error err;
        int sexed = !strcmp(ref[i].age, "15y");
        run(ref[i].age, sexed ? 'M' : 'H', &m, 300000);
        if (sexed)
            run(ref[i].age, 'F', &f, 300000);
        assert_int_equal(hm_dosimetry_effective_dose(&m, sexed ? &f : &m, &e, &err), 0);
        fprintf(stderr, "%-8s E/KAP %.3f mSv/(Gy cm2), published %.2f..%.2f\n", ref[i].age, e, ref[i].lo, ref[i].hi);
        assert_true(e >= ref[i].lo / 1.3 && e <= ref[i].hi * 1.3);
        hm_dosimetry_result_free(&m);
        if (sexed)
            hm_dosimetry_result_free(&f);
    }
}

static int setup(void **state)
{
    (void)state;
    if (!all_ages)
        run("5y", 'H', &shared_5y, 60000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hm_dosimetry_result_free(&shared_5y);
    return 0;
}

int main(int argc, char **argv)
{
    all_ages = argc > 1 && !strcmp(argv[1], "all");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranking_5y),
        cmocka_unit_test(test_effective_dose_by_age),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
