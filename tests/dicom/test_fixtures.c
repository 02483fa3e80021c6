/*
 * test_fixtures.c — synthetic RDSRs (hm_rdsr_synth_write) read back through
 * the DCMTK bridge and the TID 10001/10002/10003 mapping: event counts,
 * per-plane totals, every vendor quirk, unit normalisation and its notes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "hm_rdsr.h"

static hm_rdsr_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    hm_error err;
    hm_error_clear(&err);
    ctx = hm_rdsr_ctx_new(&err);
    if (!ctx)
        fprintf(stderr, "%s\n", err.msg);
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hm_rdsr_ctx_free(ctx);
    return 0;
}

static hm_rdsr_report *make(const char *name, hm_rdsr_synth_spec *s, hm_rdsr_synth_truth *t)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", HM_TEST_TMPDIR, name);
    hm_error err;
    hm_error_clear(&err);
    int rc = hm_rdsr_synth_write(path, s, t, &err);
    if (rc)
        fail_msg("synth %s: %s", name, err.msg);
    hm_rdsr_report *rep = NULL;
    rc = hm_rdsr_read_file(ctx, path, &rep, &err);
    if (rc)
        fail_msg("read %s: %s", name, err.msg);
    return rep;
}

static const hm_rdsr_note *find_note(const hm_rdsr_report *r, int kind, const char *field,
                                     const char *needle)
{
    for (size_t i = 0; i < r->nnotes; i++)
        if (r->notes[i].kind == kind && !strcmp(r->notes[i].field, field)
            && strstr(r->notes[i].msg, needle))
            return &r->notes[i];
    return NULL;
}

static void assert_close_(double a, double b, double rel, int line)
{
    if (!(fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-12))
        fail_msg("line %d: %.15g != %.15g (rel %g)", line, a, b, rel);
}
#define assert_close(a, b, rel) assert_close_((a), (b), (rel), __LINE__)

static void single_plane(void **state)
{
    (void)state;
    hm_rdsr_synth_spec s = { .nevents = 25, .seed = 7 };
    hm_rdsr_synth_truth t;
    hm_rdsr_report *r = make("single.dcm", &s, &t);
    assert_int_equal(r->nevents, 25);
    assert_false(r->biplane);
    assert_string_equal(r->modality, "RF");
    assert_true(r->planes[HM_RDSR_PLANE_SINGLE].present);
    assert_false(r->planes[HM_RDSR_PLANE_A].present);
    /* Accumulated total from TID 10002 = generator's sum = sum of mapped events. */
    assert_close(r->planes[0].kap_total_gy_cm2, t.kap_gy_cm2[0], 1e-7);
    assert_close(hm_rdsr_events_kap_gy_cm2(r, 0), t.kap_gy_cm2[0], 1e-9);
    assert_close(r->kap_total_gy_cm2, t.kap_total_gy_cm2, 1e-7);
    assert_close(r->rp_total_mgy, t.rp_mgy[0], 1e-7);
    assert_close(r->events[0].kvp_kv, t.first_kvp_kv, 1e-12);
    /* Header and patient characteristics. */
    assert_string_equal(r->patient_id, "SYN7");
    assert_string_equal(r->birth_date, "20190315");
    assert_string_equal(r->sex, "F");
    assert_string_equal(r->age, "004Y");
    assert_close(r->age_years, 4.0, 1e-12);
    assert_close(r->weight_kg, 17.5, 1e-12);
    assert_close(r->height_m, 1.05, 1e-12);
    assert_string_equal(r->template_id, "10001");
    assert_string_equal(r->sop_class_uid, "1.2.840.10008.5.1.4.1.1.88.67");
    assert_string_equal(r->transfer_syntax, "1.2.840.10008.1.2.1");   /* explicit VR LE */
    assert_string_equal(r->procedure_reported, "Projection X-Ray");
    /* Event fields of TID 10003 and its sub-templates. */
    const hm_rdsr_event *e = &r->events[0];
    assert_string_equal(e->type, "Fluoroscopy");
    assert_string_equal(r->events[4].type, "Stationary Acquisition");
    assert_string_equal(e->protocol, "Cardiac fluoro 15 p/s");
    assert_string_equal(e->fluoro_mode, "Pulsed");
    assert_string_equal(e->target_region, "Chest");
    assert_string_equal(e->patient_orientation, "recumbent");
    assert_string_equal(e->patient_orientation_modifier, "supine");
    assert_string_equal(e->patient_table_relationship, "headfirst");
    assert_string_equal(e->reference_point, "15cm from Isocenter toward Source");
    assert_int_equal(e->plane, HM_RDSR_PLANE_SINGLE);
    assert_true(strlen(e->uid) > 10);
    assert_string_equal(e->datetime_started, "20230611100000");
    assert_close(e->pulse_rate_per_s, 15, 0);
    assert_close(e->source_isocentre_mm, 750, 0);
    assert_int_equal(e->nfilters, 2);
    assert_string_equal(e->filters[0].material, "Copper or Copper compound");
    assert_close(e->filters[0].thickness_min_mm, 0.1, 1e-12);
    assert_string_equal(e->filters[1].material, "Aluminum or Aluminum compound");
    assert_close(e->filters[1].thickness_max_mm, 1.0, 1e-12);
    /* Field area written in m2, stored in cm2; height = width = side. */
    assert_close(e->field_area_cm2, e->field_height_mm * e->field_width_mm / 100.0, 1e-7);
    assert_false(isnan(e->primary_angle_deg));
    assert_false(isnan(e->secondary_angle_deg));
    assert_false(isnan(e->source_detector_mm));
    assert_false(isnan(e->table_height_mm));
    assert_false(isnan(e->number_of_pulses));
    assert_false(isnan(e->irradiation_duration_s));
    assert_close(e->irradiation_duration_s, e->number_of_pulses / e->pulse_rate_per_s, 1e-7);
    /* Gy.m2 -> Gy.cm2 is a recorded conversion, not a repair. */
    const hm_rdsr_note *n = find_note(r, HM_RDSR_NOTE_CONVERTED, "kap_gy_cm2", "Gy.m2");
    assert_non_null(n);
    assert_int_equal(n->count, 25);
    assert_null(find_note(r, HM_RDSR_NOTE_REPAIRED, "kap_gy_cm2", ""));
    hm_rdsr_report_free(r);
}

static void biplane(void **state)
{
    (void)state;
    hm_rdsr_synth_spec s = { .nevents = 41, .biplane = 1, .seed = 3 };
    hm_rdsr_synth_truth t;
    hm_rdsr_report *r = make("biplane.dcm", &s, &t);
    assert_int_equal(r->nevents, 41);
    assert_true(r->biplane);
    assert_false(r->planes[HM_RDSR_PLANE_SINGLE].present);
    int na = 0, nb = 0;
    for (size_t i = 0; i < r->nevents; i++) {
        na += r->events[i].plane == HM_RDSR_PLANE_A;
        nb += r->events[i].plane == HM_RDSR_PLANE_B;
    }
    assert_int_equal(na, t.events_per_plane[HM_RDSR_PLANE_A]);
    assert_int_equal(nb, t.events_per_plane[HM_RDSR_PLANE_B]);
    assert_int_equal(na + nb, 41);
    for (int p = HM_RDSR_PLANE_A; p <= HM_RDSR_PLANE_B; p++) {
        const hm_rdsr_accum *a = &r->planes[p];
        assert_true(a->present);
        /* Per-plane totals equal the sum of that plane's events. */
        assert_close(a->kap_total_gy_cm2, hm_rdsr_events_kap_gy_cm2(r, p), 1e-7);
        assert_close(a->kap_total_gy_cm2, t.kap_gy_cm2[p], 1e-7);
        assert_close(a->rp_total_mgy, t.rp_mgy[p], 1e-7);
        assert_close(a->fluoro_kap_gy_cm2 + a->acq_kap_gy_cm2, a->kap_total_gy_cm2, 1e-7);
    }
    assert_true(fabs(r->planes[1].kap_total_gy_cm2 - r->planes[2].kap_total_gy_cm2) > 1e-6);
    assert_close(r->kap_total_gy_cm2, t.kap_total_gy_cm2, 1e-7);
    hm_rdsr_report_free(r);
}

static void quirk_units(void **state)
{
    (void)state;
    /* The same study written three ways must map to the same doses. */
    hm_rdsr_synth_spec s = { .nevents = 9, .seed = 11 };
    hm_rdsr_synth_truth t0, t1, t2;
    hm_rdsr_report *ref = make("units-ref.dcm", &s, &t0);
    s.quirks = HM_RDSR_QUIRK_GYM2;
    hm_rdsr_report *gym2 = make("units-gym2.dcm", &s, &t1);
    s.quirks = HM_RDSR_QUIRK_DGYCM2 | HM_RDSR_QUIRK_MGY_RP;
    hm_rdsr_report *dgy = make("units-dgy.dcm", &s, &t2);
    for (size_t i = 0; i < 9; i++) {
        assert_close(gym2->events[i].kap_gy_cm2, ref->events[i].kap_gy_cm2, 1e-7);
        assert_close(dgy->events[i].kap_gy_cm2, ref->events[i].kap_gy_cm2, 1e-7);
        assert_close(dgy->events[i].rp_air_kerma_mgy, ref->events[i].rp_air_kerma_mgy, 1e-7);
        assert_true(ref->events[i].kap_gy_cm2 >= 0.005 && ref->events[i].kap_gy_cm2 < 0.5);
    }
    assert_close(gym2->kap_total_gy_cm2, t1.kap_total_gy_cm2, 1e-7);
    assert_close(dgy->kap_total_gy_cm2, t2.kap_total_gy_cm2, 1e-7);
    assert_close(dgy->kap_total_gy_cm2, ref->kap_total_gy_cm2, 1e-7);
    /* Each normalisation is recorded. */
    const hm_rdsr_note *n = find_note(gym2, HM_RDSR_NOTE_REPAIRED, "kap_gy_cm2", "Gym2");
    assert_non_null(n);
    assert_int_equal(n->count, 9);
    assert_non_null(find_note(dgy, HM_RDSR_NOTE_CONVERTED, "kap_gy_cm2", "dGy.cm2"));
    assert_null(find_note(dgy, HM_RDSR_NOTE_CONVERTED, "rp_air_kerma_mgy", ""));
    assert_non_null(find_note(ref, HM_RDSR_NOTE_CONVERTED, "rp_air_kerma_mgy", "Gy converted"));
    hm_rdsr_report_free(ref);
    hm_rdsr_report_free(gym2);
    hm_rdsr_report_free(dgy);
}

static void quirk_encoding(void **state)
{
    (void)state;
    hm_rdsr_synth_spec s = { .nevents = 5, .seed = 5,
                             .quirks = HM_RDSR_QUIRK_NO_TEMPLATE | HM_RDSR_QUIRK_IMPLICIT_VR };
    hm_rdsr_synth_truth t;
    hm_rdsr_report *r = make("implicit.dcm", &s, &t);
    assert_true(r->implicit_vr);
    assert_string_equal(r->transfer_syntax, "1.2.840.10008.1.2");
    assert_string_equal(r->template_id, "");
    assert_non_null(find_note(r, HM_RDSR_NOTE_REPAIRED, "template_id", "no Content Template"));
    assert_int_equal(r->nevents, 5);
    assert_close(r->kap_total_gy_cm2, t.kap_total_gy_cm2, 1e-7);
    hm_rdsr_report_free(r);
}

static void quirk_empty_and_pulses(void **state)
{
    (void)state;
    hm_rdsr_synth_spec s = { .nevents = 4, .seed = 9, .quirks = HM_RDSR_QUIRK_EMPTY };
    hm_rdsr_synth_truth t;
    hm_rdsr_report *r = make("empty.dcm", &s, &t);
    for (size_t i = 0; i < r->nevents; i++) {
        assert_true(isnan(r->events[i].kvp_kv));
        assert_true(isnan(r->events[i].tube_current_ma));
        assert_int_equal(r->events[i].kvp_values, 0);
        assert_false(isnan(r->events[i].kap_gy_cm2));
    }
    const hm_rdsr_note *n = find_note(r, HM_RDSR_NOTE_MISSING, "kvp_kv", "empty value");
    assert_non_null(n);
    assert_int_equal(n->count, 4);
    assert_non_null(find_note(r, HM_RDSR_NOTE_MISSING, "kvp_kv", "absent in 4 of 4 events"));
    hm_rdsr_report_free(r);

    s.quirks = HM_RDSR_QUIRK_PER_PULSE;
    r = make("pulses.dcm", &s, &t);
    assert_int_equal(r->events[0].kvp_values, 3);
    assert_close(r->events[0].kvp_kv, t.first_kvp_kv, 1e-12);
    assert_non_null(find_note(r, HM_RDSR_NOTE_REPAIRED, "kvp_kv", "per pulse"));
    hm_rdsr_report_free(r);
}

static void continued_report(void **state)
{
    (void)state;
    /* A cumulative report of the same study repeats the earlier event UIDs. */
    hm_rdsr_synth_spec s = { .nevents = 4, .seed = 21, .study_uid = "2.25.4242" };
    hm_rdsr_synth_truth t;
    hm_rdsr_report *a = make("part1.dcm", &s, &t);
    s.nevents = 7;
    hm_rdsr_report *b = make("part2.dcm", &s, &t);
    assert_string_equal(a->study_uid, "2.25.4242");
    assert_string_equal(a->study_uid, b->study_uid);
    assert_string_not_equal(a->sop_instance_uid, b->sop_instance_uid);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(a->events[i].uid, b->events[i].uid);
        assert_close(a->events[i].kap_gy_cm2, b->events[i].kap_gy_cm2, 0);
    }
    for (size_t i = 0; i < 7; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(b->events[i].uid, b->events[j].uid);
    hm_rdsr_report_free(a);
    hm_rdsr_report_free(b);
}

static void json_output(void **state)
{
    (void)state;
    hm_rdsr_synth_spec s = { .nevents = 3, .biplane = 1, .seed = 2 };
    hm_rdsr_synth_truth t;
    hm_rdsr_report *r = make("json.dcm", &s, &t);
    char *text = hm_rdsr_to_json(r);
    assert_non_null(text);
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 3);
    assert_int_equal(json_array_size(json_object_get(j, "accumulated")), 2);
    assert_close(json_real_value(json_object_get(j, "kap_total_gy_cm2")), t.kap_total_gy_cm2,
                 1e-7);
    json_t *e0 = json_array_get(json_object_get(j, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "plane")), "A");
    assert_true(json_is_null(json_object_get(e0, "primary_end_angle_deg")));
    json_decref(j);
    free(text);
    hm_rdsr_report_free(r);
}

static void radiography(void **state)
{
    (void)state;
    /* Exposures referencing DX images, no fluoroscopy: filed as DX. */
    hm_rdsr_synth_spec s = { .nevents = 2, .seed = 6, .radiography = 1 };
    hm_rdsr_synth_truth t;
    hm_rdsr_report *r = make("dx.dcm", &s, &t);
    assert_string_equal(r->modality, "DX");
    assert_string_equal(r->events[0].type, "Stationary Acquisition");
    assert_close(r->kap_total_gy_cm2, t.kap_total_gy_cm2, 1e-7);
    hm_rdsr_report_free(r);
    /* The same without image references stays fluoroscopy/angiography. */
    s.radiography = 0;
    r = make("rf.dcm", &s, &t);
    assert_string_equal(r->modality, "RF");
    hm_rdsr_report_free(r);
}

static void quirk_names(void **state)
{
    (void)state;
    assert_int_equal(hm_rdsr_quirks_parse("gym2,implicit-vr"),
                     HM_RDSR_QUIRK_GYM2 | HM_RDSR_QUIRK_IMPLICIT_VR);
    assert_int_equal(hm_rdsr_quirks_parse(""), 0);
    assert_int_equal(hm_rdsr_quirks_parse("gym2,bogus"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_plane),
        cmocka_unit_test(biplane),
        cmocka_unit_test(quirk_units),
        cmocka_unit_test(quirk_encoding),
        cmocka_unit_test(quirk_empty_and_pulses),
        cmocka_unit_test(continued_report),
        cmocka_unit_test(json_output),
        cmocka_unit_test(radiography),
        cmocka_unit_test(quirk_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
