/*
 * test_mc_rng — the transport's random numbers (mc_rng.h): xoshiro256+
 * against values computed independently (a Python transcription of Blackman
 * & Vigna's reference code, state {1, 2, 3, 4}), the per-history keying,
 * uniforms in (0, 1), and the ziggurat exponential against Exp(1): mean,
 * variance, 64 equal-probability bins (chi-square), the tail beyond the
 * ziggurat's base layer and Kolmogorov-Smirnov.
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

#include "mc_rng.h"

static void test_xoshiro_reference(void **state)
{
    (void)state;
    static const uint64_t want[6] = { 0x5ull, 0xc00000000007ull, 0xc00018000007ull, 0x8001600018040302ull,
                                      0x8061900024040305ull, 0xc0617014120f0583ull };
    mc_rng r = { { 1, 2, 3, 4 } };
    for (int i = 0; i < 6; i++) assert_true(mc_rng_next(&r) == want[i]);
}

static void test_keying(void **state)
{
    (void)state;
    mc_rng a, b, c, d;
    mc_rng_init(&a, 42, 1000, 0);
    mc_rng_init(&b, 42, 1000, 0);
    mc_rng_init(&c, 42, 1001, 0);
    mc_rng_init(&d, 42, 1000, 1);
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = mc_rng_next(&a);
        assert_true(x == mc_rng_next(&b));      /* the same key: the same stream */
        same_c += x == mc_rng_next(&c);
        same_d += x == mc_rng_next(&d);
    }
    assert_int_equal(same_c, 0);                /* the next history: another stream */
    assert_int_equal(same_d, 0);                /* another stream number: another */
    mc_rng e;
    mc_rng_init(&e, 43, 1000, 0);
    mc_rng_init(&a, 42, 1000, 0);
    assert_true(mc_rng_next(&e) != mc_rng_next(&a));   /* another seed */
}

static void test_uniform(void **state)
{
    (void)state;
    mc_rng r;
    mc_rng_init(&r, 1, 0, 0);
    const long n = 1000000;
    double s = 0, s2 = 0;
    for (long i = 0; i < n; i++) {
        double u = mc_rng_u(&r);
        assert_true(u > 0 && u < 1);
        s += u;
        s2 += u * u;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    printf("uniform: mean %.5f (0.5), variance %.5f (%.5f)\n", mean, var, 1.0 / 12);
    assert_true(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / n));
    assert_true(fabs(var - 1.0 / 12) < 0.002);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_exponential(void **state)
{
    (void)state;
    mc_rng_tables_init();
    const long n = 2000000;
    enum { NB = 64 };
    double *x = malloc((size_t)n * sizeof *x);
    assert_non_null(x);
    mc_rng r;
    mc_rng_init(&r, 7, 3, 0);
    double s = 0, s2 = 0, bins[NB] = { 0 };
    long tail = 0, far = 0;
    for (long i = 0; i < n; i++) {
        double v = mc_rng_exp(&r);
        assert_true(v >= 0 && isfinite(v));
        x[i] = v;
        s += v;
        s2 += v * v;
        /* equal-probability bins: F(v) = 1 - exp(-v) */
        int b = (int)((1.0 - exp(-v)) * NB);
        bins[b < NB ? b : NB - 1] += 1;
        tail += v > 7.697117470131487;   /* beyond the base layer's rectangle */
        far += v > 10.0;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    double chi2 = 0, e = (double)n / NB;
    for (int b = 0; b < NB; b++) chi2 += (bins[b] - e) * (bins[b] - e) / e;
    double pt = exp(-7.697117470131487), pf = exp(-10.0);
    double zt = (tail - n * pt) / sqrt(n * pt), zf = (far - n * pf) / sqrt(n * pf);
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    double ks = 0;
    for (long i = 0; i < n; i++) {
        double f = 1.0 - exp(-x[i]);
        double d1 = fabs(f - (double)i / n), d2 = fabs(f - (double)(i + 1) / n);
        if (d1 > ks) ks = d1;
        if (d2 > ks) ks = d2;
    }
    free(x);
    printf("exponential: mean %.5f, variance %.5f, chi2 %.1f (63 df), tail z %.2f, beyond 10 z %.2f, "
           "KS sqrt(n) D %.3f\n", mean, var, chi2, zt, zf, sqrt((double)n) * ks);
    assert_true(fabs(mean - 1.0) < 5 / sqrt((double)n));
    assert_true(fabs(var - 1.0) < 0.01);
    assert_true(chi2 < 110);        /* 63 degrees of freedom: p ~ 2e-4 */
    assert_true(fabs(zt) < 5);
    assert_true(fabs(zf) < 5);
    assert_true(sqrt((double)n) * ks < 1.95);   /* Kolmogorov: p ~ 0.001 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xoshiro_reference),
        cmocka_unit_test(test_keying),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_exponential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
