/*
 * test_mc_scene.c — scenes: JSON errors name file, line and field; painter's
 * rule and quadric solids (masses, transmission); voxel grids agree with the
 * analytic solid they discretise; dose units; the `harmonic mc` command.
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

#define PI 3.14159265358979323846

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int load_text(const char *text, hm_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scene.json", HM_TEST_TMPDIR);
    write_file(path, text);
    hm_mc_scene *s = NULL;
    hm_mc_run_params p;
    int rc = hm_mc_scene_load(path, &s, &p, err);
    hm_mc_scene_free(s);
    return rc;
}

#define GOOD_SOURCE "\"source\": {\"type\": \"cone\", \"position_cm\": [0,0,0], \"direction\": [0,0,1], " \
                    "\"half_angle_deg\": 5, \"energy_kev\": 60}"

static void test_json_errors(void **state)
{
    (void)state;
    hm_error err;
    assert_int_equal(load_text("{\n \"materials\": [\n {\"name\": \"water\"},\n ]\n}\n", &err), HM_EPARSE);
    assert_int_equal(err.line, 4);
    assert_int_equal(load_text("{\"materials\": [{\"name\": \"unobtainium\"}], " GOOD_SOURCE "}", &err),
                     HM_ENOTFOUND);
    assert_string_equal(err.field, "materials[0]");
    assert_non_null(strstr(err.msg, "unobtainium"));
    assert_int_equal(load_text("{\"materials\": [{\"name\": \"water\"}], \"solids\": [{\"type\": \"box\", "
                               "\"center_cm\": [0,0,0], \"half_cm\": [1,1], \"material\": \"water\", "
                               "\"region\": 1}], " GOOD_SOURCE "}", &err), HM_EVALIDATE);
    assert_string_equal(err.field, "solids[0].half_cm");
    assert_int_equal(load_text("{\"materials\": [{\"name\": \"water\"}], \"solids\": [{\"type\": \"box\", "
                               "\"center_cm\": [0,0,0], \"half_cm\": [1,1,1], \"material\": \"air\", "
                               "\"region\": 1}], " GOOD_SOURCE "}", &err), HM_EVALIDATE);
    assert_string_equal(err.field, "solids[0].material");
    assert_int_equal(load_text("{\"materials\": [{\"name\": \"water\"}], \"source\": {\"type\": \"cone\", "
                               "\"position_cm\": [0,0,0], \"direction\": [0,0,1], \"half_angle_deg\": 5}}", &err),
                     HM_EVALIDATE);
    assert_string_equal(err.field, "source");
    assert_int_equal(load_text("{\"materials\": [{\"name\": \"water\"}], \"source\": {\"type\": \"cone\", "
                               "\"position_cm\": [0,0,0], \"direction\": [0,0,1], \"half_angle_deg\": 95, "
                               "\"energy_kev\": 60}}", &err), HM_EINVAL);
    assert_string_equal(err.field, "half_angle_deg");
    /* a voxel file of the wrong size */
    char raw[512];
    snprintf(raw, sizeof raw, "%s/ids.raw", HM_TEST_TMPDIR);
    write_file(raw, "\001\001\001");
    assert_int_equal(load_text("{\"materials\": [{\"name\": \"water\"}], \"voxels\": {\"dims\": [2,2,1], "
                               "\"voxel_cm\": [1,1,1], \"origin_cm\": [0,0,10], \"file\": \"ids.raw\", "
                               "\"materials\": [\"vacuum\", \"water\"]}, " GOOD_SOURCE "}", &err), HM_EVALIDATE);
    assert_string_equal(err.field, "voxels.file");
    /* a good one loads */
    FILE *fr = fopen(raw, "wb");
    assert_non_null(fr);
    fwrite("\001\001\001\000", 1, 4, fr);   /* 2x2x1 voxels, one of vacuum */
    fclose(fr);
    assert_int_equal(load_text("{\"materials\": [{\"name\": \"water\"}], \"voxels\": {\"dims\": [2,2,1], "
                               "\"voxel_cm\": [1,1,1], \"origin_cm\": [0,0,10], \"file\": \"ids.raw\", "
                               "\"materials\": [\"vacuum\", \"water\"]}, " GOOD_SOURCE "}", &err), 0);
}

static hm_mc_scene *pencil_scene(double e_kev)
{
    hm_mc_scene *s;
    hm_error err;
    assert_int_equal(hm_mc_scene_new(&s, &err), 0);
    double lo[3] = { -30, -30, -1 }, hi[3] = { 30, 30, 301 };
    assert_int_equal(hm_mc_set_world(s, -1, lo, hi, &err), 0);
    hm_mc_source src = { .kind = HM_MC_SRC_PARALLEL, .position_cm = { 0, 0, 0 },
                         .direction = { 0, 0, 1 }, .u_min_cm = -0.01, .u_max_cm = 0.01,
                         .v_min_cm = -0.01, .v_max_cm = 0.01, .energy_kev = e_kev };
    assert_int_equal(hm_mc_set_source(s, &src, &err), 0);
    double c[3] = { 0, 0, 300 }, n[3] = { 0, 0, 1 };
    assert_int_equal(hm_mc_add_kerma_disc(s, c, n, 0.05, &err), 0);
    return s;
}

/* Runs s with the default parameters, n histories on 2 threads. */
static void run_scene(hm_mc_scene *s, long long n, hm_mc_results *r)
{
    hm_error err;
    hm_mc_run_params p;
    hm_mc_run_params_default(&p);
    p.histories = n;
    p.threads = 2;
    if (hm_mc_run(s, &p, r, &err)) fail_msg("%s", err.msg);
}

/* Painter's rule: a vacuum box inside a water box leaves 2 cm of water on
 * the axis; an ellipsoid and a cylinder of water give their chord. */
static void test_painter_and_quadrics(void **state)
{
    (void)state;
    hm_error err;
    double mu_rho;
    assert_int_equal(hm_mc_material_mu_rho("water", 60, &mu_rho, NULL, &err), 0);
    static const struct { int kind; double half[3]; int axis; double chord_cm; } c[] = {
        { HM_MC_BOX, { 5, 5, 5 }, 0, 2.0 },          /* with the inner vacuum box below */
        { HM_MC_ELLIPSOID, { 3, 4, 2 }, 0, 4.0 },
        { HM_MC_CYLINDER, { 4, 3, 6 }, 0, 12.0 },    /* along x, semi-axes 3 (y) and 6 (z) */
    };
    for (int i = 0; i < 3; i++) {
        hm_mc_scene *s = pencil_scene(60);
        int w = hm_mc_add_material(s, "water", 0, &err);
        hm_mc_solid so = { .kind = c[i].kind, .center_cm = { 0, 0, 50 }, .material = w, .region = 1 };
        memcpy(so.half_cm, c[i].half, sizeof so.half_cm);
        so.axis = c[i].axis;
        assert_true(hm_mc_add_solid(s, &so, &err) >= 0);
        double chord = c[i].chord_cm;
        if (i == 0) {
            hm_mc_solid hole = { .kind = HM_MC_BOX, .center_cm = { 0, 0, 50 }, .half_cm = { 4, 4, 4 },
                                 .material = -1, .region = 2 };
            assert_true(hm_mc_add_solid(s, &hole, &err) >= 0);
        }
        hm_mc_results r;
        run_scene(s, 400000, &r);
        double t = r.disc_fluence_cm2[0] * PI * 0.05 * 0.05 / 1.0;   /* fraction transmitted */
        double expect = exp(-mu_rho * chord);
        double sd = sqrt(expect * (1 - expect) / 400000.0);
        if (fabs(t - expect) > 4 * sd)
            fail_msg("solid %d: transmission %.5f, expected %.5f +- %.5f", i, t, expect, sd);
        /* masses */
        double vol = i == 0 ? 1000.0 - 512.0 : i == 1 ? 4.0 / 3.0 * PI * 3 * 4 * 2 : PI * 3 * 6 * 8;
        if (fabs(r.mass_g[1] / vol - 1) > 0.03)
            fail_msg("solid %d: mass %.2f g, expected %.2f", i, r.mass_g[1], vol);
        /* dose = energy / mass */
        assert_true(fabs(r.dose_gy[1] - r.edep_ev[1] * 1.602176634e-19 / (r.mass_g[1] * 1e-3)) <
                    1e-6 * r.dose_gy[1]);
        hm_mc_results_free(&r);
        hm_mc_scene_free(s);
    }
}

/* Score boxes: 9 x 9 = 81 boxes (more than one 64-bit word of the lookup
 * table) tile a water slab exactly, half-open, so every deposit in the slab
 * falls in exactly one box: their sum must equal the slab's energy to
 * rounding.  A box covering the slab gets the same total, and a box outside
 * everything gets nothing. */
static void test_score_boxes_tile(void **state)
{
    (void)state;
    hm_error err;
    hm_mc_scene *s;
    assert_int_equal(hm_mc_scene_new(&s, &err), 0);
    int w = hm_mc_add_material(s, "water", 0, &err);
    double lo[3] = { -20, -20, -1 }, hi[3] = { 20, 20, 60 };
    assert_int_equal(hm_mc_set_world(s, -1, lo, hi, &err), 0);
    hm_mc_solid slab = { .kind = HM_MC_BOX, .center_cm = { 0, 0, 30 }, .half_cm = { 9, 9, 5 },
                         .material = w, .region = 1 };
    assert_true(hm_mc_add_solid(s, &slab, &err) >= 0);
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 9; j++) {
            double blo[3] = { -9 + 2 * i, -9 + 2 * j, 25 }, bhi[3] = { -7 + 2 * i, -7 + 2 * j, 35 };
            assert_int_equal(hm_mc_add_score_box(s, blo, bhi, 2 + 9 * i + j, &err), 0);
        }
    double clo[3] = { -10, -10, 24 }, chi[3] = { 10, 10, 36 };
    assert_int_equal(hm_mc_add_score_box(s, clo, chi, 83, &err), 0);
    double olo[3] = { 12, 12, 0 }, ohi[3] = { 15, 15, 59 };
    assert_int_equal(hm_mc_add_score_box(s, olo, ohi, 84, &err), 0);
    hm_mc_source src = { .kind = HM_MC_SRC_RECT, .position_cm = { 0, 0, 0 }, .direction = { 0, 0, 1 },
                         .plane_distance_cm = 25, .u_min_cm = -8, .u_max_cm = 8, .v_min_cm = -8,
                         .v_max_cm = 8, .energy_kev = 60 };
    assert_int_equal(hm_mc_set_source(s, &src, &err), 0);
    hm_mc_results r;
    run_scene(s, 100000, &r);
    assert_int_equal(r.nregions, 85);
    double sum = 0;
    int empty = 0;
    for (int k = 2; k < 83; k++) {
        sum += r.edep_ev[k];
        empty += r.edep_ev[k] == 0;
    }
    /* a third of the 60 keV stays in 10 cm of water (19.2 keV measured) */
    assert_true(r.edep_ev[1] > 15000 && r.edep_ev[1] < 25000);
    if (fabs(sum / r.edep_ev[1] - 1) > 1e-9)
        fail_msg("81 tiles sum to %.9g eV, slab %.9g eV", sum, r.edep_ev[1]);
    assert_true(fabs(r.edep_ev[83] / r.edep_ev[1] - 1) < 1e-12);
    assert_true(r.edep_ev[84] == 0.0);
    assert_int_equal(empty, 0);   /* scatter reaches every tile */
    hm_mc_results_free(&r);
    hm_mc_scene_free(s);
}

/* A water slab as a box and as a voxel grid (with per-voxel density) must
 * give the same energy imparted within statistics. */
static void test_voxels_match_box(void **state)
{
    (void)state;
    hm_error err;
    double edep[2], sd[2];
    for (int pass = 0; pass < 2; pass++) {
        hm_mc_scene *s;
        assert_int_equal(hm_mc_scene_new(&s, &err), 0);
        int air = hm_mc_add_material(s, "air", 0, &err);
        int w = hm_mc_add_material(s, "water", pass ? 0 : 1.2, &err);
        double lo[3] = { -30, -30, -10 }, hi[3] = { 30, 30, 150 };
        hm_mc_set_world(s, air, lo, hi, &err);
        if (pass == 0) {
            hm_mc_solid so = { .kind = HM_MC_BOX, .center_cm = { 0, 0, 102.5 }, .half_cm = { 10, 10, 2.5 },
                               .material = w, .region = 1 };
            assert_true(hm_mc_add_solid(s, &so, &err) >= 0);
        } else {
            int nx = 40, ny = 40, nz = 10;
            uint8_t *ids = malloc((size_t)nx * ny * nz);
            float *dens = malloc(sizeof(float) * nx * ny * nz);
            for (int i = 0; i < nx * ny * nz; i++) { ids[i] = 1; dens[i] = 1.2f; }
            int map[2] = { air, w };
            hm_mc_voxels v = { .nx = nx, .ny = ny, .nz = nz, .voxel_cm = { 0.5, 0.5, 0.5 },
                               .origin_cm = { -10, -10, 100 }, .mat8 = ids, .material_map = map,
                               .nmaterial_map = 2, .region_default = 1, .density_g_cm3 = dens,
                               .score_voxels = 1 };
            assert_true(hm_mc_add_voxels(s, &v, &err) >= 0);
            free(ids);
            free(dens);
        }
        hm_mc_source src = { .kind = HM_MC_SRC_RECT, .position_cm = { 0, 0, 0 },
                             .direction = { 0, 0, 1 }, .plane_distance_cm = 100,
                             .u_min_cm = -8, .u_max_cm = 8, .v_min_cm = -5, .v_max_cm = 8,
                             .energy_kev = 50 };
        assert_int_equal(hm_mc_set_source(s, &src, &err), 0);
        hm_mc_results r;
        run_scene(s, 200000, &r);
        edep[pass] = r.edep_ev[1];
        sd[pass] = r.edep_ev_sigma[1];
        assert_true(fabs(r.mass_g[1] / (20 * 20 * 5 * 1.2) - 1) < 1e-6 || pass == 0);
        if (pass == 1) {   /* the per-voxel tally sums to the region */
            double sum = 0;
            for (size_t i = 0; i < r.nvoxels; i++) sum += r.voxel_edep_ev[i];
            assert_int_equal(r.nvoxels, 16000);
            assert_true(fabs(sum / r.edep_ev[1] - 1) < 1e-9);
        }
        hm_mc_results_free(&r);
        hm_mc_scene_free(s);
    }
    if (fabs(edep[0] - edep[1]) > 4 * hypot(sd[0], sd[1]))
        fail_msg("box %.2f +- %.2f eV, voxels %.2f +- %.2f eV", edep[0], sd[0], edep[1], sd[1]);
}

static void test_cli(void **state)
{
    (void)state;
    char cmd[2048], out[512];
    snprintf(out, sizeof out, "%s/cli.json", HM_TEST_TMPDIR);
    snprintf(cmd, sizeof cmd, "HARMONIC_DATA=%s %s mc run %s/../examples/mc/tg195/case2_56keV_radiography.json "
             "--histories 20000 --threads 1 --json > %s", HM_SOURCE_DATA_DIR, HM_HARMONIC_EXE,
             HM_SOURCE_DATA_DIR, out);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    assert_non_null(strstr(buf, "\"Total body\""));
    assert_non_null(strstr(buf, "\"edep_ev_per_history\""));
    snprintf(cmd, sizeof cmd, "HARMONIC_DATA=%s %s mc spectrum --kvp 80 --al-mm 2.85 > %s",
             HM_SOURCE_DATA_DIR, HM_HARMONIC_EXE, out);
    assert_int_equal(system(cmd), 0);
    f = fopen(out, "r");
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    double hvl = 0;
    char *h = strstr(buf, "HVL1 ");
    assert_non_null(h);
    hvl = atof(h + 5);
    assert_true(fabs(hvl / 3.0 - 1) < 0.03);    /* RQR6 */
    snprintf(cmd, sizeof cmd, "%s mc run 2>/dev/null", HM_HARMONIC_EXE);
    int rc = system(cmd);
    assert_int_equal(WEXITSTATUS(rc), 2);
    snprintf(cmd, sizeof cmd, "%s mc run /nonexistent.json 2>/dev/null", HM_HARMONIC_EXE);
    rc = system(cmd);
    assert_int_equal(WEXITSTATUS(rc), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_painter_and_quadrics),
        cmocka_unit_test(test_voxels_match_box),
        cmocka_unit_test(test_score_boxes_tile),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
