/*
 * test_dvh.c — rasterisation and dose-volume metrics against closed forms
 * computed here: a sphere in a uniform dose, a box with edges off the voxel
 * lattice, a ring with a hole (even-odd), a linear dose gradient along x
 * (mean and D_x% of a uniform distribution of x), a Gaussian radial dose
 * exp(-r^2/2s^2) in a sphere (V(D) = (r(D)/R)^3), contours between dose
 * planes, flipped orientations, dose at a point and the error paths.
 * Tolerance: 1% of the closed-form value (issue 12, "Done means").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rt_fixture.h"

#define REL(a, b) (fabs((a) - (b)) / fabs(b))

static void assert_rel(double got, double want, double tol, const char *what)
{
    if (!(REL(got, want) <= tol)) {
        print_error("%s: got %.6g, closed form %.6g (rel %.3g > %.3g)\n", what, got, want,
                    REL(got, want), tol);
        fail();
    }
}

static void fill(hm_rt_grid *g, double (*f)(double, double, double))
{
    for (int k = 0; k < g->nz; k++)
        for (int j = 0; j < g->ny; j++)
            for (int i = 0; i < g->nx; i++)
                *fx_at(g, i, j, k) = (float)f(fx_x(g, i), fx_y(g, j), g->z_mm[k]);
}

static double uniform12(double x, double y, double z) { (void)x; (void)y; (void)z; return 12; }

static void test_sphere_uniform(void **state)
{
    (void)state;
    /* 1.5 mm in-plane, 2 mm planes; contours on the planes' mid-points. */
    hm_rt_grid *g = fx_grid(50, 50, 40, 1.5, 1.5, 2, -36.75, -36.75, -39);
    fill(g, uniform12);
    const double R = 25;
    hm_rt_roi *roi = fx_sphere("Sphere", 0.4, -0.3, 0, R, -39, 2, 128);
    hm_rt_dvh d;
    hm_error err;
    assert_int_equal(hm_rt_dvh_compute(g, roi, NULL, &d, &err), 0);
    double v = 4.0 / 3 * FX_PI * R * R * R / 1000;
    assert_rel(d.volume_cc, v, 0.01, "sphere volume");
    assert_rel(d.mean_gy, 12, 1e-6, "mean");
    assert_rel(d.min_gy, 12, 1e-6, "min");
    assert_rel(d.max_gy, 12, 1e-6, "max");
    assert_rel(d.d2_gy, 12, 1e-6, "D2");
    assert_rel(d.d98_gy, 12, 1e-6, "D98");
    assert_rel(d.d0_03cc_gy, 12, 1e-6, "D0.03cc");
    assert_rel(d.vx_pct[0], 100, 1e-9, "V5Gy");
    assert_rel(d.vx_pct[1], 100, 1e-9, "V10Gy");
    assert_true(d.vx_pct[2] == 0 && d.vx_pct[3] == 0);
    assert_rel(d.vx_cc[1], d.volume_cc, 1e-9, "V10Gy cc");
    assert_false(d.outside_grid);
    /* Cumulative DVH: all of it up to 12 Gy, nothing beyond. */
    assert_rel(d.cum_cc[0], d.volume_cc, 1e-12, "DVH(0)");
    assert_rel(d.cum_cc[1199], d.volume_cc, 1e-9, "DVH(11.99)");
    assert_true(d.cum_cc[1201] == 0);
    hm_rt_dvh_free(&d);

    /* Contours every 2.5 mm, off the planes, on a grid of unequal plane
     * spacing (2 and 3 mm alternating): volume still within 1%. */
    hm_rt_roi_free(roi);
    roi = fx_sphere("Sphere", 0, 0, 0.3, R, -40.55, 2.5, 128);
    for (int k = 0; k < g->nz; k++)
        g->z_mm[k] = -45 + 2.5 * k + (k % 2 ? 0.5 : 0);
    fill(g, uniform12);
    assert_int_equal(hm_rt_dvh_compute(g, roi, NULL, &d, &err), 0);
    assert_rel(d.volume_cc, v, 0.01, "sphere volume, contours between planes");
    hm_rt_dvh_free(&d);
    hm_rt_roi_free(roi);
    hm_rt_grid_free(g);
}

static void test_box(void **state)
{
    (void)state;
    hm_rt_grid *g = fx_grid(40, 40, 15, 1.2, 1.3, 2, -20, -20, -14);
    fill(g, uniform12);
    hm_rt_roi *roi = hm_rt_roi_create("Box", 2);
    /* Edges off the lattice; slices -9 .. 9 every 2 mm: slab -10 .. 10. */
    for (double z = -9; z <= 9.01; z += 2)
        assert_int_equal(fx_rect(roi, -13.3, -8.2, 17.9, 21.4, z), 0);
    hm_rt_dvh d;
    assert_int_equal(hm_rt_dvh_compute(g, roi, NULL, &d, NULL), 0);
    assert_rel(d.volume_cc, 31.2 * 29.6 * 20 / 1000, 0.01, "box volume");
    printf("box: %.5f cc, closed form %.5f cc\n", d.volume_cc, 31.2 * 29.6 * 20 / 1000);
    hm_rt_dvh_free(&d);
    hm_rt_roi_free(roi);
    hm_rt_grid_free(g);
}

static double hole_dose(double x, double y, double z)
{
    (void)z;
    return x * x + y * y < 14 * 14 ? 50 : 10;
}

static void test_ring(void **state)
{
    (void)state;
    hm_rt_grid *g = fx_grid(80, 80, 25, 1, 1, 2, -39.5, -39.5, -24);
    fill(g, hole_dose);
    const double R1 = 30, R2 = 15;
    for (int reverse = 0; reverse < 2; reverse++) {
        hm_rt_roi *roi = hm_rt_roi_create("Ring", 3);
        for (double z = -19; z <= 19.01; z += 2) {
            /* Inner first on odd slices: order must not matter; the hole's
             * orientation must not matter either (even-odd, not winding). */
            if ((int)floor(z) % 4 == 1) {
                fx_circle(roi, 0, 0, R2, z, 96, reverse);
                fx_circle(roi, 0, 0, R1, z, 160, 0);
            } else {
                fx_circle(roi, 0, 0, R1, z, 160, 0);
                fx_circle(roi, 0, 0, R2, z, 96, reverse);
            }
        }
        hm_rt_dvh d;
        assert_int_equal(hm_rt_dvh_compute(g, roi, NULL, &d, NULL), 0);
        assert_rel(d.volume_cc, FX_PI * (R1 * R1 - R2 * R2) * 40 / 1000, 0.01, "ring volume");
        /* The 50 Gy core lies wholly in the hole. */
        assert_rel(d.max_gy, 10, 1e-9, "ring max (hole excluded)");
        hm_rt_dvh_free(&d);
        hm_rt_roi_free(roi);
    }
    hm_rt_grid_free(g);
}

/* Dose a + b x: over a box x1..x2 the dose is uniform in [a+b x1, a+b x2]. */
static const double GA = 20, GB = 0.1;
static double gradient(double x, double y, double z) { (void)y; (void)z; return GA + GB * x; }

static void test_gradient(void **state)
{
    (void)state;
    hm_rt_grid *g = fx_grid(90, 60, 20, 1, 1, 2, -44.5, -29.5, -19);
    fill(g, gradient);
    const double x1 = -30.3, x2 = 29.6, L = x2 - x1;
    hm_rt_roi *roi = hm_rt_roi_create("Box", 4);
    for (double z = -15; z <= 15.01; z += 2)
        fx_rect(roi, x1, -10.2, x2, 12.7, z);
    for (int interp = 0; interp < 2; interp++) {
        hm_rt_dvh_options o = { 0 };
        o.interp = interp;
        hm_rt_dvh d;
        assert_int_equal(hm_rt_dvh_compute(g, roi, &o, &d, NULL), 0);
        const char *m = interp ? "trilinear" : "nearest";
        printf("gradient %s: mean %.4f D50 %.4f D2 %.4f D98 %.4f V20 %.3f%%\n", m, d.mean_gy,
               d.d50_gy, d.d2_gy, d.d98_gy, d.vx_pct[2]);
        assert_rel(d.mean_gy, GA + GB * (x1 + x2) / 2, 0.01, "gradient mean");
        assert_rel(d.d50_gy, GA + GB * (x1 + x2) / 2, 0.01, "gradient D50");
        assert_rel(d.d2_gy, GA + GB * (x2 - 0.02 * L), 0.01, "gradient D2");
        assert_rel(d.d98_gy, GA + GB * (x1 + 0.02 * L), 0.01, "gradient D98");
        /* V20Gy: the part with x >= 0. */
        assert_rel(d.vx_pct[2], 100 * x2 / L, 0.01, "gradient V20Gy");
        assert_rel(d.vx_pct[1], 100, 1e-9, "gradient V10Gy");
        /* The cumulative DVH at 20 Gy agrees with the exact V20Gy. */
        assert_rel(d.cum_cc[2000], d.vx_cc[2], 0.01, "DVH(20 Gy)");
        if (interp) {   /* samples resolve the continuous distribution: tighter */
            assert_rel(d.d2_gy, GA + GB * (x2 - 0.02 * L), 0.002, "trilinear D2");
            assert_rel(d.min_gy, GA + GB * x1, 0.002, "trilinear min");
        }
        hm_rt_dvh_free(&d);
    }
    hm_rt_roi_free(roi);
    hm_rt_grid_free(g);
}

/* 40 Gy exp(-r^2 / 2 s^2), s = 20 mm, in a sphere R = 30 mm. */
static const double D0 = 40, SG = 20, RS = 30;
static double gauss(double x, double y, double z)
{
    return D0 * exp(-(x * x + y * y + z * z) / (2 * SG * SG));
}
static double gauss_vpct(double dose)    /* % of the sphere receiving >= dose */
{
    double r = SG * sqrt(-2 * log(dose / D0));
    return r >= RS ? 100 : 100 * pow(r / RS, 3);
}
static double gauss_dpct(double pct)     /* D_x%: at the radius holding x % */
{
    double r = RS * cbrt(pct / 100);
    return D0 * exp(-r * r / (2 * SG * SG));
}

static void test_gauss(void **state)
{
    (void)state;
    hm_rt_grid *g = fx_grid(70, 70, 70, 1, 1, 1, -34.5, -34.5, -34.5);
    fill(g, gauss);
    hm_rt_roi *roi = fx_sphere("Sphere", 0, 0, 0, RS, -29.5, 1, 160);
    /* Mean: 3/R^3 int_0^R D0 e^{-r^2/2s^2} r^2 dr
     *     = 3 D0 s^3 / R^3 [sqrt(pi/2) erf(R/(s sqrt2)) - (R/s) e^{-R^2/2s^2}]. */
    double mean = 3 * D0 * pow(SG / RS, 3) *
                  (sqrt(FX_PI / 2) * erf(RS / (SG * sqrt(2))) - RS / SG * exp(-RS * RS / (2 * SG * SG)));
    double r003 = cbrt(3 * 30 / (4 * FX_PI));   /* radius of 0.03 cc */
    double d003 = D0 * exp(-r003 * r003 / (2 * SG * SG));
    for (int interp = 0; interp < 2; interp++) {
        hm_rt_dvh_options o = { 0 };
        o.interp = interp;
        hm_rt_dvh d;
        assert_int_equal(hm_rt_dvh_compute(g, roi, &o, &d, NULL), 0);
        printf("gauss %s: mean %.4f/%.4f D2 %.4f/%.4f D50 %.4f/%.4f D98 %.4f/%.4f "
               "V20 %.3f/%.3f V30 %.3f/%.3f D0.03cc %.4f/%.4f\n", interp ? "trilinear" : "nearest",
               d.mean_gy, mean, d.d2_gy, gauss_dpct(2), d.d50_gy, gauss_dpct(50), d.d98_gy,
               gauss_dpct(98), d.vx_pct[2], gauss_vpct(20), d.vx_pct[3], gauss_vpct(30),
               d.d0_03cc_gy, d003);
        assert_rel(d.volume_cc, 4.0 / 3 * FX_PI * RS * RS * RS / 1000, 0.01, "gauss volume");
        assert_rel(d.mean_gy, mean, 0.01, "gauss mean");
        assert_rel(d.d2_gy, gauss_dpct(2), 0.01, "gauss D2");
        assert_rel(d.d50_gy, gauss_dpct(50), 0.01, "gauss D50");
        assert_rel(d.d98_gy, gauss_dpct(98), 0.01, "gauss D98");
        assert_rel(d.d0_03cc_gy, d003, 0.01, "gauss D0.03cc");
        assert_rel(d.vx_pct[0], 100, 1e-9, "gauss V5Gy");
        assert_rel(d.vx_pct[1], gauss_vpct(10), 0.01, "gauss V10Gy");
        assert_rel(d.vx_pct[2], gauss_vpct(20), 0.01, "gauss V20Gy");
        assert_rel(d.vx_pct[3], gauss_vpct(30), 0.01, "gauss V30Gy");
        /* Any D_x from the fine histogram. */
        assert_rel(hm_rt_dvh_d_pct(&d, 20), gauss_dpct(20), 0.01, "gauss D20");
        hm_rt_dvh_free(&d);
    }
    hm_rt_roi_free(roi);
    hm_rt_grid_free(g);
}

/* The default sub-sampling: sphere volume error by s on a coarse grid
 * (2.5 mm voxels, R = 8 mm), printed for docs/rt.md; the default must be
 * within 0.5% and no worse than s = 1 by much less than s = 1's error. */
static void test_subsample_accuracy(void **state)
{
    (void)state;
    hm_rt_grid *g = fx_grid(12, 12, 12, 2.5, 2.5, 2.5, -13.75, -13.75, -13.75);
    fill(g, uniform12);
    const double R = 8;
    double v = 4.0 / 3 * FX_PI * R * R * R / 1000, err_default = 1;
    double worst[9] = { 0 };
    for (int s = 1; s <= 8; s++) {
        /* Worst over a few sub-voxel shifts of the centre. */
        for (int shift = 0; shift < 5; shift++) {
            double c = shift * 0.37;
            hm_rt_roi *roi = fx_sphere("S", c, -c / 2, 0, R, -12.5, 2.5, 128);
            hm_rt_dvh_options o = { 0 };
            o.subsample = s;
            hm_rt_dvh d;
            assert_int_equal(hm_rt_dvh_compute(g, roi, &o, &d, NULL), 0);
            /* Against the slab model's own volume (sum of pi r_c^2 dz), so
             * only the in-plane sampling error is measured. */
            double vm = 0;
            for (int c2 = 0; c2 < roi->ncontours; c2++) {
                double h = roi->contours[c2].z_mm;
                vm += FX_PI * (R * R - h * h) * 2.5 / 1000;
            }
            double e = REL(d.volume_cc, vm);
            if (e > worst[s])
                worst[s] = e;
            hm_rt_dvh_free(&d);
            hm_rt_roi_free(roi);
        }
        printf("subsample %d: worst in-plane volume error %.4f%% (sphere R 8 mm, 2.5 mm voxels)\n",
               s, 100 * worst[s]);
        if (s == HM_RT_SUBSAMPLE_DEFAULT)
            err_default = worst[s];
    }
    (void)v;
    assert_true(err_default < 0.005);
    assert_true(err_default < worst[1]);
    hm_rt_grid_free(g);
}

static void test_orientation(void **state)
{
    (void)state;
    /* The same voxels listed with flipped rows and columns: same DVH. */
    hm_rt_grid *a = fx_grid(40, 40, 20, 1, 1, 2, -19.5, -19.5, -19);
    hm_rt_grid *b = fx_grid(40, 40, 20, 1, 1, 2, 19.5, 19.5, -19);
    b->row_cos[0] = -1;
    b->col_cos[1] = -1;
    fill(a, gauss);
    fill(b, gauss);
    hm_rt_roi *roi = fx_sphere("S", 1.3, -2.1, 0.4, 14, -19, 2, 90);
    hm_rt_dvh da, db;
    assert_int_equal(hm_rt_dvh_compute(a, roi, NULL, &da, NULL), 0);
    assert_int_equal(hm_rt_dvh_compute(b, roi, NULL, &db, NULL), 0);
    assert_rel(db.volume_cc, da.volume_cc, 1e-6, "flipped volume");
    assert_rel(db.mean_gy, da.mean_gy, 1e-6, "flipped mean");
    hm_rt_dvh_free(&da);
    hm_rt_dvh_free(&db);
    /* Offsets along the normal row x col = (0,0,1) for (-1,0,0) x (0,-1,0). */
    double off[20];
    for (int k = 0; k < 20; k++)
        off[k] = 2 * k;
    hm_rt_grid_set_offsets(b, off);
    assert_true(fabs(b->z_mm[3] - (-19 + 6)) < 1e-12);
    b->col_cos[1] = 1;   /* (-1,0,0) x (0,1,0) = (0,0,-1): planes descend */
    hm_rt_grid_set_offsets(b, off);
    assert_true(fabs(b->z_mm[3] - (-19 - 6)) < 1e-12);
    assert_int_equal(hm_rt_grid_check(b, NULL), 0);

    /* Oblique: refused, naming the element. */
    hm_error err;
    a->row_cos[0] = cos(0.2);
    a->row_cos[1] = sin(0.2);
    assert_int_equal(hm_rt_dvh_compute(a, roi, NULL, &da, &err), HM_EUNSUPPORTED);
    assert_string_equal(err.field, "ImageOrientationPatient");
    a->row_cos[0] = 1;
    a->row_cos[1] = 0;
    a->z_mm[5] = a->z_mm[4];
    assert_int_equal(hm_rt_grid_check(a, &err), HM_EVALIDATE);
    assert_string_equal(err.field, "GridFrameOffsetVector");
    hm_rt_roi_free(roi);
    hm_rt_grid_free(a);
    hm_rt_grid_free(b);
}

static void test_dose_at(void **state)
{
    (void)state;
    hm_rt_grid *g = fx_grid(30, 20, 10, 2, 2, 3, -29, -19, -13.5);
    fill(g, gradient);
    int in;
    double p[3] = { 3.3, 1.1, 0.2 };
    /* Trilinear reproduces a linear field exactly; nearest gives the voxel's. */
    assert_true(fabs(hm_rt_grid_dose_at(g, p, HM_RT_TRILINEAR, &in) - (GA + GB * 3.3)) < 1e-5);
    assert_int_equal(in, 1);
    assert_true(fabs(hm_rt_grid_dose_at(g, p, HM_RT_NEAREST, &in) - (GA + GB * 3.0)) < 1e-5);
    double q[3] = { 40, 0, 0 };
    assert_true(hm_rt_grid_dose_at(g, q, HM_RT_TRILINEAR, &in) == 0);
    assert_int_equal(in, 0);
    hm_rt_grid_free(g);
}

static void test_errors(void **state)
{
    (void)state;
    hm_rt_grid *g = fx_grid(10, 10, 10, 1, 1, 1, 0, 0, 0);
    hm_error err;
    hm_rt_dvh d;
    hm_rt_roi *roi = hm_rt_roi_create("Empty", 7);
    assert_int_equal(hm_rt_dvh_compute(g, roi, NULL, &d, &err), HM_EVALIDATE);
    assert_non_null(strstr(err.msg, "Empty"));
    double two[4] = { 0, 0, 1, 1 };
    assert_int_equal(hm_rt_roi_add_contour(roi, 0, two, 2, &err), HM_EVALIDATE);
    double tilted[9] = { 0, 0, 0, 5, 0, 0, 5, 5, 1 };
    assert_int_equal(hm_rt_roi_add_contour_xyz(roi, tilted, 3, &err), HM_EUNSUPPORTED);
    /* Far outside the grid. */
    fx_rect(roi, 100, 100, 110, 110, 5);
    assert_int_equal(hm_rt_dvh_compute(g, roi, NULL, &d, &err), HM_EVALIDATE);
    assert_non_null(strstr(err.msg, "outside"));
    /* Partly outside: computed, flagged. */
    fx_rect(roi, 5.2, 5.2, 20, 20, 6);
    assert_int_equal(hm_rt_dvh_compute(g, roi, NULL, &d, &err), 0);
    assert_true(d.outside_grid);
    hm_rt_dvh_free(&d);
    hm_rt_dvh_options o = { 0 };
    o.subsample = 100;
    assert_int_equal(hm_rt_dvh_compute(g, roi, &o, &d, &err), HM_EINVAL);
    hm_rt_roi_free(roi);
    hm_rt_grid_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sphere_uniform),
        cmocka_unit_test(test_box),
        cmocka_unit_test(test_ring),
        cmocka_unit_test(test_gradient),
        cmocka_unit_test(test_gauss),
        cmocka_unit_test(test_subsample_accuracy),
        cmocka_unit_test(test_orientation),
        cmocka_unit_test(test_dose_at),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
