/*
 * test_event.c — irradiation events as beams (src/dosimetry/event.c):
 *  - C-arm angles (DICOM PS3.3 C.8.7.5: receptor position, LAO and cranial
 *    positive) and every patient position to a central-ray direction;
 *  - the position read from RDSR texts, with missing parts imputed;
 *  - the field at the detector scaled to the isocentre, and the fallbacks
 *    (area, KAP / reference-point kerma, device default);
 *  - imputation flags and the procedure's other event as a fallback;
 *  - table displacement with the table-position alignment.
 * With argument "mc", the sign conventions are checked by transport on the
 * 5-year phantom: which organ's dose rises (release build only: label nosan).
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

static hm_dosimetry_device dev;

static void event_hfs(hm_dosimetry_event *e, double primary, double secondary)
{
    hm_dosimetry_event_init(e);
    e->kvp = 75;
    e->filter_al_mm = 1;
    e->filter_cu_mm = 0.2;
    e->primary_angle_deg = primary;
    e->secondary_angle_deg = secondary;
    e->source_isocentre_mm = 750;
    e->source_detector_mm = 1000;
    e->field_width_mm = 200;
    e->field_height_mm = 160;
    e->table_relationship = "headfirst";
    e->orientation = "recumbent";
    e->orientation_modifier = "supine";
}

static void beam_of(const hm_dosimetry_event *e, hm_dosimetry_beam *b, unsigned *imp)
{
    hm_error err;
    int rc = hm_dosimetry_event_beam(e, NULL, &dev, HM_ALIGN_HEART, NULL, b, imp, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", err.field, err.msg);
    assert_int_equal(rc, 0);
}

static void assert_vec(const double *v, double x, double y, double z)
{
    assert_true(fabs(v[0] - x) < 1e-12 && fabs(v[1] - y) < 1e-12 && fabs(v[2] - z) < 1e-12);
}

static void test_angles_hfs(void **state)
{
    (void)state;
    hm_dosimetry_event e;
    hm_dosimetry_beam b;
    unsigned imp;
    /* 0/0: receptor anterior, tube under the table: the ray goes posterior -> anterior. */
    event_hfs(&e, 0, 0);
    beam_of(&e, &b, &imp);
    assert_int_equal(imp, 0);
    assert_vec(b.direction, 0, -1, 0);
    /* LAO 90: receptor at the patient's left, the ray travels to the left (+x). */
    event_hfs(&e, 90, 0);
    beam_of(&e, &b, &imp);
    assert_vec(b.direction, 1, 0, 0);
    event_hfs(&e, -90, 0);
    beam_of(&e, &b, &imp);
    assert_vec(b.direction, -1, 0, 0);
    /* LAO 30: a posterior-right source, ray towards the anterior left. */
    event_hfs(&e, 30, 0);
    beam_of(&e, &b, &imp);
    assert_vec(b.direction, 0.5, -sqrt(3) / 2, 0);
    /* CRA 30: receptor towards the head, the ray travels cranially. */
    event_hfs(&e, 0, 30);
    beam_of(&e, &b, &imp);
    assert_vec(b.direction, 0, -sqrt(3) / 2, 0.5);
    event_hfs(&e, 0, -30);
    beam_of(&e, &b, &imp);
    assert_vec(b.direction, 0, -sqrt(3) / 2, -0.5);
    /* Spectrum and distances: inherent filtration added to the event's Al. */
    assert_true(fabs(b.filter_al_mm - (dev.inherent_filter_al_mm + 1)) < 1e-12);
    assert_true(fabs(b.filter_cu_mm - 0.2) < 1e-12);
    assert_true(fabs(b.kvp - 75) < 1e-12);
    assert_true(fabs(b.source_isocentre_cm - 75) < 1e-12);
}

/* For each position: where a device LAO 90 ray and a cranial ray end up,
 * and that the mapping is a proper rotation (right-handed). */
static void test_positions(void **state)
{
    (void)state;
    struct { const char *rel, *mod; double lao90[3], cra90[3], pa[3]; } cases[] = {
        /* head first supine: identity */
        { "headfirst", "supine", { 1, 0, 0 }, { 0, 0, 1 }, { 0, -1, 0 } },
        /* feet first supine: left and head reversed */
        { "feet-first", "supine", { -1, 0, 0 }, { 0, 0, -1 }, { 0, -1, 0 } },
        /* head first prone: the under-couch tube is now in front (AP) */
        { "headfirst", "prone", { -1, 0, 0 }, { 0, 0, 1 }, { 0, 1, 0 } },
        { "Feet First", "Prone", { 1, 0, 0 }, { 0, 0, -1 }, { 0, 1, 0 } },
        /* head first, lying on the left side: the floor (device +y) is the
         * patient's left, the ceiling (the PA ray) the patient's right and
         * the device's left the patient's front */
        { "headfirst", "left lateral decubitus", { 0, -1, 0 }, { 0, 0, 1 }, { -1, 0, 0 } },
        { "headfirst", "right lateral decubitus", { 0, 1, 0 }, { 0, 0, 1 }, { 1, 0, 0 } },
        { "feetfirst", "left lateral decubitus", { 0, 1, 0 }, { 0, 0, -1 }, { -1, 0, 0 } },
        { "feetfirst", "right lateral decubitus", { 0, -1, 0 }, { 0, 0, -1 }, { 1, 0, 0 } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hm_dosimetry_event e;
        hm_dosimetry_beam b1, b2, b3;
        unsigned imp;
        event_hfs(&e, 90, 0);
        e.table_relationship = cases[i].rel;
        e.orientation_modifier = cases[i].mod;
        beam_of(&e, &b1, &imp);
        e.primary_angle_deg = 0;
        e.secondary_angle_deg = 90;
        beam_of(&e, &b2, &imp);
        e.secondary_angle_deg = 0;
        beam_of(&e, &b3, &imp);
        assert_int_equal(imp, 0);
        fprintf(stderr, "%s %s\n", cases[i].rel, cases[i].mod);
        assert_vec(b1.direction, cases[i].lao90[0], cases[i].lao90[1], cases[i].lao90[2]);
        assert_vec(b2.direction, cases[i].cra90[0], cases[i].cra90[1], cases[i].cra90[2]);
        assert_vec(b3.direction, cases[i].pa[0], cases[i].pa[1], cases[i].pa[2]);
        /* Device x, -y, z mapped: (x) x (-y)... check det = +1 via x_dev x y_dev = z_dev. */
        double x[3], y[3], z[3];
        memcpy(x, b1.direction, sizeof x);                       /* image of device +x */
        for (int k = 0; k < 3; k++)
            y[k] = -b3.direction[k];                             /* image of device +y */
        memcpy(z, b2.direction, sizeof z);                       /* image of device +z */
        double c[3] = { x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2],
                        x[0] * y[1] - x[1] * y[0] };
        assert_vec(c, z[0], z[1], z[2]);
    }
}

static void test_position_text(void **state)
{
    (void)state;
    hm_patient_position p;
    int imp;
    hm_error err;
    assert_int_equal(hm_dosimetry_patient_position("headfirst", "recumbent", "supine", &p, &imp, &err), 0);
    assert_int_equal(p, HM_POS_HFS);
    assert_int_equal(imp, 0);
    assert_int_equal(hm_dosimetry_patient_position("Feet-First", "Recumbent", "Prone", &p, &imp, &err), 0);
    assert_int_equal(p, HM_POS_FFP);
    assert_int_equal(hm_dosimetry_patient_position(NULL, "head first supine", NULL, &p, &imp, &err), 0);
    assert_int_equal(p, HM_POS_HFS);
    assert_int_equal(imp, 0);
    assert_int_equal(hm_dosimetry_patient_position("FFDL", "", "", &p, &imp, &err), 0);
    assert_int_equal(p, HM_POS_FFDL);
    assert_string_equal(hm_dosimetry_position_name(p), "FFDL");
    /* The modifier missing (common in RDSRs): supine, flagged. */
    assert_int_equal(hm_dosimetry_patient_position("feetfirst", "recumbent", "", &p, &imp, &err), 0);
    assert_int_equal(p, HM_POS_FFS);
    assert_int_equal(imp, 1);
    assert_int_equal(hm_dosimetry_patient_position("", "", "", &p, &imp, &err), 0);
    assert_int_equal(p, HM_POS_HFS);
    assert_int_equal(imp, 1);
    assert_int_equal(hm_dosimetry_patient_position("headfirst", "recumbent", "sideways", &p, &imp, &err),
                     HM_EINVAL);
    assert_string_equal(err.field, "patient_orientation_modifier");
    assert_non_null(strstr(err.msg, "'sideways'"));
}

static void test_field(void **state)
{
    (void)state;
    hm_dosimetry_event e;
    hm_dosimetry_beam b;
    unsigned imp;
    /* 200 x 160 mm at 1000 mm -> x 750/1000 at the isocentre. */
    event_hfs(&e, 0, 0);
    beam_of(&e, &b, &imp);
    assert_true(fabs(b.field_w_cm - 15) < 1e-12 && fabs(b.field_h_cm - 12) < 1e-12);
    /* Area only (at the receptor): a square. */
    e.field_width_mm = e.field_height_mm = NAN;
    e.field_area_cm2 = 400;
    beam_of(&e, &b, &imp);
    assert_int_equal(imp, 0);
    assert_true(fabs(b.field_w_cm - 15) < 1e-12 && fabs(b.field_h_cm - 15) < 1e-12);
    /* Neither: from KAP / K_rp.  1 Gy cm2 / 10 mGy = 100 cm2 at the reference
     * point, 600 mm from the source -> side 10 cm x 750/600 = 12.5 cm. */
    e.field_area_cm2 = NAN;
    e.kap_gy_cm2 = 1;
    e.rp_air_kerma_mgy = 10;
    beam_of(&e, &b, &imp);
    assert_int_equal(imp, HM_IMPUTED_FIELD);
    assert_true(fabs(b.field_w_cm - 12.5) < 1e-12 && fabs(b.field_h_cm - 12.5) < 1e-12);
    /* Nothing at all: the device default (200 mm at the receptor). */
    e.kap_gy_cm2 = NAN;
    beam_of(&e, &b, &imp);
    assert_int_equal(imp, HM_IMPUTED_FIELD);
    assert_true(fabs(b.field_w_cm - 0.1 * dev.field_at_detector_mm * 0.75) < 1e-12);
    /* A detector closer than the isocentre is an error naming the field. */
    event_hfs(&e, 0, 0);
    e.source_detector_mm = 600;
    hm_error err;
    assert_int_equal(hm_dosimetry_event_beam(&e, NULL, &dev, HM_ALIGN_HEART, NULL, &b, &imp, &err),
                     HM_EINVAL);
    assert_string_equal(err.field, "source_detector_mm");
}

static void test_imputation(void **state)
{
    (void)state;
    hm_dosimetry_event e, prev;
    hm_dosimetry_beam b;
    unsigned imp;
    hm_error err;
    /* A bare event: everything from the device and the rules, all flagged. */
    hm_dosimetry_event_init(&e);
    assert_int_equal(hm_dosimetry_event_beam(&e, NULL, &dev, HM_ALIGN_HEART, NULL, &b, &imp, &err), 0);
    unsigned all = HM_IMPUTED_KVP | HM_IMPUTED_FILTER | HM_IMPUTED_ANGLES | HM_IMPUTED_SID
                 | HM_IMPUTED_SDD | HM_IMPUTED_FIELD | HM_IMPUTED_POSITION;
    assert_int_equal(imp, all);
    char names[128];
    hm_dosimetry_imputed_names(imp, names, sizeof names);
    assert_string_equal(names, "kvp,filter,angles,source_isocentre,source_detector,field,position");
    assert_true(fabs(b.kvp - 70) < 1e-12);
    assert_true(fabs(b.filter_al_mm - dev.inherent_filter_al_mm) < 1e-12 && b.filter_cu_mm == 0);
    assert_true(fabs(b.source_isocentre_cm - 0.1 * dev.source_isocentre_mm) < 1e-12);
    assert_vec(b.direction, 0, -1, 0);
    /* The procedure's previous event fills the gaps before the device does. */
    event_hfs(&prev, 30, 20);
    prev.table_relationship = "feetfirst";
    prev.kvp = 81;
    prev.source_isocentre_mm = 800;
    prev.source_detector_mm = 1100;
    assert_int_equal(hm_dosimetry_event_beam(&e, &prev, &dev, HM_ALIGN_HEART, NULL, &b, &imp, &err), 0);
    assert_int_equal(imp, all);
    assert_true(fabs(b.kvp - 81) < 1e-12);
    assert_true(fabs(b.source_isocentre_cm - 80) < 1e-12);
    assert_true(fabs(b.field_w_cm - 20 * 800.0 / 1100) < 1e-12);
    assert_true(fabs(b.field_h_cm - 16 * 800.0 / 1100) < 1e-12);
    /* The previous event's feet-first position: LAO 30 turns into patient-right. */
    assert_true(b.direction[0] < -0.4 && b.direction[2] < -0.3);
    /* Copper reported, aluminium not: no added Al, not an imputation. */
    event_hfs(&e, 0, 0);
    e.filter_al_mm = NAN;
    beam_of(&e, &b, &imp);
    assert_int_equal(imp, 0);
    assert_true(fabs(b.filter_al_mm - dev.inherent_filter_al_mm) < 1e-12);
}

static void test_table(void **state)
{
    (void)state;
    hm_dosimetry_event ref, e;
    hm_dosimetry_beam b;
    unsigned imp;
    hm_error err;
    event_hfs(&ref, 0, 0);
    ref.table_lateral_mm = 10;
    ref.table_longitudinal_mm = -300;
    ref.table_height_mm = 900;
    e = ref;
    e.table_longitudinal_mm = -250;    /* +50 mm: the patient moves 5 cm towards the head */
    e.table_lateral_mm = 30;           /* +20 mm: 2 cm to the patient's left */
    e.table_height_mm = 920;           /* +20 mm up: 2 cm anterior */
    assert_int_equal(hm_dosimetry_event_beam(&e, NULL, &dev, HM_ALIGN_TABLE, &ref, &b, &imp, &err), 0);
    assert_int_equal(imp, 0);
    /* The isocentre stays in the room, so it moves through the patient the other way. */
    double sx = -2.0 * dev.table_sign[0], sz = -5.0 * dev.table_sign[1], sy = -2.0 * dev.table_sign[2];
    assert_vec(b.offset_cm, sx, sy, sz);
    /* Feet first: the same table motion is towards the patient's feet. */
    e.table_relationship = ref.table_relationship = "feetfirst";
    assert_int_equal(hm_dosimetry_event_beam(&e, NULL, &dev, HM_ALIGN_TABLE, &ref, &b, &imp, &err), 0);
    assert_vec(b.offset_cm, -sx, sy, -sz);
    /* Heart alignment ignores the table. */
    assert_int_equal(hm_dosimetry_event_beam(&e, NULL, &dev, HM_ALIGN_HEART, &ref, &b, &imp, &err), 0);
    assert_vec(b.offset_cm, 0, 0, 0);
    /* No table position on this event: it stays where the reference is, flagged. */
    e.table_longitudinal_mm = NAN;
    assert_int_equal(hm_dosimetry_event_beam(&e, NULL, &dev, HM_ALIGN_TABLE, &ref, &b, &imp, &err), 0);
    assert_int_equal(imp, HM_IMPUTED_TABLE);
    assert_true(fabs(b.offset_cm[2]) < 1e-12);
}

/* ---- transport: which organ's dose rises ---- */

static hm_voxel_phantom phantom;

static double ratio(const hm_dosimetry_event *e, const char *num, const char *den)
{
    hm_dosimetry_beam b;
    unsigned imp;
    beam_of(e, &b, &imp);
    hm_dosimetry_params prm = { 1000000, 7, 2 };
    hm_dosimetry_result r;
    hm_error err;
    int rc = hm_dosimetry_organ_doses(&phantom, &b, &prm, &r, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    const hm_organ_dose *a = hm_dosimetry_find(&r, num), *c = hm_dosimetry_find(&r, den);
    assert_non_null(a);
    assert_non_null(c);
    assert_true(c->dose_mgy_per_gy_cm2 > 0);
    double q = a->dose_mgy_per_gy_cm2 / c->dose_mgy_per_gy_cm2;
    double rel = hypot(a->sigma_mgy_per_gy_cm2 / a->dose_mgy_per_gy_cm2,
                       c->sigma_mgy_per_gy_cm2 / c->dose_mgy_per_gy_cm2);
    fprintf(stderr, "  primary %+4.0f secondary %+4.0f %-9s: %s/%s = %.3f (+- %.1f %%)\n",
            e->primary_angle_deg, e->secondary_angle_deg, e->table_relationship, num, den, q,
            100 * rel);
    /* The comparisons below need ratios known to a few per cent. */
    assert_true(rel < 0.05);
    hm_dosimetry_result_free(&r);
    return q;
}

static void test_mc_signs(void **state)
{
    (void)state;
    hm_dosimetry_event e;
    /* LAO 90: the source on the patient's right, so the liver (right) gains
     * on the spleen (left); RAO 90 the other way round. */
    event_hfs(&e, 90, 0);
    e.field_width_mm = e.field_height_mm = 250;
    double lao = ratio(&e, "liver", "spleen");
    e.primary_angle_deg = -90;
    double rao = ratio(&e, "liver", "spleen");
    assert_true(lao > 2 * rao);
    /* Feet first reverses left and right for the same device angle. */
    e.primary_angle_deg = 90;
    e.table_relationship = "feetfirst";
    double lao_ff = ratio(&e, "liver", "spleen");
    assert_true(lao_ff < 0.5 * lao);
    /* ... and is then the very beam of RAO 90 head first (same seed). */
    assert_true(fabs(lao_ff - rao) < 1e-9 * rao);
    /* Caudal (receptor towards the feet): the source is cranial and the
     * entrance field moves up the back, so the brain gains on the small
     * intestine against cranial (by about 13 times at 40 degrees). */
    event_hfs(&e, 0, -40);
    e.field_width_mm = e.field_height_mm = 250;
    double cau = ratio(&e, "brain", "small_intestine");
    e.secondary_angle_deg = 40;
    double cra = ratio(&e, "brain", "small_intestine");
    assert_true(cau > 3 * cra);
}

static int setup_mc(void **state)
{
    (void)state;
    hm_phantom *p;
    hm_error err;
    if (hm_phantom_build("5y", 'H', &p, &err) || hm_phantom_voxelise(p, 5, &phantom, &err))
        return -1;
    hm_phantom_free(p);
    return 0;
}

static int teardown_mc(void **state)
{
    (void)state;
    hm_voxel_phantom_free(&phantom);
    return 0;
}

int main(int argc, char **argv)
{
    hm_error err;
    if (hm_dosimetry_device_default(&dev, &err)) {
        fprintf(stderr, "device defaults: %s\n", err.msg);
        return 1;
    }
    if (argc > 1 && !strcmp(argv[1], "mc")) {
        const struct CMUnitTest mc[] = { cmocka_unit_test(test_mc_signs) };
        return cmocka_run_group_tests(mc, setup_mc, teardown_mc);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_angles_hfs),    cmocka_unit_test(test_positions),
        cmocka_unit_test(test_position_text), cmocka_unit_test(test_field),
        cmocka_unit_test(test_imputation),    cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
