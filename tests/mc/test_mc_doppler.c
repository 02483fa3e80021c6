/*
 * test_mc_doppler.c — impulse-approximation Compton energies (doppler.c):
 * profile units and normalisation, the E'(p_z) kinematics, the sampled E'
 * distribution against the analytic double-differential shape (chi-square),
 * and the bounds 0 < E' <= E - U_shell.
 *
 * The reference distribution is computed here from xraylib directly, by
 * numerical integration in E' of
 *   dsigma/dE' ∝ sum_i n_e,i f_i J_i(p_z(E')) |dp_z/dE'| Theta(E - U_i - E')
 * (Ribberfors, Phys. Rev. B 12 (1975) 2067; PENELOPE-2008 manual §2.3), with
 * p_z(E') from its definition; it never touches the module's tables.
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
#include <time.h>
#include <xraylib/xraylib.h>

#include "mc_doppler.h"

#define ALPHA_INV 137.035999084   /* CODATA 2018 */
#define ME_KEV    510.99895

/* ---- small helpers ---- */
static uint64_t rng_state;
static double urand(void)   /* splitmix64 (Steele, Lea, Flood 2014), 53-bit uniform in [0,1) */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static double xrl_val(double (*fn)(int, int, xrl_error **), int z, int s, int *ok)
{
    xrl_error *e = NULL;
    double v = fn(z, s, &e);
    *ok = !e;
    if (e) xrl_error_free(e);
    return v;
}

static double prof0(int z, int s, xrl_error **e) { return ComptonProfile_Partial(z, s, 0.0, e); }

/* ∫_0^100 J dp by Simpson in u = ln(1 + p / 0.05) (4000 steps): a different
 * quadrature from the module's. */
static double half_integral(int z, int s, double p_hi)
{
    const int n = 4000;
    double c = 0.05, u1 = log(1.0 + p_hi / c), h = u1 / n, sum = 0;
    for (int k = 0; k <= n; k++) {
        double u = k * h, p = c * (exp(u) - 1.0);
        double f = ComptonProfile_Partial(z, s, p, NULL) * c * exp(u);
        sum += f * (k == 0 || k == n ? 1 : (k % 2 ? 4 : 2));
    }
    return sum * h / 3.0;
}

/* Water (H2O, exact stoichiometry) and ICRP cortical bone (xraylib NIST list). */
static void make_water(mc_material *m)
{
    hm_error err;
    double ah = AtomicWeight(1, NULL), ao = AtomicWeight(8, NULL);
    int z[2] = { 1, 8 };
    double w[2] = { 2 * ah / (2 * ah + ao), ao / (2 * ah + ao) };
    assert_int_equal(mc_material_set(m, "water", 1.0, 2, z, w, &err), 0);
}

static void make_bone(mc_material *m)
{
    hm_error err;
    struct compoundDataNIST *c = GetCompoundDataNISTByName("Bone, Cortical (ICRP)", NULL);
    assert_non_null(c);
    int z[MC_MAXEL];
    double w[MC_MAXEL];
    assert_true(c->nElements <= MC_MAXEL);
    for (int i = 0; i < c->nElements; i++) { z[i] = c->Elements[i]; w[i] = c->massFractions[i]; }
    assert_int_equal(mc_material_set(m, "bone", c->density, (size_t)c->nElements, z, w, &err), 0);
    FreeCompoundDataNIST(c);
}

/* ---- 1. units and normalisation of xraylib's profiles ---- */
static void test_profile_units(void **state)
{
    (void)state;
    /* hydrogen 1s: momentum density rho(p) = 8 / (pi^2 (1 + p^2)^4) (a.u.;
     * Bethe & Salpeter, "Quantum Mechanics of One- and Two-Electron Atoms",
     * 1957, §8), projected: J(q) = 2 pi ∫_|q|^inf rho(p) p dp
     * = 8 / (3 pi (1 + q^2)^3). xraylib's table has 3 digits. */
    static const double P_AU[] = { 0, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3 };
    for (size_t i = 0; i < sizeof P_AU / sizeof *P_AU; i++) {
        double p = P_AU[i];
        double ref = 8.0 / (3.0 * MC_PI * pow(1 + p * p, 3));
        double j = ComptonProfile_Partial(1, 0, p, NULL);
        if (fabs(j - ref) > 0.005 * ref + 2e-4)
            fail_msg("H 1s J(%g a.u.) = %.5g, analytic %.5g", p, j, ref);
    }
    /* xraylib's partial profiles are per electron (∫ J_i dp = 1 over
     * -inf..inf, checked by quadrature), so f_i J_i holds the f_i electrons
     * of ElectronConfig; the occupations add up to Z, and sum_i f_i J_i is
     * the atom's total profile ComptonProfile (separately tabulated and
     * rounded, hence the 1 % + 1e-3 tolerance) */
    static const int ZS[] = { 8, 20 };
    for (size_t a = 0; a < 2; a++) {
        int z = ZS[a];
        double occ = 0;
        for (int s = 0; s < 31; s++) {
            int ok;
            xrl_val(prof0, z, s, &ok);
            if (!ok) continue;
            double f = xrl_val(ElectronConfig, z, s, &ok);
            assert_true(ok && f > 0);
            occ += f;
            double norm = 2 * half_integral(z, s, 100.0);
            if (fabs(f * norm - f) > 0.005 * f)
                fail_msg("Z=%d shell %d: integral of f J = %.5f electrons, expected %g", z, s,
                         f * norm, f);
        }
        assert_true(fabs(occ - z) < 1e-9);
        for (double p = 0; p < 20; p += 0.7) {
            double sum = 0;
            for (int s = 0; s < 31; s++) {
                int ok;
                xrl_val(prof0, z, s, &ok);
                if (ok) sum += ElectronConfig(z, s, NULL) * ComptonProfile_Partial(z, s, p, NULL);
            }
            double tot = ComptonProfile(z, p, NULL);
            if (fabs(sum - tot) > 0.01 * tot + 1e-3)
                fail_msg("Z=%d p=%g: sum f_i J_i = %.5g, total profile %.5g", z, p, sum, tot);
        }
    }
}

/* ---- 2. kinematics: E'(p_z) inverts the p_z definition ---- */
static double pz_def(double e, double e1, double mu)
{
    double cq = sqrt(e * e + e1 * e1 - 2 * e * e1 * mu);
    return ALPHA_INV * (e * e1 * (1 - mu) - ME_KEV * (e - e1)) / (ME_KEV * cq);
}

static void test_kinematics(void **state)
{
    (void)state;
    rng_state = 11;
    double worst = 0;
    for (int k = 0; k < 200000; k++) {
        double e = 1 + 149 * urand();
        double mu = -1 + 1.999 * urand();
        double pz = exp(log(0.01) + urand() * log(100 / 0.01)) * (urand() < 0.5 ? -1 : 1);
        double e1 = mc_doppler_eprime(e, mu, pz);
        assert_true(e1 > 0 && isfinite(e1));
        double back = pz_def(e, e1, mu);
        double rel = fabs(back - pz) / fabs(pz);
        if (rel > worst) worst = rel;
        if (rel > 1e-9)
            fail_msg("E=%g mu=%g pz=%.12g: E'=%.15g gives pz=%.12g", e, mu, pz, e1, back);
    }
    /* p_z = 0 is the free-electron Compton line */
    for (double e = 1; e <= 150; e += 7) {
        double ec = e / (1 + e / ME_KEV * (1 - 0.3));
        assert_true(fabs(mc_doppler_eprime(e, 0.3, 0.0) / ec - 1) < 1e-13);
    }
    print_message("kinematics: worst relative p_z round trip %.2e\n", worst);
}

/* ---- 3. sampled distribution against the analytic shape ---- */
typedef struct ref_shell { int z, s; double u_kev, weight; } ref_shell;
typedef struct ref_mat { ref_shell sh[MC_MAXEL * 31]; int n; } ref_mat;

/* Shells with a tabulated profile; a subshell without one lends its electrons
 * to its spin–orbit partner (C 2p is tabulated under L2 only). mutant != 0
 * makes two physics errors the chi-square must reject: elements weighted by
 * mass fraction instead of electrons per gram (w/A), and no binding cut
 * (U_i = 0; this one alone for a pure element). */
static void ref_build(const mc_material *m, ref_mat *r, int mutant)
{
    static const int pair[31] = { -1, -1, 3, 2, -1, 6, 5, 8, 7, -1, 11, 10, 13, 12, 15, 14,
                                  -1, 18, 17, 20, 19, 22, 21, -1, 25, 24, 27, 26, -1, 30, 29 };
    r->n = 0;
    for (int k = 0; k < m->nel; k++) {
        int z = m->z[k];
        double per_g = mutant ? m->w[k] : m->w[k] / AtomicWeight(z, NULL);
        for (int s = 0; s < 31; s++) {
            int ok, okp, oku;
            xrl_val(prof0, z, s, &ok);
            if (!ok) continue;
            double f = xrl_val(ElectronConfig, z, s, &ok);
            if (!ok) f = 0;
            if (pair[s] >= 0) {
                xrl_val(prof0, z, pair[s], &okp);
                double fp = xrl_val(ElectronConfig, z, pair[s], &ok);
                if (!okp && ok) f += fp;
            }
            if (!(f > 0)) continue;
            double u = xrl_val(EdgeEnergy, z, s, &oku);
            ref_shell *sh = &r->sh[r->n++];
            sh->z = z;
            sh->s = s;
            sh->u_kev = oku && !mutant ? u : 0;
            sh->weight = per_g * f / (2 * half_integral(z, s, 100.0));
        }
    }
}

/* unnormalised dsigma/dE' at e1 */
static double ref_density(const ref_mat *r, double e, double mu, double e1)
{
    double cq = sqrt(e * e + e1 * e1 - 2 * e * e1 * mu);
    double num = e * e1 * (1 - mu) - ME_KEV * (e - e1);
    double a = ALPHA_INV / ME_KEV;
    double pz = a * num / cq;
    double dpz = a * ((e * (1 - mu) + ME_KEV) * cq - num * (e1 - e * mu) / cq) / (cq * cq);
    if (fabs(pz) >= 100) return 0;
    double s = 0;
    for (int i = 0; i < r->n; i++)
        if (e1 < e - r->sh[i].u_kev)
            s += r->sh[i].weight * ComptonProfile_Partial(r->sh[i].z, r->sh[i].s, fabs(pz), NULL);
    return s * fabs(dpz);
}

/* ∫_a^b x^k rho(x) dx for k = 0..4 (moments about ec), split at every shell
 * edge E - U_i, composite Simpson per piece with steps of at most h_kev (and
 * at least 16 per piece). */
static void ref_integrate(const ref_mat *r, double e, double mu, double ec, double a, double b,
                          double h_kev, double mom[5])
{
    double cut[MC_MAXEL * 31 + 2];
    int nc = 0;
    cut[nc++] = a;
    for (int i = 0; i < r->n; i++) {
        double x = e - r->sh[i].u_kev;
        if (x > a && x < b) cut[nc++] = x;
    }
    cut[nc++] = b;
    for (int i = 1; i < nc; i++)        /* insertion sort: few points */
        for (int j = i; j > 0 && cut[j] < cut[j - 1]; j--) {
            double t = cut[j]; cut[j] = cut[j - 1]; cut[j - 1] = t;
        }
    for (int k = 0; k < 5; k++) mom[k] = 0;
    for (int c = 0; c + 1 < nc; c++) {
        double lo = cut[c], hi = cut[c + 1];
        int n = 2 * (int)ceil((hi - lo) / h_kev / 2);
        if (n < 16) n = 16;
        double h = (hi - lo) / n;
        if (!(h > 0)) continue;
        for (int j = 0; j <= n; j++) {
            double x = lo + j * h;
            /* the density jumps at each cut: evaluate just inside the piece */
            if (j == n) x = hi - 1e-12 * (hi - lo);
            double wgt = (j == 0 || j == n ? 1 : (j % 2 ? 4 : 2)) * h / 3;
            double f = ref_density(r, e, mu, x) * wgt, d = x - ec;
            for (int k = 0; k < 5; k++, f *= d) mom[k] += f;
        }
    }
}

/* E' where p_z(E') = p (bisection on the definition; p_z grows with E'). */
static double e1_at_pz(double e, double mu, double p)
{
    double lo = 1e-9 * e, hi = e;
    for (int k = 0; k < 200; k++) {
        double m = 0.5 * (lo + hi);
        if (pz_def(e, m, mu) < p) lo = m; else hi = m;
    }
    return 0.5 * (lo + hi);
}

/* chi-square critical value at upper-tail probability 0.001 (Wilson–Hilferty
 * 1931 cube-root normal approximation, z = 3.0902) */
static double chi2_crit(int ndf)
{
    double v = 2.0 / (9.0 * ndf);
    return ndf * pow(1 - v + 3.0902 * sqrt(v), 3);
}

#define NB 200
#define NSAMP 1000000

static void check_distribution(const mc_material *m, double e, double theta_deg)
{
    hm_error err;
    mc_doppler *d;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(mc_doppler_build(m, &d, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double build_ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6;
    double mu = cos(theta_deg * MC_PI / 180);
    double ec = e / (1 + e / ME_KEV * (1 - mu));
    double umin = 1e9;
    ref_mat *r = malloc(sizeof *r), *rm = malloc(sizeof *rm);
    assert_non_null(r);
    assert_non_null(rm);
    ref_build(m, r, 0);
    ref_build(m, rm, 1);
    for (int i = 0; i < r->n; i++) if (r->sh[i].u_kev < umin) umin = r->sh[i].u_kev;
    double top = e - umin;                       /* support: [E'(p_z=-100), E - U_min] */
    double bot = e1_at_pz(e, mu, -100);
    double lo = e1_at_pz(e, mu, -8), hi = e1_at_pz(e, mu, 8);
    if (hi > top) hi = top;
    /* bins: NB inside [lo, hi], plus below and above */
    double edges[NB + 1];
    for (int b = 0; b <= NB; b++) edges[b] = lo + (hi - lo) * b / NB;
    double pr[2][NB + 2], tot[2], mom[5], mref[5];
    double hs = (hi - lo) / NB / 8;       /* quadrature step: 1/8 of a bin */
    for (int v = 0; v < 2; v++) {
        const ref_mat *rr = v ? rm : r;
        ref_integrate(rr, e, mu, ec, bot, top, hs, mref);
        tot[v] = mref[0];
        if (v == 0) memcpy(mom, mref, sizeof mom);
        ref_integrate(rr, e, mu, ec, bot, lo, hs, mref);
        pr[v][0] = mref[0] / tot[v];
        ref_integrate(rr, e, mu, ec, hi, top, hs, mref);
        pr[v][NB + 1] = mref[0] / tot[v];
        for (int b = 0; b < NB; b++) {
            ref_integrate(rr, e, mu, ec, edges[b], edges[b + 1], hs, mref);
            pr[v][b + 1] = mref[0] / tot[v];
        }
    }
    double mean_ref = mom[1] / mom[0];
    double var_ref = mom[2] / mom[0] - mean_ref * mean_ref;
    /* fourth central moment, for the standard error of the sample variance */
    double m2 = mom[2] / mom[0], m3 = mom[3] / mom[0], m4 = mom[4] / mom[0];
    double mu4 = m4 - 4 * mean_ref * m3 + 6 * mean_ref * mean_ref * m2 -
                 3 * pow(mean_ref, 4);

    /* sample */
    long *cnt = calloc(NB + 2, sizeof *cnt);
    assert_non_null(cnt);
    rng_state = 20261128;
    double s1 = 0, s2 = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long k = 0; k < NSAMP; k++) {
        double u1 = urand(), u2 = urand(), u3 = urand();
        double e1 = mc_doppler_energy(d, e, mu, u1, u2, u3);
        double x = e1 - ec;
        s1 += x;
        s2 += x * x;
        int b = e1 < lo ? 0 : e1 >= hi ? NB + 1 : 1 + (int)((e1 - lo) / (hi - lo) * NB);
        if (b > NB) b = NB;           /* e1 == hi - ulp rounding */
        if (e1 >= hi) b = NB + 1;
        cnt[b]++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / NSAMP;

    double chi[2];
    int ndf = -1;
    for (int v = 0; v < 2; v++) {
        double c = 0, lump_o = 0, lump_e = 0;
        int nb = 0;
        for (int b = 0; b < NB + 2; b++) {
            double ex = pr[v][b] * NSAMP;
            if (ex < 5) { lump_o += cnt[b]; lump_e += ex; continue; }
            c += (cnt[b] - ex) * (cnt[b] - ex) / ex;
            nb++;
        }
        if (lump_e > 0) { c += (lump_o - lump_e) * (lump_o - lump_e) / lump_e; nb++; }
        chi[v] = c;
        if (v == 0) ndf = nb - 1;
    }
    double crit = chi2_crit(ndf);
    double mean = s1 / NSAMP, var = s2 / NSAMP - mean * mean;
    double se_mean = sqrt(var_ref / NSAMP);
    double se_var = sqrt((mu4 - var_ref * var_ref) / NSAMP);
    print_message("%s %g keV %g deg: %d shells (built in %.1f ms), %.0f ns/call; chi2 %.1f (ndf %d, p=0.001 "
                  "crit %.1f), mutant chi2 %.0f; mean E'-E_C %.5f keV (ref %.5f +- %.5f), "
                  "rms %.5f (ref %.5f)\n",
                  m->name, e, theta_deg, mc_doppler_nshells(d), build_ms, ns, chi[0], ndf, crit, chi[1],
                  mean, mean_ref, se_mean, sqrt(var + mean * mean),
                  sqrt(var_ref + mean_ref * mean_ref));
    if (!(chi[0] < crit)) fail_msg("chi2 %.1f >= %.1f (ndf %d)", chi[0], crit, ndf);
    if (!(chi[1] > crit)) fail_msg("mutant reference not rejected: chi2 %.1f", chi[1]);
    if (fabs(mean - mean_ref) > 4 * se_mean)
        fail_msg("mean E'-E_C %.6f keV, analytic %.6f (4 sigma %.6f)", mean, mean_ref,
                 4 * se_mean);
    if (fabs(var - var_ref) > 4 * se_var)
        fail_msg("variance %.6f keV2, analytic %.6f (4 sigma %.6f)", var, var_ref, 4 * se_var);
    free(cnt);
    free(r);
    free(rm);
    mc_doppler_free(d);
}

static void test_distribution_water(void **state)
{
    (void)state;
    mc_material m;
    make_water(&m);
    check_distribution(&m, 30, 150);
    check_distribution(&m, 60, 90);
    /* near the O K edge most K-shell draws fall beyond p_z,max: exercises
     * the exact fallback draw */
    check_distribution(&m, 5, 30);
}

static void test_distribution_bone(void **state)
{
    (void)state;
    mc_material m;
    make_bone(&m);
    check_distribution(&m, 30, 150);
    check_distribution(&m, 60, 90);
}

/* lead, just above its K edge (88.0 keV): 23 shells, K profile cut by
 * xraylib at 100 a.u. (renormalised on both sides) */
static void test_distribution_lead(void **state)
{
    (void)state;
    mc_material m;
    hm_error err;
    int z = 82;
    double w = 1;
    assert_int_equal(mc_material_set(&m, "lead", 11.35, 1, &z, &w, &err), 0);
    check_distribution(&m, 100, 120);
}

/* ---- 4. bounds ---- */
static void test_bounds(void **state)
{
    (void)state;
    static const double U_EDGE[] = { 0.0, 1e-12, 1e-6, 0.5, 1 - 1e-9, 1 - 1e-16 };
    mc_material mats[3];
    make_water(&mats[0]);
    make_bone(&mats[1]);
    hm_error err;
    int zpb = 82;
    double wpb = 1;
    assert_int_equal(mc_material_set(&mats[2], "lead", 11.35, 1, &zpb, &wpb, &err), 0);
    rng_state = 5;
    for (int k = 0; k < 3; k++) {
        mc_doppler *d;
        assert_int_equal(mc_doppler_build(&mats[k], &d, &err), 0);
        for (double e = 1; e <= 150; e += 0.25) {
            for (int j = 0; j < 40; j++) {
                double mu = j == 0 ? 1.0 : j == 1 ? -1.0 : -1 + 2 * urand();
                double u1 = j < 6 ? U_EDGE[j] : urand();
                double u2 = j < 6 ? U_EDGE[5 - j] : j < 12 ? U_EDGE[j - 6] : urand();
                double u3 = j < 12 ? U_EDGE[j % 6] : urand();
                double ub;
                double e1 = mc_doppler_energy_shell(d, e, mu, u1, u2, u3, &ub);
                if (!(e1 > 0) || !(e1 <= e - ub) || !isfinite(e1))
                    fail_msg("%s E=%g mu=%g u=(%g,%g,%g): E'=%.9g, shell U=%g keV",
                             mats[k].name, e, mu, u1, u2, u3, e1, ub);
                if (e < 88.0 && k == 2 && ub > 88.0 - 1e-3)
                    fail_msg("lead K shell chosen below its edge at %g keV", e);
            }
            /* forward scattering transfers nothing */
            assert_true(mc_doppler_energy(d, e, 1.0, 0.3, 0.7, 0.5) == e);
        }
        mc_doppler_free(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_units),
        cmocka_unit_test(test_kinematics),
        cmocka_unit_test(test_distribution_water),
        cmocka_unit_test(test_distribution_bone),
        cmocka_unit_test(test_distribution_lead),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
