/*
 * test_mc_fluorescence — the K x-ray draw after a photoabsorption
 * (mc_k_fluorescence) against probabilities computed here from xraylib:
 * element k absorbs with probability w_k tau_k(E) / sum_j w_j tau_j(E)
 * (CS_Photo), emits a K x-ray with (1 - 1/J_K) omega_K (JumpFactor,
 * FluorYield), line l with its share of the six K radiative rates (RadRate),
 * at LineEnergy.  Elements whose x-rays all fall below the cutoff yield 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xraylib/xraylib.h>

#include "mc_source.h"

#define NEL 4
static const int Z[NEL] = { 8, 20, 29, 82 };              /* O, Ca, Cu, Pb */
static const double W[NEL] = { 0.5, 0.2, 0.2, 0.1 };
static const int LINES[6] = { KL2_LINE, KL3_LINE, KM2_LINE, KM3_LINE, KN2_LINE, KN3_LINE };

/* expected probability that element k's K x-ray comes out (0 if below cutoff) */
static void expected(double e_kev, double cutoff_kev, double p_el[NEL])
{
    double tau[NEL], tot = 0;
    for (int k = 0; k < NEL; k++) { tau[k] = W[k] * CS_Photo(Z[k], e_kev, NULL); tot += tau[k]; }
    for (int k = 0; k < NEL; k++) {
        p_el[k] = 0;
        if (e_kev <= EdgeEnergy(Z[k], K_SHELL, NULL)) continue;
        double emit = (1.0 - 1.0 / JumpFactor(Z[k], K_SHELL, NULL)) * FluorYield(Z[k], K_SHELL, NULL);
        double rs = 0, lmax = 0;
        for (int l = 0; l < 6; l++) {
            double r = fmax(0.0, RadRate(Z[k], LINES[l], NULL));
            rs += r;
            if (r > 0 && LineEnergy(Z[k], LINES[l], NULL) > lmax) lmax = LineEnergy(Z[k], LINES[l], NULL);
        }
        /* every line of an element counts once its most energetic one reaches the cutoff */
        if (!(rs > 0) || lmax < cutoff_kev) continue;
        p_el[k] = tau[k] / tot * emit;
    }
}

static int element_of(double line_kev)
{
    for (int k = 0; k < NEL; k++)
        for (int l = 0; l < 6; l++)
            if (fabs(line_kev - LineEnergy(Z[k], LINES[l], NULL)) < 1e-3) return k;
    return -1;
}

static void check(const mc_material *m, double e_kev, double cutoff_kev)
{
    double p[NEL], n_el[NEL] = { 0 };
    expected(e_kev, cutoff_kev, p);
    const long n = 1000000;
    mc_rng rng;
    mc_rng_init(&rng, 7, 0, 0);
    for (long i = 0; i < n; i++) {
        double x = mc_k_fluorescence(m, e_kev, mc_k_reaching(m, cutoff_kev), &rng);
        if (x == 0) continue;
        int k = element_of(x);
        if (k < 0) fail_msg("%.1f keV: x-ray of %.4f keV from no element", e_kev, x);
        n_el[k] += 1;
    }
    for (int k = 0; k < NEL; k++) {
        double sig = sqrt(n * p[k] * (1 - p[k])) + 1e-9;
        double z = (n_el[k] - n * p[k]) / sig;
        printf("E %.0f keV cutoff %.0f keV Z %d: expected %.5f drawn %.5f (z %.2f)\n", e_kev, cutoff_kev,
               Z[k], p[k], n_el[k] / n, p[k] > 0 ? z : 0.0);
        if (p[k] == 0) assert_true(n_el[k] == 0);
        else if (fabs(z) > 5) fail_msg("Z %d at %.0f keV: %g drawn, %g expected", Z[k], e_kev, n_el[k], n * p[k]);
    }
}

static void test_k_draw(void **state)
{
    (void)state;
    hm_error err;
    mc_material m;
    assert_int_equal(mc_material_set(&m, "mix", 2.0, NEL, Z, W, &err), 0);
    assert_int_equal(mc_material_build(&m, 1, 1, &err), 0);
    /* grid energies (multiples of MC_DE_KEV): the tables hold xraylib's values there */
    check(&m, 100.0, 1.0);    /* above Pb's K edge: all four */
    check(&m, 30.0, 1.0);     /* Ca and Cu only */
    check(&m, 30.0, 5.0);     /* Ca's 3.7 keV lines below the cutoff: Cu alone */
    mc_material_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_k_draw) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
