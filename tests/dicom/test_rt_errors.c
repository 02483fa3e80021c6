/*
 * test_rt_errors.c — each rule on bad or inconsistent RT data fires with a
 * one-line message naming the file and the element (keyword and tag), and
 * a failed read leaves its output zeroed, never half-filled.  Bad files are
 * made by patching bytes of files the writers produced.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "hm_rtdicom.h"
#include "rt_fixtures.h"

static hm_rtdcm_ct ct;
static char dir[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/ct", HM_TEST_TMPDIR);
    mkdir(dir, 0755);
    rtfx_ct(&ct);
    hm_error e;
    return hm_rtdcm_ct_write(dir, &ct, NULL, &e) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    hm_rtdcm_ct_free(&ct);
    return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Replaces the only occurrence of `from` by `to` (same length). */
static void patch(unsigned char *buf, size_t len, const void *from, const void *to, size_t n)
{
    unsigned char *hit = NULL;
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(buf + i, from, n)) {
            assert_null(hit);
            hit = buf + i;
        }
    assert_non_null(hit);
    memcpy(hit, to, n);
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static void expect(int rc, int want, const hm_error *e, const char *file, const char *needle,
                   const char *field)
{
    printf("  %s\n", e->msg);
    if (rc != want || !strstr(e->msg, needle))
        fail_msg("expected %d '%s', got %d '%s'", want, needle, rc, e->msg);
    assert_null(strchr(e->msg, '\n'));
    assert_string_equal(e->file, file);
    if (field)
        assert_string_equal(e->field, field);
}

static unsigned char *dose_file(size_t *len)
{
    hm_rtdcm_dose d;
    rtfx_dose(&d, &ct, 16, "1.2.3.4.5");
    char p[1100];
    snprintf(p, sizeof p, "%s/../RD.dcm", dir);
    hm_error e;
    assert_int_equal(hm_rtdcm_dose_write(p, &d, &e), 0);
    hm_rtdcm_dose_free(&d);
    return slurp(p, len);
}

static void dose_fails(const unsigned char *buf, size_t len, const char *needle,
                       const char *field)
{
    hm_rtdcm_dose d;
    hm_error e;
    int rc = hm_rtdcm_dose_read_memory(buf, len, "bad_dose.dcm", &d, &e);
    expect(rc, HM_EVALIDATE, &e, "bad_dose.dcm", needle, field);
    assert_true(all_zero(&d, sizeof d));
}

static void dose_grid_scaling_absent(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = dose_file(&len);
    /* (3004,000E) DS renamed to an unknown (3004,00FE). */
    patch(buf, len, "\x04\x30\x0e\x00" "DS", "\x04\x30\xfe\x00" "DS", 6);
    dose_fails(buf, len, "absent", "DoseGridScaling (3004,000E)");
    free(buf);
}

static void frames_vs_offsets(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = dose_file(&len);
    /* NumberOfFrames (0028,0008) IS "3 " -> "2 ": three offsets for two frames. */
    patch(buf, len, "\x28\x00\x08\x00" "IS\x02\x00" "3 ", "\x28\x00\x08\x00" "IS\x02\x00" "2 ", 10);
    dose_fails(buf, len, "has 3 offsets but NumberOfFrames (0028,0008) is 2",
               "GridFrameOffsetVector (3004,000C)");
    free(buf);
}

static void offsets_ambiguous(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = dose_file(&len);
    /* First offset 1: neither relative (0) nor absolute (IPP z = 0). */
    patch(buf, len, "0\\3\\6", "1\\3\\6", 5);
    dose_fails(buf, len, "neither 0 nor ImagePositionPatient z",
               "GridFrameOffsetVector (3004,000C)");
    free(buf);
}

static void pixel_length(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = dose_file(&len);
    /* Rows (0028,0010) US 4 -> 5: 5 x 5 x 3 x 2 = 150 bytes expected, 120 stored. */
    patch(buf, len, "\x28\x00\x10\x00" "US\x02\x00\x04\x00", "\x28\x00\x10\x00" "US\x02\x00\x05\x00", 10);
    dose_fails(buf, len, "holds 120 bytes", "PixelData (7FE0,0010)");
    free(buf);
}

static void wrong_kind_and_truncated(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = dose_file(&len);
    hm_rtdcm_plan p;
    hm_error e;
    int rc = hm_rtdcm_plan_read_memory(buf, len, "dose_as_plan.dcm", &p, &e);
    expect(rc, HM_EUNSUPPORTED, &e, "dose_as_plan.dcm", "RTDoseStorage, not an RT Plan",
           "SOPClassUID (0008,0016)");
    assert_true(all_zero(&p, sizeof p));
    hm_rtdcm_dose d;
    rc = hm_rtdcm_dose_read_memory(buf, len / 2, "half.dcm", &d, &e);
    expect(rc, HM_EPARSE, &e, "half.dcm", "truncated", NULL);
    assert_true(all_zero(&d, sizeof d));
    free(buf);
}

static void frame_of_reference_mismatch(void **state)
{
    (void)state;
    hm_rtdcm_dose d;
    hm_rtdcm_struct s;
    rtfx_dose(&d, &ct, 16, NULL);
    rtfx_struct(&s, &ct);
    hm_error e;
    assert_int_equal(hm_rtdcm_check_dose_struct(&d, "RD.dcm", &s, "RS.dcm", &e), 0);
    strcpy(d.c.frame_of_reference_uid, "1.2.826.0.1.3680043.10.99");
    int rc = hm_rtdcm_check_dose_struct(&d, "RD.dcm", &s, "RS.dcm", &e);
    expect(rc, HM_EVALIDATE, &e, "RD.dcm", "differs from", "FrameOfReferenceUID (0020,0052)");
    assert_non_null(strstr(e.msg, "RS.dcm"));
    hm_rtdcm_dose_free(&d);
    hm_rtdcm_struct_free(&s);
}

/* Replaces ROI 1's first contour by the given points. */
static void set_contour(hm_rtdcm_struct *s, const double *xyz, size_t n)
{
    hm_rtdcm_contour *c = &s->rois[0].contours[0];
    free(c->xyz_mm);
    c->npoints = n;
    c->xyz_mm = malloc((n ? n : 1) * 3 * sizeof(double));
    assert_non_null(c->xyz_mm);
    if (n)
        memcpy(c->xyz_mm, xyz, n * 3 * sizeof(double));
}

static void contour_rules(void **state)
{
    (void)state;
    hm_rtdcm_struct s;
    hm_error e;
    rtfx_struct(&s, &ct);
    /* Two points (the third repeats the first: not distinct). */
    double two[9] = { 0, 0, 3, 5, 0, 3, 0, 0, 3 };
    set_contour(&s, two, 3);
    expect(hm_rtdcm_struct_validate(&s, "RS.dcm", 0.01, &e), HM_EVALIDATE, &e, "RS.dcm",
           "ROI 1 'BODY' contour 1 on slice z=3.000 mm has 2 distinct points",
           "ContourData (3006,0050)");
    /* z varies within one closed planar contour. */
    double tilted[12] = { 0, 0, 3, 5, 0, 3, 5, 5, 3.5, 0, 5, 3 };
    set_contour(&s, tilted, 4);
    expect(hm_rtdcm_struct_validate(&s, "RS.dcm", 0.01, &e), HM_EVALIDATE, &e, "RS.dcm",
           "is not on one axial slice (z from 3.000 to 3.500 mm)", "ContourData (3006,0050)");
    /* A bow tie: edges 1 and 3 cross. */
    double bowtie[12] = { 0, 0, 3, 5, 5, 3, 5, 0, 3, 0, 5, 3 };
    set_contour(&s, bowtie, 4);
    expect(hm_rtdcm_struct_validate(&s, "RS.dcm", 0.01, &e), HM_EVALIDATE, &e, "RS.dcm",
           "crosses itself (edges 1 and 3)", "ContourData (3006,0050)");
    /* The same four points in order are a valid square, also when the
     * closing point is repeated. */
    double square[15] = { 0, 0, 3, 5, 0, 3, 5, 5, 3, 0, 5, 3, 0, 0, 3 };
    set_contour(&s, square, 5);
    assert_int_equal(hm_rtdcm_struct_validate(&s, "RS.dcm", 0.01, &e), 0);
    /* A figure eight touching itself at one vertex crosses too. */
    double eight[18] = { 0, 0, 3, 2, 2, 3, 4, 0, 3, 4, 4, 3, 2, 2, 3, 0, 4, 3 };
    set_contour(&s, eight, 6);
    expect(hm_rtdcm_struct_validate(&s, "RS.dcm", 0.01, &e), HM_EVALIDATE, &e, "RS.dcm",
           "crosses itself", "ContourData (3006,0050)");

    /* An empty contour written to a file is refused by the reader. */
    set_contour(&s, NULL, 0);
    char p[1100];
    snprintf(p, sizeof p, "%s/../RS_empty.dcm", dir);
    assert_int_equal(hm_rtdcm_struct_write(p, &s, &e), 0);
    hm_rtdcm_struct r;
    expect(hm_rtdcm_struct_read_file(p, &r, &e), HM_EVALIDATE, &e, p,
           "ROI 1 'BODY' contour 1 is empty", "ContourData (3006,0050)");
    assert_true(all_zero(&r, sizeof r));
    hm_rtdcm_struct_free(&s);
}

static void missing_references(void **state)
{
    (void)state;
    char cdir[1100], p[1200];
    snprintf(cdir, sizeof cdir, "%s/../refs", dir);
    mkdir(cdir, 0755);
    hm_error e;
    /* A plan referencing a structure set that is not there, a dose of
     * another plan, and a structure set on a CT series that is absent. */
    hm_rtdcm_plan plan;
    rtfx_plan(&plan, HM_RTDCM_TECH_IMRT, "1.2.826.0.1.3680043.10.7.7");
    snprintf(p, sizeof p, "%s/RP.dcm", cdir);
    assert_int_equal(hm_rtdcm_plan_write(p, &plan, &e), 0);
    hm_rtdcm_dose d;
    rtfx_dose(&d, &ct, 16, "1.2.826.0.1.3680043.10.7.8");
    snprintf(p, sizeof p, "%s/RD.dcm", cdir);
    assert_int_equal(hm_rtdcm_dose_write(p, &d, &e), 0);
    hm_rtdcm_object *o;
    size_t n;
    assert_int_equal(hm_rtdcm_scan_dir(cdir, &o, &n, &e), 0);
    hm_rtdcm_group *g;
    size_t ng;
    snprintf(p, sizeof p, "%s/RP.dcm", cdir);
    expect(hm_rtdcm_group_objects(o, n, &g, &ng, &e), HM_ENOTFOUND, &e, p,
           "the RT Structure Set 1.2.826.0.1.3680043.10.7.7 it references",
           "ReferencedStructureSetSequence (300C,0060)");
    printf("  all missing:\n%s\n", g[0].missing);
    assert_non_null(strstr(g[0].missing, "no RT Dose references this plan"));
    assert_non_null(strstr(g[0].missing, "the RT Plan 1.2.826.0.1.3680043.10.7.8 this dose"));
    free(g);
    free(o);

    /* A structure set whose CT series is absent (the CT is elsewhere). */
    hm_rtdcm_struct s;
    rtfx_struct(&s, &ct);
    snprintf(p, sizeof p, "%s/RS.dcm", cdir);
    assert_int_equal(hm_rtdcm_struct_write(p, &s, &e), 0);
    hm_rtdcm_plan_free(&plan);
    rtfx_plan(&plan, HM_RTDCM_TECH_IMRT, s.c.sop_instance_uid);
    snprintf(p, sizeof p, "%s/RP.dcm", cdir);
    assert_int_equal(hm_rtdcm_plan_write(p, &plan, &e), 0);
    hm_rtdcm_dose_free(&d);
    rtfx_dose(&d, &ct, 16, plan.c.sop_instance_uid);
    snprintf(p, sizeof p, "%s/RD.dcm", cdir);
    assert_int_equal(hm_rtdcm_dose_write(p, &d, &e), 0);
    assert_int_equal(hm_rtdcm_scan_dir(cdir, &o, &n, &e), 0);
    snprintf(p, sizeof p, "%s/RS.dcm", cdir);
    expect(hm_rtdcm_group_objects(o, n, &g, &ng, &e), HM_ENOTFOUND, &e, p,
           "no image of the CT series", "RTReferencedSeriesSequence (3006,0014)");
    free(g);
    free(o);
    /* No plan at all. */
    hm_rtdcm_object none = { .kind = HM_RTDCM_CT };
    assert_int_equal(hm_rtdcm_group_objects(&none, 1, &g, &ng, &e), HM_EINVAL);
    assert_null(g);
    hm_rtdcm_struct_free(&s);
    hm_rtdcm_plan_free(&plan);
    hm_rtdcm_dose_free(&d);
}

static void ct_duplicate_slice(void **state)
{
    (void)state;
    char d2[1100];
    snprintf(d2, sizeof d2, "%s/../ct_dup", dir);
    mkdir(d2, 0755);
    hm_rtdcm_ct w;
    rtfx_ct(&w);
    w.slices[3].ipp_mm[2] = w.slices[0].ipp_mm[2];   /* two images at z = 6 */
    hm_error e;
    assert_int_equal(hm_rtdcm_ct_write(d2, &w, NULL, &e), 0);
    hm_rtdcm_ct r;
    expect(hm_rtdcm_ct_read_dir(d2, NULL, &r, &e), HM_EVALIDATE, &e, d2,
           "are at the same position", "ImagePositionPatient (0020,0032)");
    assert_true(all_zero(&r, sizeof r));
    hm_rtdcm_ct_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dose_grid_scaling_absent),
        cmocka_unit_test(frames_vs_offsets),
        cmocka_unit_test(offsets_ambiguous),
        cmocka_unit_test(pixel_length),
        cmocka_unit_test(wrong_kind_and_truncated),
        cmocka_unit_test(frame_of_reference_mismatch),
        cmocka_unit_test(contour_rules),
        cmocka_unit_test(missing_references),
        cmocka_unit_test(ct_duplicate_slice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
