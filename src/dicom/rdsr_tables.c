/*
 * rdsr_tables.c — loads data/rdsr/units.csv and data/rdsr/concepts.csv and
 * ties each concept's field name to its slot in the C records.  The field
 * list below is the only place that knows the record layout; the codes and
 * units themselves are data.
 */
#include "rdsr_int.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define F_EV(name)  { #name, RT_EVENT, offsetof(hm_rdsr_event, name), \
                      sizeof(((hm_rdsr_event *)0)->name) }
#define F_AC(name)  { #name, RT_ACCUM, offsetof(hm_rdsr_accum, name), \
                      sizeof(((hm_rdsr_accum *)0)->name) }
#define F_RP(name)  { #name, RT_REPORT, offsetof(hm_rdsr_report, name), \
                      sizeof(((hm_rdsr_report *)0)->name) }

struct field_slot {
    const char *name;
    int         target;
    size_t      offset;
    size_t      size;
};

/* Report, accumulated and event fields; filter fields are handled apart
 * (they index into the event's filter array). */
static const struct field_slot report_slots[] = {
    F_RP(procedure_reported), F_RP(device_observer_uid),
    { "device_manufacturer", RT_REPORT, offsetof(hm_rdsr_report, manufacturer),
      sizeof(((hm_rdsr_report *)0)->manufacturer) },
    { "device_model", RT_REPORT, offsetof(hm_rdsr_report, model),
      sizeof(((hm_rdsr_report *)0)->model) },
    { "device_serial", RT_REPORT, offsetof(hm_rdsr_report, device_serial),
      sizeof(((hm_rdsr_report *)0)->device_serial) },
};
static const struct field_slot accum_slots[] = {
    { "plane", RT_ACCUM, 0, 0 },
    F_AC(kap_total_gy_cm2), F_AC(fluoro_kap_gy_cm2), F_AC(acq_kap_gy_cm2),
    F_AC(rp_total_mgy), F_AC(fluoro_rp_mgy), F_AC(acq_rp_mgy),
    F_AC(fluoro_time_s), F_AC(acq_time_s), F_AC(frames), F_AC(reference_point),
};
static const struct field_slot event_slots[] = {
    { "plane", RT_EVENT, 0, 0 },
    F_EV(uid), F_EV(type), F_EV(datetime_started), F_EV(protocol), F_EV(target_region),
    F_EV(fluoro_mode), F_EV(reference_point), F_EV(patient_orientation),
    F_EV(patient_orientation_modifier), F_EV(patient_table_relationship),
    F_EV(kvp_kv), F_EV(tube_current_ma), F_EV(avg_tube_current_ma), F_EV(pulse_width_ms),
    F_EV(pulse_rate_per_s), F_EV(number_of_pulses), F_EV(irradiation_duration_s),
    F_EV(exposure_time_ms), F_EV(exposure_uas), F_EV(focal_spot_mm),
    F_EV(field_area_cm2), F_EV(field_height_mm), F_EV(field_width_mm),
    F_EV(primary_angle_deg), F_EV(secondary_angle_deg), F_EV(primary_end_angle_deg),
    F_EV(secondary_end_angle_deg), F_EV(source_isocentre_mm), F_EV(source_detector_mm),
    F_EV(source_rp_mm), F_EV(table_longitudinal_mm), F_EV(table_lateral_mm),
    F_EV(table_height_mm), F_EV(table_head_tilt_deg), F_EV(table_horizontal_rotation_deg),
    F_EV(table_cradle_tilt_deg), F_EV(kap_gy_cm2), F_EV(rp_air_kerma_mgy),
};
static const struct field_slot filter_slots[] = {
    { "filter_type", RT_FILTER, offsetof(hm_rdsr_filter, type),
      sizeof(((hm_rdsr_filter *)0)->type) },
    { "filter_material", RT_FILTER, offsetof(hm_rdsr_filter, material),
      sizeof(((hm_rdsr_filter *)0)->material) },
    { "filter_thickness_min_mm", RT_FILTER, offsetof(hm_rdsr_filter, thickness_min_mm),
      sizeof(double) },
    { "filter_thickness_max_mm", RT_FILTER, offsetof(hm_rdsr_filter, thickness_max_mm),
      sizeof(double) },
};

static const struct field_slot *find_slot(int context, const char *name)
{
    const struct field_slot *s = NULL;
    size_t n = 0;
    switch (context) {
    case RC_REPORT: s = report_slots; n = sizeof report_slots / sizeof *s; break;
    case RC_ACCUM:  s = accum_slots;  n = sizeof accum_slots / sizeof *s;  break;
    case RC_EVENT:  s = event_slots;  n = sizeof event_slots / sizeof *s;  break;
    case RC_FILTER: s = filter_slots; n = sizeof filter_slots / sizeof *s; break;
    default: return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s[i].name, name))
            return &s[i];
    return NULL;
}

static int copy_field(char *dst, size_t size, const char *src, const char *path, long line,
                      const char *field, hm_error *err)
{
    if (strlen(src) >= size)
        return hm_error_set(err, HM_EPARSE, path, line, field,
                            "value '%s' longer than %zu characters", src, size - 1);
    strcpy(dst, src);
    return 0;
}

static int load_units(hm_rdsr_ctx *ctx, hm_error *err)
{
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("rdsr/units.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    int header = 1;
    size_t cap = 0;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            if (nf < 5 || strcmp(f[0], "code") || strcmp(f[2], "to_base")) {
                rc = hm_error_set(err, HM_EPARSE, path, line, NULL,
                                  "expected header code,dimension,to_base,ucum,note");
                break;
            }
            continue;
        }
        if (nf < 5) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected 5 fields, got %zu", nf);
            break;
        }
        if (ctx->nunits == cap) {
            cap = cap ? 2 * cap : 64;
            void *p = realloc(ctx->units, cap * sizeof *ctx->units);
            if (!p) { rc = hm_error_set(err, HM_ENOMEM, path, line, NULL, "out of memory"); break; }
            ctx->units = p;
        }
        rdsr_unit *u = &ctx->units[ctx->nunits];
        memset(u, 0, sizeof *u);
        char *end;
        u->to_base = strtod(f[2], &end);
        if (end == f[2] || *end || !(u->to_base > 0)) {
            rc = hm_error_set(err, HM_EPARSE, path, line, "to_base",
                              "expected a positive number, got '%s'", f[2]);
            break;
        }
        if ((rc = copy_field(u->code, sizeof u->code, f[0], path, line, "code", err))
            || (rc = copy_field(u->dimension, sizeof u->dimension, f[1], path, line,
                                "dimension", err))
            || (rc = copy_field(u->note, sizeof u->note, f[4], path, line, "note", err)))
            break;
        u->ucum = !strcmp(f[3], "1");
        ctx->nunits++;
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : 0;
}

static int unit_index(const hm_rdsr_ctx *ctx, const char *code)
{
    for (size_t i = 0; i < ctx->nunits; i++)
        if (!strcmp(ctx->units[i].code, code))
            return (int)i;
    return -1;
}

static int parse_concept(hm_rdsr_ctx *ctx, char **f, const char *path, long line,
                         rdsr_concept *c, hm_error *err)
{
    static const char *contexts[] = { "report", "accum", "event", "filter", "reject" };
    static const char *kinds[] = { "num", "code", "text", "uid", "datetime", "ct",
                                   "mammography" };
    memset(c, 0, sizeof *c);
    c->context = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(f[0], contexts[i]))
            c->context = i;
    c->kind = -1;
    for (int i = 0; i < 7; i++)
        if (!strcmp(f[3], kinds[i]))
            c->kind = i;
    if (c->context < 0)
        return hm_error_set(err, HM_EPARSE, path, line, "context",
                            "expected report, accum, event, filter or reject, got '%s'", f[0]);
    if (c->kind < 0 || (c->context == RC_REJECT) != (c->kind >= RK_REJECT_CT))
        return hm_error_set(err, HM_EPARSE, path, line, "kind",
                            "kind '%s' does not fit context '%s'", f[3], f[0]);
    int rc;
    if ((rc = copy_field(c->code, sizeof c->code, f[1], path, line, "code", err))
        || (rc = copy_field(c->scheme, sizeof c->scheme, f[2], path, line, "scheme", err))
        || (rc = copy_field(c->field, sizeof c->field, f[4], path, line, "field", err)))
        return rc;
    c->unit = c->std_unit = -1;
    if (c->context == RC_REJECT)
        return 0;
    const struct field_slot *s = find_slot(c->context, c->field);
    if (!s)
        return hm_error_set(err, HM_EPARSE, path, line, "field",
                            "unknown %s field '%s'", f[0], c->field);
    c->target = s->target;
    c->offset = s->offset;
    c->size = s->size == sizeof(double) && c->kind == RK_NUM ? 0 : s->size;
    if (c->kind == RK_NUM) {
        c->unit = unit_index(ctx, f[5]);
        c->std_unit = unit_index(ctx, f[6]);
        if (c->unit < 0 || c->std_unit < 0)
            return hm_error_set(err, HM_EPARSE, path, line, "unit",
                                "units '%s'/'%s' not in units.csv", f[5], f[6]);
        if (strcmp(ctx->units[c->unit].dimension, ctx->units[c->std_unit].dimension))
            return hm_error_set(err, HM_EPARSE, path, line, "unit",
                                "'%s' and '%s' measure different things", f[5], f[6]);
        if (s->size != sizeof(double))
            return hm_error_set(err, HM_EPARSE, path, line, "kind",
                                "field '%s' is not numeric", c->field);
    } else if (strcmp(c->field, "plane") && s->size <= sizeof(double)) {
        return hm_error_set(err, HM_EPARSE, path, line, "kind",
                            "field '%s' is numeric, kind '%s' is not", c->field, f[3]);
    }
    return 0;
}

static int load_concepts(hm_rdsr_ctx *ctx, hm_error *err)
{
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("rdsr/concepts.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf, cap = 0;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            if (nf < 8 || strcmp(f[0], "context") || strcmp(f[4], "field")) {
                rc = hm_error_set(err, HM_EPARSE, path, line, NULL,
                                  "expected header context,code,scheme,kind,field,unit,std_unit,meaning");
                break;
            }
            continue;
        }
        if (nf < 8) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected 8 fields, got %zu", nf);
            break;
        }
        if (ctx->nconcepts == cap) {
            cap = cap ? 2 * cap : 128;
            void *p = realloc(ctx->concepts, cap * sizeof *ctx->concepts);
            if (!p) { rc = hm_error_set(err, HM_ENOMEM, path, line, NULL, "out of memory"); break; }
            ctx->concepts = p;
        }
        if ((rc = parse_concept(ctx, f, path, line, &ctx->concepts[ctx->nconcepts], err)))
            break;
        ctx->nconcepts++;
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : 0;
}

hm_rdsr_ctx *hm_rdsr_ctx_new(hm_error *err)
{
    hm_rdsr_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        return NULL;
    }
    if (load_units(ctx, err) || load_concepts(ctx, err)) {
        hm_rdsr_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void hm_rdsr_ctx_free(hm_rdsr_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->units);
    free(ctx->concepts);
    free(ctx);
}

const rdsr_concept *rdsr_find_concept(const hm_rdsr_ctx *ctx, int context,
                                      const hm_dcm_code *code)
{
    /* Code values are unique across the schemes used here, so the scheme is
     * not compared: vendors write "SRT" vs "SCT" or misspell "DCM". */
    for (size_t i = 0; i < ctx->nconcepts; i++) {
        const rdsr_concept *c = &ctx->concepts[i];
        if (c->context == context && !strcmp(c->code, code->value))
            return c;
    }
    return NULL;
}

const rdsr_unit *rdsr_find_unit(const hm_rdsr_ctx *ctx, const char *code, int *exact)
{
    *exact = 1;
    int i = unit_index(ctx, code);
    if (i >= 0)
        return &ctx->units[i];
    /* Case-insensitive only when it is unambiguous (mGy vs MGy would not be). */
    const rdsr_unit *found = NULL;
    for (size_t j = 0; j < ctx->nunits; j++) {
        if (!strcasecmp(ctx->units[j].code, code)) {
            if (found)
                return NULL;
            found = &ctx->units[j];
        }
    }
    *exact = 0;
    return found;
}
