/*
 * test_rt_pydicom.c — the small real RT files Debian ships with
 * python3-pydicom read without error, with their values printed and checked
 * against what dcmdump shows for them.  Skipped (77) when absent.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hm_rtdicom.h"

#define DIR_ "/usr/lib/python3/dist-packages/pydicom/data/test_files/"

static void ok(int rc, const hm_error *e)
{
    if (rc)
        fail_msg("%s: %s", e->file, e->msg);
}

static void plan(void **state)
{
    (void)state;
    hm_rtdcm_plan p;
    hm_error e;
    ok(hm_rtdcm_plan_read_file(DIR_ "rtplan.dcm", &p, &e), &e);
    printf("rtplan.dcm: label %s, %zu beam(s), %d fractions, Rx %.6g Gy, technique %s\n",
           p.label, p.nbeams, p.fractions_planned, p.rx_dose_gy,
           hm_rtdcm_technique_name(p.technique));
    for (size_t i = 0; i < p.nbeams; i++) {
        const hm_rtdcm_beam *b = &p.beams[i];
        printf("  beam %d '%s' %s %s %s, %zu cps, gantry %g deg, couch %g deg, iso %g %g %g mm, "
               "%g MeV, %g %s\n", b->number, b->name, b->radiation_type, b->beam_type,
               b->delivery_type, b->ncp, b->cps[0].gantry_deg, b->cps[0].couch_deg,
               b->cps[0].iso_mm[0], b->cps[0].iso_mm[1], b->cps[0].iso_mm[2],
               b->cps[0].energy_mev, b->meterset, b->dosimeter_unit);
    }
    assert_string_equal(p.label, "Plan1");
    assert_int_equal(p.ion, 0);
    assert_int_equal(p.fractions_planned, 30);
    assert_true(fabs(p.rx_dose_gy - 30.826203) < 1e-9);
    assert_int_equal(p.nbeams, 1);
    assert_string_equal(p.beams[0].radiation_type, "PHOTON");
    assert_string_equal(p.beams[0].beam_type, "STATIC");
    assert_int_equal(p.beams[0].ncp, 2);
    assert_true(fabs(p.beams[0].meterset - 116.0036697) < 1e-9);
    assert_true(fabs(p.beams[0].cps[0].energy_mev - 6.0) < 1e-12);
    /* The second control point inherits energy and isocentre. */
    assert_true(fabs(p.beams[0].cps[1].energy_mev - 6.0) < 1e-12);
    assert_int_equal(p.beams[0].technique, HM_RTDCM_TECH_3DCRT);
    hm_rtdcm_plan_free(&p);
}

static void check_dose(const char *file, hm_rtdcm_dose *d)
{
    hm_error e;
    ok(hm_rtdcm_dose_read_file(file, d, &e), &e);
    double mx = 0, sum = 0;
    size_t n = (size_t)d->rows * d->cols * d->nframes;
    for (size_t i = 0; i < n; i++) {
        mx = fmax(mx, d->dose_gy[i]);
        sum += d->dose_gy[i];
    }
    printf("%s: %dx%dx%d, %d bits, scaling %g, units %s, type %s, sum %s, offsets %s "
           "(last %g mm), origin %g %g %g mm, max %.6g, mean %.6g\n", file, d->cols, d->rows,
           d->nframes, d->bits_allocated, d->scaling, d->dose_units, d->dose_type,
           d->summation_type, d->offsets_relative ? "relative" : "absolute",
           hm_rtdcm_dose_frame_mm(d, d->nframes - 1), d->ipp_mm[0], d->ipp_mm[1], d->ipp_mm[2],
           mx, sum / (double)n);
    assert_int_equal(d->rows, 10);
    assert_int_equal(d->cols, 10);
    assert_int_equal(d->bits_allocated, 32);
    assert_true(fabs(d->scaling - 1e-6) < 1e-18);
    assert_string_equal(d->dose_units, "RELATIVE");
    assert_string_equal(d->summation_type, "BEAM");
    assert_string_equal(d->ref_plan_uid, "1.2.123.456.78.9.0123.4567.89012345678901");
    assert_true(fabs(d->ipp_mm[2] - -761.87) < 1e-9);
}

static void dose(void **state)
{
    (void)state;
    hm_rtdcm_dose le, be;
    check_dose(DIR_ "rtdose.dcm", &le);
    assert_int_equal(le.nframes, 15);
    assert_int_equal(le.offsets_relative, 1);
    assert_true(fabs(hm_rtdcm_dose_frame_mm(&le, 14) - 70.0) < 1e-9);
    /* First stored value: words 0x0ee8, 0x0013 (dcmdump) = 0x00130ee8. */
    assert_true(fabs(le.dose_gy[0] - 0x00130ee8 * 1e-6) < 1e-6);
    /* The big-endian copy decodes to the same values. */
    check_dose(DIR_ "rtdose_expb.dcm", &be);
    assert_int_equal(be.nframes, le.nframes);
    for (size_t i = 0; i < (size_t)le.rows * le.cols * le.nframes; i++)
        assert_true(le.dose_gy[i] == be.dose_gy[i]);
    hm_rtdcm_dose_free(&le);
    hm_rtdcm_dose_free(&be);
    /* rtdose_rle.dcm is a deliberately inconsistent file (an implicit VR
     * dataset under the RLE transfer syntax, which even dcmdump misreads):
     * it fails with one line and nothing filled. */
    hm_rtdcm_dose r;
    hm_error e;
    assert_int_not_equal(hm_rtdcm_dose_read_file(DIR_ "rtdose_rle.dcm", &r, &e), 0);
    printf("rtdose_rle.dcm: %s\n", e.msg);
    assert_null(strchr(e.msg, '\n'));
    assert_null(r.dose_gy);
}

static void structs(void **state)
{
    (void)state;
    hm_rtdcm_struct s;
    hm_error e;
    ok(hm_rtdcm_struct_read_file(DIR_ "rtstruct.dcm", &s, &e), &e);
    printf("rtstruct.dcm: label %s, frame %s, CT series %s, %zu ROIs\n", s.label,
           s.c.frame_of_reference_uid, s.ref_ct_series_uid, s.nrois);
    for (size_t i = 0; i < s.nrois; i++) {
        size_t np = 0;
        for (size_t k = 0; k < s.rois[i].ncontours; k++)
            np += s.rois[i].contours[k].npoints;
        printf("  ROI %d '%s' %s %s: %zu contours, %zu points, first %s\n", s.rois[i].number,
               s.rois[i].name, s.rois[i].algorithm, s.rois[i].interpreted_type,
               s.rois[i].ncontours, np,
               s.rois[i].ncontours ? s.rois[i].contours[0].geometric_type : "-");
    }
    assert_int_equal(s.nrois, 3);
    assert_string_equal(s.rois[0].name, "patient");
    assert_string_equal(s.rois[0].algorithm, "MANUAL");
    assert_int_equal(s.rois[0].ncontours, 3);
    assert_int_equal(s.rois[0].contours[0].npoints, 5);
    assert_true(s.rois[0].contours[0].xyz_mm[0] == -200.0);
    assert_true(s.rois[0].contours[0].xyz_mm[2] == -200.0);
    assert_string_equal(s.rois[1].contours[0].geometric_type, "POINT");
    assert_string_equal(s.c.frame_of_reference_uid, "1.2.826.0.1.3680043.8.498.2010020400001.2");
    assert_string_equal(s.ref_ct_series_uid, "1.2.826.0.1.3680043.8.498.2010020400001.2.1.1");
    ok(hm_rtdcm_struct_validate(&s, "rtstruct.dcm", 0.01, &e), &e);
    hm_rtdcm_struct_free(&s);
}

int main(void)
{
    if (access(DIR_ "rtplan.dcm", R_OK) != 0) {
        printf("SKIP: %s absent (apt-get install python3-pydicom)\n", DIR_ "rtplan.dcm");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan),
        cmocka_unit_test(dose),
        cmocka_unit_test(structs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
