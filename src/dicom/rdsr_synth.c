/*
 * rdsr_synth.c — synthetic X-Ray Radiation Dose SRs for tests and demos.
 *
 * Writes a TID 10001 report with TID 10002 accumulated data per plane and
 * one TID 10003 event per irradiation, as a cath-lab system would, through
 * the bridge's SR writer.  Codes are written here independently of the
 * reader's data/rdsr/concepts.csv (taken from PS3.16 / DCMTK's dcm.h), so a
 * wrong row in that table shows up as a failing fixture test.
 *
 * Event values are a pure function of (study UID, event index): a
 * "continued" report (first_event > 0, or more events) repeats the same
 * event UIDs and values, like a cumulative report of one study.
 */
#include "hm_dicom.h"
#include "hm_rdsr.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const char *v, *s, *m; } code3;

static const code3 C_REPORT = { "113701", "DCM", "X-Ray Radiation Dose Report" };
static const code3 C_PROC = { "121058", "DCM", "Procedure reported" };
static const code3 C_PROJ = { "113704", "DCM", "Projection X-Ray" };
static const code3 C_OBS_UID = { "121012", "DCM", "Device Observer UID" };
static const code3 C_OBS_MANUF = { "121014", "DCM", "Device Observer Manufacturer" };
static const code3 C_OBS_MODEL = { "121015", "DCM", "Device Observer Model Name" };
static const code3 C_OBS_SERIAL = { "121016", "DCM", "Device Observer Serial Number" };
static const code3 C_SCOPE = { "113705", "DCM", "Scope of Accumulation" };
static const code3 C_STUDY = { "113014", "DCM", "Study" };
static const code3 C_STUDY_UID = { "110180", "DCM", "Study Instance UID" };
static const code3 C_ACCUM = { "113702", "DCM", "Accumulated X-Ray Dose Data" };
static const code3 C_PLANE = { "113764", "DCM", "Acquisition Plane" };
static const code3 C_SINGLE = { "113622", "DCM", "Single Plane" };
static const code3 C_PLANE_A = { "113620", "DCM", "Plane A" };
static const code3 C_PLANE_B = { "113621", "DCM", "Plane B" };
static const code3 C_DAP_TOT = { "113722", "DCM", "Dose Area Product Total" };
static const code3 C_FL_DAP_TOT = { "113726", "DCM", "Fluoro Dose Area Product Total" };
static const code3 C_AQ_DAP_TOT = { "113727", "DCM", "Acquisition Dose Area Product Total" };
static const code3 C_RP_TOT = { "113725", "DCM", "Dose (RP) Total" };
static const code3 C_FL_TIME = { "113730", "DCM", "Total Fluoro Time" };
static const code3 C_AQ_TIME = { "113855", "DCM", "Total Acquisition Time" };
static const code3 C_FRAMES = { "113731", "DCM", "Total Number of Radiographic Frames" };
static const code3 C_RP_DEF = { "113780", "DCM", "Reference Point Definition" };
static const code3 C_RP_15 = { "113860", "DCM", "15cm from Isocenter toward Source" };
static const code3 C_EVENT = { "113706", "DCM", "Irradiation Event X-Ray Data" };
static const code3 C_EV_UID = { "113769", "DCM", "Irradiation Event UID" };
static const code3 C_EV_TYPE = { "113721", "DCM", "Irradiation Event Type" };
static const code3 C_FLUORO = { "P5-06000", "SRT", "Fluoroscopy" };
static const code3 C_STATIONARY = { "113611", "DCM", "Stationary Acquisition" };
static const code3 C_DT_START = { "111526", "DCM", "DateTime Started" };
static const code3 C_PROTOCOL = { "125203", "DCM", "Acquisition Protocol" };
static const code3 C_TARGET = { "123014", "DCM", "Target Region" };
static const code3 C_CHEST = { "T-D3000", "SRT", "Chest" };
static const code3 C_FL_MODE = { "113732", "DCM", "Fluoro Mode" };
static const code3 C_PULSED = { "113631", "DCM", "Pulsed" };
static const code3 C_PULSE_RATE = { "113791", "DCM", "Pulse Rate" };
static const code3 C_NPULSES = { "113768", "DCM", "Number of Pulses" };
static const code3 C_DURATION = { "113742", "DCM", "Irradiation Duration" };
static const code3 C_KVP = { "113733", "DCM", "KVP" };
static const code3 C_MA = { "113734", "DCM", "X-Ray Tube Current" };
static const code3 C_PW = { "113793", "DCM", "Pulse Width" };
static const code3 C_FILTERS = { "113771", "DCM", "X-Ray Filters" };
static const code3 C_FILTER_TYPE = { "113772", "DCM", "X-Ray Filter Type" };
static const code3 C_FLAT = { "113653", "DCM", "Flat filter" };
static const code3 C_FILTER_MAT = { "113757", "DCM", "X-Ray Filter Material" };
static const code3 C_COPPER = { "C-127F9", "SRT", "Copper or Copper compound" };
static const code3 C_ALUMINIUM = { "C-120F9", "SRT", "Aluminum or Aluminum compound" };
static const code3 C_FILTER_MIN = { "113758", "DCM", "X-Ray Filter Thickness Minimum" };
static const code3 C_FILTER_MAX = { "113773", "DCM", "X-Ray Filter Thickness Maximum" };
static const code3 C_FIELD_AREA = { "113790", "DCM", "Collimated Field Area" };
static const code3 C_FIELD_H = { "113788", "DCM", "Collimated Field Height" };
static const code3 C_FIELD_W = { "113789", "DCM", "Collimated Field Width" };
static const code3 C_PRIMARY = { "112011", "DCM", "Positioner Primary Angle" };
static const code3 C_SECONDARY = { "112012", "DCM", "Positioner Secondary Angle" };
static const code3 C_SID = { "113750", "DCM", "Distance Source to Detector" };
static const code3 C_SOD = { "113748", "DCM", "Distance Source to Isocenter" };
static const code3 C_TABLE_LONG = { "113751", "DCM", "Table Longitudinal Position" };
static const code3 C_TABLE_LAT = { "113752", "DCM", "Table Lateral Position" };
static const code3 C_TABLE_H = { "113753", "DCM", "Table Height Position" };
static const code3 C_DAP = { "122130", "DCM", "Dose Area Product" };
static const code3 C_RP = { "113738", "DCM", "Dose (RP)" };
static const code3 C_ORIENT = { "113743", "DCM", "Patient Orientation" };
static const code3 C_RECUMBENT = { "F-10450", "SRT", "recumbent" };
static const code3 C_ORIENT_MOD = { "113744", "DCM", "Patient Orientation Modifier" };
static const code3 C_SUPINE = { "F-10340", "SRT", "supine" };
static const code3 C_TABLE_REL = { "113745", "DCM", "Patient Table Relationship" };
static const code3 C_HEADFIRST = { "F-10470", "SRT", "headfirst" };
static const code3 C_ACQ_IMAGE = { "113795", "DCM", "Acquired Image" };

/* UCUM units written. */
static const code3 U_GYM2 = { "Gy.m2", "UCUM", "Gy.m2" };
static const code3 U_GYM2_SIEMENS = { "Gym2", "UCUM", "Gym2" };
static const code3 U_DGYCM2 = { "dGy.cm2", "UCUM", "dGy.cm2" };
static const code3 U_GY = { "Gy", "UCUM", "Gy" };
static const code3 U_MGY = { "mGy", "UCUM", "mGy" };
static const code3 U_S = { "s", "UCUM", "s" };
static const code3 U_MS = { "ms", "UCUM", "ms" };
static const code3 U_KV = { "kV", "UCUM", "kV" };
static const code3 U_MA = { "mA", "UCUM", "mA" };
static const code3 U_MM = { "mm", "UCUM", "mm" };
static const code3 U_M2 = { "m2", "UCUM", "m2" };
static const code3 U_DEG = { "deg", "UCUM", "deg" };
static const code3 U_PPS = { "{pulse}/s", "UCUM", "pulse/s" };
static const code3 U_ONE = { "1", "UCUM", "no units" };

struct writer {
    hm_dcm_doc doc;
    int        oom;
};

static void set_code(hm_dcm_code *dst, code3 c)
{
    snprintf(dst->value, sizeof dst->value, "%s", c.v);
    snprintf(dst->scheme, sizeof dst->scheme, "%s", c.s);
    snprintf(dst->meaning, sizeof dst->meaning, "%s", c.m);
}

static hm_dcm_item *item(struct writer *w, int depth, const char *rel, const char *vt, code3 c)
{
    hm_dcm_item *it = hm_dcm_doc_append(&w->doc, depth);
    if (!it) {
        w->oom = 1;
        return NULL;
    }
    snprintf(it->relationship, sizeof it->relationship, "%s", rel);
    snprintf(it->value_type, sizeof it->value_type, "%s", vt);
    set_code(&it->concept, c);
    return it;
}

static void container(struct writer *w, int depth, code3 c)
{
    item(w, depth, "CONTAINS", "CONTAINER", c);
}

static void coded(struct writer *w, int depth, const char *rel, code3 c, code3 value)
{
    hm_dcm_item *it = item(w, depth, rel, "CODE", c);
    if (it)
        set_code(&it->coded, value);
}

static void text(struct writer *w, int depth, const char *rel, const char *vt, code3 c,
                 const char *s)
{
    hm_dcm_item *it = item(w, depth, rel, vt, c);
    if (it)
        snprintf(it->text, sizeof it->text, "%s", s);
}

/* Writes a NUM and returns the value as a reader will parse it back from
 * the DS string (so sums in the truth match the file exactly). */
static double num(struct writer *w, int depth, code3 c, double v, code3 unit)
{
    hm_dcm_item *it = item(w, depth, "CONTAINS", "NUM", c);
    if (!it)
        return v;
    snprintf(it->number_text, sizeof it->number_text, "%.9g", v);   /* DS: at most 16 bytes */
    it->number = strtod(it->number_text, NULL);
    it->has_number = 1;
    set_code(&it->unit, unit);
    return it->number;
}

static void empty_num(struct writer *w, int depth, code3 c)
{
    item(w, depth, "CONTAINS", "NUM", c);
}

/* SplitMix64 (Steele, Lea, Flood 2014): a well-mixed 64-bit hash of the
 * event's identity, so values do not depend on the order of generation. */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;      /* FNV-1a offset basis */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Uniform in [lo, hi) from the k-th draw of event g. */
static double draw(uint64_t key, int g, int k, double lo, double hi)
{
    uint64_t r = mix(key ^ mix((uint64_t)g * 64 + (uint64_t)k));
    return lo + (hi - lo) * (double)(r >> 11) * 0x1.0p-53;
}

struct plane_sum {
    double kap_written, fluoro_kap_written, acq_kap_written;   /* in the written KAP unit */
    double rp_written, fluoro_time_s, acq_time_s, frames;
    double kap_gy_cm2, rp_mgy;
    int    n;
};

int hm_rdsr_quirks_parse(const char *list)
{
    static const struct { const char *name; int bit; } q[] = {
        { "gym2", HM_RDSR_QUIRK_GYM2 }, { "dgycm2", HM_RDSR_QUIRK_DGYCM2 },
        { "no-template", HM_RDSR_QUIRK_NO_TEMPLATE }, { "implicit-vr", HM_RDSR_QUIRK_IMPLICIT_VR },
        { "empty-values", HM_RDSR_QUIRK_EMPTY }, { "mgy-rp", HM_RDSR_QUIRK_MGY_RP },
        { "per-pulse", HM_RDSR_QUIRK_PER_PULSE },
    };
    int bits = 0;
    const char *p = list;
    while (p && *p) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (size_t i = 0; i < sizeof q / sizeof *q; i++)
            if (strlen(q[i].name) == n && !strncmp(p, q[i].name, n)) {
                bits |= q[i].bit;
                found = 1;
            }
        if (!found && n > 0)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    return bits;
}

static void write_event(struct writer *w, const hm_rdsr_synth_spec *s, uint64_t key,
                        const char *study_uid, const char *date, int g, int plane,
                        struct plane_sum *sum, double *kvp_out)
{
    unsigned q = s->quirks;
    /* Every fifth event is a cine acquisition; radiography has no fluoroscopy. */
    int fluoro = !s->radiography && g % 5 != 4;
    char buf[96];
    container(w, 1, C_EVENT);
    coded(w, 2, "HAS CONCEPT MOD", C_PLANE,
          plane == HM_RDSR_PLANE_A ? C_PLANE_A : plane == HM_RDSR_PLANE_B ? C_PLANE_B : C_SINGLE);
    int secs = 36000 + 40 * g;
    snprintf(buf, sizeof buf, "%s%02d%02d%02d", date, secs / 3600, secs / 60 % 60, secs % 60);
    text(w, 2, "CONTAINS", "DATETIME", C_DT_START, buf);
    coded(w, 2, "CONTAINS", C_EV_TYPE, fluoro ? C_FLUORO : C_STATIONARY);
    text(w, 2, "CONTAINS", "TEXT", C_PROTOCOL, fluoro ? "Cardiac fluoro 15 p/s" : "Coronary cine");
    snprintf(buf, sizeof buf, "%.48s.9.%d", study_uid, g + 1);
    text(w, 2, "CONTAINS", "UIDREF", C_EV_UID, buf);
    coded(w, 2, "CONTAINS", C_TARGET, C_CHEST);
    coded(w, 2, "CONTAINS", C_FL_MODE, C_PULSED);
    double rate = fluoro ? 15 : 30;
    num(w, 2, C_PULSE_RATE, rate, U_PPS);
    double pulses = floor(draw(key, g, 1, 20, 400));
    num(w, 2, C_NPULSES, pulses, U_ONE);
    double duration_s = num(w, 2, C_DURATION, pulses / rate, U_S);
    double kv = floor(draw(key, g, 2, 60, 90));
    if (q & HM_RDSR_QUIRK_EMPTY) {
        empty_num(w, 2, C_KVP);
        empty_num(w, 2, C_MA);
        *kvp_out = NAN;
    } else {
        if (q & HM_RDSR_QUIRK_PER_PULSE) {
            double a = num(w, 2, C_KVP, kv - 2, U_KV);
            double b = num(w, 2, C_KVP, kv, U_KV);
            double c = num(w, 2, C_KVP, kv + 5, U_KV);
            *kvp_out = (a + b + c) / 3;
        } else {
            *kvp_out = num(w, 2, C_KVP, kv, U_KV);
        }
        num(w, 2, C_MA, floor(draw(key, g, 3, 5, 60) * 10) / 10, U_MA);
    }
    num(w, 2, C_PW, floor(draw(key, g, 4, 3, 9) * 10) / 10, U_MS);
    container(w, 2, C_FILTERS);
    coded(w, 3, "CONTAINS", C_FILTER_TYPE, C_FLAT);
    coded(w, 3, "CONTAINS", C_FILTER_MAT, C_COPPER);
    double cu = 0.1 * (1 + g % 9);
    num(w, 3, C_FILTER_MIN, cu, U_MM);
    num(w, 3, C_FILTER_MAX, cu, U_MM);
    container(w, 2, C_FILTERS);
    coded(w, 3, "CONTAINS", C_FILTER_TYPE, C_FLAT);
    coded(w, 3, "CONTAINS", C_FILTER_MAT, C_ALUMINIUM);
    num(w, 3, C_FILTER_MIN, 1.0, U_MM);
    num(w, 3, C_FILTER_MAX, 1.0, U_MM);
    double side_mm = floor(draw(key, g, 5, 80, 220));
    num(w, 2, C_FIELD_AREA, side_mm * side_mm * 1e-6, U_M2);
    num(w, 2, C_FIELD_H, side_mm, U_MM);
    num(w, 2, C_FIELD_W, side_mm, U_MM);
    num(w, 2, C_PRIMARY, floor(draw(key, g, 6, -90, 90)), U_DEG);
    num(w, 2, C_SECONDARY, floor(draw(key, g, 7, -40, 40)), U_DEG);
    num(w, 2, C_SID, floor(draw(key, g, 8, 950, 1200)), U_MM);
    num(w, 2, C_SOD, 750, U_MM);
    num(w, 2, C_TABLE_LONG, floor(draw(key, g, 9, -200, 200)), U_MM);
    num(w, 2, C_TABLE_LAT, floor(draw(key, g, 10, -50, 50)), U_MM);
    num(w, 2, C_TABLE_H, floor(draw(key, g, 11, 100, 250)), U_MM);

    /* Dose: KAP 0.005–0.5 Gy.cm2 per event (paediatric cath scale,
     * anchors.md §2), reference-point air kerma ~ 0.6 mGy per 0.01 Gy.cm2. */
    double kap_gy_cm2 = draw(key, g, 12, 0.005, 0.5);
    double rp_mgy = kap_gy_cm2 * draw(key, g, 13, 40, 80);
    double kap_written, kap_factor;   /* written value and factor to Gy.cm2 */
    code3 kap_unit = U_GYM2;
    if (q & HM_RDSR_QUIRK_DGYCM2) {
        kap_unit = U_DGYCM2;
        kap_factor = 0.1;
    } else {
        if (q & HM_RDSR_QUIRK_GYM2)
            kap_unit = U_GYM2_SIEMENS;
        kap_factor = 1e4;
    }
    kap_written = num(w, 2, C_DAP, kap_gy_cm2 / kap_factor, kap_unit);
    double rp_factor = (q & HM_RDSR_QUIRK_MGY_RP) ? 1.0 : 1e3;       /* to mGy */
    double rp_written = num(w, 2, C_RP, rp_mgy / rp_factor,
                            (q & HM_RDSR_QUIRK_MGY_RP) ? U_MGY : U_GY);
    coded(w, 2, "CONTAINS", C_ORIENT, C_RECUMBENT);
    coded(w, 3, "HAS CONCEPT MOD", C_ORIENT_MOD, C_SUPINE);
    coded(w, 2, "CONTAINS", C_TABLE_REL, C_HEADFIRST);
    coded(w, 2, "CONTAINS", C_RP_DEF, C_RP_15);
    if (s->radiography)
        text(w, 2, "CONTAINS", "IMAGE", C_ACQ_IMAGE, "1.2.840.10008.5.1.4.1.1.1.1");

    sum->kap_written += kap_written;
    if (fluoro) {
        sum->fluoro_kap_written += kap_written;
        sum->fluoro_time_s += duration_s;
    } else {
        sum->acq_kap_written += kap_written;
        sum->acq_time_s += duration_s;
        sum->frames += pulses;
    }
    sum->rp_written += rp_written;
    sum->kap_gy_cm2 += kap_written * kap_factor;
    sum->rp_mgy += rp_written * rp_factor;
    sum->n++;
}

static void write_accum(struct writer *w, const hm_rdsr_synth_spec *s, int plane,
                        const struct plane_sum *sum)
{
    unsigned q = s->quirks;
    code3 kap_unit = (q & HM_RDSR_QUIRK_DGYCM2) ? U_DGYCM2
                   : (q & HM_RDSR_QUIRK_GYM2) ? U_GYM2_SIEMENS : U_GYM2;
    container(w, 1, C_ACCUM);
    coded(w, 2, "HAS CONCEPT MOD", C_PLANE,
          plane == HM_RDSR_PLANE_A ? C_PLANE_A : plane == HM_RDSR_PLANE_B ? C_PLANE_B : C_SINGLE);
    num(w, 2, C_DAP_TOT, sum->kap_written, kap_unit);
    num(w, 2, C_FL_DAP_TOT, sum->fluoro_kap_written, kap_unit);
    num(w, 2, C_AQ_DAP_TOT, sum->acq_kap_written, kap_unit);
    num(w, 2, C_RP_TOT, sum->rp_written, (q & HM_RDSR_QUIRK_MGY_RP) ? U_MGY : U_GY);
    num(w, 2, C_FL_TIME, sum->fluoro_time_s, U_S);
    num(w, 2, C_AQ_TIME, sum->acq_time_s, U_S);
    num(w, 2, C_FRAMES, sum->frames, U_ONE);
    coded(w, 2, "CONTAINS", C_RP_DEF, C_RP_15);
}

/* Age in whole years between two YYYYMMDD dates, as DICOM AS "nnnY". */
static void age_string(const char *birth, const char *on, char *out, size_t size)
{
    long b = strtol(birth, NULL, 10), d = strtol(on, NULL, 10);
    long years = d / 10000 - b / 10000 - ((d % 10000) < (b % 10000) ? 1 : 0);
    if (years < 0)
        years = 0;
    snprintf(out, size, "%03ldY", years);
}

int hm_rdsr_synth_write(const char *path, const hm_rdsr_synth_spec *s,
                        hm_rdsr_synth_truth *truth, hm_error *err)
{
    if (s->nevents < 0 || s->nevents > 100000 || s->first_event < 0)
        return hm_error_set(err, HM_EINVAL, path, 0, "events",
                            "expected 0..100000 events from index >= 0");
    struct writer w;
    memset(&w, 0, sizeof w);
    hm_dcm_attrs *a = &w.doc.attrs;
    char uidbuf[68];
    if (s->study_uid)
        snprintf(a->study_uid, sizeof a->study_uid, "%s", s->study_uid);
    else
        snprintf(a->study_uid, sizeof a->study_uid, "2.25.%llu",
                 (unsigned long long)(mix(s->seed) >> 1));
    snprintf(a->series_uid, sizeof a->series_uid, "%.50s.1", a->study_uid);
    /* Each report of the study is a new SOP instance. */
    snprintf(uidbuf, sizeof uidbuf, "%.40s.%d.%d", a->study_uid, s->first_event, s->nevents);
    snprintf(a->sop_instance_uid, sizeof a->sop_instance_uid, "%s", uidbuf);
    snprintf(a->patient_id, sizeof a->patient_id, "%s", s->patient_id ? s->patient_id : "");
    if (!s->patient_id)
        snprintf(a->patient_id, sizeof a->patient_id, "SYN%u", s->seed);
    const char *birth = s->birth_date ? s->birth_date : "20190315";
    const char *date = s->study_date ? s->study_date : "20230611";
    snprintf(a->patient_birth_date, sizeof a->patient_birth_date, "%s", birth);
    snprintf(a->patient_sex, sizeof a->patient_sex, "%s", s->sex ? s->sex : "F");
    age_string(birth, date, a->patient_age, sizeof a->patient_age);
    snprintf(a->patient_weight_kg, sizeof a->patient_weight_kg, "17.5");
    snprintf(a->patient_size_m, sizeof a->patient_size_m, "1.05");
    snprintf(a->study_date, sizeof a->study_date, "%s", date);
    snprintf(a->study_time, sizeof a->study_time, "100000");
    snprintf(a->manufacturer, sizeof a->manufacturer, "HARMONIC Synthetic");
    snprintf(a->model, sizeof a->model, "%s", s->radiography ? "SynthRad DX"
                                              : s->biplane ? "SynthCath Biplane" : "SynthCath Mono");
    snprintf(a->device_serial, sizeof a->device_serial, "SYN-%04u", s->seed % 10000);
    snprintf(a->station, sizeof a->station, "CATHLAB1");
    snprintf(a->charset, sizeof a->charset, "ISO_IR 100");

    uint64_t key = hash_str(a->study_uid);
    item(&w, 0, "", "CONTAINER", C_REPORT);
    coded(&w, 1, "HAS CONCEPT MOD", C_PROC, C_PROJ);
    text(&w, 1, "HAS OBS CONTEXT", "UIDREF", C_OBS_UID, a->series_uid);
    text(&w, 1, "HAS OBS CONTEXT", "TEXT", C_OBS_MANUF, a->manufacturer);
    text(&w, 1, "HAS OBS CONTEXT", "TEXT", C_OBS_MODEL, a->model);
    text(&w, 1, "HAS OBS CONTEXT", "TEXT", C_OBS_SERIAL, a->device_serial);
    coded(&w, 1, "HAS OBS CONTEXT", C_SCOPE, C_STUDY);
    text(&w, 2, "HAS PROPERTIES", "UIDREF", C_STUDY_UID, a->study_uid);

    /* Events are written to a second document first: the accumulated
     * containers, which come before them, need their sums. */
    struct writer ev;
    memset(&ev, 0, sizeof ev);
    struct plane_sum sums[HM_RDSR_NPLANES];
    memset(sums, 0, sizeof sums);
    double first_kvp = NAN;
    for (int k = 0; k < s->nevents; k++) {
        int g = s->first_event + k;
        int plane = s->biplane ? (g % 2 ? HM_RDSR_PLANE_B : HM_RDSR_PLANE_A) : HM_RDSR_PLANE_SINGLE;
        double kvp;
        write_event(&ev, s, key, a->study_uid, date, g, plane, &sums[plane], &kvp);
        if (k == 0)
            first_kvp = kvp;
    }
    int rc = 0;
    if (ev.oom) {
        rc = hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
        goto done;
    }
    for (int p = 0; p < HM_RDSR_NPLANES; p++)
        if (s->biplane ? p != HM_RDSR_PLANE_SINGLE : p == HM_RDSR_PLANE_SINGLE)
            write_accum(&w, s, p, &sums[p]);
    for (size_t i = 0; i < ev.doc.nitems && !w.oom; i++) {
        hm_dcm_item *it = hm_dcm_doc_append(&w.doc, ev.doc.items[i].depth);
        if (!it)
            w.oom = 1;
        else
            *it = ev.doc.items[i];
    }
    if (w.oom) {
        rc = hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
        goto done;
    }
    int flags = 0;
    if (s->quirks & HM_RDSR_QUIRK_IMPLICIT_VR)
        flags |= HM_DCM_WRITE_IMPLICIT_VR;
    if (s->quirks & HM_RDSR_QUIRK_NO_TEMPLATE)
        flags |= HM_DCM_WRITE_NO_TEMPLATE;
    rc = hm_dcm_write_file(path, &w.doc, flags, err);
    if (rc == 0 && truth) {
        memset(truth, 0, sizeof *truth);
        for (int p = 0; p < HM_RDSR_NPLANES; p++) {
            truth->events_per_plane[p] = sums[p].n;
            truth->kap_gy_cm2[p] = sums[p].kap_gy_cm2;
            truth->rp_mgy[p] = sums[p].rp_mgy;
            truth->kap_total_gy_cm2 += sums[p].kap_gy_cm2;
        }
        truth->first_kvp_kv = first_kvp;
    }
done:
    hm_dcm_doc_free(&ev.doc);
    hm_dcm_doc_free(&w.doc);
    return rc;
}
