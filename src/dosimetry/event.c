/*
 * event.c — one irradiation event (DICOM TID 10003) as a beam on a phantom:
 * C-arm angles and patient position to a central-ray direction, the field
 * at the detector scaled to the isocentre, filtration, table displacement,
 * and the documented rules that fill in what the event does not say.
 *
 * Frames.  The device frame is the patient frame of a head-first supine
 * patient (x to the patient's left, y posterior = down, z towards the head
 * end of the table); C-arm angles are defined there.  The patient (phantom)
 * frame is DICOM LPS.  rot[] below turns device vectors into patient ones
 * for each position; each row was derived from where the patient's left,
 * posterior and head point in the device frame (right-handed: left x
 * posterior = head), see docs/dosimetry.md.
 */
#include "dos_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

void hm_dosimetry_event_init(hm_dosimetry_event *e)
{
    memset(e, 0, sizeof *e);
    double *nums[] = { &e->kvp, &e->filter_al_mm, &e->filter_cu_mm, &e->primary_angle_deg,
                       &e->secondary_angle_deg, &e->primary_end_angle_deg,
                       &e->secondary_end_angle_deg, &e->source_isocentre_mm, &e->source_detector_mm,
                       &e->field_width_mm, &e->field_height_mm, &e->field_area_cm2,
                       &e->table_lateral_mm, &e->table_longitudinal_mm, &e->table_height_mm,
                       &e->kap_gy_cm2, &e->rp_air_kerma_mgy };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        *nums[i] = NAN;
}

static const char *const position_names[] = { "unknown", "HFS", "HFP", "FFS", "FFP",
                                              "HFDL", "HFDR", "FFDL", "FFDR" };

const char *hm_dosimetry_position_name(hm_patient_position pos)
{
    return (unsigned)pos < sizeof position_names / sizeof position_names[0] ? position_names[pos]
                                                                            : "unknown";
}

/* Lower case, letters only: "Feet-First" -> "feetfirst", "Left lateral
 * decubitus" -> "leftlateraldecubitus". */
static void squash(const char *in, char *out, size_t size)
{
    size_t n = 0;
    for (; in && *in && n + 1 < size; in++)
        if (isalpha((unsigned char)*in))
            out[n++] = (char)tolower((unsigned char)*in);
    out[n] = '\0';
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

int hm_dosimetry_patient_position(const char *table_relationship, const char *orientation,
                                  const char *modifier, hm_patient_position *pos, int *imputed,
                                  hm_error *err)
{
    char all[320], t[96], o[96], m[96];
    squash(table_relationship, t, sizeof t);
    squash(orientation, o, sizeof o);
    squash(modifier, m, sizeof m);
    snprintf(all, sizeof all, "%s %s %s", t, o, m);
    int guessed = 0;
    /* One combined code ("HFS", "FFDL") in any of the three texts. */
    for (int p = HM_POS_HFS; p <= HM_POS_FFDR; p++) {
        char code[8];
        squash(position_names[p], code, sizeof code);
        if (!strcmp(t, code) || !strcmp(o, code) || !strcmp(m, code)) {
            *pos = (hm_patient_position)p;
            if (imputed)
                *imputed = 0;
            return HM_OK;
        }
    }
    int feet;
    if (contains(all, "feetfirst") || contains(all, "footfirst"))
        feet = 1;
    else if (contains(all, "headfirst"))
        feet = 0;
    else {
        feet = 0;
        guessed = 1;
    }
    /* Erect patients are not met in catheterization; their angles relate to
     * the patient as for a supine one, so "erect" alone changes nothing. */
    int side;   /* 0 supine, 1 prone, 2 left decubitus, 3 right decubitus */
    if (contains(all, "prone"))
        side = 1;
    else if (contains(all, "leftlateraldecubitus") || contains(all, "leftdecubitus"))
        side = 2;
    else if (contains(all, "rightlateraldecubitus") || contains(all, "rightdecubitus"))
        side = 3;
    else if (contains(all, "supine"))
        side = 0;
    else {
        side = 0;
        guessed = 1;
    }
    /* Text that names none of these is a mistake worth reporting, not a
     * default: only empty parts are imputed. */
    const char *known[] = { "headfirst", "feetfirst", "footfirst", "recumbent", "erect", "supine",
                            "prone", "leftlateraldecubitus", "rightlateraldecubitus",
                            "leftdecubitus", "rightdecubitus", "" };
    const char *parts[3] = { t, o, m };
    const char *names[3] = { "patient_table_relationship", "patient_orientation",
                             "patient_orientation_modifier" };
    for (int i = 0; i < 3; i++) {
        int ok = 0;
        for (size_t k = 0; k < sizeof known / sizeof known[0] && !ok; k++)
            ok = !strcmp(parts[i], known[k]) || (known[k][0] && contains(parts[i], known[k]));
        if (!ok)
            return hm_error_set(err, HM_EINVAL, NULL, 0, names[i],
                                "'%s': expected head first/feet first, recumbent/erect, supine/"
                                "prone/left or right lateral decubitus, or a code such as HFS",
                                i == 0 ? table_relationship : i == 1 ? orientation : modifier);
    }
    static const hm_patient_position map[2][4] = {
        { HM_POS_HFS, HM_POS_HFP, HM_POS_HFDL, HM_POS_HFDR },
        { HM_POS_FFS, HM_POS_FFP, HM_POS_FFDL, HM_POS_FFDR } };
    *pos = map[feet][side];
    if (imputed)
        *imputed = guessed;
    return HM_OK;
}

/* Device -> patient frame: v_pat[k] = sign[k] * v_dev[axis[k]]. */
static const struct { int axis[3]; int sign[3]; } rot[] = {
    [HM_POS_UNKNOWN] = { { 0, 1, 2 }, { 1, 1, 1 } },
    [HM_POS_HFS]  = { { 0, 1, 2 }, { 1, 1, 1 } },
    [HM_POS_HFP]  = { { 0, 1, 2 }, { -1, -1, 1 } },    /* left = -x, posterior = -y */
    [HM_POS_FFS]  = { { 0, 1, 2 }, { -1, 1, -1 } },    /* left = -x, head = -z */
    [HM_POS_FFP]  = { { 0, 1, 2 }, { 1, -1, -1 } },    /* posterior = -y, head = -z */
    [HM_POS_HFDL] = { { 1, 0, 2 }, { 1, -1, 1 } },     /* left = +y (down), posterior = -x */
    [HM_POS_HFDR] = { { 1, 0, 2 }, { -1, 1, 1 } },     /* left = -y, posterior = +x */
    [HM_POS_FFDL] = { { 1, 0, 2 }, { 1, 1, -1 } },     /* left = +y, posterior = +x, head = -z */
    [HM_POS_FFDR] = { { 1, 0, 2 }, { -1, -1, -1 } },   /* left = -y, posterior = -x, head = -z */
};

static void to_patient(hm_patient_position pos, const double dev[3], double pat[3])
{
    for (int k = 0; k < 3; k++)
        pat[k] = rot[pos].sign[k] * dev[rot[pos].axis[k]];
}

size_t hm_dosimetry_imputed_names(unsigned imputed, char *buf, size_t size)
{
    static const char *const names[] = { "kvp", "filter", "angles", "source_isocentre",
                                         "source_detector", "field", "position", "table" };
    size_t n = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (imputed & (1u << i)) {
            int w = snprintf(buf + n, size > n ? size - n : 0, "%s%s", n ? "," : "", names[i]);
            if (w > 0)
                n += (size_t)w;
        }
    return n;
}

/* value, else the fallback event's, else dflt; sets bit when not the event's own. */
static double pick(double value, const double *fallback, double dflt, unsigned bit,
                   unsigned *imputed)
{
    if (isfinite(value))
        return value;
    *imputed |= bit;
    return fallback && isfinite(*fallback) ? *fallback : dflt;
}

/* The collimated field at the isocentre (cm): the reported width and height
 * at the detector, scaled by SID/SDD (similar triangles); else the reported
 * area as a square; else the field implied by KAP and the reference-point
 * air kerma (KAP = K_rp x A_rp, so A_rp = KAP / K_rp at the reference point,
 * scaled to the isocentre by the inverse square law of areas); else the
 * device's default field. */
static void event_field(const hm_dosimetry_event *e, const hm_dosimetry_event *fb,
                        const hm_dosimetry_device *dev, double sid_mm, double sdd_mm,
                        double *w_cm, double *h_cm, unsigned *imputed)
{
    double scale = sid_mm / sdd_mm;
    const hm_dosimetry_event *src[2] = { e, fb };
    for (int i = 0; i < 2; i++) {
        const hm_dosimetry_event *x = src[i];
        if (!x)
            continue;
        if (i)
            *imputed |= HM_IMPUTED_FIELD;
        if (isfinite(x->field_width_mm) && isfinite(x->field_height_mm) && x->field_width_mm > 0
            && x->field_height_mm > 0) {
            *w_cm = 0.1 * x->field_width_mm * scale;
            *h_cm = 0.1 * x->field_height_mm * scale;
            return;
        }
        if (isfinite(x->field_area_cm2) && x->field_area_cm2 > 0) {
            *w_cm = *h_cm = sqrt(x->field_area_cm2) * scale;
            return;
        }
    }
    *imputed |= HM_IMPUTED_FIELD;
    double srp_mm = sid_mm - dev->isocentre_to_reference_point_mm;
    if (isfinite(e->kap_gy_cm2) && isfinite(e->rp_air_kerma_mgy) && e->kap_gy_cm2 > 0
        && e->rp_air_kerma_mgy > 0 && srp_mm > 0) {
        double area_rp_cm2 = e->kap_gy_cm2 / (e->rp_air_kerma_mgy / 1000.0);
        double side = sqrt(area_rp_cm2) * sid_mm / srp_mm;
        /* A ratio of two rounded values can be absurd; keep it physical. */
        if (side > 1 && side < 60) {
            *w_cm = *h_cm = side;
            return;
        }
    }
    *w_cm = *h_cm = 0.1 * dev->field_at_detector_mm * scale;
}

int hm_dosimetry_event_beam(const hm_dosimetry_event *e, const hm_dosimetry_event *fb,
                            const hm_dosimetry_device *dev, hm_dosimetry_align align,
                            const hm_dosimetry_event *ref, hm_dosimetry_beam *b,
                            unsigned *imputed_out, hm_error *err)
{
    unsigned imp = 0;
    hm_dosimetry_beam_default(b);
    hm_patient_position pos;
    int pos_guessed = 0;
    int rc = hm_dosimetry_patient_position(e->table_relationship, e->orientation,
                                           e->orientation_modifier, &pos, &pos_guessed, err);
    if (rc)
        return rc;
    if (pos_guessed && fb) {
        hm_patient_position fpos;
        int fguess = 1;
        if (!hm_dosimetry_patient_position(fb->table_relationship, fb->orientation,
                                           fb->orientation_modifier, &fpos, &fguess, NULL)
            && !fguess)
            pos = fpos;
    }
    if (pos_guessed)
        imp |= HM_IMPUTED_POSITION;

    b->kvp = pick(e->kvp, fb ? &fb->kvp : NULL, 70, HM_IMPUTED_KVP, &imp);
    unsigned fimp = 0;
    double al = pick(e->filter_al_mm, fb ? &fb->filter_al_mm : NULL, 0, HM_IMPUTED_FILTER, &fimp);
    double cu = pick(e->filter_cu_mm, fb ? &fb->filter_cu_mm : NULL, 0, HM_IMPUTED_FILTER, &fimp);
    /* An event that reports one filter material and not the other has no
     * filter of the other: only both missing is an imputation. */
    if (!isfinite(e->filter_al_mm) && !isfinite(e->filter_cu_mm))
        imp |= fimp;
    b->filter_al_mm = dev->inherent_filter_al_mm + al;
    b->filter_cu_mm = cu;

    unsigned aimp = 0;
    double alpha = pick(e->primary_angle_deg, fb ? &fb->primary_angle_deg : NULL, 0,
                        HM_IMPUTED_ANGLES, &aimp);
    double beta = pick(e->secondary_angle_deg, fb ? &fb->secondary_angle_deg : NULL, 0,
                       HM_IMPUTED_ANGLES, &aimp);
    imp |= aimp;
    double sid = pick(e->source_isocentre_mm, fb ? &fb->source_isocentre_mm : NULL,
                      dev->source_isocentre_mm, HM_IMPUTED_SID, &imp);
    double sdd = pick(e->source_detector_mm, fb ? &fb->source_detector_mm : NULL,
                      dev->source_detector_mm, HM_IMPUTED_SDD, &imp);
    if (!(sid > 100 && sid < 5000))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "source_isocentre_mm",
                            "%g mm: expected 100..5000 mm", sid);
    if (!(sdd >= sid && sdd < 5000))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "source_detector_mm",
                            "%g mm: expected at least the source-isocentre distance (%g mm)", sdd,
                            sid);
    b->source_isocentre_cm = 0.1 * sid;
    event_field(e, fb, dev, sid, sdd, &b->field_w_cm, &b->field_h_cm, &imp);

    /* The central ray points from the source to the receptor, whose position
     * the angles give (DICOM PS3.3 C.8.7.5): receptor direction
     * (sin a cos b, -cos a cos b, sin b) in the device frame. */
    double a = alpha * PI / 180, c = beta * PI / 180;
    double d_dev[3] = { sin(a) * cos(c), -cos(a) * cos(c), sin(c) };
    to_patient(pos, d_dev, b->direction);
    /* The table is below the patient whatever the position: a ray going up
     * (device -y) came from under the table, through it and its mattress. */
    int trc = hm_dosimetry_table_factor(dev, b->kvp, b->filter_cu_mm, -d_dev[1], &b->dose_factor, err);
    if (trc)
        return trc;

    if (align == HM_ALIGN_TABLE) {
        /* The patient moves with the table and the isocentre stays put, so the
         * isocentre moves through the patient by minus the table displacement
         * from the reference event. */
        const hm_dosimetry_event *r = ref ? ref : e;
        double cur[3] = { e->table_lateral_mm, e->table_height_mm, e->table_longitudinal_mm };
        double at[3] = { r->table_lateral_mm, r->table_height_mm, r->table_longitudinal_mm };
        double fbv[3] = { fb ? fb->table_lateral_mm : NAN, fb ? fb->table_height_mm : NAN,
                          fb ? fb->table_longitudinal_mm : NAN };
        int sign[3] = { dev->table_sign[0], dev->table_sign[2], dev->table_sign[1] };
        double shift_dev[3];
        for (int k = 0; k < 3; k++) {
            double v = pick(cur[k], &fbv[k], at[k], HM_IMPUTED_TABLE, &imp);
            double d_mm = isfinite(v) && isfinite(at[k]) ? v - at[k] : 0;
            shift_dev[k] = -0.1 * sign[k] * d_mm;
        }
        to_patient(pos, shift_dev, b->offset_cm);
    }
    if (imputed_out)
        *imputed_out = imp;
    return HM_OK;
}
