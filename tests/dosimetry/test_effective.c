/*
 * test_effective.c — ICRP 103 effective dose from organ doses, and gathering
 * region doses into organs (marrow by skeletal site), on hand-made inputs
 * whose answers are computed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hm_dosimetry.h"

static const char *all_organs[] = {
    "red_marrow", "colon", "lung", "stomach", "breast", "gonads", "bladder", "oesophagus", "liver", "thyroid",
    "bone_surface", "brain", "salivary_glands", "skin", "adrenals", "extrathoracic", "gall_bladder", "heart",
    "kidneys", "lymph_nodes", "muscle", "oral_mucosa", "pancreas", "prostate", "uterus_cervix",
    "small_intestine", "spleen", "thymus", "lens", "ovaries", "testes" };
#define NORG (sizeof all_organs / sizeof all_organs[0])

static void fill(hm_dosimetry_result *r, hm_organ_dose *o, double d)
{
    r->n = NORG;
    r->organs = o;
    for (size_t i = 0; i < NORG; i++) {
        memset(&o[i], 0, sizeof o[i]);
        strcpy(o[i].organ, all_organs[i]);
        o[i].dose_mgy_per_gy_cm2 = d;
        o[i].present = 1;
    }
}

static hm_organ_dose *get(hm_dosimetry_result *r, const char *id)
{
    return (hm_organ_dose *)hm_dosimetry_find(r, id);
}

static void test_uniform_dose(void **state)
{
    (void)state;
    hm_organ_dose om[NORG], of[NORG];
    hm_dosimetry_result m, f;
    fill(&m, om, 2.0);
    fill(&f, of, 2.0);
    double e;
    hm_error err;
    /* The weights sum to 1 (ICRP 103 Table 3): a uniform dose D gives E = D. */
    assert_int_equal(hm_dosimetry_effective_dose(&m, &f, &e, &err), 0);
    assert_true(fabs(e - 2.0) < 1e-12);
}

static void test_hand_computed(void **state)
{
    (void)state;
    hm_organ_dose om[NORG], of[NORG];
    hm_dosimetry_result m, f;
    fill(&m, om, 0);
    fill(&f, of, 0);
    get(&m, "lung")->dose_mgy_per_gy_cm2 = 10;     /* 0.12 x (10 + 0)/2 = 0.6 */
    get(&f, "testes")->dose_mgy_per_gy_cm2 = 100;  /* female testes: not used */
    get(&f, "ovaries")->dose_mgy_per_gy_cm2 = 5;   /* gonads 0.08 x (0 + 5)/2 = 0.2 */
    get(&m, "prostate")->dose_mgy_per_gy_cm2 = 13; /* male remainder mean 13/13 = 1 -> 0.12 x (1 + 0)/2 = 0.06 */
    get(&f, "prostate")->dose_mgy_per_gy_cm2 = 13; /* not a female remainder tissue */
    get(&f, "thyroid")->dose_mgy_per_gy_cm2 = 1;   /* 0.04 x 0.5 = 0.02 */
    get(&m, "lens")->dose_mgy_per_gy_cm2 = 50;     /* not weighted */
    double e;
    hm_error err;
    assert_int_equal(hm_dosimetry_effective_dose(&m, &f, &e, &err), 0);
    assert_true(fabs(e - (0.6 + 0.2 + 0.06 + 0.02)) < 1e-12);
    /* A weighted tissue without a dose is an error naming it. */
    get(&f, "liver")->present = 0;
    assert_int_equal(hm_dosimetry_effective_dose(&m, &f, &e, &err), HM_ENOTFOUND);
    assert_string_equal(err.field, "liver");
}

static void test_gather(void **state)
{
    (void)state;
    /* Four regions: lung (2 g), soft tissue carrying muscle, and two skeletal
     * sites of a "5y" phantom. */
    hm_phantom_region reg[5];
    memset(reg, 0, sizeof reg);
    strcpy(reg[1].organs, "lung");          reg[1].mass_g = 2;
    strcpy(reg[2].organs, "muscle|lymph_nodes"); reg[2].mass_g = 6;
    strcpy(reg[3].site, "skull");           reg[3].mass_g = 10;
    strcpy(reg[4].site, "ribs");            reg[4].mass_g = 30;
    hm_voxel_phantom v;
    memset(&v, 0, sizeof v);
    v.nregions = 4;
    v.regions = reg;
    strcpy(v.age, "5y");
    double dose[5] = { 0, 3, 1, 2, 4 }, sig[5] = { 0, 0.1, 0.1, 0.1, 0.1 };
    hm_dosimetry_result r;
    hm_error err;
    assert_int_equal(hm_dosimetry_gather(&v, dose, sig, 0.5, &r, &err), 0);
    assert_true(fabs(hm_dosimetry_find(&r, "lung")->dose_mgy_per_gy_cm2 - 3) < 1e-12);
    assert_true(fabs(hm_dosimetry_find(&r, "lymph_nodes")->dose_mgy_per_gy_cm2 - 1) < 1e-12);
    assert_int_equal(hm_dosimetry_find(&r, "liver")->present, 0);
    /* Marrow: shares of marrow_sites.csv at 5 y (skull 19.1, ribs 13.8 of 99.9)
     * restricted to the two sites present, times the factor 0.5. */
    double sk, ri;
    assert_int_equal(hm_phantom_marrow_share("5y", "skull", &sk, &err), 0);
    assert_int_equal(hm_phantom_marrow_share("5y", "ribs", &ri, &err), 0);
    double want = 0.5 * (sk * 2 + ri * 4) / (sk + ri);
    assert_true(fabs(hm_dosimetry_find(&r, "red_marrow")->dose_mgy_per_gy_cm2 - want) < 1e-12);
    /* Bone surface: site masses as weights. */
    assert_true(fabs(hm_dosimetry_find(&r, "bone_surface")->dose_mgy_per_gy_cm2 - 0.5 * (10 * 2 + 30 * 4) / 40.0) < 1e-12);
    hm_dosimetry_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_dose),
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_gather),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
