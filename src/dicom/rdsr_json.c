/*
 * rdsr_json.c — a mapped report as JSON (jansson), for `harmonic rdsr show
 * --json`.  Absent numbers are null.  Strings from the file are in its
 * Specific Character Set; bytes that are not valid UTF-8 are replaced by '?'
 * so the output is always valid JSON.
 */
#include "hm_rdsr.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Copies s, replacing every byte that does not start a valid UTF-8
 * sequence (RFC 3629) by '?'. */
static json_t *jstr(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0 && i + len <= n && !(len == 2 && c < 0xC2) && !(len == 4 && c > 0xF4);
        for (size_t k = 1; ok && k < len; k++)
            ok = ((unsigned char)s[i + k] >> 6) == 2;
        if (ok && c >= 0x20) {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        } else {
            out[o++] = c < 0x20 && c != 0 ? ' ' : '?';
            i += 1;
        }
    }
    out[o] = '\0';
    json_t *j = json_string(out);
    free(out);
    return j ? j : json_string("?");
}

static json_t *jnum(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static void put_num(json_t *o, const char *k, double v) { json_object_set_new(o, k, jnum(v)); }
static void put_str(json_t *o, const char *k, const char *v) { json_object_set_new(o, k, jstr(v)); }

static json_t *event_json(const hm_rdsr_event *e)
{
    json_t *o = json_object();
    put_str(o, "uid", e->uid);
    put_str(o, "type", e->type);
    put_str(o, "plane", hm_rdsr_plane_name(e->plane));
    put_str(o, "datetime_started", e->datetime_started);
    put_str(o, "protocol", e->protocol);
    put_str(o, "target_region", e->target_region);
    put_str(o, "fluoro_mode", e->fluoro_mode);
    put_str(o, "reference_point", e->reference_point);
    put_str(o, "patient_orientation", e->patient_orientation);
    put_str(o, "patient_orientation_modifier", e->patient_orientation_modifier);
    put_str(o, "patient_table_relationship", e->patient_table_relationship);
    put_num(o, "kvp_kv", e->kvp_kv);
    json_object_set_new(o, "kvp_values", json_integer(e->kvp_values));
    put_num(o, "tube_current_ma", e->tube_current_ma);
    put_num(o, "avg_tube_current_ma", e->avg_tube_current_ma);
    put_num(o, "pulse_width_ms", e->pulse_width_ms);
    put_num(o, "pulse_rate_per_s", e->pulse_rate_per_s);
    put_num(o, "number_of_pulses", e->number_of_pulses);
    put_num(o, "irradiation_duration_s", e->irradiation_duration_s);
    put_num(o, "exposure_time_ms", e->exposure_time_ms);
    put_num(o, "exposure_uas", e->exposure_uas);
    put_num(o, "focal_spot_mm", e->focal_spot_mm);
    json_t *filters = json_array();
    for (int i = 0; i < e->nfilters; i++) {
        json_t *f = json_object();
        put_str(f, "type", e->filters[i].type);
        put_str(f, "material", e->filters[i].material);
        put_num(f, "thickness_min_mm", e->filters[i].thickness_min_mm);
        put_num(f, "thickness_max_mm", e->filters[i].thickness_max_mm);
        json_array_append_new(filters, f);
    }
    json_object_set_new(o, "filters", filters);
    put_num(o, "field_area_cm2", e->field_area_cm2);
    put_num(o, "field_height_mm", e->field_height_mm);
    put_num(o, "field_width_mm", e->field_width_mm);
    put_num(o, "primary_angle_deg", e->primary_angle_deg);
    put_num(o, "secondary_angle_deg", e->secondary_angle_deg);
    put_num(o, "primary_end_angle_deg", e->primary_end_angle_deg);
    put_num(o, "secondary_end_angle_deg", e->secondary_end_angle_deg);
    put_num(o, "source_isocentre_mm", e->source_isocentre_mm);
    put_num(o, "source_detector_mm", e->source_detector_mm);
    put_num(o, "source_rp_mm", e->source_rp_mm);
    put_num(o, "table_longitudinal_mm", e->table_longitudinal_mm);
    put_num(o, "table_lateral_mm", e->table_lateral_mm);
    put_num(o, "table_height_mm", e->table_height_mm);
    put_num(o, "table_head_tilt_deg", e->table_head_tilt_deg);
    put_num(o, "table_horizontal_rotation_deg", e->table_horizontal_rotation_deg);
    put_num(o, "table_cradle_tilt_deg", e->table_cradle_tilt_deg);
    put_num(o, "kap_gy_cm2", e->kap_gy_cm2);
    put_num(o, "rp_air_kerma_mgy", e->rp_air_kerma_mgy);
    return o;
}

char *hm_rdsr_to_json(const hm_rdsr_report *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    put_str(o, "source", r->source);
    put_str(o, "modality", r->modality);
    put_str(o, "sop_class_uid", r->sop_class_uid);
    put_str(o, "sop_instance_uid", r->sop_instance_uid);
    put_str(o, "transfer_syntax", r->transfer_syntax);
    put_str(o, "study_uid", r->study_uid);
    put_str(o, "study_date", r->study_date);
    put_str(o, "template_id", r->template_id);
    put_str(o, "charset", r->charset);
    json_object_set_new(o, "implicit_vr", json_boolean(r->implicit_vr));
    json_t *pat = json_object();
    put_str(pat, "id", r->patient_id);
    put_str(pat, "birth_date", r->birth_date);
    put_str(pat, "sex", r->sex);
    put_str(pat, "age", r->age);
    put_num(pat, "age_years", r->age_years);
    put_num(pat, "weight_kg", r->weight_kg);
    put_num(pat, "height_m", r->height_m);
    json_object_set_new(o, "patient", pat);
    json_t *dev = json_object();
    put_str(dev, "manufacturer", r->manufacturer);
    put_str(dev, "model", r->model);
    put_str(dev, "serial", r->device_serial);
    put_str(dev, "station", r->station);
    put_str(dev, "observer_uid", r->device_observer_uid);
    json_object_set_new(o, "device", dev);
    put_str(o, "procedure_reported", r->procedure_reported);
    json_object_set_new(o, "biplane", json_boolean(r->biplane));
    put_num(o, "kap_total_gy_cm2", r->kap_total_gy_cm2);
    put_num(o, "rp_total_mgy", r->rp_total_mgy);
    json_t *planes = json_array();
    for (int p = 0; p < HM_RDSR_NPLANES; p++) {
        const hm_rdsr_accum *a = &r->planes[p];
        if (!a->present)
            continue;
        json_t *j = json_object();
        put_str(j, "plane", hm_rdsr_plane_name(p));
        put_num(j, "kap_total_gy_cm2", a->kap_total_gy_cm2);
        put_num(j, "fluoro_kap_gy_cm2", a->fluoro_kap_gy_cm2);
        put_num(j, "acq_kap_gy_cm2", a->acq_kap_gy_cm2);
        put_num(j, "rp_total_mgy", a->rp_total_mgy);
        put_num(j, "fluoro_rp_mgy", a->fluoro_rp_mgy);
        put_num(j, "acq_rp_mgy", a->acq_rp_mgy);
        put_num(j, "fluoro_time_s", a->fluoro_time_s);
        put_num(j, "acq_time_s", a->acq_time_s);
        put_num(j, "frames", a->frames);
        put_str(j, "reference_point", a->reference_point);
        put_num(j, "events_kap_gy_cm2", hm_rdsr_events_kap_gy_cm2(r, p));
        json_array_append_new(planes, j);
    }
    json_object_set_new(o, "accumulated", planes);
    json_t *events = json_array();
    for (size_t i = 0; i < r->nevents; i++)
        json_array_append_new(events, event_json(&r->events[i]));
    json_object_set_new(o, "events", events);
    json_t *notes = json_array();
    for (size_t i = 0; i < r->nnotes; i++) {
        json_t *n = json_object();
        put_str(n, "kind", hm_rdsr_note_kind_name(r->notes[i].kind));
        put_str(n, "field", r->notes[i].field);
        put_str(n, "message", r->notes[i].msg);
        json_object_set_new(n, "count", json_integer(r->notes[i].count));
        json_array_append_new(notes, n);
    }
    json_object_set_new(o, "notes", notes);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(o);
    return s;
}
