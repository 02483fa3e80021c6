/*
 * test_library.c — conversion-coefficient libraries without long runs
 * (sanitizer build):
 *  - the default grid file and the beam <-> axis coordinates (the inverse
 *    of the C-arm direction of hm_dosimetry_event_beam);
 *  - on a synthetic library whose node values are a known multilinear
 *    function: exact at nodes, linear between nodes, sigma propagated as
 *    sqrt(sum w^2 sigma^2), clamping flagged per axis, the periodic primary
 *    axis closing the circle, phantom fall-back;
 *  - the curvature correction: exact for quadratics along each axis (in
 *    ln(1 + Cu/0.1 mm) for copper), its size the sigma's interpolation term;
 *  - the cross-validation term (library_loo.c): computed here on the
 *    disagreement test's axis; on synthetic libraries, structure finer than
 *    the nodes recovered and kept at the lookup's spacing, a smooth dose
 *    scaled down, the nodes' noise taken out;
 *  - write/load round trip, and damaged files rejected with file, line and
 *    field;
 *  - a tiny real build: each node equals a direct run with the node's seed,
 *    the file does not depend on threads, an interrupted build resumes to the
 *    same file;
 *  - body-size phantoms (AGE:SEX:SCALE): names, seeds, format 2 round trip,
 *    lookups between scales exact for doses exponential in the scale,
 *    clamping flags, reference sizes; the parser's corpus files load.
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

#define TMP HM_TEST_TMPDIR

static void fail_err(int rc, const hm_error *err)
{
    if (rc) {
        char buf[1024];
        hm_error_format(err, buf, sizeof buf);
        fprintf(stderr, "error %d: %s\n", rc, buf);
    }
    assert_int_equal(rc, 0);
}

/* ---- grid and coordinates ---------------------------------------------------- */

static void test_default_grid(void **state)
{
    (void)state;
    hm_dose_grid g;
    hm_dose_library_params p;
    hm_error err;
    fail_err(hm_dose_grid_default(&g, &p, &err), &err);
    assert_int_equal(g.nphantoms, 8);
    assert_string_equal(g.phantoms[0].age, "newborn");
    assert_int_equal(g.phantoms[7].sex, 'F');
    assert_int_equal(hm_dose_grid_nodes(&g), 3 * 4 * 14 * 5 * 6);
    assert_int_equal(p.histories_per_node, 100000);
    assert_true(p.voxel_mm == 4);
    assert_true(g.primary_periodic);
    char path[1024];
    setenv("HARMONIC_CACHE", TMP "/cache", 1);
    fail_err(hm_dose_library_default_path(path, sizeof path, &err), &err);
    assert_non_null(strstr(path, TMP "/cache/dose_library_"));
    /* Not built: ensure_default without threads says how to build it. */
    assert_int_equal(hm_dose_library_ensure_default(0, NULL, NULL, path, sizeof path, &err), HM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "dose table"));
}

static void test_bad_grid_files(void **state)
{
    (void)state;
    struct { const char *text; long line; const char *field; } cases[] = {
        { "key,values\nphantoms,5y:H\nkvp_kv,80 60\n", 3, "kvp_kv" },              /* not increasing */
        { "key,values\nphantoms,5y:X\n", 2, "phantoms" },
        { "key,values\nphantoms,5y:H\nfilter_cu_mm,0 abc\n", 3, "filter_cu_mm" },
        { "key,values\nphantoms,5y:H\nwobble,1\n", 3, "wobble" },
        { "key,values\nphantoms,5y:H\nkvp_kv,70\n", 0, "filter_al_mm" },          /* axis missing */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = TMP "/grid_bad.csv";
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(cases[i].text, fp);
        if (i == 0)
            fputs("filter_al_mm,3\nfilter_cu_mm,0\nprimary_deg,0\nsecondary_deg,0\nfield_cm,5\noffset_cm,0\n", fp);
        fclose(fp);
        hm_dose_grid g;
        hm_error err;
        hm_error_clear(&err);
        assert_true(hm_dose_grid_read(path, &g, NULL, &err) < 0);
        fprintf(stderr, "grid case %zu: %s:%ld:%s: %s\n", i, err.file, err.line, err.field, err.msg);
        assert_string_equal(err.file, path);
        assert_string_equal(err.field, cases[i].field);
        if (cases[i].line)
            assert_int_equal(err.line, cases[i].line);
    }
}

static void test_coords(void **state)
{
    (void)state;
    hm_error err;
    hm_dose_grid g;
    memset(&g, 0, sizeof g);
    g.nphantoms = 1;
    snprintf(g.phantoms[0].age, sizeof g.phantoms[0].age, "5y");
    g.phantoms[0].sex = 'H';
    double pts[HM_DOSE_NAXES][3] = { { 60, 80, 100 }, { 3.5 }, { 0, 0.2 }, { -90, 30, 135 }, { -30, 20 },
                                     { 5, 12 }, { -2, 0, 3 } };
    size_t n[HM_DOSE_NAXES] = { 3, 1, 2, 3, 2, 2, 3 };
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        g.n[a] = n[a];
        memcpy(g.v[a], pts[a], sizeof pts[a]);
    }
    g.primary_periodic = 1;
    g.source_isocentre_cm = 75;
    g.anode_angle_deg = 12;
    fail_err(hm_dose_grid_check(&g, &err), &err);
    size_t nodes = hm_dose_grid_nodes(&g);
    assert_int_equal(nodes, 3 * 2 * 3 * 2 * 2 * 3);
    for (size_t k = 0; k < nodes; k++) {
        double x[HM_DOSE_NAXES], y[HM_DOSE_NAXES];
        hm_dosimetry_beam b;
        assert_int_equal(hm_dose_grid_node_coords(&g, k, x), 0);
        fail_err(hm_dose_grid_node_beam(&g, k, &b, &err), &err);
        fail_err(hm_dose_beam_coords(&b, y, &err), &err);
        for (int a = 0; a < HM_DOSE_NAXES; a++)
            assert_true(fabs(x[a] - y[a]) < 1e-9);
    }
    /* The last axis varies fastest. */
    double x1[HM_DOSE_NAXES];
    hm_dose_grid_node_coords(&g, 1, x1);
    assert_true(x1[HM_DOSE_AXIS_OFFSET] == 0 && x1[HM_DOSE_AXIS_KVP] == 60);

    /* An RDSR event: LAO 30 / CRA 20, head first supine -> (30, 20); feet
     * first supine turns the beam in the patient: LAO in the device is the
     * patient's right, cranial the patient's feet -> (-30, -20). */
    hm_dosimetry_device dev;
    fail_err(hm_dosimetry_device_default(&dev, &err), &err);
    hm_dosimetry_event e;
    hm_dosimetry_event_init(&e);
    e.kvp = 75;
    e.primary_angle_deg = 30;
    e.secondary_angle_deg = 20;
    e.filter_cu_mm = 0.2;
    e.field_width_mm = 200;
    e.field_height_mm = 100;
    hm_dosimetry_beam b;
    double x[HM_DOSE_NAXES];
    fail_err(hm_dosimetry_event_beam(&e, NULL, &dev, HM_ALIGN_HEART, NULL, &b, NULL, &err), &err);
    fail_err(hm_dose_beam_coords(&b, x, &err), &err);
    assert_true(fabs(x[HM_DOSE_AXIS_PRIMARY] - 30) < 1e-9 && fabs(x[HM_DOSE_AXIS_SECONDARY] - 20) < 1e-9);
    assert_true(fabs(x[HM_DOSE_AXIS_AL] - 2.5) < 1e-12 && fabs(x[HM_DOSE_AXIS_CU] - 0.2) < 1e-12);
    /* 200 x 100 mm at the receptor, scaled by 750/1000: 15 x 7.5 cm -> side sqrt(112.5). */
    assert_true(fabs(x[HM_DOSE_AXIS_FIELD] - sqrt(15 * 7.5)) < 1e-9);
    e.table_relationship = "feet first";
    fail_err(hm_dosimetry_event_beam(&e, NULL, &dev, HM_ALIGN_HEART, NULL, &b, NULL, &err), &err);
    fail_err(hm_dose_beam_coords(&b, x, &err), &err);
    assert_true(fabs(x[HM_DOSE_AXIS_PRIMARY] + 30) < 1e-9 && fabs(x[HM_DOSE_AXIS_SECONDARY] + 20) < 1e-9);
    /* Projection beams: PA = receptor anterior = 0; AP = 180; LLAT (source on
     * the left, receptor on the right) = RAO 90. */
    const char *proj[] = { "PA", "AP", "LLAT", "RLAT" };
    double want[] = { 0, 180, -90, 90 };
    for (int i = 0; i < 4; i++) {
        hm_dosimetry_beam_default(&b);
        b.projection = proj[i];
        fail_err(hm_dose_beam_coords(&b, x, &err), &err);
        assert_true(fabs(fabs(x[HM_DOSE_AXIS_PRIMARY]) - fabs(want[i])) < 1e-9);
        if (want[i] != 180)
            assert_true(fabs(x[HM_DOSE_AXIS_PRIMARY] - want[i]) < 1e-9);
    }
}

/* ---- a synthetic library ----------------------------------------------------- */

/* f = (1 + kvp/100)(1 + 2 ln(1 + cu/0.1))(2 + sin(primary))(1 + field/10)(1 + secondary/100):
 * interpolation reproduces it exactly only at nodes; along kvp, field,
 * secondary, and ln(1 + cu/0.1) (copper's interpolation coordinate) it is linear,
 * and these axes have two points (no curvature correction), so
 * interpolation is exact there. */
static double fsyn(const double x[HM_DOSE_NAXES], int organ)
{
    return (organ + 1) * (1 + x[0] / 100) * (1 + 2 * log1p(x[2] / 0.1)) * (2 + sin(x[3] * 3.14159265358979 / 180)) *
           (1 + x[5] / 10) * (1 + x[4] / 100);
}

static hm_dose_grid syn_grid(void)
{
    hm_dose_grid g;
    memset(&g, 0, sizeof g);
    g.nphantoms = 2;
    snprintf(g.phantoms[0].age, sizeof g.phantoms[0].age, "5y");
    g.phantoms[0].sex = 'H';
    snprintf(g.phantoms[1].age, sizeof g.phantoms[1].age, "adult");
    g.phantoms[1].sex = 'F';
    double pts[HM_DOSE_NAXES][4] = { { 60, 80 }, { 3.5 }, { 0, 0.3 }, { -180, -90, 0, 90 }, { -20, 20 },
                                     { 5, 10 }, { 0 } };
    size_t n[HM_DOSE_NAXES] = { 2, 1, 2, 4, 2, 2, 1 };
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        g.n[a] = n[a];
        memcpy(g.v[a], pts[a], sizeof pts[a]);
    }
    g.primary_periodic = 1;
    g.source_isocentre_cm = 75;
    g.anode_angle_deg = 12;
    return g;
}

static hm_dose_library *syn_library(void)
{
    hm_dose_grid g = syn_grid();
    hm_dose_library_params p;
    hm_dose_library_params_default(&p);
    hm_dose_library *lib;
    hm_error err;
    fail_err(hm_dose_library_create(&g, &p, &lib, &err), &err);
    hm_organ_dose o[2];
    memset(o, 0, sizeof o);
    snprintf(o[0].organ, sizeof o[0].organ, "lung");
    snprintf(o[1].organ, sizeof o[1].organ, "heart");
    o[0].mass_g = 300;
    o[1].mass_g = 120.5;
    o[0].present = o[1].present = 1;
    for (size_t ph = 0; ph < 2; ph++)
        for (size_t k = 0; k < hm_dose_grid_nodes(&g); k++) {
            double x[HM_DOSE_NAXES];
            hm_dose_grid_node_coords(&g, k, x);
            for (int j = 0; j < 2; j++) {
                /* Values that print exactly at %.7g, so the round trip is exact. */
                o[j].dose_mgy_per_gy_cm2 = round(fsyn(x, j) * (ph + 1) * 1e4) / 1e4;
                o[j].sigma_mgy_per_gy_cm2 = 0.01 * (j + 1);
            }
            hm_dosimetry_result r = { .n = 2, .organs = o };
            fail_err(hm_dose_library_set_node(lib, ph, k, &r, &err), &err);
        }
    return lib;
}

static double syn_node(const double x[HM_DOSE_NAXES], int organ)
{
    return round(fsyn(x, organ) * 1e4) / 1e4;
}

static void test_interpolation(void **state)
{
    (void)state;
    hm_dose_library *lib = syn_library();
    hm_error err;
    hm_dosimetry_result r;
    unsigned oog;
    hm_dose_grid g = syn_grid();
    /* Exact at every node, sigma the node's. */
    for (size_t k = 0; k < hm_dose_grid_nodes(&g); k++) {
        double x[HM_DOSE_NAXES];
        hm_dose_grid_node_coords(&g, k, x);
        fail_err(hm_dose_library_lookup_at(lib, 0, x, &r, &oog, &err), &err);
        assert_int_equal(oog, 0);
        assert_int_equal(r.n, 2);
        assert_string_equal(r.organs[1].organ, "heart");
        assert_true(r.organs[1].mass_g == 120.5);
        assert_true(fabs(r.organs[0].dose_mgy_per_gy_cm2 - syn_node(x, 0)) < 1e-12);
        assert_true(fabs(r.organs[1].sigma_mgy_per_gy_cm2 - 0.02) < 1e-12);
        hm_dosimetry_result_free(&r);
    }
    /* Between two nodes along kVp: linear, sigma / sqrt(2) at the midpoint. */
    double lo[HM_DOSE_NAXES] = { 60, 3.5, 0.3, 0, 20, 10, 0 }, x[HM_DOSE_NAXES], hi[HM_DOSE_NAXES];
    memcpy(hi, lo, sizeof hi);
    hi[0] = 80;
    for (double t = 0; t <= 1.0001; t += 0.125) {
        memcpy(x, lo, sizeof x);
        x[0] = 60 + 20 * t;
        fail_err(hm_dose_library_lookup_at(lib, 0, x, &r, &oog, &err), &err);
        double want = (1 - t) * syn_node(lo, 0) + t * syn_node(hi, 0);
        assert_true(fabs(r.organs[0].dose_mgy_per_gy_cm2 - want) < 1e-9);
        double ws = 0.01 * sqrt((1 - t) * (1 - t) + t * t);
        assert_true(fabs(r.organs[0].sigma_mgy_per_gy_cm2 - ws) < 1e-12);
        assert_int_equal(oog, 0);
        hm_dosimetry_result_free(&r);
    }
    /* Inside a cell on the linear axes (primary on a node): f itself, as f is
     * multilinear in them. */
    double in[HM_DOSE_NAXES] = { 67, 3.5, 0.11, -90, -3, 7.5, 0 };
    fail_err(hm_dose_library_lookup_at(lib, 0, in, &r, &oog, &err), &err);
    assert_true(fabs(r.organs[1].dose_mgy_per_gy_cm2 - fsyn(in, 1)) < 1e-3);
    hm_dosimetry_result_free(&r);
    /* The periodic axis: 135 lies halfway between 90 and -180 (= 180); the
     * primary axis has 4 points, so the curvature correction applies, with
     * second differences that wrap round the circle: at 90 from 0, 90, 180,
     * at -180 from 90, 180, 270 (= -90); q = (45)(-45)/2. */
    double a[HM_DOSE_NAXES] = { 60, 3.5, 0, 90, -20, 5, 0 }, b[HM_DOSE_NAXES], m[HM_DOSE_NAXES];
    double z[HM_DOSE_NAXES], w90[HM_DOSE_NAXES];
    memcpy(b, a, sizeof b);
    b[3] = -180;
    memcpy(z, a, sizeof z);
    z[3] = 0;
    memcpy(w90, a, sizeof w90);
    w90[3] = -90;
    double d2_90 = (syn_node(z, 0) - 2 * syn_node(a, 0) + syn_node(b, 0)) / 8100;
    double d2_180 = (syn_node(a, 0) - 2 * syn_node(b, 0) + syn_node(w90, 0)) / 8100;
    double want135 = 0.5 * (syn_node(a, 0) + syn_node(b, 0)) + 0.5 * 45 * -45 * 0.5 * (d2_90 + d2_180);
    memcpy(m, a, sizeof m);
    m[3] = 135;
    fail_err(hm_dose_library_lookup_at(lib, 0, m, &r, &oog, &err), &err);
    assert_true(fabs(r.organs[0].dose_mgy_per_gy_cm2 - want135) < 1e-9);
    /* Nearer the true 2 + sin(135) than the linear mean (f peaks at 90). */
    assert_true(fabs(r.organs[0].dose_mgy_per_gy_cm2 - fsyn(m, 0)) <
                fabs(0.5 * (syn_node(a, 0) + syn_node(b, 0)) - fsyn(m, 0)));
    assert_int_equal(oog, 0);
    hm_dosimetry_result_free(&r);
    m[3] = 135 - 360;   /* the same angle */
    fail_err(hm_dose_library_lookup_at(lib, 0, m, &r, &oog, &err), &err);
    assert_true(fabs(r.organs[0].dose_mgy_per_gy_cm2 - want135) < 1e-9);
    hm_dosimetry_result_free(&r);
    /* Outside: clamped to the edge, flagged per axis. */
    double out[HM_DOSE_NAXES] = { 50, 4.5, 0.3, 0, 35, 10, 1 }, edge[HM_DOSE_NAXES] = { 60, 3.5, 0.3, 0, 20, 10, 0 };
    fail_err(hm_dose_library_lookup_at(lib, 0, out, &r, &oog, &err), &err);
    assert_int_equal(oog, (1u << HM_DOSE_AXIS_KVP) | (1u << HM_DOSE_AXIS_AL) | (1u << HM_DOSE_AXIS_SECONDARY) |
                              (1u << HM_DOSE_AXIS_OFFSET));
    assert_true(fabs(r.organs[0].dose_mgy_per_gy_cm2 - syn_node(edge, 0)) < 1e-12);
    hm_dosimetry_result_free(&r);
    /* The beam path: phantom by age and sex (a 5-year-old boy uses the H
     * phantom; an adult woman has her own; no adult male). */
    size_t idx;
    fail_err(hm_dose_library_phantom(lib, "5", 'M', &idx, &err), &err);
    assert_int_equal(idx, 0);
    fail_err(hm_dose_library_phantom(lib, "adult", 'F', &idx, &err), &err);
    assert_int_equal(idx, 1);
    assert_int_equal(hm_dose_library_phantom(lib, "adult", 'M', &idx, &err), HM_ENOTFOUND);
    hm_dosimetry_beam bm;
    fail_err(hm_dose_grid_node_beam(&g, 5, &bm, &err), &err);
    bm.offset_cm[0] = 1;
    fail_err(hm_dose_library_lookup(lib, "adult", 'F', &bm, &r, &oog, &err), &err);
    assert_int_equal(oog, HM_DOSE_OFF_LATERAL);
    hm_dose_grid_node_coords(&g, 5, x);
    assert_true(fabs(r.organs[0].dose_mgy_per_gy_cm2 - round(fsyn(x, 0) * 2 * 1e4) / 1e4) < 1e-9);
    hm_dosimetry_result_free(&r);
    hm_dose_library_free(lib);
}

/* The curvature correction: on a grid with three or more points on kVp, Cu
 * and secondary (uneven spacing), a dose that is a sum of quadratics in
 * kVp, ln(1 + Cu/0.1 mm) and secondary plus a bilinear kVp x field term is
 * reproduced exactly between nodes (multilinear interpolation alone is
 * not), and the sigma's interpolation part is the size of each axis's
 * correction, (u - u0)(u - u1)/2 x the known second derivative. */
static double fquad(const double x[HM_DOSE_NAXES])
{
    double k = (x[0] - 75) / 50, u = log1p(x[2] / 0.1), s = x[4] / 30;
    return 3 + k * k + 2 * k + 0.5 * (1 + k) * x[5] / 10 - 0.5 * (u - 1) * (u - 1) - s * s + 0.3 * s;
}

static void test_curvature(void **state)
{
    (void)state;
    hm_dose_grid g;
    memset(&g, 0, sizeof g);
    g.nphantoms = 1;
    snprintf(g.phantoms[0].age, sizeof g.phantoms[0].age, "5y");
    g.phantoms[0].sex = 'H';
    double pts[HM_DOSE_NAXES][5] = { { 60, 80, 100 }, { 3.5 }, { 0, 0.1, 0.3, 0.9 }, { 0 }, { -30, -10, 0, 15, 30 },
                                     { 5, 10 }, { 0 } };
    size_t n[HM_DOSE_NAXES] = { 3, 1, 4, 1, 5, 2, 1 };
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        g.n[a] = n[a];
        memcpy(g.v[a], pts[a], sizeof pts[a]);
    }
    g.primary_periodic = 0;
    g.source_isocentre_cm = 75;
    g.anode_angle_deg = 12;
    hm_dose_library_params p;
    hm_dose_library_params_default(&p);
    hm_dose_library *lib;
    hm_error err;
    fail_err(hm_dose_library_create(&g, &p, &lib, &err), &err);
    hm_organ_dose o;
    memset(&o, 0, sizeof o);
    snprintf(o.organ, sizeof o.organ, "lung");
    o.present = 1;
    for (size_t k = 0; k < hm_dose_grid_nodes(&g); k++) {
        double x[HM_DOSE_NAXES];
        hm_dose_grid_node_coords(&g, k, x);
        o.dose_mgy_per_gy_cm2 = fquad(x);
        o.sigma_mgy_per_gy_cm2 = 0;   /* the sigma is then the interpolation term alone */
        hm_dosimetry_result r = { .n = 1, .organs = &o };
        fail_err(hm_dose_library_set_node(lib, 0, k, &r, &err), &err);
    }
    const double ev[][3] = { { 67, 0.05, -20 }, { 93, 0.5, 7 }, { 80, 0.2, 22 }, { 61, 0.85, -29 }, { 99, 0.01, 1 } };
    for (size_t e = 0; e < sizeof ev / sizeof ev[0]; e++) {
        double x[HM_DOSE_NAXES] = { ev[e][0], 3.5, ev[e][1], 0, ev[e][2], 7, 0 };
        hm_dosimetry_result r;
        unsigned oog;
        fail_err(hm_dose_library_lookup_at(lib, 0, x, &r, &oog, &err), &err);
        assert_int_equal(oog, 0);
        double want = fquad(x), got = r.organs[0].dose_mgy_per_gy_cm2;
        /* The cells and the known second derivatives in u. */
        double u = log1p(x[2] / 0.1), cu[] = { 0, log1p(1), log1p(3), log1p(9) };
        int ic = u < cu[1] ? 0 : u < cu[2] ? 1 : 2;
        int ik = x[0] < 80 ? 0 : 1, is = 0;
        while (x[4] >= pts[4][is + 1])
            is++;
        double ck = 0.5 * (x[0] - pts[0][ik]) * (x[0] - pts[0][ik + 1]) * 2 / 2500;
        double cc = 0.5 * (u - cu[ic]) * (u - cu[ic + 1]) * -1;
        double cs = 0.5 * (x[4] - pts[4][is]) * (x[4] - pts[4][is + 1]) * -2 / 900;
        double sig = sqrt(ck * ck + cc * cc + cs * cs);
        fprintf(stderr, "event %zu: %.9f want %.9f, sigma %.6f want %.6f\n", e, got, want,
                r.organs[0].sigma_mgy_per_gy_cm2, sig);
        assert_true(fabs(got - want) < 1e-9);
        assert_true(fabs(r.organs[0].sigma_mgy_per_gy_cm2 - sig) < 1e-9);
        assert_true(fabs(ck) + fabs(cc) + fabs(cs) > 1e-3);   /* multilinear alone would be off */
        hm_dosimetry_result_free(&r);
    }
    hm_dose_library_free(lib);
}

/* Leave-one-out on a line of n points x (the lookup's scheme written out
 * here, library_loo.c): node j predicted from the others by linear
 * interpolation between its neighbours plus q times the linear interpolant
 * of the second divided differences at them (end nodes of the reduced line
 * take their neighbour's); c[] gets the prediction's coefficients.  Returns
 * the prediction. */
static double loo_predict(const double *x, const double *f, int n, int j, double *c)
{
    double xs[16];
    int id[16], m = 0;
    for (int i = 0; i < n; i++)
        if (i != j) {
            xs[m] = x[i];
            id[m++] = i;
        }
    for (int i = 0; i < n; i++)
        c[i] = 0;
    int l = j - 1, u = j;   /* the reduced line's cell around x[j] */
    double t = (x[j] - xs[l]) / (xs[u] - xs[l]), q = 0.5 * (x[j] - xs[l]) * (x[j] - xs[u]);
    c[id[l]] += 1 - t;
    c[id[u]] += t;
    for (int side = 0; side < 2; side++) {
        int k = side ? u : l;
        k = k < 1 ? 1 : k > m - 2 ? m - 2 : k;
        double h0 = xs[k] - xs[k - 1], h1 = xs[k + 1] - xs[k], w = q * (side ? t : 1 - t);
        c[id[k - 1]] += w * 2 / (h0 * (h0 + h1));
        c[id[k]] -= w * 2 / (h0 * h1);
        c[id[k + 1]] += w * 2 / (h1 * (h0 + h1));
    }
    double p = 0;
    for (int i = 0; i < n; i++)
        p += c[i] * f[i];
    return p;
}

/* The cross-validation estimate s^2 of one line with exact nodes:
 * sum_j r_j^2 / sum_j (f_j^2 + sum_i c_i^2 f_i^2). */
static double loo_s2(const double *x, const double *f, int n)
{
    double num = 0, den = 0, c[16];
    for (int j = 1; j + 1 < n; j++) {
        double r = f[j] - loo_predict(x, f, n, j, c);
        num += r * r;
        den += f[j] * f[j];
        for (int i = 0; i < n; i++)
            den += c[i] * c[i] * f[i] * f[i];
    }
    return num > 0 ? num / den : 0;
}

/* The disagreement term (library_interp.c): along an axis of five uneven
 * points, (1) a cubic, whose second differences at the stencil centres are
 * known in closed form (for f = x^3: 2 f[xa, xb, xc] = 2 (xa + xb + xc)), so
 * the dose and the sigma are computed here from them; the error lies
 * within the sigma; (2) an edge (a logistic step 3 degrees wide between
 * nodes 15 degrees apart), which the curvature correction's size
 * underestimates and the sigma with the disagreement covers. */
static double fcubic(double x) { return 1 + x * x * x / 27000; }
static double fedge(double x) { return 1 + 2 / (1 + exp(-(x - 5) / 1.5)); }

static void test_disagreement(void **state)
{
    (void)state;
    hm_dose_grid g;
    memset(&g, 0, sizeof g);
    g.nphantoms = 1;
    snprintf(g.phantoms[0].age, sizeof g.phantoms[0].age, "5y");
    g.phantoms[0].sex = 'H';
    const double sp[5] = { -30, -10, 0, 15, 30 };
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        g.n[a] = 1;
        g.v[a][0] = a == HM_DOSE_AXIS_KVP ? 70 : a == HM_DOSE_AXIS_AL ? 3.5 : a == HM_DOSE_AXIS_FIELD ? 7 : 0;
    }
    g.n[HM_DOSE_AXIS_SECONDARY] = 5;
    memcpy(g.v[HM_DOSE_AXIS_SECONDARY], sp, sizeof sp);
    g.source_isocentre_cm = 75;
    g.anode_angle_deg = 12;
    hm_dose_library_params p;
    hm_dose_library_params_default(&p);
    hm_dose_library *lib;
    hm_error err;
    fail_err(hm_dose_library_create(&g, &p, &lib, &err), &err);
    hm_organ_dose o[2];
    memset(o, 0, sizeof o);
    snprintf(o[0].organ, sizeof o[0].organ, "lung");
    snprintf(o[1].organ, sizeof o[1].organ, "breast");
    o[0].present = o[1].present = 1;
    for (size_t k = 0; k < 5; k++) {
        o[0].dose_mgy_per_gy_cm2 = fcubic(sp[k]);
        o[1].dose_mgy_per_gy_cm2 = fedge(sp[k]);
        hm_dosimetry_result r = { .n = 2, .organs = o };
        fail_err(hm_dose_library_set_node(lib, 0, k, &r, &err), &err);
    }
    /* Second differences at the interior nodes 1..3 (stencils k-1, k, k+1). */
    double f2[5];
    for (int k = 1; k <= 3; k++)
        f2[k] = 2 * (sp[k - 1] + sp[k] + sp[k + 1]) / 27000;
    f2[0] = f2[1];
    f2[4] = f2[3];
    /* The edge's, from the divided-difference formula for uneven spacing. */
    double g2[5];
    for (int k = 1; k <= 3; k++) {
        double h0 = sp[k] - sp[k - 1], h1 = sp[k + 1] - sp[k];
        g2[k] = 2 * ((fedge(sp[k + 1]) - fedge(sp[k])) / h1 - (fedge(sp[k]) - fedge(sp[k - 1])) / h0) / (h0 + h1);
    }
    g2[0] = g2[1];
    g2[4] = g2[3];
    /* The cross-validation estimates of both organs, and the library's. */
    double fc[5], fe[5];
    for (int k = 0; k < 5; k++) {
        fc[k] = fcubic(sp[k]);
        fe[k] = fedge(sp[k]);
    }
    double s2cubic = loo_s2(sp, fc, 5), s2edge = loo_s2(sp, fe, 5), rel, loo;
    fail_err(hm_dose_library_cv_sigma(lib, 0, HM_DOSE_AXIS_SECONDARY, "lung", &rel, &loo, &err), &err);
    fprintf(stderr, "cross-validation: cubic %.6f want %.6f (term %.6f)\n", loo, sqrt(s2cubic), rel);
    assert_true(fabs(loo - sqrt(s2cubic)) < 1e-12 && fabs(rel - 0.25 * loo) < 1e-12);
    fail_err(hm_dose_library_cv_sigma(lib, 0, HM_DOSE_AXIS_SECONDARY, "breast", &rel, &loo, &err), &err);
    fprintf(stderr, "cross-validation: edge %.6f want %.6f (term %.6f)\n", loo, sqrt(s2edge), rel);
    assert_true(fabs(loo - sqrt(s2edge)) < 1e-12 && fabs(rel - 0.25 * loo) < 1e-12);
    fail_err(hm_dose_library_cv_sigma(lib, 0, HM_DOSE_AXIS_FIELD, "breast", &rel, &loo, &err), &err);
    assert_true(rel == 0 && loo == 0);   /* a one-point axis */
    assert_int_equal(hm_dose_library_cv_sigma(lib, 0, HM_DOSE_AXIS_SECONDARY, "liver", &rel, &loo, &err),
                     HM_ENOTFOUND);
    int uncovered = 0;   /* events the correction's size alone would not cover at 2 sigma */
    const double ev[] = { -20, -3, 2, 5, 8, 12, 22 };
    for (size_t e = 0; e < sizeof ev / sizeof ev[0]; e++) {
        double x[HM_DOSE_NAXES] = { 70, 3.5, 0, 0, ev[e], 7, 0 };
        hm_dosimetry_result r;
        fail_err(hm_dose_library_lookup_at(lib, 0, x, &r, NULL, &err), &err);
        int i = 0;
        while (ev[e] >= sp[i + 1])
            i++;
        double t = (ev[e] - sp[i]) / (sp[i + 1] - sp[i]), q = 0.5 * (ev[e] - sp[i]) * (ev[e] - sp[i + 1]);
        int c0 = i < 1 ? 1 : i > 2 ? 2 : i;   /* the two nearest stencil centres */
        double lin = (1 - t) * fcubic(sp[i]) + t * fcubic(sp[i + 1]);
        double corr = q * ((1 - t) * f2[i] + t * f2[i + 1]), dis = q * (f2[c0 + 1] - f2[c0]);
        double got = r.organs[0].dose_mgy_per_gy_cm2, sig = r.organs[0].sigma_mgy_per_gy_cm2;
        /* The cross-validation term: five points leave a three-point line
         * at twice the spacing, too short to measure the scaling, so the
         * smooth one (a quarter) applies; (1 + (1-t)^2 + t^2) in the cell. */
        double cv = 0.25 * 0.25 * s2cubic * (1 + (1 - t) * (1 - t) + t * t) * got * got;
        fprintf(stderr, "cubic at %g: %.6f want %.6f (true %.6f), sigma %.6f want %.6f\n", ev[e], got,
                lin + corr, fcubic(ev[e]), sig, sqrt(corr * corr + dis * dis + cv));
        assert_true(fabs(got - (lin + corr)) < 1e-12);
        assert_true(fabs(sig - sqrt(corr * corr + dis * dis + cv)) < 1e-12);
        assert_true(fabs(got - fcubic(ev[e])) <= sig);
        /* The edge: the error is within 2 sigma, and the disagreement, not
         * the correction, is what covers it near the step. */
        double ge = r.organs[1].dose_mgy_per_gy_cm2, se = r.organs[1].sigma_mgy_per_gy_cm2;
        double ce = q * ((1 - t) * g2[i] + t * g2[i + 1]), de = q * (g2[c0 + 1] - g2[c0]);
        double cve = 0.25 * 0.25 * s2edge * (1 + (1 - t) * (1 - t) + t * t) * ge * ge;
        fprintf(stderr, "edge at %g: %.4f true %.4f, sigma %.4f (z %+.2f; the correction alone %.4f)\n", ev[e], ge,
                fedge(ev[e]), se, (ge - fedge(ev[e])) / se, fabs(ce));
        assert_true(fabs(se - sqrt(ce * ce + de * de + cve)) < 1e-12);
        assert_true(fabs(ge - fedge(ev[e])) < 2 * se);
        uncovered += fabs(ge - fedge(ev[e])) >= 2 * fabs(ce);
        hm_dosimetry_result_free(&r);
    }
    assert_true(uncovered >= 2);
    hm_dose_library_free(lib);
}

/* splitmix64 (Steele, Lea, Flood 2014) to a standard normal (Box-Muller):
 * the synthetic libraries' structure and noise. */
static double normal(uint64_t *st)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        u[i] = ((double)(z >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2 * log(u[0])) * cos(2 * 3.14159265358979323846 * u[1]);
}

/* The cross-validation term (library_loo.c) on synthetic libraries over
 * the primary axis (9 points -60..60, or 12 periodic ones every 30 degrees)
 * and 30 kVp points (the lines to pool over), exact nodes unless noted:
 *  - "skin": linear in kVp times (1 + 0.1 z), z independent per node
 *    (structure finer than the nodes): leaving a node out sees
 *    s^2 = 0.01 / (1 + 0.01) in expectation, at both spacings, so the
 *    scaling measured between them is 1 and the term is s;
 *  - "lung": a smooth dose (a Gaussian 60 degrees wide): the term is a
 *    small fraction of the leave-one-out residual (measured scaling < 0.5);
 *  - "heart": constant, with statistical noise 2 % of which the node's
 *    sigma says so: its variance is taken out (below 0.7 %, against 2 %
 *    without the subtraction);
 *  - on a node the lookup's sigma is the node's, and off-node on the
 *    primary axis alone (t = 1/2) the term adds s^2 (1 + 1/4 + 1/4) D^2. */
static void test_cross_validation(void **state)
{
    (void)state;
    for (int periodic = 0; periodic < 2; periodic++) {
        hm_dose_grid g;
        memset(&g, 0, sizeof g);
        g.nphantoms = 1;
        snprintf(g.phantoms[0].age, sizeof g.phantoms[0].age, "5y");
        g.phantoms[0].sex = 'H';
        for (int a = 0; a < HM_DOSE_NAXES; a++) {
            g.n[a] = 1;
            g.v[a][0] = a == HM_DOSE_AXIS_KVP ? 70 : a == HM_DOSE_AXIS_AL ? 3.5 : a == HM_DOSE_AXIS_FIELD ? 7 : 0;
        }
        g.n[HM_DOSE_AXIS_KVP] = 30;
        for (int i = 0; i < 30; i++)
            g.v[HM_DOSE_AXIS_KVP][i] = 60 + i;
        size_t np = periodic ? 12 : 9;
        g.n[HM_DOSE_AXIS_PRIMARY] = np;
        for (size_t i = 0; i < np; i++)
            g.v[HM_DOSE_AXIS_PRIMARY][i] = periodic ? -180 + 30.0 * (double)i : -60 + 15.0 * (double)i;
        g.primary_periodic = periodic;
        g.source_isocentre_cm = 75;
        g.anode_angle_deg = 12;
        hm_dose_library_params p;
        hm_dose_library_params_default(&p);
        hm_dose_library *lib;
        hm_error err;
        fail_err(hm_dose_library_create(&g, &p, &lib, &err), &err);
        hm_organ_dose o[3];
        memset(o, 0, sizeof o);
        const char *names[3] = { "skin", "lung", "heart" };
        for (int k = 0; k < 3; k++) {
            snprintf(o[k].organ, sizeof o[k].organ, "%s", names[k]);
            o[k].present = 1;
        }
        uint64_t st = 1234 + (uint64_t)periodic;
        for (size_t node = 0; node < hm_dose_grid_nodes(&g); node++) {
            double x[HM_DOSE_NAXES];
            hm_dose_grid_node_coords(&g, node, x);
            double smooth = (1 + 0.01 * (x[HM_DOSE_AXIS_KVP] - 60)) * exp(-x[HM_DOSE_AXIS_PRIMARY] * x[HM_DOSE_AXIS_PRIMARY] / 3600);
            if (periodic)   /* periodic in the angle: a smooth function of cos */
                smooth = (1 + 0.01 * (x[HM_DOSE_AXIS_KVP] - 60)) * exp(cos(x[HM_DOSE_AXIS_PRIMARY] * 3.14159265358979323846 / 180));
            o[0].dose_mgy_per_gy_cm2 = (1 + 0.01 * (x[HM_DOSE_AXIS_KVP] - 60)) * (1 + 0.1 * normal(&st));
            o[1].dose_mgy_per_gy_cm2 = smooth;
            o[2].dose_mgy_per_gy_cm2 = 1 + 0.02 * normal(&st);
            o[2].sigma_mgy_per_gy_cm2 = 0.02;
            hm_dosimetry_result r = { .n = 3, .organs = o };
            fail_err(hm_dose_library_set_node(lib, 0, node, &r, &err), &err);
        }
        double rel[3], loo[3];
        for (int k = 0; k < 3; k++) {
            fail_err(hm_dose_library_cv_sigma(lib, 0, HM_DOSE_AXIS_PRIMARY, names[k], &rel[k], &loo[k], &err), &err);
            fprintf(stderr, "%s primary axis: %-5s leave-one-out %.4f, term %.4f (scaling %.2f)\n",
                    periodic ? "periodic" : "9-point", names[k], loo[k], rel[k], loo[k] > 0 ? rel[k] / loo[k] : 0);
        }
        double want = sqrt(0.01 / 1.01);
        assert_true(fabs(loo[0] - want) < 0.1 * want);
        assert_true(rel[0] > 0.8 * loo[0] && rel[0] <= loo[0]);
        assert_true(rel[1] < 0.5 * loo[1]);
        assert_true(loo[2] < 0.007);
        /* On a node, and half-way between two on the primary axis alone. */
        double x[HM_DOSE_NAXES] = { 70, 3.5, 0, g.v[HM_DOSE_AXIS_PRIMARY][4], 0, 7, 0 };
        hm_dosimetry_result on, mid;
        fail_err(hm_dose_library_lookup_at(lib, 0, x, &on, NULL, &err), &err);
        assert_true(on.organs[0].sigma_mgy_per_gy_cm2 == 0);
        x[HM_DOSE_AXIS_PRIMARY] += periodic ? 15 : 7.5;
        fail_err(hm_dose_library_lookup_at(lib, 0, x, &mid, NULL, &err), &err);
        double d = mid.organs[0].dose_mgy_per_gy_cm2, sg = mid.organs[0].sigma_mgy_per_gy_cm2;
        fprintf(stderr, "  skin half-way: sigma %.4f, the term alone %.4f\n", sg, rel[0] * sqrt(1.5) * d);
        assert_true(sg >= rel[0] * sqrt(1.5) * d * (1 - 1e-12));
        hm_dosimetry_result_free(&on);
        hm_dosimetry_result_free(&mid);
        hm_dose_library_free(lib);
    }
}

/* The scale steps (library.c, scale_jitter): three scales 0.9, 1, 1.1 of
 * doses exp(-2 (s - 1)), exact but for a step e^delta on the middle scale:
 * the residual is delta, sigma_j = delta / sqrt(1.5), and between scales
 * the relative sigma is sigma_j sqrt(1 + (1-t)^2 + t^2) (delta itself at
 * t = 1/2); on a node scale, none. */
static void test_size_steps(void **state)
{
    (void)state;
    hm_dose_grid g;
    memset(&g, 0, sizeof g);
    g.nphantoms = 3;
    const double sc[3] = { 0.9, 1, 1.1 }, delta = 0.03;
    for (int k = 0; k < 3; k++) {
        snprintf(g.phantoms[k].age, sizeof g.phantoms[k].age, "5y");
        g.phantoms[k].sex = 'H';
        g.phantoms[k].lateral_scale = sc[k] == 1 ? 0 : sc[k];
    }
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        g.n[a] = 1;
        g.v[a][0] = a == HM_DOSE_AXIS_KVP ? 80 : a == HM_DOSE_AXIS_AL ? 3.5 : a == HM_DOSE_AXIS_FIELD ? 8 : 0;
    }
    g.source_isocentre_cm = 75;
    g.anode_angle_deg = 12;
    hm_dose_library_params p;
    hm_dose_library_params_default(&p);
    hm_dose_library *lib;
    hm_error err;
    fail_err(hm_dose_library_create(&g, &p, &lib, &err), &err);
    hm_organ_dose o;
    memset(&o, 0, sizeof o);
    snprintf(o.organ, sizeof o.organ, "lung");
    o.present = 1;
    for (size_t k = 0; k < 3; k++) {
        o.dose_mgy_per_gy_cm2 = exp(-2 * (sc[k] - 1) + (k == 1 ? delta : 0));
        hm_dosimetry_result r = { .n = 1, .organs = &o };
        fail_err(hm_dose_library_set_node(lib, k, 0, &r, &err), &err);
    }
    hm_dosimetry_beam b;
    fail_err(hm_dose_grid_node_beam(&g, 0, &b, &err), &err);
    const double s_ev[] = { 0.95, 1.075, 1 };
    for (size_t e = 0; e < 3; e++) {
        hm_dosimetry_result r;
        unsigned oog;
        fail_err(hm_dose_library_lookup_sized(lib, "5y", 'H', s_ev[e], &b, &r, &oog, &err), &err);
        assert_int_equal(oog, 0);
        double s = s_ev[e], t = s < 1 ? (s - 0.9) / 0.1 : (s - 1) / 0.1;
        double ln0 = s < 1 ? 0.2 : delta, ln1 = s < 1 ? delta : -0.2;
        double want = exp((1 - t) * ln0 + t * ln1);
        double rel = e == 2 ? 0 : delta / sqrt(1.5) * sqrt(1 + (1 - t) * (1 - t) + t * t);
        double d = r.organs[0].dose_mgy_per_gy_cm2;
        fprintf(stderr, "scale %g: %.6f want %.6f, relative sigma %.5f want %.5f\n", s, d, want,
                r.organs[0].sigma_mgy_per_gy_cm2 / d, rel);
        assert_true(fabs(d - want) < 1e-12);
        assert_true(fabs(r.organs[0].sigma_mgy_per_gy_cm2 / d - rel) < 1e-12);
        hm_dosimetry_result_free(&r);
    }
    hm_dose_library_free(lib);
}

/* ---- the file ------------------------------------------------------------------ */

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
    buf[len] = 0;
    fclose(fp);
    *n = (size_t)len;
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_round_trip(void **state)
{
    (void)state;
    hm_dose_library *lib = syn_library(), *back;
    hm_error err;
    const char *path = TMP "/syn.csv";
    fail_err(hm_dose_library_save(lib, path, &err), &err);
    char id[40];
    snprintf(id, sizeof id, "%s", hm_dose_library_get_info(lib)->library_id);
    assert_int_equal(strncmp(id, "fnv1a64:", 8), 0);
    fail_err(hm_dose_library_load(path, &back, &err), &err);
    const hm_dose_library_info *in = hm_dose_library_get_info(back);
    assert_string_equal(in->library_id, id);
    assert_int_equal(in->format_version, 1);
    assert_string_equal(in->harmonic_version, HM_VERSION_STRING);
    assert_non_null(strstr(in->engine, "Compton"));
    assert_int_equal(in->histories_per_node, 200000);
    assert_true(memcmp(hm_dose_library_grid(back), hm_dose_library_grid(lib), sizeof(hm_dose_grid)) == 0);
    hm_dose_grid g = syn_grid();
    for (size_t ph = 0; ph < 2; ph++)
        for (size_t k = 0; k < hm_dose_grid_nodes(&g); k++) {
            double x[HM_DOSE_NAXES];
            hm_dosimetry_result a, b;
            hm_dose_grid_node_coords(&g, k, x);
            fail_err(hm_dose_library_lookup_at(lib, ph, x, &a, NULL, &err), &err);
            fail_err(hm_dose_library_lookup_at(back, ph, x, &b, NULL, &err), &err);
            for (size_t j = 0; j < 2; j++) {
                assert_true(a.organs[j].dose_mgy_per_gy_cm2 == b.organs[j].dose_mgy_per_gy_cm2);
                assert_true(a.organs[j].sigma_mgy_per_gy_cm2 == b.organs[j].sigma_mgy_per_gy_cm2);
            }
            hm_dosimetry_result_free(&a);
            hm_dosimetry_result_free(&b);
        }
    /* Saving again gives the same id (the date is not hashed). */
    fail_err(hm_dose_library_save(back, TMP "/syn2.csv", &err), &err);
    assert_string_equal(hm_dose_library_get_info(back)->library_id, id);
    hm_dose_library_free(back);
    hm_dose_library_free(lib);
}

/* Replaces the first occurrence of `from` after `after` in text. */
static char *edit(const char *text, const char *after, const char *from, const char *to)
{
    const char *a = strstr(text, after);
    assert_non_null(a);
    const char *f = strstr(a, from);
    assert_non_null(f);
    size_t n = strlen(text) + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(f - text), text, to, f + strlen(from));
    return out;
}

static long line_of(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    assert_non_null(p);
    long line = 1;
    for (const char *c = text; c < p; c++)
        line += *c == '\n';
    return line;
}

static void test_damaged_files(void **state)
{
    (void)state;
    hm_dose_library *lib = syn_library();
    hm_error err;
    const char *path = TMP "/good.csv", *bad = TMP "/bad.csv";
    fail_err(hm_dose_library_save(lib, path, &err), &err);
    hm_dose_library_free(lib);
    size_t n;
    char *text = slurp(path, &n);
    /* The 3rd data row of 5y_H node 0 is node 1's lung. */
    struct { char *text; int code; const char *field; long line; } cases[] = {
        { edit(text, "\n5y_H,0,", ",lung,", ",lung,") , 0, NULL, 0 },   /* unchanged: loads */
        { edit(text, "\n5y_H,1,", ",lung,", ",lungs,"), HM_EPARSE, "organ", line_of(text, "\n5y_H,1,") + 1 },
        { edit(text, "\n5y_H,0,60,3.5,0,-180,-20,5,0,heart,", ",heart,", ",heart,x"), HM_EPARSE,
          "dose_mgy_per_gy_cm2", line_of(text, "\n5y_H,0,60,3.5,0,-180,-20,5,0,heart,") + 1 },
        { edit(text, "\n5y_H,2,", "5y_H,2,60", "5y_H,2,61"), HM_EPARSE, "kvp_kv",
          line_of(text, "\n5y_H,2,") + 1 },
        { edit(text, "\n5y_H,3,", "5y_H,3,", "5y_H,4,"), HM_EPARSE, "node", line_of(text, "\n5y_H,3,") + 1 },
        { edit(text, "# format_version", "version,1", "version,3"), HM_EUNSUPPORTED, "format_version", 2 },
        { edit(text, "# seed", "# seed", "# sead"), HM_EPARSE, "sead", line_of(text, "# seed") },
        { edit(text, "# kvp_kv", "# kvp_kv,60 80", "# kvp_kv,80 60"), HM_EPARSE, "kvp_kv",
          line_of(text, "\nphantom,node") + 1 },
        /* A valid number changed: only the content hash sees it. */
        { edit(text, "\nadult_F,7,", ",lung,", ",lung,1"), HM_EVALIDATE, "library_id", 0 },
        { edit(text, "harmonic", "harmonic", "harmonix"), HM_EPARSE, NULL, 1 },
    };
    size_t nc = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < nc; i++) {
        spit(bad, cases[i].text);
        hm_dose_library *l = NULL;
        hm_error_clear(&err);
        int rc = hm_dose_library_load(bad, &l, &err);
        char buf[1024];
        hm_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "case %zu: rc %d %s\n", i, rc, buf);
        assert_int_equal(rc, cases[i].code);
        if (rc) {
            assert_null(l);
            assert_string_equal(err.file, bad);
            if (cases[i].field)
                assert_string_equal(err.field, cases[i].field);
            if (cases[i].line)
                assert_int_equal(err.line, cases[i].line);
        }
        hm_dose_library_free(l);
        free(cases[i].text);
    }
    /* Truncated: every cut short of the whole file fails, never crashes. */
    for (size_t cut = 0; cut < n; cut += n / 37 + 1) {
        if (cut == n - 1)
            continue;   /* only the last line end gone: still whole */
        char *t = strndup(text, cut);
        spit(bad, t);
        hm_dose_library *l = NULL;
        assert_true(hm_dose_library_load(bad, &l, &err) < 0);
        assert_null(l);
        free(t);
    }
    /* CRLF line ends (a file opened and saved on Windows) still load. */
    char *crlf = malloc(2 * n + 1), *c = crlf;
    assert_non_null(crlf);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n')
            *c++ = '\r';
        *c++ = text[i];
    }
    *c = 0;
    spit(bad, crlf);
    hm_dose_library *l = NULL;
    fail_err(hm_dose_library_load(bad, &l, &err), &err);
    hm_dose_library_free(l);
    free(crlf);
    free(text);
    assert_int_equal(hm_dose_library_load(TMP "/missing.csv", &l, &err), HM_EIO);
}

/* ---- a tiny real build ----------------------------------------------------------- */

static hm_dose_grid tiny_grid(void)
{
    hm_dose_grid g;
    memset(&g, 0, sizeof g);
    g.nphantoms = 1;
    snprintf(g.phantoms[0].age, sizeof g.phantoms[0].age, "newborn");
    g.phantoms[0].sex = 'H';
    double pts[HM_DOSE_NAXES][3] = { { 70 }, { 3.5 }, { 0.1 }, { 0, 90 }, { 0 }, { 5 }, { 0 } };
    size_t n[HM_DOSE_NAXES] = { 1, 1, 1, 2, 1, 1, 1 };
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        g.n[a] = n[a];
        memcpy(g.v[a], pts[a], sizeof pts[a]);
    }
    g.primary_periodic = 0;
    g.source_isocentre_cm = 75;
    g.anode_angle_deg = 12;
    return g;
}

static int stop_after_one(const hm_dose_progress *pr, void *user)
{
    (void)user;
    return pr->done >= 1;
}

static int count_progress(const hm_dose_progress *pr, void *user)
{
    size_t *resumed = user;
    *resumed = pr->resumed;
    assert_true(pr->done <= pr->total && pr->eta_s >= 0);
    return 0;
}

static void test_build(void **state)
{
    (void)state;
    hm_dose_grid g = tiny_grid();
    hm_dose_library_params p;
    hm_dose_library_params_default(&p);
    p.histories_per_node = 4000;
    p.seed = 5;
    p.voxel_mm = 8;
    p.cache_dir = TMP "/cache";
    p.threads = 1;
    hm_error err;
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    const char *one = TMP "/tiny1.csv", *res = TMP "/tiny_resumed.csv";
    /* Three builds (the phantom is built each time, slow under the
     * sanitizers): interrupted after one node on one thread, resumed on two
     * threads, and whole on one thread: the resumed file is byte for byte the
     * whole one, so neither resuming nor threads change it. */
    remove(res);
    p.threads = 1;
    assert_int_equal(hm_dose_library_build(&g, &p, res, stop_after_one, NULL, &err), HM_EINVAL);
    assert_non_null(strstr(err.msg, "interrupted"));
    FILE *fp = fopen(TMP "/tiny_resumed.csv.part", "r");
    assert_non_null(fp);
    fclose(fp);
    size_t resumed = 99;
    p.threads = 2;
    fail_err(hm_dose_library_build(&g, &p, res, count_progress, &resumed, &err), &err);
    assert_int_equal(resumed, 1);
    assert_null(fopen(TMP "/tiny_resumed.csv.part", "r"));
    p.threads = 1;
    fail_err(hm_dose_library_build(&g, &p, one, NULL, NULL, &err), &err);
    size_t n1, n3;
    char *t1 = slurp(one, &n1), *t3 = slurp(res, &n3);
    assert_non_null(strstr(t1, "# created,2023-11-14T22:13:20Z"));
    assert_int_equal(n1, n3);
    assert_memory_equal(t1, t3, n1);
    /* Any node rebuilt alone with its seed gives the file's values. */
    hm_dose_library *lib;
    fail_err(hm_dose_library_load(one, &lib, &err), &err);
    hm_phantom *ph;
    hm_voxel_phantom v;
    fail_err(hm_phantom_build("newborn", 'H', &ph, &err), &err);
    fail_err(hm_phantom_voxelise_cached(ph, 8, TMP "/cache", &v, NULL, &err), &err);
    hm_phantom_free(ph);
    hm_dosimetry_beam b;
    fail_err(hm_dose_grid_node_beam(&g, 1, &b, &err), &err);
    hm_dosimetry_params dp = { 4000, hm_dose_node_seed(5, &g.phantoms[0], 1), 1 };
    hm_dosimetry_result direct, looked;
    fail_err(hm_dosimetry_organ_doses(&v, &b, &dp, &direct, &err), &err);
    unsigned oog;
    fail_err(hm_dose_library_lookup(lib, "newborn", 'F', &b, &looked, &oog, &err), &err);
    assert_int_equal(oog, 0);
    assert_int_equal(direct.n, looked.n);
    int nonzero = 0;
    for (size_t j = 0; j < direct.n; j++) {
        char a[32], c[32];
        snprintf(a, sizeof a, "%.7g", direct.organs[j].dose_mgy_per_gy_cm2);
        snprintf(c, sizeof c, "%.7g", looked.organs[j].dose_mgy_per_gy_cm2);
        assert_string_equal(a, c);
        nonzero += looked.organs[j].dose_mgy_per_gy_cm2 > 0;
    }
    assert_true(nonzero > 10);
    hm_dosimetry_result_free(&direct);
    hm_dosimetry_result_free(&looked);
    hm_voxel_phantom_free(&v);
    hm_dose_library_free(lib);
    free(t1);
    free(t3);
    unsetenv("SOURCE_DATE_EPOCH");
}

/* ---- body-size phantoms ------------------------------------------------------- */

/* Doses that fall exactly exponentially with the lateral scale, which the
 * log-linear interpolation between scales must reproduce exactly:
 * D = fsyn(x) exp(-2 (s - 1)). */
static double fsize(const double x[HM_DOSE_NAXES], int organ, double s)
{
    return fsyn(x, organ) * exp(-2 * (s - 1));
}

static const double sizes[3] = { 0.85, 1, 1.2 };

static hm_dose_library *sized_library(void)
{
    hm_dose_grid g = syn_grid();
    g.nphantoms = 3;
    for (int i = 0; i < 3; i++) {
        memset(&g.phantoms[i], 0, sizeof g.phantoms[i]);   /* no "adult" left after the NUL */
        snprintf(g.phantoms[i].age, sizeof g.phantoms[i].age, "5y");
        g.phantoms[i].sex = 'H';
        g.phantoms[i].lateral_scale = i == 1 ? 0 : sizes[i];   /* 0: the reference */
    }
    hm_dose_library_params p;
    hm_dose_library_params_default(&p);
    hm_dose_library *lib;
    hm_error err;
    fail_err(hm_dose_library_create(&g, &p, &lib, &err), &err);
    hm_organ_dose o[2];
    memset(o, 0, sizeof o);
    snprintf(o[0].organ, sizeof o[0].organ, "lung");
    snprintf(o[1].organ, sizeof o[1].organ, "heart");
    o[0].present = o[1].present = 1;
    for (size_t ph = 0; ph < 3; ph++)
        for (size_t k = 0; k < hm_dose_grid_nodes(&g); k++) {
            double x[HM_DOSE_NAXES];
            hm_dose_grid_node_coords(&g, k, x);
            for (int j = 0; j < 2; j++) {
                o[j].mass_g = 100 * sizes[ph] * sizes[ph];
                o[j].dose_mgy_per_gy_cm2 = fsize(x, j, sizes[ph]);
                o[j].sigma_mgy_per_gy_cm2 = 0.02 * o[j].dose_mgy_per_gy_cm2;   /* 2 % */
            }
            hm_dosimetry_result r = { .n = 2, .organs = o };
            fail_err(hm_dose_library_set_node(lib, ph, k, &r, &err), &err);
        }
    return lib;
}

static void test_sizes(void **state)
{
    (void)state;
    hm_error err;
    /* Grid files: AGE:SEX and AGE:SEX:SCALE; names; seeds of scale 1 as before. */
    const char *path = TMP "/grid_sizes.csv";
    spit(path, "key,values\nphantoms,5y:H:0.85 5y:H 5y:h:1.2 adult:F:1\nkvp_kv,70\nfilter_al_mm,3.5\n"
               "filter_cu_mm,0.1\nprimary_deg,0\nsecondary_deg,0\nfield_cm,8\noffset_cm,0\n");
    hm_dose_grid g;
    fail_err(hm_dose_grid_read(path, &g, NULL, &err), &err);
    assert_int_equal(g.nphantoms, 4);
    assert_true(g.phantoms[0].lateral_scale == 0.85 && g.phantoms[2].lateral_scale == 1.2);
    assert_true(g.phantoms[1].lateral_scale == 0 && g.phantoms[3].lateral_scale == 0);
    char name[32];
    const char *names[] = { "5y_H_s0.85", "5y_H", "5y_H_s1.2", "adult_F" };
    for (int i = 0; i < 4; i++) {
        hm_dose_phantom_name(&g.phantoms[i], name, sizeof name);
        assert_string_equal(name, names[i]);
    }
    hm_dose_phantom_key ref = { "5y", 'H', 0 }, one = { "5y", 'H', 1 };
    assert_true(hm_dose_node_seed(9, &ref, 3) == hm_dose_node_seed(9, &one, 3));
    assert_true(hm_dose_node_seed(9, &ref, 3) == hm_dose_node_seed(9, &g.phantoms[1], 3));
    assert_true(hm_dose_node_seed(9, &ref, 3) != hm_dose_node_seed(9, &g.phantoms[0], 3));
    const char *bad[] = { "5y:H:3", "5y:H:x", "5y:H:0.9 5y:H:0.9", "5y:H:1 5y:H" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "key,values\nphantoms,%s\nkvp_kv,70\nfilter_al_mm,3.5\nfilter_cu_mm,0.1\n"
                 "primary_deg,0\nsecondary_deg,0\nfield_cm,8\noffset_cm,0\n", bad[i]);
        spit(path, text);
        hm_error_clear(&err);
        int rc = hm_dose_grid_read(path, &g, NULL, &err);
        fprintf(stderr, "bad phantoms '%s': %d %s\n", bad[i], rc, err.msg);
        assert_true(rc == HM_EPARSE || rc == HM_EINVAL);
        assert_string_equal(err.field, "phantoms");
        assert_int_equal(err.line, 2);
    }

    /* Lookups between scales: exact for exponential doses, relative sigma
     * propagated, clamped and flagged outside, the reference at 0 and 1. */
    hm_dose_library *lib = sized_library();
    hm_dose_grid sg = syn_grid();
    hm_dosimetry_beam b;
    fail_err(hm_dose_grid_node_beam(&sg, 7, &b, &err), &err);
    double x[HM_DOSE_NAXES];
    hm_dose_grid_node_coords(&sg, 7, x);
    size_t idx;
    fail_err(hm_dose_library_phantom(lib, "5y", 'F', &idx, &err), &err);
    assert_int_equal(idx, 1);   /* of several scales, the reference */
    const struct { double s, want_s; unsigned flag; } cases[] = {
        { 0.95, 0.95, 0 }, { 1.1, 1.1, 0 }, { 0.85, 0.85, 0 }, { 0, 1, 0 }, { 1, 1, 0 }, { -1, 1, 0 },
        { 0.7, 0.85, HM_DOSE_OFF_SIZE }, { 1.35, 1.2, HM_DOSE_OFF_SIZE } };
    double prev = INFINITY;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hm_dosimetry_result r;
        unsigned oog = 99;
        fail_err(hm_dose_library_lookup_sized(lib, "5y", 'M', cases[i].s, &b, &r, &oog, &err), &err);
        assert_int_equal(oog, cases[i].flag);
        for (int j = 0; j < 2; j++) {
            double want = fsize(x, j, cases[i].want_s), d = r.organs[j].dose_mgy_per_gy_cm2;
            assert_true(fabs(d - want) < 1e-12 * want);
            /* (sigma/D)^2 = ((1-t) 0.02)^2 + (t 0.02)^2 between scales. */
            double s = cases[i].want_s, t = s < 1 ? (s - 0.85) / 0.15 : (s - 1) / 0.2;
            double rel = 0.02 * sqrt((1 - t) * (1 - t) + t * t);
            assert_true(fabs(r.organs[j].sigma_mgy_per_gy_cm2 / d - rel) < 1e-9);
        }
        if (i < 2) {   /* doses fall with the size */
            assert_true(r.organs[0].dose_mgy_per_gy_cm2 < prev || i == 0);
            prev = r.organs[0].dose_mgy_per_gy_cm2;
        }
        hm_dosimetry_result_free(&r);
    }
    /* The beam function carries the size and counts the clamped lookups. */
    hm_dose_library_beam lb = { .lib = lib, .age = "5y", .lateral_scale = 1.5 };
    hm_dosimetry_result r;
    fail_err(hm_dose_library_beam_fn(&lb, &b, 'H', &r, &err), &err);
    assert_true(fabs(r.organs[1].dose_mgy_per_gy_cm2 - fsize(x, 1, 1.2)) < 1e-12);
    hm_dosimetry_result_free(&r);
    lb.lateral_scale = 0.9;
    fail_err(hm_dose_library_beam_fn(&lb, &b, 'H', &r, &err), &err);
    assert_true(fabs(r.organs[1].dose_mgy_per_gy_cm2 - fsize(x, 1, 0.9)) < 1e-12);
    hm_dosimetry_result_free(&r);
    assert_int_equal(lb.lookups, 2);
    assert_int_equal(lb.out_of_grid, 1);

    /* The file: format 2, the scales and names round-trip. */
    const char *lp = TMP "/sized.csv";
    fail_err(hm_dose_library_save(lib, lp, &err), &err);
    hm_dose_library *back;
    fail_err(hm_dose_library_load(lp, &back, &err), &err);
    assert_int_equal(hm_dose_library_get_info(back)->format_version, 2);
    assert_true(memcmp(hm_dose_library_grid(back), hm_dose_library_grid(lib), sizeof(hm_dose_grid)) == 0);
    size_t n;
    char *text = slurp(lp, &n);
    assert_non_null(strstr(text, "# phantoms,5y:H:0.85 5y:H 5y:H:1.2\n"));
    assert_non_null(strstr(text, "\n5y_H_s1.2,0,"));
    /* A format-1 header cannot hold scaled phantoms. */
    char *v1 = edit(text, "# format_version", "version,2", "version,1");
    spit(TMP "/sized_v1.csv", v1);
    hm_dose_library *l1 = NULL;
    assert_int_equal(hm_dose_library_load(TMP "/sized_v1.csv", &l1, &err), HM_EPARSE);
    assert_string_equal(err.field, "format_version");
    assert_null(l1);
    free(v1);
    free(text);
    hm_dose_library_free(back);

    /* One scale only (the syn library): the reference, flagged beyond 0.02. */
    hm_dose_library *one_lib = syn_library();
    unsigned oog;
    fail_err(hm_dose_library_lookup_sized(one_lib, "5y", 'H', 1.015, &b, &r, &oog, &err), &err);
    assert_int_equal(oog, 0);
    hm_dosimetry_result_free(&r);
    fail_err(hm_dose_library_lookup_sized(one_lib, "5y", 'H', 1.1, &b, &r, &oog, &err), &err);
    assert_int_equal(oog, HM_DOSE_OFF_SIZE);
    assert_true(fabs(r.organs[0].dose_mgy_per_gy_cm2 - syn_node(x, 0)) < 1e-12);
    hm_dosimetry_result_free(&r);
    hm_dose_library_free(one_lib);
    hm_dose_library_free(lib);

    /* Reference sizes: those hm_phantom_scale scales from. */
    double h, m, h2, m2;
    fail_err(hm_dose_phantom_reference_size("5", 'h', &h, &m, &err), &err);
    hm_phantom *p;
    fail_err(hm_phantom_build("5y", 'H', &p, &err), &err);
    assert_true(h == hm_phantom_height_cm(p) && m == hm_phantom_mass_kg(p));
    assert_true(fabs(h - 109) < 1e-9 && m > 15 && m < 25);   /* ICRP 89 5-year-old: 109 cm, 19 kg */
    hm_phantom_free(p);
    fail_err(hm_dose_phantom_reference_size("5y", 'H', &h2, &m2, &err), &err);
    assert_true(h2 == h && m2 == m);
    assert_int_equal(hm_dose_phantom_reference_size("7y", 'H', &h, &m, &err), HM_EINVAL);
}

/* The parser's corpus (tests/dosimetry/corpus_library, argv[1]): a format-1
 * library (no scales, as every library before sizes) still loads and answers
 * sized lookups with its reference doses; the format-2 one has three scales
 * of the newborn whose doses are (1.5 + organ + k/4)/(1 + phantom). */
static const char *corpus_dir = "tests/dosimetry/corpus_library";

static void test_corpus_files(void **state)
{
    (void)state;
    char path[1024];
    hm_error err;
    hm_dose_library *lib;
    snprintf(path, sizeof path, "%s/tiny_newborn.csv", corpus_dir);
    fail_err(hm_dose_library_load(path, &lib, &err), &err);
    assert_int_equal(hm_dose_library_get_info(lib)->format_version, 1);
    assert_true(hm_dose_library_grid(lib)->phantoms[0].lateral_scale == 0);
    double x[HM_DOSE_NAXES] = { 70, 3.5, 0.1, 0, 0, 5, 0 };
    hm_dosimetry_beam b;
    fail_err(hm_dose_grid_node_beam(hm_dose_library_grid(lib), 0, &b, &err), &err);
    hm_dosimetry_result r, at;
    unsigned oog;
    fail_err(hm_dose_library_lookup_sized(lib, "newborn", 'H', 1.3, &b, &r, &oog, &err), &err);
    assert_int_equal(oog, HM_DOSE_OFF_SIZE);
    fail_err(hm_dose_library_lookup_at(lib, 0, x, &at, &oog, &err), &err);
    for (size_t j = 0; j < r.n; j++)
        assert_true(r.organs[j].dose_mgy_per_gy_cm2 == at.organs[j].dose_mgy_per_gy_cm2);
    hm_dosimetry_result_free(&r);
    hm_dosimetry_result_free(&at);
    hm_dose_library_free(lib);

    snprintf(path, sizeof path, "%s/sized_newborn.csv", corpus_dir);
    fail_err(hm_dose_library_load(path, &lib, &err), &err);
    assert_int_equal(hm_dose_library_get_info(lib)->format_version, 2);
    assert_int_equal(hm_dose_library_grid(lib)->nphantoms, 3);
    fail_err(hm_dose_grid_node_beam(hm_dose_library_grid(lib), 1, &b, &err), &err);
    const struct { double s; double want; } c[] = {
        { 1, 1.75 / 2 }, { 0.9, 1.75 }, { 1.15, 1.75 / 3 },
        /* log-linear: 1.75 * 2^(-(1-t)) * 3^(-t) ... between 0.9 and 1: */
        { 0.95, 1.75 / sqrt(2) } };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        fail_err(hm_dose_library_lookup_sized(lib, "newborn", 'M', c[i].s, &b, &r, &oog, &err), &err);
        assert_int_equal(oog, 0);
        assert_string_equal(r.organs[0].organ, "lung");
        assert_true(fabs(r.organs[0].dose_mgy_per_gy_cm2 - c[i].want) < 1e-6);
        hm_dosimetry_result_free(&r);
    }
    hm_dose_library_free(lib);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_grid),
        cmocka_unit_test(test_bad_grid_files),
        cmocka_unit_test(test_coords),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_curvature),
        cmocka_unit_test(test_disagreement),
        cmocka_unit_test(test_cross_validation),
        cmocka_unit_test(test_size_steps),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_corpus_files),
    };
    if (argc > 1)
        corpus_dir = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
