/*
 * test_mc_physics.c — cross sections against NIST, narrow-beam attenuation
 * simulated through water and aluminium, sampled Compton and Rayleigh angular
 * distributions against the differential cross sections (chi-square), and
 * bit-identical reproducibility.
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

#include "hm_mc.h"

/* NIST XCOM total attenuation with coherent scattering, cm2/g: J. H. Hubbell and
 * S. M. Seltzer, NIST Standard Reference Database 126 (Tables of X-ray mass
 * attenuation coefficients), Table 4, "Water, Liquid" and Table 3, Z = 13. */
static const double E_KEV[] = { 20, 30, 40, 50, 60, 80, 100, 150 };
static const double WATER[] = { 0.8096, 0.3756, 0.2683, 0.2269, 0.2059, 0.1837, 0.1707, 0.1505 };
static const double AL[]    = { 3.441, 1.128, 0.5685, 0.3681, 0.2778, 0.2018, 0.1704, 0.1378 };

static void test_tables_vs_xcom(void **state)
{
    (void)state;
    hm_error err;
    for (size_t i = 0; i < sizeof E_KEV / sizeof *E_KEV; i++) {
        double mw, ma;
        assert_int_equal(hm_mc_material_mu_rho("water", E_KEV[i], &mw, NULL, &err), 0);
        assert_int_equal(hm_mc_material_mu_rho("aluminium", E_KEV[i], &ma, NULL, &err), 0);
        if (fabs(mw / WATER[i] - 1) > 0.005 || fabs(ma / AL[i] - 1) > 0.005)
            fail_msg("%g keV: water %.4f (XCOM %.4f), Al %.4f (XCOM %.4f)", E_KEV[i], mw, WATER[i],
                     ma, AL[i]);
    }
}

/* Transmission of a pencil beam through one mean free path of material,
 * scored on a small disc far behind (scatter cannot reach it): mu = -ln(T)/t. */
static double simulate_mu(const char *material, double e_kev, double mu_guess_cm, long long n)
{
    hm_error err;
    double k[2];
    for (int pass = 0; pass < 2; pass++) {
        hm_mc_scene *s;
        assert_int_equal(hm_mc_scene_new(&s, &err), 0);
        int m = hm_mc_add_material(s, material, 0, &err);
        assert_true(m >= 0);
        double lo[3] = { -10, -10, -1 }, hi[3] = { 10, 10, 301 };
        assert_int_equal(hm_mc_set_world(s, -1, lo, hi, &err), 0);
        double t = 1.0 / mu_guess_cm;
        if (pass == 1) {
            hm_mc_solid slab = { .kind = HM_MC_BOX, .center_cm = { 0, 0, 10 + t / 2 },
                                 .half_cm = { 5, 5, t / 2 }, .material = m, .region = 1 };
            assert_true(hm_mc_add_solid(s, &slab, &err) >= 0);
        }
        hm_mc_source src = { .kind = HM_MC_SRC_PARALLEL, .position_cm = { 0, 0, 0 },
                             .direction = { 0, 0, 1 }, .u_min_cm = -0.01, .u_max_cm = 0.01,
                             .v_min_cm = -0.01, .v_max_cm = 0.01, .energy_kev = e_kev };
        assert_int_equal(hm_mc_set_source(s, &src, &err), 0);
        double c[3] = { 0, 0, 300 }, nrm[3] = { 0, 0, 1 };
        assert_int_equal(hm_mc_add_kerma_disc(s, c, nrm, 0.05, &err), 0);
        hm_mc_run_params p;
        hm_mc_run_params_default(&p);
        p.histories = n;
        p.threads = 2;
        hm_mc_results r;
        assert_int_equal(hm_mc_run(s, &p, &r, &err), 0);
        k[pass] = r.disc_fluence_cm2[0];
        hm_mc_results_free(&r);
        hm_mc_scene_free(s);
    }
    return -log(k[1] / k[0]) * mu_guess_cm;
}

static void test_narrow_beam(void **state)
{
    (void)state;
    /* 1e6 photons: sigma(mu)/mu = sqrt((1-T)/(N T)) = 0.13 % at T = 1/e */
    static const int pick[] = { 1, 4, 6 };   /* 30, 60, 100 keV */
    for (int j = 0; j < 3; j++) {
        int i = pick[j];
        double mw = simulate_mu("water", E_KEV[i], WATER[i] * 1.0, 1000000);
        double ma = simulate_mu("aluminium", E_KEV[i], AL[i] * 2.699, 1000000) / 2.699;
        if (fabs(mw / WATER[i] - 1) > 0.005 || fabs(ma / AL[i] - 1) > 0.005)
            fail_msg("%g keV: simulated water %.4f (XCOM %.4f), Al %.4f (XCOM %.4f)", E_KEV[i], mw,
                     WATER[i], ma, AL[i]);
    }
}

/* Chi-square of n sampled cosines against dsigma/dOmega, in nb bins of
 * x = sqrt((1 - cos)/2) (uniform in momentum transfer), bins with fewer than
 * 20 expected counts merged.  free_kn: compare against Klein–Nishina without
 * S (used to show the test has power). */
static double chi2(const char *mat, int inter, double e, int free_kn, int *dof)
{
    hm_error err;
    const size_t n = 1000000;
    const int nb = 50;
    double *c = malloc(n * sizeof(double));
    assert_int_equal(hm_mc_sample_cos(mat, inter, e, n, 42, c, &err), 0);
    double obs[50] = { 0 }, expc[50] = { 0 };
    for (size_t i = 0; i < n; i++) {
        double x = sqrt(0.5 * (1 - c[i]));
        int b = (int)(x * nb);
        if (b >= nb) b = nb - 1;
        if (b < 0) b = 0;
        obs[b]++;
    }
    free(c);
    /* expected: integrate dsigma/dOmega dOmega = 2 pi dmu over each bin (Simpson) */
    double tot = 0;
    for (int b = 0; b < nb; b++) {
        const int m = 40;
        double acc = 0;
        for (int k = 0; k <= m; k++) {
            double x = (b + (double)k / m) / nb;
            double mu = 1 - 2 * x * x, d;
            assert_int_equal(hm_mc_dcs(mat, inter, e, mu, &d, &err), 0);
            if (free_kn) {
                double kk = e / 510.99895, p = 1 / (1 + kk * (1 - mu));
                d = p * p * (p + 1 / p - (1 - mu * mu));
            }
            double jac = 4 * x;     /* dmu = 4 x dx */
            double w = (k == 0 || k == m) ? 1 : (k % 2 ? 4 : 2);
            acc += w * d * jac;
        }
        expc[b] = acc / (3.0 * m * nb);
        tot += expc[b];
    }
    double chi = 0, eo = 0, ee = 0;
    *dof = -1;
    for (int b = 0; b < nb; b++) {
        eo += obs[b];
        ee += expc[b] / tot * n;
        if (ee >= 20 || b == nb - 1) {
            chi += (eo - ee) * (eo - ee) / ee;
            (*dof)++;
            eo = ee = 0;
        }
    }
    return chi;
}

/* chi-square critical value at p = 0.001 (Wilson–Hilferty approximation) */
static double chi2_crit(int dof)
{
    double z = 3.0902, a = 2.0 / (9.0 * dof);
    return dof * pow(1 - a + z * sqrt(a), 3);
}

static void test_angular_distributions(void **state)
{
    (void)state;
    static const struct { const char *mat; int inter; double e; } cases[] = {
        { "water", 1, 20 }, { "water", 1, 60 }, { "water", 1, 140 },
        { "water", 2, 20 }, { "water", 2, 60 }, { "water", 2, 140 },
        { "lead", 1, 50 },  { "lead", 2, 50 },  { "cortical_bone_icru44", 2, 30 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int dof;
        double c = chi2(cases[i].mat, cases[i].inter, cases[i].e, 0, &dof);
        if (!(c < chi2_crit(dof)))
            fail_msg("%s %s %g keV: chi2 %.1f for %d dof (limit %.1f)", cases[i].mat,
                     cases[i].inter == 1 ? "Compton" : "Rayleigh", cases[i].e, c, dof, chi2_crit(dof));
    }
    /* the same test rejects free-electron Klein–Nishina at 20 keV */
    int dof;
    double c = chi2("water", 1, 20, 1, &dof);
    assert_true(c > 10 * chi2_crit(dof));
}

static void run_case(const char *file, int threads, uint64_t seed, hm_mc_results *r)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/../examples/mc/tg195/%s", HM_SOURCE_DATA_DIR, file);
    hm_mc_scene *s;
    hm_mc_run_params p;
    hm_error err;
    if (hm_mc_scene_load(path, &s, &p, &err)) fail_msg("%s: %s", path, err.msg);
    p.histories = 100000;
    p.threads = threads;
    p.seed = seed;
    assert_int_equal(hm_mc_run(s, &p, r, &err), 0);
    hm_mc_scene_free(s);
}

static void test_reproducible(void **state)
{
    (void)state;
    hm_mc_results a, b, c, d;
    run_case("case2_120kVp_tomosynthesis.json", 2, 7, &a);
    run_case("case2_120kVp_tomosynthesis.json", 2, 7, &b);
    run_case("case2_120kVp_tomosynthesis.json", 1, 7, &c);
    run_case("case2_120kVp_tomosynthesis.json", 2, 8, &d);
    assert_int_equal(a.nregions, b.nregions);
    assert_memory_equal(a.edep_ev, b.edep_ev, a.nregions * sizeof(double));
    assert_memory_equal(a.edep_ev_sigma, b.edep_ev_sigma, a.nregions * sizeof(double));
    /* region tallies are reduced in batch order: independent of the thread count */
    assert_memory_equal(a.edep_ev, c.edep_ev, a.nregions * sizeof(double));
    assert_true(memcmp(a.edep_ev, d.edep_ev, a.nregions * sizeof(double)) != 0);
    /* different seeds agree statistically on the body total */
    assert_true(fabs(a.edep_ev[1] - d.edep_ev[1]) < 5 * hypot(a.edep_ev_sigma[1], d.edep_ev_sigma[1]));
    hm_mc_results_free(&a); hm_mc_results_free(&b);
    hm_mc_results_free(&c); hm_mc_results_free(&d);
}

/* K fluorescence: in a 10 um lead foil most Pb K x-rays escape, so the
 * energy imparted per photoabsorption at 100 keV drops by about
 * (1 - 1/J_K) omega_K <E_K> = 0.79 x 0.96 x 76 keV (xraylib data), to ~0.42. */
static void test_k_fluorescence(void **state)
{
    (void)state;
    hm_error err;
    double ed[2];
    for (int fl = 0; fl < 2; fl++) {
        hm_mc_scene *s;
        assert_int_equal(hm_mc_scene_new(&s, &err), 0);
        int pb = hm_mc_add_material(s, "lead", 0, &err);
        double lo[3] = { -10, -10, -1 }, hi[3] = { 10, 10, 10 };
        hm_mc_set_world(s, -1, lo, hi, &err);
        hm_mc_solid foil = { .kind = HM_MC_BOX, .center_cm = { 0, 0, 5 }, .half_cm = { 5, 5, 5e-4 },
                             .material = pb, .region = 1 };
        assert_true(hm_mc_add_solid(s, &foil, &err) >= 0);
        hm_mc_source src = { .kind = HM_MC_SRC_PARALLEL, .direction = { 0, 0, 1 },
                             .u_min_cm = -0.1, .u_max_cm = 0.1, .v_min_cm = -0.1, .v_max_cm = 0.1,
                             .energy_kev = 100 };
        assert_int_equal(hm_mc_set_source(s, &src, &err), 0);
        hm_mc_physics ph;
        hm_mc_physics_default(&ph);
        assert_int_equal(ph.fluorescence, 1);
        ph.fluorescence = fl;
        assert_int_equal(hm_mc_set_physics(s, &ph, &err), 0);
        hm_mc_run_params p;
        hm_mc_run_params_default(&p);
        p.histories = 200000;
        hm_mc_results r;
        assert_int_equal(hm_mc_run(s, &p, &r, &err), 0);
        ed[fl] = r.edep_ev[1];
        hm_mc_results_free(&r);
        hm_mc_scene_free(s);
    }
    double ratio = ed[1] / ed[0];
    if (!(ratio > 0.38 && ratio < 0.48)) fail_msg("fluorescence on/off energy ratio %.3f", ratio);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_vs_xcom),
        cmocka_unit_test(test_narrow_beam),
        cmocka_unit_test(test_angular_distributions),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_k_fluorescence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
