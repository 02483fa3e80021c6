/*
 * test_rt_roundtrip.c — RT objects written by harmonic's writers read back
 * with every field equal (dose within one stored unit of the scaling), the
 * UIDs linking them (plan -> structure set -> CT series, dose -> plan), the
 * technique inferred from the control points, and the folder grouped into
 * one complete course.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "hm_rtdicom.h"
#include "rt_fixtures.h"

#define OK(call) do { hm_error e_; hm_error_clear(&e_); int rc_ = (call); \
        if (rc_) fail_msg("%s: %s: %s", #call, e_.file, e_.msg); } while (0)
#define ERR (&e_)

static char dir[1024];

static void path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static void same_common(const hm_rtdcm_common *a, const hm_rtdcm_common *b)
{
    assert_string_equal(a->sop_class_uid, b->sop_class_uid);
    assert_string_equal(a->sop_instance_uid, b->sop_instance_uid);
    assert_string_equal(a->study_uid, b->study_uid);
    assert_string_equal(a->series_uid, b->series_uid);
    assert_string_equal(a->modality, b->modality);
    assert_string_equal(a->patient_id, b->patient_id);
    assert_string_equal(a->patient_birth_date, b->patient_birth_date);
    assert_string_equal(a->patient_sex, b->patient_sex);
    assert_string_equal(a->study_date, b->study_date);
    assert_string_equal(a->frame_of_reference_uid, b->frame_of_reference_uid);
}

/* The CT, written first: everything else references it. */
static hm_rtdcm_ct ct;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/course", HM_TEST_TMPDIR);
    mkdir(dir, 0755);
    /* Start from an empty folder. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -f %s/*", dir);
    if (system(cmd) != 0)
        return -1;
    rtfx_ct(&ct);
    hm_error e;
    if (hm_rtdcm_ct_write(dir, &ct, NULL, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hm_rtdcm_ct_free(&ct);
    return 0;
}

static void ct_geometry(void **state)
{
    (void)state;
    hm_rtdcm_ct r;
    OK(hm_rtdcm_ct_read_dir(dir, NULL, &r, ERR));
    assert_int_equal(r.nslices, 4);
    assert_int_equal(r.rows, 6);
    assert_int_equal(r.cols, 8);
    assert_true(r.spacing_mm[0] == 2.0 && r.spacing_mm[1] == 2.5);
    assert_true(r.slice_thickness_mm == 3);
    for (int i = 0; i < 6; i++)
        assert_true(r.iop[i] == ct.iop[i]);
    assert_string_equal(r.c.series_uid, ct.c.series_uid);
    assert_string_equal(r.c.frame_of_reference_uid, ct.c.frame_of_reference_uid);
    assert_string_equal(r.c.sop_class_uid, HM_RTDCM_SOP_CT);
    /* Written at z 6, 0, 9, 3: read sorted along the normal. */
    for (size_t k = 0; k < 4; k++) {
        assert_true(r.slices[k].ipp_mm[2] == 3.0 * (double)k);
        size_t w = 0;
        while (ct.slices[w].ipp_mm[2] != r.slices[k].ipp_mm[2])
            w++;
        assert_string_equal(r.slices[k].sop_instance_uid, ct.slices[w].sop_instance_uid);
        assert_true(r.slices[k].ipp_mm[0] == -8.75 && r.slices[k].ipp_mm[1] == -5);
        assert_int_equal(r.slices[k].instance_number, ct.slices[w].instance_number);
    }
    hm_rtdcm_ct_free(&r);
    /* A series that is not there. */
    hm_error e;
    assert_int_equal(hm_rtdcm_ct_read_dir(dir, "1.2.3.4", &r, &e), HM_ENOTFOUND);
    assert_null(r.slices);
    hm_rtdcm_ct_free(&r);
}

static void structure_set(void **state)
{
    (void)state;
    hm_rtdcm_struct w, r;
    rtfx_struct(&w, &ct);
    char p[1100];
    path(p, sizeof p, "RS.dcm");
    OK(hm_rtdcm_struct_write(p, &w, ERR));
    OK(hm_rtdcm_struct_read_file(p, &r, ERR));
    same_common(&w.c, &r.c);
    assert_string_equal(r.c.frame_of_reference_uid, ct.c.frame_of_reference_uid);
    assert_string_equal(r.label, "RTFX");
    assert_string_equal(r.ref_ct_series_uid, ct.c.series_uid);
    assert_int_equal(r.n_ref_ct_sops, 4);
    for (size_t k = 0; k < 4; k++)
        assert_string_equal(r.ref_ct_sop_uids[k], ct.slices[k].sop_instance_uid);
    assert_int_equal(r.nrois, w.nrois);
    for (size_t i = 0; i < w.nrois; i++) {
        const hm_rtdcm_roi *a = &w.rois[i], *b = &r.rois[i];
        assert_int_equal(a->number, b->number);
        assert_string_equal(a->name, b->name);
        assert_string_equal(a->algorithm, b->algorithm);
        assert_string_equal(a->interpreted_type, b->interpreted_type);
        assert_string_equal(b->frame_of_reference_uid, ct.c.frame_of_reference_uid);
        assert_memory_equal(a->color, b->color, sizeof a->color);
        assert_int_equal(a->ncontours, b->ncontours);
        for (size_t k = 0; k < a->ncontours; k++) {
            assert_string_equal(a->contours[k].geometric_type, b->contours[k].geometric_type);
            assert_string_equal(a->contours[k].ref_sop_uid, b->contours[k].ref_sop_uid);
            assert_int_equal(a->contours[k].npoints, b->contours[k].npoints);
            for (size_t q = 0; q < 3 * a->contours[k].npoints; q++)
                assert_true(a->contours[k].xyz_mm[q] == b->contours[k].xyz_mm[q]);
        }
    }
    assert_true(r.rois[1].contours[0].ref_sop_uid[0] != '\0');
    OK(hm_rtdcm_struct_validate(&r, p, 0.01, ERR));
    hm_rtdcm_struct_free(&w);
    hm_rtdcm_struct_free(&r);
}

static void same_plan(const hm_rtdcm_plan *a, const hm_rtdcm_plan *b)
{
    same_common(&a->c, &b->c);
    assert_int_equal(a->ion, b->ion);
    assert_string_equal(a->label, b->label);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->date, b->date);
    assert_string_equal(a->time, b->time);
    assert_string_equal(a->ref_struct_uid, b->ref_struct_uid);
    assert_int_equal(a->n_ref_plans, b->n_ref_plans);
    for (int i = 0; i < a->n_ref_plans; i++) {
        assert_string_equal(a->ref_plans[i].uid, b->ref_plans[i].uid);
        assert_string_equal(a->ref_plans[i].relationship, b->ref_plans[i].relationship);
    }
    assert_int_equal(a->fractions_planned, b->fractions_planned);
    assert_int_equal(b->n_fraction_groups, 1);
    assert_int_equal(a->ndoserefs, b->ndoserefs);
    for (size_t i = 0; i < a->ndoserefs; i++) {
        assert_int_equal(a->doserefs[i].number, b->doserefs[i].number);
        assert_string_equal(a->doserefs[i].structure_type, b->doserefs[i].structure_type);
        assert_string_equal(a->doserefs[i].type, b->doserefs[i].type);
        assert_string_equal(a->doserefs[i].description, b->doserefs[i].description);
        assert_int_equal(a->doserefs[i].roi_number, b->doserefs[i].roi_number);
        assert_true(a->doserefs[i].target_rx_dose_gy == b->doserefs[i].target_rx_dose_gy);
    }
    assert_true(b->rx_dose_gy == 45);
    assert_int_equal(a->nbeams, b->nbeams);
    for (size_t i = 0; i < a->nbeams; i++) {
        const hm_rtdcm_beam *x = &a->beams[i], *y = &b->beams[i];
        assert_int_equal(x->number, y->number);
        assert_string_equal(x->name, y->name);
        assert_string_equal(x->machine, y->machine);
        assert_string_equal(x->radiation_type, y->radiation_type);
        assert_string_equal(x->beam_type, y->beam_type);
        assert_string_equal(x->delivery_type, y->delivery_type);
        assert_string_equal(x->scan_mode, y->scan_mode);
        assert_string_equal(x->dosimeter_unit, y->dosimeter_unit);
        assert_true(x->sad_mm == y->sad_mm);
        assert_true(x->final_meterset_weight == y->final_meterset_weight);
        assert_true(x->meterset == y->meterset);
        assert_true(x->beam_dose_gy == y->beam_dose_gy);
        assert_int_equal(x->n_snouts, y->n_snouts);
        assert_int_equal(x->n_range_modulators, y->n_range_modulators);
        assert_int_equal(x->n_range_shifters, y->n_range_shifters);
        assert_int_equal(x->n_lateral_spreaders, y->n_lateral_spreaders);
        assert_int_equal(x->ncp, y->ncp);
        for (size_t k = 0; k < x->ncp; k++) {
            const hm_rtdcm_cp *p = &x->cps[k], *q = &y->cps[k];
            assert_true(p->cum_meterset_weight == q->cum_meterset_weight);
            assert_true(p->gantry_deg == q->gantry_deg);
            assert_string_equal(p->gantry_rotation, q->gantry_rotation);
            assert_true(p->collimator_deg == q->collimator_deg);
            assert_true(p->couch_deg == q->couch_deg);
            assert_memory_equal(p->iso_mm, q->iso_mm, sizeof p->iso_mm);
            assert_true(p->energy_mev == q->energy_mev);
            if (!a->ion) {
                assert_true(p->dose_rate_mu_min == q->dose_rate_mu_min);
                assert_memory_equal(p->jaw_x_mm, q->jaw_x_mm, sizeof p->jaw_x_mm);
                assert_memory_equal(p->jaw_y_mm, q->jaw_y_mm, sizeof p->jaw_y_mm);
                assert_int_equal(p->mlc_pairs, q->mlc_pairs);
                assert_memory_equal(p->mlc_mm, q->mlc_mm, 2 * (size_t)p->mlc_pairs * sizeof(double));
            } else {
                assert_true(p->snout_mm == q->snout_mm);
                assert_int_equal(p->nspots, q->nspots);
                for (int s = 0; s < p->nspots; s++) {
                    assert_true(p->spot_xy_mm[2 * s] == q->spot_xy_mm[2 * s]);
                    assert_true(p->spot_xy_mm[2 * s + 1] == q->spot_xy_mm[2 * s + 1]);
                    assert_true(p->spot_weight[s] == q->spot_weight[s]);
                }
            }
        }
    }
}

static void plan_roundtrip(int tech, const char *file, double arc_deg, int mlc_changes,
                           int layers)
{
    hm_rtdcm_plan w, r;
    rtfx_plan(&w, tech, "1.2.826.0.1.3680043.10.1.1");
    /* Related plans (Referenced RT Plan Sequence, C.8.8.9): a revised IMRT
     * plan and its earlier phase; an alternative to the PBS plan. */
    if (tech == HM_RTDCM_TECH_IMRT) {
        w.n_ref_plans = 2;
        strcpy(w.ref_plans[0].uid, "1.2.826.0.1.3680043.10.1.7");
        strcpy(w.ref_plans[0].relationship, "PREDECESSOR");
        strcpy(w.ref_plans[1].uid, "1.2.826.0.1.3680043.10.1.8");
        strcpy(w.ref_plans[1].relationship, "PRIOR");
    } else if (tech == HM_RTDCM_TECH_ION_PBS) {
        w.n_ref_plans = 1;
        strcpy(w.ref_plans[0].uid, "1.2.826.0.1.3680043.10.1.9");
        strcpy(w.ref_plans[0].relationship, "ALTERNATIVE");
    }
    char p[1100];
    snprintf(p, sizeof p, "%s/../%s", dir, file);   /* beside, not in, the course */
    OK(hm_rtdcm_plan_write(p, &w, ERR));
    OK(hm_rtdcm_plan_read_file(p, &r, ERR));
    hm_rtdcm_plan_summarise(&w);
    same_plan(&w, &r);
    assert_string_equal(r.c.sop_class_uid, w.ion ? HM_RTDCM_SOP_ION_PLAN : HM_RTDCM_SOP_PLAN);
    printf("%s: %s, %zu beam(s), arc %g deg, %d MLC changes, %d energy layers\n", file,
           hm_rtdcm_technique_name(r.technique), r.nbeams, r.beams[0].arc_deg,
           r.beams[0].mlc_changes, r.beams[0].n_energy_layers);
    assert_int_equal(r.technique, tech);
    for (size_t i = 0; i < r.nbeams; i++)
        assert_int_equal(r.beams[i].technique, tech);
    assert_true(fabs(r.beams[0].arc_deg - arc_deg) < 1e-9);
    assert_int_equal(r.beams[0].mlc_changes, mlc_changes);
    assert_int_equal(r.beams[0].n_energy_layers, layers);
    hm_rtdcm_plan_free(&w);
    hm_rtdcm_plan_free(&r);
}

static void plan_3dcrt(void **s) { (void)s; plan_roundtrip(HM_RTDCM_TECH_3DCRT, "RP_3dcrt.dcm", 0, 0, 0); }
static void plan_imrt(void **s) { (void)s; plan_roundtrip(HM_RTDCM_TECH_IMRT, "RP_imrt.dcm", 0, 2, 0); }
/* 181 -> 271 -> 1 -> 91 -> 179 clockwise: 90 + 90 + 90 + 88 degrees. */
static void plan_vmat(void **s) { (void)s; plan_roundtrip(HM_RTDCM_TECH_VMAT, "RP_vmat.dcm", 358, 4, 0); }
static void plan_arc(void **s) { (void)s; plan_roundtrip(HM_RTDCM_TECH_ARC, "RP_arc.dcm", 180, 0, 0); }
static void plan_pbs(void **s) { (void)s; plan_roundtrip(HM_RTDCM_TECH_ION_PBS, "RP_pbs.dcm", 0, 0, 2); }
static void plan_passive(void **s) { (void)s; plan_roundtrip(HM_RTDCM_TECH_ION_PASSIVE, "RP_ps.dcm", 0, 0, 0); }

static void dose_roundtrip(int bits)
{
    hm_rtdcm_dose w, r;
    rtfx_dose(&w, &ct, bits, "1.2.826.0.1.3680043.10.1.2");
    char p[1100];
    snprintf(p, sizeof p, "%s/../RD_%d.dcm", dir, bits);
    OK(hm_rtdcm_dose_write(p, &w, ERR));
    OK(hm_rtdcm_dose_read_file(p, &r, ERR));
    same_common(&w.c, &r.c);
    assert_memory_equal(w.ipp_mm, r.ipp_mm, sizeof w.ipp_mm);
    assert_memory_equal(w.iop, r.iop, sizeof w.iop);
    assert_memory_equal(w.spacing_mm, r.spacing_mm, sizeof w.spacing_mm);
    assert_int_equal(r.rows, 4);
    assert_int_equal(r.cols, 5);
    assert_int_equal(r.nframes, 3);
    assert_int_equal(r.bits_allocated, bits);
    assert_int_equal(r.offsets_relative, 1);
    assert_memory_equal(w.frame_offsets_mm, r.frame_offsets_mm, 3 * sizeof(double));
    assert_true(hm_rtdcm_dose_frame_mm(&r, 2) == 6.0);
    assert_string_equal(r.dose_units, "GY");
    assert_string_equal(r.dose_type, "PHYSICAL");
    assert_string_equal(r.summation_type, "PLAN");
    assert_string_equal(r.ref_plan_uid, w.ref_plan_uid);
    assert_true(r.scaling == w.scaling);
    /* The maximum, 0.5 + 0.4 + 0.09 + 2.2 Gy, sits near the top of the range. */
    double top = bits == 16 ? 65535.0 : 4294967295.0;
    assert_true(3.19 / r.scaling > 0.99 * top && 3.19 / r.scaling <= top);
    double worst = 0;
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 5; i++) {
                double d = fabs(r.dose_gy[(k * 4 + j) * 5 + i] - rtfx_dose_value(i, j, k));
                worst = fmax(worst, d);
            }
    printf("RT Dose %d bits: scaling %.6g Gy, worst error %.3g Gy (%.3f LSB)\n", bits,
           r.scaling, worst, worst / r.scaling);
    /* Within one stored unit (plus float rounding of the stored values). */
    assert_true(worst <= r.scaling + 4e-7);
    hm_rtdcm_dose_free(&w);
    hm_rtdcm_dose_free(&r);
}

static void dose16(void **s) { (void)s; dose_roundtrip(16); }
static void dose32(void **s) { (void)s; dose_roundtrip(32); }

/* A whole course in one folder: the references group it, nothing missing. */
static void course(void **state)
{
    (void)state;
    char p[1100];
    hm_rtdcm_struct ss;
    rtfx_struct(&ss, &ct);
    path(p, sizeof p, "RS.dcm");
    OK(hm_rtdcm_struct_write(p, &ss, ERR));
    hm_rtdcm_plan plan;
    rtfx_plan(&plan, HM_RTDCM_TECH_VMAT, ss.c.sop_instance_uid);
    path(p, sizeof p, "RP.dcm");
    OK(hm_rtdcm_plan_write(p, &plan, ERR));
    hm_rtdcm_dose dose;
    rtfx_dose(&dose, &ct, 16, plan.c.sop_instance_uid);
    char dp[1100];
    path(dp, sizeof dp, "RD.dcm");
    OK(hm_rtdcm_dose_write(dp, &dose, ERR));
    /* A stray text file is OTHER, not an error. */
    path(p, sizeof p, "notes.txt");
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("not DICOM\n", fp);
    fclose(fp);

    hm_rtdcm_object *objs;
    size_t n;
    OK(hm_rtdcm_scan_dir(dir, &objs, &n, ERR));
    assert_int_equal(n, 4 + 3 + 1);
    hm_rtdcm_group *g;
    size_t ng;
    OK(hm_rtdcm_group_objects(objs, n, &g, &ng, ERR));
    assert_int_equal(ng, 1);
    assert_non_null(g[0].structure_set);
    assert_string_equal(g[0].structure_set->c.sop_instance_uid, ss.c.sop_instance_uid);
    assert_int_equal(g[0].ndoses, 1);
    assert_int_equal(g[0].n_ct, 4);
    assert_string_equal(g[0].missing, "");
    free(g);

    hm_rtdcm_dose rd;
    hm_rtdcm_struct rs;
    OK(hm_rtdcm_dose_read_file(dp, &rd, ERR));
    path(p, sizeof p, "RS.dcm");
    OK(hm_rtdcm_struct_read_file(p, &rs, ERR));
    OK(hm_rtdcm_check_dose_struct(&rd, dp, &rs, p, ERR));

    /* Without the dose, the course reports it missing. */
    remove(dp);
    free(objs);
    OK(hm_rtdcm_scan_dir(dir, &objs, &n, ERR));
    hm_error e;
    assert_int_equal(hm_rtdcm_group_objects(objs, n, &g, &ng, &e), HM_ENOTFOUND);
    printf("missing: %s\n", e.msg);
    assert_non_null(strstr(e.msg, "no RT Dose references this plan"));
    assert_non_null(strstr(e.msg, "ReferencedRTPlanSequence (300C,0002)"));
    assert_string_equal(g[0].missing, e.msg);
    free(g);
    free(objs);
    hm_rtdcm_dose_free(&rd);
    hm_rtdcm_struct_free(&rs);
    hm_rtdcm_dose_free(&dose);
    hm_rtdcm_plan_free(&plan);
    hm_rtdcm_struct_free(&ss);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ct_geometry),
        cmocka_unit_test(structure_set),
        cmocka_unit_test(plan_3dcrt),
        cmocka_unit_test(plan_imrt),
        cmocka_unit_test(plan_vmat),
        cmocka_unit_test(plan_arc),
        cmocka_unit_test(plan_pbs),
        cmocka_unit_test(plan_passive),
        cmocka_unit_test(dose16),
        cmocka_unit_test(dose32),
        cmocka_unit_test(course),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
