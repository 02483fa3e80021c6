/*
 * test_skin.c — skin dose maps (src/dosimetry/skin*.c) on the 5-year phantom:
 *  - one PA beam from the under-couch tube: the peak skin dose equals
 *    K_rp (d_rp / d_skin)^2 BSF f T at the central entrance point, computed
 *    here from the geometry (1 %); skin outside the field gets nothing; the
 *    peak is on the back;
 *  - LAO 90 and RAO 90 put the peak on opposite sides, with no table;
 *  - a prone patient: the table, and the peak, are in front;
 *  - two identical events double the map; K_rp from KAP / area gives the
 *    map of the matching K_rp;
 *  - the data lookups (backscatter factors, table transmission) against the
 *    tabulated values; bad input named;
 *  - the PNG is written and cairo reads it back at the documented size.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_dosimetry.h"

static hm_voxel_phantom phantom;
static hm_dosimetry_device dev;
static double heart_cm[3];

static int setup(void **state)
{
    (void)state;
    hm_error err;
    hm_phantom *p = NULL;
    if (hm_dosimetry_device_default(&dev, &err) || hm_phantom_build("5y", 'H', &p, &err)
        || hm_phantom_voxelise(p, 5, &phantom, &err)
        || hm_voxel_phantom_centroid(&phantom, "heart", heart_cm, &err)) {
        fprintf(stderr, "setup: %s: %s\n", err.field, err.msg);
        hm_phantom_free(p);
        return -1;
    }
    hm_phantom_free(p);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hm_voxel_phantom_free(&phantom);
    return 0;
}

/* A head-first supine (or other) event: 70 kV, 0.2 mm Cu, 20 x 20 cm at the
 * detector (15 x 15 cm at the isocentre). */
static void beam_for(double primary, double secondary, const char *modifier, hm_dosimetry_beam *b)
{
    hm_dosimetry_event e;
    hm_dosimetry_event_init(&e);
    e.kvp = 70;
    e.filter_al_mm = 0;
    e.filter_cu_mm = 0.2;
    e.primary_angle_deg = primary;
    e.secondary_angle_deg = secondary;
    e.source_isocentre_mm = 750;
    e.source_detector_mm = 1000;
    e.field_width_mm = 200;
    e.field_height_mm = 200;
    e.table_relationship = "headfirst";
    e.orientation = "recumbent";
    e.orientation_modifier = modifier;
    hm_error err;
    int rc = hm_dosimetry_event_beam(&e, NULL, &dev, HM_ALIGN_HEART, NULL, b, NULL, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", err.field, err.msg);
    assert_int_equal(rc, 0);
}

static hm_skin_map *new_map(const hm_skin_options *o)
{
    hm_skin_map *m = NULL;
    hm_error err;
    int rc = hm_skin_map_new(&phantom, 1.0, o, &m, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", err.field, err.msg);
    assert_int_equal(rc, 0);
    return m;
}

static void add(hm_skin_map *m, const hm_dosimetry_beam *b, double k_rp, double kap)
{
    hm_error err;
    int rc = hm_skin_map_add_event(m, b, k_rp, kap, &dev, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", err.field, err.msg);
    assert_int_equal(rc, 0);
}

static void test_pa(void **state)
{
    (void)state;
    hm_dosimetry_beam b;
    beam_for(0, 0, "supine", &b);
    hm_skin_map *m = new_map(NULL);
    const double k_rp = 100;
    add(m, &b, k_rp, NAN);
    hm_skin_factors f;
    hm_error err;
    assert_int_equal(hm_skin_event_factors(m, &b, k_rp, NAN, &dev, &f, &err), 0);

    /* Geometry from first principles: the source 75 cm behind the heart
     * centre, the ray towards the front, the reference point 15 cm before
     * the isocentre. */
    double d[3] = { 0, -1, 0 }, s[3], ent[3];
    for (int k = 0; k < 3; k++)
        s[k] = heart_cm[k] - 75.0 * d[k];
    assert_int_equal(hm_voxel_phantom_skin_entrance(&phantom, s, d, ent, &err), 0);
    double d_skin = sqrt(pow(ent[0] - s[0], 2) + pow(ent[1] - s[1], 2) + pow(ent[2] - s[2], 2));
    double d_rp = 75.0 - 15.0;
    /* The table + mattress at 70 kV and 0.2 mm Cu: halfway between the
     * 60 kV (0.75) and 80 kV (0.78) rows of the data file. */
    assert_true(f.table_crossed);
    assert_float_equal(f.table_t, 0.765, 1e-9);
    assert_true(f.bsf > 1.3 && f.bsf < 1.55);          /* 70 kV, 13 cm field: about 1.4 */
    assert_true(f.f_skin_air > 1.0 && f.f_skin_air < 1.1);
    assert_true(f.hvl_mm_al > 3 && f.hvl_mm_al < 7);
    assert_float_equal(f.source_skin_cm, d_skin, 0.05);
    double expected = k_rp * pow(d_rp / d_skin, 2) * f.bsf * f.f_skin_air * f.table_t;

    double psd, where[3];
    assert_int_equal(hm_skin_map_peak(m, &psd, where), 0);
    printf("PA: PSD %.3f mGy, expected %.3f (d_skin %.2f cm, BSF %.3f, f %.4f, T %.3f, HVL %.2f mm Al)\n",
           psd, expected, d_skin, f.bsf, f.f_skin_air, f.table_t, f.hvl_mm_al);
    assert_true(fabs(psd / expected - 1) < 0.01);
    /* The peak is on the back, near the central entrance point. */
    assert_true(where[1] > heart_cm[1] + 3);
    assert_true(fabs(where[0] - ent[0]) < 3 && fabs(where[2] - ent[2]) < 3);

    /* Outside the field (with one cell of margin) nothing; in front nothing. */
    hm_skin_grid g;
    hm_skin_map_grid(m, &g);
    int in_field = 0;
    for (int ih = 0; ih < g.n_height; ih++)
        for (int ia = 0; ia < g.n_angle; ia++) {
            double dose, p[3];
            if (hm_skin_map_cell(m, ia, ih, &dose, p))
                continue;
            double r[3] = { p[0] - s[0], p[1] - s[1], p[2] - s[2] };
            double t = -r[1];                           /* along d */
            double pu = r[2] / t * 75.0, pv = r[0] / t * 75.0;
            double phi = hm_skin_map_angle_deg(m, ia);
            if (fabs(pu) > 7.5 + 1 || fabs(pv) > 7.5 + 1 || fabs(phi) < 60)
                assert_true(dose == 0);
            else if (fabs(pu) < 6.5 && fabs(pv) < 6.5 && fabs(phi) > 150) {
                assert_true(dose > 0.7 * psd);
                in_field++;
            }
        }
    assert_true(in_field > 100);                        /* ~13 x 13 cells of 1 cm */
    assert_int_equal(g.events, 1);
    assert_float_equal(g.k_rp_total_mgy, k_rp, 1e-12);
    hm_skin_map_free(m);
}

static void peak_of(double primary, const char *modifier, const hm_skin_options *o, double where[3],
                    hm_skin_factors *f)
{
    hm_dosimetry_beam b;
    beam_for(primary, 0, modifier, &b);
    hm_skin_map *m = new_map(o);
    add(m, &b, 50, NAN);
    double psd;
    hm_error err;
    assert_int_equal(hm_skin_map_peak(m, &psd, where), 0);
    assert_true(psd > 0);
    assert_int_equal(hm_skin_event_factors(m, &b, 50, NAN, &dev, f, &err), 0);
    hm_skin_map_free(m);
}

static void test_lao_rao(void **state)
{
    (void)state;
    double lao[3], rao[3];
    hm_skin_factors fl, fr;
    /* LAO 90: the receptor on the patient's left, the ray enters on the right. */
    peak_of(90, "supine", NULL, lao, &fl);
    peak_of(-90, "supine", NULL, rao, &fr);
    assert_true(lao[0] < heart_cm[0] - 3);
    assert_true(rao[0] > heart_cm[0] + 3);
    assert_false(fl.table_crossed);
    assert_false(fr.table_crossed);
}

static void test_prone(void **state)
{
    (void)state;
    /* Prone: the under-couch tube now irradiates the front, through the table. */
    hm_skin_options o;
    hm_skin_options_default(&o);
    o.position = HM_POS_HFP;
    double w[3];
    hm_skin_factors f;
    peak_of(0, "prone", &o, w, &f);
    assert_true(w[1] < heart_cm[1] - 3);
    assert_true(f.table_crossed);
    assert_true(f.table_t < 1);
}

static void test_double_and_kap(void **state)
{
    (void)state;
    hm_dosimetry_beam b;
    beam_for(30, 20, "supine", &b);
    hm_skin_map *one = new_map(NULL), *two = new_map(NULL), *bykap = new_map(NULL);
    const double k_rp = 40;
    add(one, &b, k_rp, NAN);
    add(two, &b, k_rp, NAN);
    add(two, &b, k_rp, NAN);
    /* KAP = K_rp x field area at the reference point (60 of 75 cm). */
    double s = 60.0 / 75.0, kap = k_rp / 1000.0 * b.field_w_cm * b.field_h_cm * s * s;
    add(bykap, &b, NAN, kap);
    double p1, p2, pk;
    assert_int_equal(hm_skin_map_peak(one, &p1, NULL), 0);
    assert_int_equal(hm_skin_map_peak(two, &p2, NULL), 0);
    assert_int_equal(hm_skin_map_peak(bykap, &pk, NULL), 0);
    assert_true(p1 > 0);
    assert_true(fabs(p2 / (2 * p1) - 1) < 1e-12);
    assert_true(fabs(pk / p1 - 1) < 1e-12);
    float *c1, *c2, *ck;
    size_t n1, n2, nk;
    hm_skin_grid g;
    hm_error err;
    assert_int_equal(hm_skin_map_pack(one, &c1, &n1, &g, &err), 0);
    assert_int_equal(hm_skin_map_pack(two, &c2, &n2, NULL, &err), 0);
    assert_int_equal(hm_skin_map_pack(bykap, &ck, &nk, NULL, &err), 0);
    assert_int_equal(n1, (size_t)g.n_angle * g.n_height);
    assert_int_equal(n1, n2);
    assert_int_equal(n1, nk);
    assert_int_equal(g.n_angle % 4, 0);
    int skin = 0, dosed = 0;
    for (size_t i = 0; i < n1; i++) {
        if (c1[i] < 0) {
            assert_true(c2[i] == -1.0f && ck[i] == -1.0f);
            continue;
        }
        skin++;
        dosed += c1[i] > 0;
        assert_true(fabs(c2[i] - 2 * c1[i]) <= 1e-6f * c2[i]);
        assert_true(fabs(ck[i] - c1[i]) <= 1e-6f * c1[i]);
    }
    assert_true(skin > 1000 && dosed > 50);
    /* Clearing starts the next procedure from zero. */
    hm_skin_map_clear(two);
    assert_int_equal(hm_skin_map_peak(two, &p2, NULL), 0);
    assert_true(p2 == 0);
    free(c1);
    free(c2);
    free(ck);
    hm_skin_map_free(one);
    hm_skin_map_free(two);
    hm_skin_map_free(bykap);
}

static void test_data(void **state)
{
    (void)state;
    hm_error err;
    double v;
    /* Table nodes (data/dosimetry/backscatter_water.csv, Benmakhlouf 2011). */
    assert_int_equal(hm_skin_backscatter(80, 3.12, 10, &v, &err), 0);
    assert_float_equal(v, 1.330, 1e-12);
    assert_int_equal(hm_skin_backscatter(80, 3.12, 15, &v, &err), 0);
    assert_float_equal(v, 0.5 * (1.330 + 1.388), 1e-12);
    /* 75 kV, HVL 3 mm Al, 10 cm: within the 70 and 80 kV rows, then halfway. */
    double a70 = 1.312 + (3.0 - 2.73) / (4.08 - 2.73) * (1.377 - 1.312);
    double a80 = 1.312 + (3.0 - 2.77) / (3.12 - 2.77) * (1.330 - 1.312);
    assert_int_equal(hm_skin_backscatter(75, 3.0, 10, &v, &err), 0);
    assert_float_equal(v, 0.5 * (a70 + a80), 1e-12);
    /* Clamped beyond the table: 40 kV, 1 mm Al, 2 cm -> the first row. */
    assert_int_equal(hm_skin_backscatter(40, 1.0, 2, &v, &err), 0);
    assert_float_equal(v, 1.192, 1e-12);

    hm_skin_options o;
    hm_skin_options_default(&o);
    assert_int_equal(hm_skin_table_transmission(&o, 70, 0.2, &v, &err), 0);
    assert_float_equal(v, 0.765, 1e-12);
    assert_int_equal(hm_skin_table_transmission(&o, 125, 0.9, &v, &err), 0);
    assert_float_equal(v, 0.86, 1e-12);
    o.no_mattress = 1;
    assert_int_equal(hm_skin_table_transmission(&o, 95, 0.05, &v, &err), 0);
    /* kVp 95 between 80 and 110 at Cu 0 and 0.1 (table only). */
    double c0 = 0.82, c1 = 0.84 + 0.5 * (0.86 - 0.84);
    assert_float_equal(v, 0.5 * (c0 + c1), 1e-12);
    o.no_mattress = 0;
    o.table_transmission = 0.7;
    assert_int_equal(hm_skin_table_transmission(&o, 95, 0.05, &v, &err), 0);
    assert_float_equal(v, 0.7, 0);
    o.no_table = 1;
    assert_int_equal(hm_skin_table_transmission(&o, 95, 0.05, &v, &err), 0);
    assert_float_equal(v, 1, 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_errors(void **state)
{
    (void)state;
    hm_error err;
    hm_skin_map *m = NULL;
    assert_int_equal(hm_skin_map_new(&phantom, 0, NULL, &m, &err), HM_EINVAL);
    assert_string_equal(err.field, "cell_cm");
    assert_null(m);

    char path[512];
    snprintf(path, sizeof path, "%s/table_bad.csv", HM_TEST_TMPDIR);
    write_file(path, "kvp,cu_mm,table,table_mattress\n70,0.2,1.5,0.7\n");
    hm_skin_options o;
    hm_skin_options_default(&o);
    o.table_file = path;
    assert_int_equal(hm_skin_map_new(&phantom, 1, &o, &m, &err), HM_EPARSE);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.field, "table");
    write_file(path, "kvp,cu_mm,table,table_mattress\n70,0,0.8,0.7\n90,0,0.8,0.7\n70,0.2,0.8,0.7\n");
    assert_int_equal(hm_skin_map_new(&phantom, 1, &o, &m, &err), HM_EPARSE);
    assert_non_null(strstr(err.msg, "full grid"));

    m = new_map(NULL);
    hm_dosimetry_beam b;
    beam_for(0, 0, "supine", &b);
    assert_int_equal(hm_skin_map_add_event(m, &b, NAN, NAN, &dev, &err), HM_EINVAL);
    assert_string_equal(err.field, "rp_air_kerma_mgy");
    b.kvp = 200;
    assert_int_equal(hm_skin_map_add_event(m, &b, 10, NAN, &dev, &err), HM_EINVAL);
    assert_string_equal(err.field, "kvp");
    hm_skin_map_free(m);
}

static void test_png(void **state)
{
    (void)state;
    hm_skin_map *m = new_map(NULL);
    /* A small procedure: PA, LAO 30 cranial 20, RAO 30 and a lateral. */
    const double ang[4][2] = { { 0, 0 }, { 30, 20 }, { -30, 0 }, { 90, 0 } };
    const double k[4] = { 60, 40, 30, 25 };
    for (int i = 0; i < 4; i++) {
        hm_dosimetry_beam b;
        beam_for(ang[i][0], ang[i][1], "supine", &b);
        add(m, &b, k[i], NAN);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/skin_map.png", HM_TEST_TMPDIR);
    remove(path);
    hm_error err;
    assert_int_equal(hm_skin_map_write_png(m, path, "5-year phantom, 4 events", &err), 0);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(s), HM_SKIN_PNG_WIDTH);
    assert_int_equal(cairo_image_surface_get_height(s), HM_SKIN_PNG_HEIGHT);
    cairo_surface_destroy(s);
    /* A folder that does not exist: the error names the file. */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/map.png", HM_TEST_TMPDIR);
    assert_int_equal(hm_skin_map_write_png(m, bad, "x", &err), HM_EIO);
    assert_string_equal(err.file, bad);
    hm_skin_map_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data),
        cmocka_unit_test(test_pa),
        cmocka_unit_test(test_lao_rao),
        cmocka_unit_test(test_prone),
        cmocka_unit_test(test_double_and_kap),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_png),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
