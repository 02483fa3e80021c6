/*
 * rdsr_map.c — TID 10001/10002/10003 (DICOM PS3.16) from the flat SR item
 * list of the bridge to hm_rdsr_report.
 *
 * The SR tree is walked once.  A stack indexed by depth remembers, for each
 * open item, in which template context its children live: the report root
 * (TID 10001), an "Accumulated X-Ray Dose Data" container (113702,
 * TID 10002), an "Irradiation Event X-Ray Data" container (113706,
 * TID 10003) or an "X-Ray Filters" container (113771).  Items are looked up
 * by concept code in that context (data/rdsr/concepts.csv).  Children of a
 * value (e.g. Patient Orientation Modifier under Patient Orientation) stay
 * in their container's context; the content of unknown containers (e.g.
 * calibration) is not mapped, so a concept means what its template says.
 */
#include "rdsr_int.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CONCEPTS 512

struct mapper {
    const hm_rdsr_ctx *ctx;
    hm_rdsr_report    *rep;
    const char        *name;
    int                ctx_at[66];      /* context of the children of the item at depth d */
    /* open TID 10002 container */
    int                accum_depth;     /* -1 when none open */
    int                accum_plane;
    hm_rdsr_accum      accum;
    /* open TID 10003 container */
    int                event_depth;
    unsigned short     seen[MAX_CONCEPTS];
    /* open filter container */
    int                filter_depth;
    int                reject;          /* RK_REJECT_* found, 0 if none */
    char               reject_what[140];
    size_t             cap_events;
};

static void set_nan_event(hm_rdsr_event *e)
{
    memset(e, 0, sizeof *e);
    double *fields[] = {
        &e->kvp_kv, &e->tube_current_ma, &e->avg_tube_current_ma, &e->pulse_width_ms,
        &e->pulse_rate_per_s, &e->number_of_pulses, &e->irradiation_duration_s,
        &e->exposure_time_ms, &e->exposure_uas, &e->focal_spot_mm, &e->field_area_cm2,
        &e->field_height_mm, &e->field_width_mm, &e->primary_angle_deg,
        &e->secondary_angle_deg, &e->primary_end_angle_deg, &e->secondary_end_angle_deg,
        &e->source_isocentre_mm, &e->source_detector_mm, &e->source_rp_mm,
        &e->table_longitudinal_mm, &e->table_lateral_mm, &e->table_height_mm,
        &e->table_head_tilt_deg, &e->table_horizontal_rotation_deg,
        &e->table_cradle_tilt_deg, &e->kap_gy_cm2, &e->rp_air_kerma_mgy,
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        *fields[i] = NAN;
    for (int i = 0; i < HM_RDSR_MAX_FILTERS; i++)
        e->filters[i].thickness_min_mm = e->filters[i].thickness_max_mm = NAN;
    e->plane = HM_RDSR_PLANE_SINGLE;
}

static void set_nan_accum(hm_rdsr_accum *a)
{
    memset(a, 0, sizeof *a);
    a->kap_total_gy_cm2 = a->fluoro_kap_gy_cm2 = a->acq_kap_gy_cm2 = NAN;
    a->rp_total_mgy = a->fluoro_rp_mgy = a->acq_rp_mgy = NAN;
    a->fluoro_time_s = a->acq_time_s = a->frames = NAN;
}

const char *hm_rdsr_plane_name(int plane)
{
    switch (plane) {
    case HM_RDSR_PLANE_A: return "A";
    case HM_RDSR_PLANE_B: return "B";
    default:              return "single";
    }
}

/* Copies src into dst[size], truncating (values longer than our fields are
 * not meaningful for dosimetry). */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static hm_rdsr_event *cur_event(struct mapper *m)
{
    return m->event_depth >= 0 ? &m->rep->events[m->rep->nevents - 1] : NULL;
}

static void close_filter(struct mapper *m)
{
    m->filter_depth = -1;
}

static void close_event(struct mapper *m)
{
    hm_rdsr_event *e = cur_event(m);
    if (!e)
        return;
    close_filter(m);
    /* Per-pulse values were averaged as they came; say how many. */
    for (size_t i = 0; i < m->ctx->nconcepts && i < MAX_CONCEPTS; i++) {
        const rdsr_concept *c = &m->ctx->concepts[i];
        if (c->context != RC_EVENT || c->kind != RK_NUM || m->seen[i] < 2)
            continue;
        if (!strcmp(c->field, "kvp_kv"))
            e->kvp_values = m->seen[i];
        else if (!strcmp(c->field, "tube_current_ma"))
            e->tube_current_values = m->seen[i];
        else if (!strcmp(c->field, "pulse_width_ms"))
            e->pulse_width_values = m->seen[i];
        rdsr_note(m->rep, HM_RDSR_NOTE_REPAIRED, c->field,
                  "several values in one event (per pulse): mean stored");
    }
    if (!e->kvp_values && !isnan(e->kvp_kv)) e->kvp_values = 1;
    if (!e->tube_current_values && !isnan(e->tube_current_ma)) e->tube_current_values = 1;
    if (!e->pulse_width_values && !isnan(e->pulse_width_ms)) e->pulse_width_values = 1;
    m->event_depth = -1;
}

static void close_accum(struct mapper *m)
{
    if (m->accum_depth < 0)
        return;
    int p = m->accum_plane;
    if (m->rep->planes[p].present) {
        rdsr_note(m->rep, HM_RDSR_NOTE_REPAIRED, "plane",
                  "second accumulated dose container for plane %s ignored",
                  hm_rdsr_plane_name(p));
    } else {
        m->rep->planes[p] = m->accum;
        m->rep->planes[p].present = 1;
    }
    m->accum_depth = -1;
}

static int open_event(struct mapper *m, int depth)
{
    hm_rdsr_report *rep = m->rep;
    if (rep->nevents == m->cap_events) {
        size_t cap = m->cap_events ? 2 * m->cap_events : 16;
        void *p = realloc(rep->events, cap * sizeof *rep->events);
        if (!p)
            return HM_ENOMEM;
        rep->events = p;
        m->cap_events = cap;
    }
    set_nan_event(&rep->events[rep->nevents++]);
    memset(m->seen, 0, sizeof m->seen);
    m->event_depth = depth;
    return 0;
}

static int plane_of(const hm_dcm_code *code)
{
    if (!strcmp(code->value, "113620")) return HM_RDSR_PLANE_A;
    if (!strcmp(code->value, "113621")) return HM_RDSR_PLANE_B;
    if (!strcmp(code->value, "113622")) return HM_RDSR_PLANE_SINGLE;
    return -1;
}

/* Stores one mapped value. */
static void store(struct mapper *m, const rdsr_concept *c, const hm_dcm_item *it)
{
    char *base;
    hm_rdsr_event *e = cur_event(m);
    switch (c->target) {
    case RT_REPORT: base = (char *)m->rep; break;
    case RT_ACCUM:  base = (char *)&m->accum; break;
    case RT_EVENT:  base = (char *)e; break;
    case RT_FILTER: {
        hm_rdsr_filter *f = e && e->nfilters > 0 ? &e->filters[e->nfilters - 1] : NULL;
        if (!f)
            return;
        /* A second type or material in one container starts another filter. */
        int str = c->size > 0;
        int again = str ? ((char *)f + c->offset)[0] != '\0'
                        : !isnan(*(double *)((char *)f + c->offset));
        if (again) {
            if (e->nfilters == HM_RDSR_MAX_FILTERS) {
                rdsr_note(m->rep, HM_RDSR_NOTE_MISSING, c->field,
                          "more than %d filters in one event: extra ignored",
                          HM_RDSR_MAX_FILTERS);
                return;
            }
            f = &e->filters[e->nfilters++];
        }
        base = (char *)f;
        break;
    }
    default:
        return;
    }
    if (!base)
        return;

    if (!strcmp(c->field, "plane")) {
        int p = it->value_type[0] == 'C' ? plane_of(&it->coded) : -1;
        if (p < 0) {
            rdsr_note(m->rep, HM_RDSR_NOTE_MISSING, "plane",
                      "acquisition plane '%s' not understood: single plane assumed",
                      it->coded.meaning[0] ? it->coded.meaning : it->text);
            p = HM_RDSR_PLANE_SINGLE;
        }
        if (c->target == RT_ACCUM)
            m->accum_plane = p;
        else
            e->plane = p;
        return;
    }
    if (c->kind == RK_NUM) {
        if (strcmp(it->value_type, "NUM"))
            return;
        double v;
        if (rdsr_convert(m->ctx, c, it, m->rep, &v))
            return;
        double *slot = (double *)(base + c->offset);
        size_t ci = (size_t)(c - m->ctx->concepts);
        if (c->target == RT_EVENT && ci < MAX_CONCEPTS) {
            /* Running mean over repeated (per-pulse) values. */
            unsigned n = ++m->seen[ci];
            *slot = n == 1 ? v : *slot + (v - *slot) / n;
        } else if (isnan(*slot)) {
            *slot = v;
        } else {
            rdsr_note(m->rep, HM_RDSR_NOTE_REPAIRED, c->field, "repeated value: first kept");
        }
        return;
    }
    /* Strings: code meaning, text, UID or datetime, whichever the vendor used. */
    const char *s = it->text;
    if (!strcmp(it->value_type, "CODE"))
        s = it->coded.meaning[0] ? it->coded.meaning : it->coded.value;
    if (!s[0])
        return;
    char *dst = base + c->offset;
    if (dst[0] && c->target != RT_FILTER)
        return;   /* first value wins */
    copy_text(dst, c->size, s);
}

static void check_reject(struct mapper *m, const hm_dcm_code *code)
{
    if (m->reject || !code->value[0])
        return;
    const rdsr_concept *r = rdsr_find_concept(m->ctx, RC_REJECT, code);
    if (r) {
        m->reject = r->kind;
        snprintf(m->reject_what, sizeof m->reject_what, "%s", code->meaning);
    }
}

static int walk_items(struct mapper *m, const hm_dcm_doc *doc)
{
    m->ctx_at[0] = RC_REPORT;
    m->accum_depth = m->event_depth = m->filter_depth = -1;
    for (size_t i = 1; i < doc->nitems; i++) {
        const hm_dcm_item *it = &doc->items[i];
        int d = it->depth;
        if (d < 1 || d > 64)
            continue;
        if (m->filter_depth >= d) close_filter(m);
        if (m->event_depth >= d)  close_event(m);
        if (m->accum_depth >= d)  close_accum(m);
        check_reject(m, &it->concept);
        if (!strcmp(it->value_type, "CODE"))
            check_reject(m, &it->coded);

        int parent = m->ctx_at[d - 1];
        m->ctx_at[d] = RC_NONE;
        if (parent == RC_NONE)
            continue;
        if (!strcmp(it->value_type, "CONTAINER")) {
            const char *cv = it->concept.value;
            if (parent == RC_REPORT && !strcmp(cv, "113702")) {
                set_nan_accum(&m->accum);
                m->accum_plane = HM_RDSR_PLANE_SINGLE;
                m->accum_depth = d;
                m->ctx_at[d] = RC_ACCUM;
            } else if (parent == RC_REPORT && !strcmp(cv, "113706")) {
                if (open_event(m, d))
                    return HM_ENOMEM;
                m->ctx_at[d] = RC_EVENT;
            } else if (parent == RC_EVENT && !strcmp(cv, "113771")) {
                hm_rdsr_event *e = cur_event(m);
                if (e->nfilters < HM_RDSR_MAX_FILTERS) {
                    e->nfilters++;
                    m->filter_depth = d;
                    m->ctx_at[d] = RC_FILTER;
                } else {
                    rdsr_note(m->rep, HM_RDSR_NOTE_MISSING, "filter",
                              "more than %d filters in one event: extra ignored",
                              HM_RDSR_MAX_FILTERS);
                }
            }
            continue;
        }
        m->ctx_at[d] = parent;
        const rdsr_concept *c = rdsr_find_concept(m->ctx, parent, &it->concept);
        if (c)
            store(m, c, it);
    }
    close_filter(m);
    close_event(m);
    close_accum(m);
    return 0;
}

/* DICOM AS "nnnD/W/M/Y" to years (PS3.5 §6.2, Age String). */
static double age_years(const char *as)
{
    char *end;
    long n = strtol(as, &end, 10);
    if (end == as || n < 0)
        return NAN;
    switch (*end) {
    case 'D': return n / 365.25;
    case 'W': return n * 7 / 365.25;
    case 'M': return n / 12.0;
    case 'Y': return (double)n;
    default:  return NAN;
    }
}

static double ds_number(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    return (end == s || *end || !isfinite(v)) ? NAN : v;
}

static void fill_header(hm_rdsr_report *rep, const hm_dcm_doc *doc)
{
    const hm_dcm_attrs *a = &doc->attrs;
    copy_text(rep->sop_class_uid, sizeof rep->sop_class_uid, a->sop_class_uid);
    copy_text(rep->sop_instance_uid, sizeof rep->sop_instance_uid, a->sop_instance_uid);
    copy_text(rep->transfer_syntax, sizeof rep->transfer_syntax, a->transfer_syntax);
    copy_text(rep->study_uid, sizeof rep->study_uid, a->study_uid);
    copy_text(rep->study_date, sizeof rep->study_date, a->study_date);
    copy_text(rep->study_time, sizeof rep->study_time, a->study_time);
    copy_text(rep->template_id, sizeof rep->template_id, a->template_id);
    copy_text(rep->charset, sizeof rep->charset, a->charset);
    copy_text(rep->completion_flag, sizeof rep->completion_flag, a->completion_flag);
    copy_text(rep->patient_id, sizeof rep->patient_id, a->patient_id);
    copy_text(rep->birth_date, sizeof rep->birth_date, a->patient_birth_date);
    copy_text(rep->sex, sizeof rep->sex, a->patient_sex);
    copy_text(rep->age, sizeof rep->age, a->patient_age);
    /* The Device Observer items of TID 10001 name the irradiating device;
     * the General Equipment attributes (the SR's creator) fill what they lack. */
    if (!rep->manufacturer[0])
        copy_text(rep->manufacturer, sizeof rep->manufacturer, a->manufacturer);
    if (!rep->model[0])
        copy_text(rep->model, sizeof rep->model, a->model);
    if (!rep->device_serial[0])
        copy_text(rep->device_serial, sizeof rep->device_serial, a->device_serial);
    copy_text(rep->station, sizeof rep->station, a->station);
    rep->implicit_vr = doc->implicit_vr;
    rep->age_years = rep->age[0] ? age_years(rep->age) : NAN;
    rep->weight_kg = a->patient_weight_kg[0] ? ds_number(a->patient_weight_kg) : NAN;
    rep->height_m = a->patient_size_m[0] ? ds_number(a->patient_size_m) : NAN;
    if (!rep->template_id[0])
        rdsr_note(rep, HM_RDSR_NOTE_REPAIRED, "template_id",
                  "no Content Template Sequence: read as TID 10001");
}

double hm_rdsr_events_kap_gy_cm2(const hm_rdsr_report *rep, int plane)
{
    double s = 0;
    for (size_t i = 0; i < rep->nevents; i++)
        if (rep->events[i].plane == plane && !isnan(rep->events[i].kap_gy_cm2))
            s += rep->events[i].kap_gy_cm2;
    return s;
}

static int is_radiography_image(const char *sop_class)
{
    /* CR (…1.1) and DX (…1.1.1, …1.1.1.1, …) image storage classes. */
    static const char cr[] = "1.2.840.10008.5.1.4.1.1.1";
    size_t n = sizeof cr - 1;
    return !strncmp(sop_class, cr, n) && (sop_class[n] == '\0' || sop_class[n] == '.');
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return 1;
    return 0;
}

static void finish(hm_rdsr_report *rep, const hm_dcm_doc *doc)
{
    /* Radiography (DX/CR) vs fluoroscopy: a report whose images are CR/DX
     * and that has no fluoroscopy is radiography, filed as such. */
    int fluoro = 0, radiography = 0;
    for (size_t i = 0; i < rep->nevents; i++)
        if (contains_nocase(rep->events[i].type, "fluoro"))
            fluoro = 1;
    for (int p = 0; p < HM_RDSR_NPLANES; p++)
        if (rep->planes[p].present && !isnan(rep->planes[p].fluoro_time_s)
            && rep->planes[p].fluoro_time_s > 0)
            fluoro = 1;
    for (size_t i = 0; i < doc->nitems; i++)
        if (!strcmp(doc->items[i].value_type, "IMAGE") && is_radiography_image(doc->items[i].text))
            radiography = 1;
    copy_text(rep->modality, sizeof rep->modality, radiography && !fluoro ? "DX" : "RF");

    for (size_t i = 0; i < rep->nevents; i++) {
        hm_rdsr_event *e = &rep->events[i];
        if (e->plane != HM_RDSR_PLANE_SINGLE)
            rep->biplane = 1;
        if (!e->uid[0]) {
            /* Without an event UID the event cannot be recognised in a later
             * cumulative report; a stable key from the SOP instance is the
             * best available. */
            char uid[128];
            snprintf(uid, sizeof uid, "%.50s.%zu", rep->sop_instance_uid, i + 1);
            copy_text(e->uid, sizeof e->uid, uid);
            rdsr_note(rep, HM_RDSR_NOTE_REPAIRED, "uid",
                      "no Irradiation Event UID: derived from SOP Instance UID and position");
        }
    }
    for (int p = 1; p < HM_RDSR_NPLANES; p++)
        if (rep->planes[p].present)
            rep->biplane = 1;

    /* Accumulated totals (TID 10002), else the sum of the events. */
    int any = 0;
    rep->kap_total_gy_cm2 = 0;
    rep->rp_total_mgy = NAN;
    for (int p = 0; p < HM_RDSR_NPLANES; p++) {
        hm_rdsr_accum *a = &rep->planes[p];
        if (!a->present)
            continue;
        any = 1;
        if (isnan(a->kap_total_gy_cm2)) {
            a->kap_total_gy_cm2 = hm_rdsr_events_kap_gy_cm2(rep, p);
            rdsr_note(rep, HM_RDSR_NOTE_REPAIRED, "kap_total_gy_cm2",
                      "plane total absent: summed from the events");
        }
        rep->kap_total_gy_cm2 += a->kap_total_gy_cm2;
        if (!isnan(a->rp_total_mgy))
            rep->rp_total_mgy = isnan(rep->rp_total_mgy) ? a->rp_total_mgy
                                                         : rep->rp_total_mgy + a->rp_total_mgy;
    }
    if (!any) {
        for (int p = 0; p < HM_RDSR_NPLANES; p++)
            rep->kap_total_gy_cm2 += hm_rdsr_events_kap_gy_cm2(rep, p);
        rdsr_note(rep, HM_RDSR_NOTE_REPAIRED, "kap_total_gy_cm2",
                  "no accumulated dose data: total summed from the events");
    }

    /* Fields dosimetry needs, counted when missing. */
    static const struct { const char *name; size_t off; } need[] = {
        { "kvp_kv", offsetof(hm_rdsr_event, kvp_kv) },
        { "tube_current_ma", offsetof(hm_rdsr_event, tube_current_ma) },
        { "kap_gy_cm2", offsetof(hm_rdsr_event, kap_gy_cm2) },
        { "rp_air_kerma_mgy", offsetof(hm_rdsr_event, rp_air_kerma_mgy) },
        { "primary_angle_deg", offsetof(hm_rdsr_event, primary_angle_deg) },
        { "secondary_angle_deg", offsetof(hm_rdsr_event, secondary_angle_deg) },
        { "source_isocentre_mm", offsetof(hm_rdsr_event, source_isocentre_mm) },
        { "source_detector_mm", offsetof(hm_rdsr_event, source_detector_mm) },
    };
    for (size_t k = 0; k < sizeof need / sizeof *need; k++) {
        size_t missing = 0;
        for (size_t i = 0; i < rep->nevents; i++)
            if (isnan(*(const double *)((const char *)&rep->events[i] + need[k].off)))
                missing++;
        if (missing)
            rdsr_note(rep, HM_RDSR_NOTE_MISSING, need[k].name, "absent in %zu of %zu events",
                      missing, rep->nevents);
    }
}

static int map_doc(const hm_rdsr_ctx *ctx, const hm_dcm_doc *doc, const char *name,
                   hm_rdsr_report *rep, hm_error *err)
{
    const hm_dcm_item *root = &doc->items[0];
    struct mapper *m = calloc(1, sizeof *m);
    if (!m)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
    m->ctx = ctx;
    m->rep = rep;
    m->name = name;
    if (!strcmp(doc->attrs.template_id, "10011")) {
        m->reject = RK_REJECT_CT;
        snprintf(m->reject_what, sizeof m->reject_what, "template TID 10011");
    }
    check_reject(m, &root->concept);
    int rc = walk_items(m, doc);
    if (rc) {
        free(m);
        return hm_error_set(err, rc, name, 0, NULL, "out of memory");
    }
    int reject = m->reject;
    char what[sizeof m->reject_what];
    snprintf(what, sizeof what, "%s", m->reject_what);
    free(m);
    if (reject == RK_REJECT_CT)
        return hm_error_set(err, HM_EUNSUPPORTED, name, 0, NULL,
                            "CT radiation dose report (%s): harmonic reads "
                            "projection X-ray reports (TID 10001) only", what);
    if (reject == RK_REJECT_MAMMO)
        return hm_error_set(err, HM_EUNSUPPORTED, name, 0, NULL,
                            "mammography dose report (%s): not a fluoroscopy or "
                            "radiography procedure", what);
    if (strcmp(root->concept.value, "113701"))
        return hm_error_set(err, HM_EUNSUPPORTED, name, 0, "ConceptNameCodeSequence",
                            "structured report '%s' (code %s), not an X-Ray Radiation "
                            "Dose Report (113701)",
                            root->concept.meaning[0] ? root->concept.meaning : "untitled",
                            root->concept.value[0] ? root->concept.value : "none");
    fill_header(rep, doc);
    finish(rep, doc);
    return 0;
}

static int map_and_return(hm_rdsr_ctx *ctx, hm_dcm_doc *doc, int rc, const char *name,
                          hm_rdsr_report **out, hm_error *err)
{
    *out = NULL;
    if (rc == 0) {
        hm_rdsr_report *rep = calloc(1, sizeof *rep);
        if (!rep) {
            rc = hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
        } else {
            copy_text(rep->source, sizeof rep->source, name);
            rc = map_doc(ctx, doc, name, rep, err);
            if (rc)
                hm_rdsr_report_free(rep);
            else
                *out = rep;
        }
    }
    hm_dcm_doc_free(doc);
    return rc;
}

int hm_rdsr_read_file(hm_rdsr_ctx *ctx, const char *path, hm_rdsr_report **out, hm_error *err)
{
    hm_dcm_doc doc;
    int rc = hm_dcm_read_file(path, &doc, err);
    return map_and_return(ctx, &doc, rc, path, out, err);
}

int hm_rdsr_read_memory(hm_rdsr_ctx *ctx, const void *data, size_t size, const char *name,
                        hm_rdsr_report **out, hm_error *err)
{
    hm_dcm_doc doc;
    if (!name)
        name = "(memory)";
    int rc = hm_dcm_read_memory(data, size, name, &doc, err);
    return map_and_return(ctx, &doc, rc, name, out, err);
}

void hm_rdsr_report_free(hm_rdsr_report *rep)
{
    if (!rep)
        return;
    free(rep->events);
    free(rep->notes);
    free(rep);
}
