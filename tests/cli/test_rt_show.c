/*
 * test_rt_show.c — `harmonic rt show DIR` through the program, on a course
 * written by harmonic's own RT writers (tests/dicom/rt_fixtures.c: CT, plan;
 * here a structure set with a sphere and a dose grid linear in x):
 *  - the sphere's volume is the slab rule's closed form (polygon areas x the
 *    contour spacing, docs/rt.md) within 1 %, its mean dose the dose at its
 *    centre (the dose is linear and the ROI symmetric), its min/max those of
 *    the dose at x = -R and x = +R within a voxel;
 *  - the French name "Coeur" maps to the heart, the PTV to a target;
 *  - --png writes a PNG;
 *  - a dose on another frame of reference and a folder without a dose each
 *    get a message naming the file and element, and exit status 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../dicom/rt_fixtures.h"

#define T HM_TEST_TMPDIR
#define H HM_HARMONIC_EXE

static const double PI = 3.14159265358979323846;
enum { NPTS = 72 };
static const double R_MM = 8;

static void ok(int rc, const hm_error *err)
{
    if (rc)
        fprintf(stderr, "error %d: %s: %s: %s\n", rc, err->file, err->field, err->msg);
    assert_int_equal(rc, 0);
}

/* A course in dir; foreign != 0: the dose on another frame of reference;
 * no_dose: no dose file. */
static void write_course(const char *dir, int foreign, int no_dose)
{
    char cmd[1024], path[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    assert_int_equal(system(cmd), 0);
    hm_error err;
    hm_rtdcm_ct ct;
    rtfx_ct(&ct);
    ok(hm_rtdcm_ct_write(dir, &ct, NULL, &err), &err);
    hm_rtdcm_struct ss;
    rtfx_struct(&ss, &ct);
    /* + a sphere of radius R at the origin, contoured every 1 mm */
    ss.rois = realloc(ss.rois, (ss.nrois + 1) * sizeof *ss.rois);
    assert_non_null(ss.rois);
    hm_rtdcm_roi *s = &ss.rois[ss.nrois++];
    memset(s, 0, sizeof *s);
    s->number = 20;
    strcpy(s->name, "Coeur");
    strcpy(s->interpreted_type, "ORGAN");
    strcpy(s->frame_of_reference_uid, ss.rois[0].frame_of_reference_uid);
    s->ncontours = 15;
    s->contours = calloc(15, sizeof *s->contours);
    for (int k = 0; k < 15; k++) {
        double z = k - 7.0, r = sqrt(R_MM * R_MM - z * z);
        hm_rtdcm_contour *c = &s->contours[k];
        strcpy(c->geometric_type, "CLOSED_PLANAR");
        c->npoints = NPTS;
        c->xyz_mm = calloc(3 * NPTS, sizeof(double));
        for (int p = 0; p < NPTS; p++) {
            c->xyz_mm[3 * p] = r * cos(2 * PI * p / NPTS);
            c->xyz_mm[3 * p + 1] = r * sin(2 * PI * p / NPTS);
            c->xyz_mm[3 * p + 2] = z;
        }
    }
    snprintf(path, sizeof path, "%s/RS.dcm", dir);
    ok(hm_rtdcm_struct_write(path, &ss, &err), &err);
    hm_rtdcm_plan plan;
    rtfx_plan(&plan, HM_RTDCM_TECH_IMRT, ss.c.sop_instance_uid);
    snprintf(path, sizeof path, "%s/RP.dcm", dir);
    ok(hm_rtdcm_plan_write(path, &plan, &err), &err);
    if (!no_dose) {
        hm_rtdcm_dose d;
        rtfx_dose_gradient(&d, &ct, plan.c.sop_instance_uid, 1.0);   /* D = 10 + 0.1 x Gy */
        if (foreign)
            strcpy(d.c.frame_of_reference_uid, "1.2.826.0.1.3680043.2.1125.99.1");
        snprintf(path, sizeof path, "%s/RD.dcm", dir);
        ok(hm_rtdcm_dose_write(path, &d, &err), &err);
        hm_rtdcm_dose_free(&d);
    }
    hm_rtdcm_plan_free(&plan);
    hm_rtdcm_struct_free(&ss);
    hm_rtdcm_ct_free(&ct);
}

static char *run(const char *cmd, int *status)
{
    FILE *fp = popen(cmd, "r");
    assert_non_null(fp);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t k;
    while ((k = fread(buf + n, 1, cap - 1 - n, fp)) > 0)
        n += k;
    buf[n] = '\0';
    int st = pclose(fp);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return buf;
}

static void test_show(void **state)
{
    (void)state;
    write_course(T "/course", 0, 0);
    int st;
    char *out = run(H " rt show " T "/course --json --png " T "/dvh.png", &st);
    assert_int_equal(st, 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j)
        fprintf(stderr, "not JSON: %s\n%s\n", je.text, out);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "technique")), "IMRT");
    json_t *rois = json_object_get(j, "rois");
    json_t *heart = NULL, *ptv = NULL;
    for (size_t i = 0; i < json_array_size(rois); i++) {
        json_t *r = json_array_get(rois, i);
        const char *name = json_string_value(json_object_get(r, "roi"));
        if (!strcmp(name, "Coeur"))
            heart = r;
        if (!strcmp(name, "PTV_45"))
            ptv = r;
    }
    assert_non_null(heart);
    assert_non_null(ptv);
    assert_string_equal(json_string_value(json_object_get(heart, "organ")), "heart");
    assert_string_equal(json_string_value(json_object_get(ptv, "mapping")), "target");
    /* The slab rule: each contour's polygon area times 1 mm (the ends reach
     * half-way beyond the last contours, 0.5 mm each side). */
    double v_mm3 = 0;
    for (int k = 0; k < 15; k++) {
        double z = k - 7.0, r2 = R_MM * R_MM - z * z;
        v_mm3 += 0.5 * NPTS * r2 * sin(2 * PI / NPTS) * 1.0;
    }
    double vol = json_real_value(json_object_get(heart, "volume_cc"));
    fprintf(stderr, "sphere: %.4f cc (slab rule %.4f cc, 4/3 pi R^3 %.4f cc)\n", vol, v_mm3 / 1000,
            4.0 / 3 * PI * R_MM * R_MM * R_MM / 1000);
    assert_true(fabs(vol - v_mm3 / 1000) < 0.01 * v_mm3 / 1000);
    double mean = json_real_value(json_object_get(heart, "mean_gy"));
    assert_true(fabs(mean - 10) < 0.01 * 10);
    double mn = json_real_value(json_object_get(heart, "min_gy")), mx = json_real_value(json_object_get(heart, "max_gy"));
    assert_true(fabs(mn - (10 - 0.1 * R_MM)) <= 0.1 + 1e-6);
    assert_true(fabs(mx - (10 + 0.1 * R_MM)) <= 0.1 + 1e-6);
    /* 10 Gy at x = 0: V10Gy is half the volume (within a voxel column). */
    double v10 = json_real_value(json_object_get(heart, "v10gy_pct"));
    assert_true(fabs(v10 - 50) < 8);
    json_decref(j);
    free(out);
    FILE *fp = fopen(T "/dvh.png", "rb");
    assert_non_null(fp);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, fp), 8);
    fclose(fp);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    /* The table form names the rows and the unmapped ones. */
    out = run(H " rt show " T "/course", &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "Coeur"));
    assert_non_null(strstr(out, "D0.03cc"));
    free(out);
}

/* --target: the whole-body table; the heart's 10 Gy mean lies above 5 % of
 * the plan's 45 Gy, so it comes from the RT Dose; the rest from the model,
 * falling with the distance from a cranial field (thyroid > bladder). */
static void test_whole_body(void **state)
{
    (void)state;
    write_course(T "/wb", 0, 0);
    int st;
    char *out = run(H " rt show " T "/wb --json --target brain --age-years 6", &st);
    assert_int_equal(st, 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    json_t *wb = json_object_get(j, "whole_body");
    assert_true(json_array_size(wb) > 20);
    double thyroid = NAN, bladder = NAN, heart = NAN;
    const char *heart_method = "", *thyroid_method = "";
    for (size_t i = 0; i < json_array_size(wb); i++) {
        json_t *r = json_array_get(wb, i);
        const char *o = json_string_value(json_object_get(r, "organ"));
        double d = json_real_value(json_object_get(r, "dose_gy"));
        if (!strcmp(o, "thyroid")) {
            thyroid = d;
            thyroid_method = json_string_value(json_object_get(r, "method"));
        }
        if (!strcmp(o, "bladder"))
            bladder = d;
        if (!strcmp(o, "heart")) {
            heart = d;
            heart_method = json_string_value(json_object_get(r, "method"));
        }
    }
    assert_string_equal(heart_method, "tps");
    assert_true(fabs(heart - 10) < 0.1);
    assert_string_equal(thyroid_method, "model_photon_scatter");
    assert_true(thyroid > bladder && bladder > 0);
    json_decref(j);
    free(out);
}

/* --whole-body takes the target from the files: on synthetic courses (brain,
 * bladder, kidney, mediastinal targets) every course gets its table, a target
 * inside an organ ROI is centred on it, and a mediastinal PTV, which lies in
 * no organ ROI, is placed from the nearest organ ROI (docs/rt.md "Courses"). */
static void test_targets_from_files(void **state)
{
    (void)state;
    int st;
    char *out = run("rm -rf " T "/synth_rt; " H " synth --patients 0 --rt-patients 6 --seed 2024 --hospital-format --out "
                    T "/synth_rt >/dev/null 2>&1; echo $?", &st);
    assert_int_equal(atoi(out), 0);
    free(out);
    out = run("ls -d " T "/synth_rt/*/rt/*/", &st);
    int courses = 0, inside = 0, nearest = 0;
    for (char *dir = strtok(out, "\n"); dir; dir = strtok(NULL, "\n")) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, H " rt show %s --whole-body --json", dir);
        int st2;
        char *js = run(cmd, &st2);
        assert_int_equal(st2, 0);
        json_t *j = json_loads(js, 0, NULL);
        assert_non_null(j);
        const char *how = json_string_value(json_object_get(j, "whole_body_target_from"));
        const char *organ = json_string_value(json_object_get(j, "whole_body_target"));
        assert_non_null(how);
        fprintf(stderr, "%s: %s (%s)\n", dir, organ, how);
        inside += strstr(how, "' in '") != NULL;
        nearest += strstr(how, "(nearest)") != NULL;
        courses++;
        json_decref(j);
        free(js);
    }
    free(out);
    assert_int_equal(courses, 6);
    assert_true(inside >= 1);
    assert_true(nearest >= 1);
    assert_int_equal(inside + nearest, courses);
}

static void test_bad_courses(void **state)
{
    (void)state;
    int st;
    write_course(T "/foreign", 1, 0);
    char *out = run(H " rt show " T "/foreign 2>&1", &st);
    fprintf(stderr, "%s", out);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "RD.dcm"));
    assert_non_null(strstr(out, "FrameOfReferenceUID"));
    free(out);
    write_course(T "/nodose", 0, 1);
    out = run(H " rt show " T "/nodose 2>&1", &st);
    fprintf(stderr, "%s", out);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "RP.dcm"));
    assert_non_null(strstr(out, "no RT Dose"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_whole_body),
        cmocka_unit_test(test_bad_courses),
        cmocka_unit_test(test_targets_from_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
