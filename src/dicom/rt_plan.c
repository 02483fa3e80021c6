/*
 * rt_plan.c — what an RT (Ion) Plan's control points say about how it is
 * delivered: the technique of each beam, its arc and MLC motion, and the
 * plan's prescription.  Rules (docs/rt_dicom.md), on the attributes of
 * DICOM PS3.3 C.8.8.14 (RT Beams) and C.8.8.25 (RT Ion Beams):
 *
 *   ion beam (RT Ion Plan, or RadiationType PROTON/ION): Scan Mode
 *     (300A,0308) NONE -> passive scattering, UNIFORM -> uniform scanning,
 *     MODULATED / MODULATED_SPEC -> pencil-beam scanning (C.8.8.25.1);
 *   ELECTRON -> electron;
 *   photon beam whose gantry rotates (Gantry Rotation Direction CW/CC at a
 *     control point, or Gantry Angle changing between control points):
 *     VMAT when the MLC moves between control points or the meterset per
 *     degree varies (dose-rate modulation), conformal arc otherwise;
 *   photon beam with a static gantry: IMRT when the MLC moves between
 *     control points (step-and-shoot or sliding window), 3D-CRT otherwise.
 */
#include "hm_rtdicom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *hm_rtdcm_technique_name(int t)
{
    switch (t) {
    case HM_RTDCM_TECH_3DCRT:       return "3D-CRT";
    case HM_RTDCM_TECH_IMRT:        return "IMRT";
    case HM_RTDCM_TECH_ARC:         return "ARC";
    case HM_RTDCM_TECH_VMAT:        return "VMAT";
    case HM_RTDCM_TECH_ELECTRON:    return "ELECTRON";
    case HM_RTDCM_TECH_ION_PASSIVE: return "PASSIVE_SCATTERING";
    case HM_RTDCM_TECH_ION_UNIFORM: return "UNIFORM_SCANNING";
    case HM_RTDCM_TECH_ION_PBS:     return "PBS";
    default:                        return "UNKNOWN";
    }
}

/* Signed gantry step from a to b in degrees, in (-180, 180]. */
static double gantry_step(double a, double b)
{
    double d = fmod(b - a, 360.0);
    if (d > 180.0)
        d -= 360.0;
    if (d <= -180.0)
        d += 360.0;
    return d;
}

static int mlc_moves(const hm_rtdcm_cp *a, const hm_rtdcm_cp *b)
{
    if (a->mlc_pairs != b->mlc_pairs)
        return 1;
    for (int i = 0; i < 2 * a->mlc_pairs; i++)
        if (fabs(a->mlc_mm[i] - b->mlc_mm[i]) > 0.01)   /* 0.01 mm: below any MLC's resolution */
            return 1;
    return 0;
}

static int beam_technique(const hm_rtdcm_beam *b, int ion_plan)
{
    const char *rt = b->radiation_type;
    if (ion_plan || !strcmp(rt, "PROTON") || !strcmp(rt, "ION")) {
        if (!strcmp(b->scan_mode, "MODULATED") || !strcmp(b->scan_mode, "MODULATED_SPEC"))
            return HM_RTDCM_TECH_ION_PBS;
        if (!strcmp(b->scan_mode, "UNIFORM"))
            return HM_RTDCM_TECH_ION_UNIFORM;
        if (!strcmp(b->scan_mode, "NONE") || !b->scan_mode[0])
            return HM_RTDCM_TECH_ION_PASSIVE;
        return HM_RTDCM_TECH_UNKNOWN;
    }
    if (!strcmp(rt, "ELECTRON"))
        return HM_RTDCM_TECH_ELECTRON;
    if (strcmp(rt, "PHOTON") != 0)
        return HM_RTDCM_TECH_UNKNOWN;
    int arc = b->arc_deg > 0.5;
    for (size_t i = 0; i < b->ncp; i++)
        if (!strcmp(b->cps[i].gantry_rotation, "CW") || !strcmp(b->cps[i].gantry_rotation, "CC"))
            arc = arc || b->ncp > 1;
    if (arc) {
        /* Dose-rate modulation: meterset weight per degree differing by
         * more than 5% between arc segments. */
        double lo = INFINITY, hi = 0;
        for (size_t i = 1; i < b->ncp; i++) {
            double deg = fabs(gantry_step(b->cps[i - 1].gantry_deg, b->cps[i].gantry_deg));
            double w = b->cps[i].cum_meterset_weight - b->cps[i - 1].cum_meterset_weight;
            if (deg > 1e-6) {
                lo = fmin(lo, w / deg);
                hi = fmax(hi, w / deg);
            }
        }
        int dr_mod = hi > 0 && lo < hi * 0.95;
        return (b->mlc_changes > 0 || dr_mod) ? HM_RTDCM_TECH_VMAT : HM_RTDCM_TECH_ARC;
    }
    return b->mlc_changes > 0 ? HM_RTDCM_TECH_IMRT : HM_RTDCM_TECH_3DCRT;
}

static int is_treatment(const hm_rtdcm_beam *b)
{
    return !b->delivery_type[0] || !strcmp(b->delivery_type, "TREATMENT")
           || !strcmp(b->delivery_type, "CONTINUATION");
}

void hm_rtdcm_plan_summarise(hm_rtdcm_plan *p)
{
    for (size_t k = 0; k < p->nbeams; k++) {
        hm_rtdcm_beam *b = &p->beams[k];
        b->gantry_start_deg = b->ncp ? b->cps[0].gantry_deg : 0;
        b->gantry_stop_deg = b->ncp ? b->cps[b->ncp - 1].gantry_deg : 0;
        b->arc_deg = 0;
        b->mlc_changes = 0;
        b->n_energy_layers = 0;
        double last_e = -1;
        for (size_t i = 0; i < b->ncp; i++) {
            if (i) {
                b->arc_deg += fabs(gantry_step(b->cps[i - 1].gantry_deg, b->cps[i].gantry_deg));
                b->mlc_changes += mlc_moves(&b->cps[i - 1], &b->cps[i]);
            }
            if (b->cps[i].nspots > 0 && b->cps[i].energy_mev != last_e) {
                b->n_energy_layers++;
                last_e = b->cps[i].energy_mev;
            }
        }
        b->technique = beam_technique(b, p->ion);
    }
    p->technique = HM_RTDCM_TECH_UNKNOWN;
    int first = 1;
    for (size_t k = 0; k < p->nbeams; k++) {
        if (!is_treatment(&p->beams[k]))
            continue;
        if (first)
            p->technique = p->beams[k].technique;
        else if (p->technique != p->beams[k].technique)
            p->technique = HM_RTDCM_TECH_UNKNOWN;   /* mixed techniques */
        first = 0;
    }
    p->rx_dose_gy = 0;
    for (size_t i = 0; i < p->ndoserefs; i++)
        if (!strcmp(p->doserefs[i].type, "TARGET") && p->doserefs[i].target_rx_dose_gy > 0) {
            p->rx_dose_gy = p->doserefs[i].target_rx_dose_gy;
            break;
        }
}

void hm_rtdcm_plan_free(hm_rtdcm_plan *p)
{
    if (!p)
        return;
    for (size_t k = 0; k < p->nbeams; k++) {
        hm_rtdcm_beam *b = &p->beams[k];
        for (size_t i = 0; i < b->ncp; i++) {
            free(b->cps[i].mlc_mm);
            free(b->cps[i].spot_xy_mm);
            free(b->cps[i].spot_weight);
        }
        free(b->cps);
    }
    free(p->beams);
    free(p->doserefs);
    memset(p, 0, sizeof *p);
}

void hm_rtdcm_dose_free(hm_rtdcm_dose *d)
{
    if (!d)
        return;
    free(d->frame_offsets_mm);
    free(d->dose_gy);
    memset(d, 0, sizeof *d);
}

double hm_rtdcm_dose_frame_mm(const hm_rtdcm_dose *d, int k)
{
    if (k < 0 || k >= d->nframes || !d->frame_offsets_mm)
        return 0;
    /* Type b offsets (C.8.8.3.2) are absolute z: relative to the first frame
     * they are the difference from ImagePositionPatient z. */
    return d->offsets_relative ? d->frame_offsets_mm[k] : d->frame_offsets_mm[k] - d->ipp_mm[2];
}

void hm_rtdcm_struct_free(hm_rtdcm_struct *s)
{
    if (!s)
        return;
    for (size_t r = 0; r < s->nrois; r++) {
        for (size_t c = 0; c < s->rois[r].ncontours; c++)
            free(s->rois[r].contours[c].xyz_mm);
        free(s->rois[r].contours);
    }
    free(s->rois);
    free(s->ref_ct_sop_uids);
    memset(s, 0, sizeof *s);
}
