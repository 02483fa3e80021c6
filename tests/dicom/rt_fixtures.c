/* rt_fixtures.c — see rt_fixtures.h. */
#include "rt_fixtures.h"

#include <stdlib.h>
#include <string.h>

static void *xcalloc(size_t n, size_t s)
{
    void *p = calloc(n ? n : 1, s);
    if (!p)
        abort();
    return p;
}

static void patient(hm_rtdcm_common *c)
{
    strcpy(c->patient_id, "RT-0001");
    strcpy(c->patient_birth_date, "20150704");
    strcpy(c->patient_sex, "F");
    strcpy(c->study_date, "20240110");
}

void rtfx_ct(hm_rtdcm_ct *ct)
{
    memset(ct, 0, sizeof *ct);
    patient(&ct->c);
    static const double iop[6] = { 1, 0, 0, 0, 1, 0 };
    memcpy(ct->iop, iop, sizeof iop);
    ct->spacing_mm[0] = 2.0;     /* rows */
    ct->spacing_mm[1] = 2.5;     /* columns */
    ct->slice_thickness_mm = 3;
    ct->rows = 6;
    ct->cols = 8;
    ct->nslices = 4;
    ct->slices = xcalloc(4, sizeof *ct->slices);
    static const double z[4] = { 6, 0, 9, 3 };
    for (int k = 0; k < 4; k++) {
        ct->slices[k].ipp_mm[0] = -8.75;
        ct->slices[k].ipp_mm[1] = -5;
        ct->slices[k].ipp_mm[2] = z[k];
    }
}

static void contour(hm_rtdcm_contour *c, const char *type, const double *xyz, size_t n)
{
    strcpy(c->geometric_type, type);
    c->npoints = n;
    c->xyz_mm = xcalloc(3 * n, sizeof(double));
    memcpy(c->xyz_mm, xyz, 3 * n * sizeof(double));
}

void rtfx_struct(hm_rtdcm_struct *ss, const hm_rtdcm_ct *ct)
{
    memset(ss, 0, sizeof *ss);
    ss->c = ct->c;
    ss->c.sop_instance_uid[0] = ss->c.series_uid[0] = '\0';
    strcpy(ss->label, "RTFX");
    strcpy(ss->ref_ct_series_uid, ct->c.series_uid);
    ss->n_ref_ct_sops = ct->nslices;
    ss->ref_ct_sop_uids = xcalloc(ct->nslices, HM_RTDCM_UID_LEN);
    for (size_t k = 0; k < ct->nslices; k++)
        strcpy(ss->ref_ct_sop_uids[k], ct->slices[k].sop_instance_uid);
    ss->nrois = 3;
    ss->rois = xcalloc(3, sizeof *ss->rois);
    hm_rtdcm_roi *body = &ss->rois[0], *ptv = &ss->rois[1], *iso = &ss->rois[2];
    body->number = 1;
    strcpy(body->name, "BODY");
    strcpy(body->algorithm, "AUTOMATIC");
    strcpy(body->interpreted_type, "EXTERNAL");
    body->color[0] = 0; body->color[1] = 255; body->color[2] = 0;
    body->ncontours = ct->nslices;
    body->contours = xcalloc(ct->nslices, sizeof *body->contours);
    for (size_t k = 0; k < ct->nslices; k++) {
        double z = ct->slices[k].ipp_mm[2];
        double sq[12] = { -7.5, -4, z, 7.5, -4, z, 7.5, 4, z, -7.5, 4, z };
        contour(&body->contours[k], "CLOSED_PLANAR", sq, 4);
    }
    ptv->number = 7;
    strcpy(ptv->name, "PTV_45");
    strcpy(ptv->algorithm, "MANUAL");
    strcpy(ptv->interpreted_type, "PTV");
    ptv->color[0] = 255; ptv->color[1] = 0; ptv->color[2] = 0;
    ptv->ncontours = 2;
    ptv->contours = xcalloc(2, sizeof *ptv->contours);
    for (int k = 0; k < 2; k++) {
        double z = 3.0 * (k + 1);
        double tri[9] = { -2.5, -1.5, z, 3.25, -1.5, z, 0.5, 2.75, z };
        contour(&ptv->contours[k], "CLOSED_PLANAR", tri, 3);
        for (size_t s = 0; s < ct->nslices; s++)
            if (ct->slices[s].ipp_mm[2] == z)
                strcpy(ptv->contours[k].ref_sop_uid, ct->slices[s].sop_instance_uid);
    }
    iso->number = 9;
    strcpy(iso->name, "ISO");
    strcpy(iso->algorithm, "MANUAL");
    strcpy(iso->interpreted_type, "ISOCENTER");
    iso->ncontours = 1;
    iso->contours = xcalloc(1, sizeof *iso->contours);
    double pt[3] = { 0.5, 0.25, 4.5 };
    contour(&iso->contours[0], "POINT", pt, 1);
}

/* Photon control point k of n: gantry g, MLC opening that moves when `moving`. */
static void photon_cp(hm_rtdcm_cp *cp, size_t k, size_t n, double g, const char *rot, int moving)
{
    cp->cum_meterset_weight = (double)k / (double)(n - 1);
    cp->gantry_deg = g;
    strcpy(cp->gantry_rotation, rot);
    cp->collimator_deg = 15;
    cp->couch_deg = 0;
    cp->iso_mm[0] = 0.5; cp->iso_mm[1] = 0.25; cp->iso_mm[2] = 4.5;
    cp->energy_mev = 6;
    cp->dose_rate_mu_min = 600;
    cp->jaw_x_mm[0] = -50; cp->jaw_x_mm[1] = 50;
    cp->jaw_y_mm[0] = -40; cp->jaw_y_mm[1] = 45;
    cp->mlc_pairs = 4;
    cp->mlc_mm = xcalloc(8, sizeof(double));
    for (int i = 0; i < 4; i++) {
        double shift = moving ? 2.5 * (double)k : 0;
        cp->mlc_mm[i] = -20 + shift + i;          /* bank A */
        cp->mlc_mm[4 + i] = 20 + shift - i;       /* bank B */
    }
}

static void beam_common(hm_rtdcm_beam *b, int number, const char *name)
{
    b->number = number;
    snprintf(b->name, sizeof b->name, "%s", name);
    strcpy(b->machine, "LINAC1");
    strcpy(b->delivery_type, "TREATMENT");
    b->final_meterset_weight = 1;
}

void rtfx_plan(hm_rtdcm_plan *p, int tech, const char *ref_struct_uid)
{
    memset(p, 0, sizeof *p);
    patient(&p->c);
    strcpy(p->label, hm_rtdcm_technique_name(tech));
    strcpy(p->name, "RTFX plan");
    strcpy(p->date, "20240111");
    strcpy(p->time, "101500");
    if (ref_struct_uid)
        strcpy(p->ref_struct_uid, ref_struct_uid);
    p->fractions_planned = 25;
    p->ndoserefs = 2;
    p->doserefs = xcalloc(2, sizeof *p->doserefs);
    p->doserefs[0].number = 1;
    strcpy(p->doserefs[0].structure_type, "VOLUME");
    strcpy(p->doserefs[0].type, "ORGAN_AT_RISK");
    strcpy(p->doserefs[0].description, "cord");
    p->doserefs[1].number = 2;
    strcpy(p->doserefs[1].structure_type, "VOLUME");
    strcpy(p->doserefs[1].type, "TARGET");
    strcpy(p->doserefs[1].description, "PTV");
    p->doserefs[1].roi_number = 7;
    p->doserefs[1].target_rx_dose_gy = 45;
    int ion = tech == HM_RTDCM_TECH_ION_PBS || tech == HM_RTDCM_TECH_ION_PASSIVE;
    p->ion = ion;
    p->nbeams = (tech == HM_RTDCM_TECH_IMRT || tech == HM_RTDCM_TECH_3DCRT) ? 2 : 1;
    p->beams = xcalloc(p->nbeams, sizeof *p->beams);
    for (size_t bi = 0; bi < p->nbeams; bi++) {
        hm_rtdcm_beam *b = &p->beams[bi];
        beam_common(b, (int)bi + 1, bi ? "LAT" : "AP");
        b->meterset = 120.5 + (double)bi;
        b->beam_dose_gy = 0.9;
        if (!ion) {
            strcpy(b->radiation_type, "PHOTON");
            strcpy(b->dosimeter_unit, "MU");
            b->sad_mm = 1000;
            size_t n = tech == HM_RTDCM_TECH_VMAT ? 5 : tech == HM_RTDCM_TECH_3DCRT ? 2 : 3;
            strcpy(b->beam_type, tech == HM_RTDCM_TECH_3DCRT ? "STATIC" : "DYNAMIC");
            b->ncp = n;
            b->cps = xcalloc(n, sizeof *b->cps);
            for (size_t k = 0; k < n; k++) {
                if (tech == HM_RTDCM_TECH_VMAT) {
                    static const double g[5] = { 181, 271, 1, 91, 179 };
                    photon_cp(&b->cps[k], k, n, g[k], k + 1 < n ? "CW" : "NONE", 1);
                    /* Meterset weights not proportional to the gantry steps
                     * (90, 90, 90, 88 deg): dose-rate modulation. */
                    static const double w[5] = { 0, 0.125, 0.5, 0.75, 1 };
                    b->cps[k].cum_meterset_weight = w[k];
                } else if (tech == HM_RTDCM_TECH_ARC) {
                    photon_cp(&b->cps[k], k, n, 180 + 90.0 * (double)k, k + 1 < n ? "CW" : "NONE", 0);
                    if (b->cps[k].gantry_deg >= 360)
                        b->cps[k].gantry_deg -= 360;
                } else {
                    photon_cp(&b->cps[k], k, n, 90.0 * (double)bi, "NONE",
                              tech == HM_RTDCM_TECH_IMRT);
                }
            }
        } else {
            strcpy(b->radiation_type, "PROTON");
            strcpy(b->dosimeter_unit, "NP");
            strcpy(b->beam_type, tech == HM_RTDCM_TECH_ION_PBS ? "DYNAMIC" : "STATIC");
            strcpy(b->scan_mode, tech == HM_RTDCM_TECH_ION_PBS ? "MODULATED" : "NONE");
            b->sad_mm = 2000;
            b->n_snouts = 1;
            if (tech == HM_RTDCM_TECH_ION_PASSIVE) {
                b->n_range_modulators = 1;
                b->n_lateral_spreaders = 2;
            } else {
                b->n_range_shifters = 1;
            }
            size_t n = tech == HM_RTDCM_TECH_ION_PBS ? 4 : 2;
            b->ncp = n;
            b->cps = xcalloc(n, sizeof *b->cps);
            for (size_t k = 0; k < n; k++) {
                hm_rtdcm_cp *cp = &b->cps[k];
                /* PBS: each layer is a pair of control points, the second
                 * closing it (0, 0.5 | 0.5, 1). */
                static const double pbs_w[4] = { 0, 0.5, 0.5, 1 };
                cp->cum_meterset_weight = n == 4 ? pbs_w[k] : (double)k;
                cp->gantry_deg = 270;
                strcpy(cp->gantry_rotation, "NONE");
                cp->couch_deg = 10;
                cp->iso_mm[0] = 0.5; cp->iso_mm[1] = 0.25; cp->iso_mm[2] = 4.5;
                cp->snout_mm = 300;
                cp->energy_mev = (tech == HM_RTDCM_TECH_ION_PBS && k >= 2) ? 140 : 150.5;
                if (tech == HM_RTDCM_TECH_ION_PBS) {
                    cp->nspots = 3;
                    cp->spot_xy_mm = xcalloc(6, sizeof(double));
                    cp->spot_weight = xcalloc(3, sizeof(double));
                    for (int s = 0; s < 3; s++) {
                        cp->spot_xy_mm[2 * s] = -5 + 5.0 * s;
                        cp->spot_xy_mm[2 * s + 1] = 2.5 * (double)k;
                        /* Second control point of a layer: weights 0 (C.8.8.25.7). */
                        cp->spot_weight[s] = (k % 2) ? 0 : 0.25 * (s + 1);
                    }
                }
            }
        }
    }
}

double rtfx_dose_value(int i, int j, int k)
{
    return 0.5 + 0.1 * i + 0.03 * j + 1.1 * k;
}

void rtfx_dose(hm_rtdcm_dose *d, const hm_rtdcm_ct *ct, int bits, const char *ref_plan_uid)
{
    memset(d, 0, sizeof *d);
    d->c = ct->c;
    d->c.sop_instance_uid[0] = d->c.series_uid[0] = '\0';
    d->ipp_mm[0] = -6.25; d->ipp_mm[1] = -3; d->ipp_mm[2] = 0;
    static const double iop[6] = { 1, 0, 0, 0, 1, 0 };
    memcpy(d->iop, iop, sizeof iop);
    d->spacing_mm[0] = 2;
    d->spacing_mm[1] = 2.5;
    d->cols = 5;
    d->rows = 4;
    d->nframes = 3;
    d->frame_offsets_mm = xcalloc(3, sizeof(double));
    for (int k = 0; k < 3; k++)
        d->frame_offsets_mm[k] = 3.0 * k;
    d->offsets_relative = 1;
    strcpy(d->dose_units, "GY");
    strcpy(d->dose_type, "PHYSICAL");
    strcpy(d->summation_type, "PLAN");
    d->bits_allocated = bits;
    if (ref_plan_uid)
        strcpy(d->ref_plan_uid, ref_plan_uid);
    d->dose_gy = xcalloc(60, sizeof(float));
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 5; i++)
                d->dose_gy[(k * 4 + j) * 5 + i] = (float)rtfx_dose_value(i, j, k);
}

void rtfx_dose_gradient(hm_rtdcm_dose *d, const hm_rtdcm_ct *ct, const char *ref_plan_uid,
                        double scale)
{
    rtfx_dose(d, ct, 32, ref_plan_uid);
    free(d->frame_offsets_mm);
    free(d->dose_gy);
    d->cols = d->rows = 40;
    d->nframes = 21;
    d->ipp_mm[0] = d->ipp_mm[1] = -19.5;
    d->ipp_mm[2] = -10;
    d->spacing_mm[0] = d->spacing_mm[1] = 1;
    d->frame_offsets_mm = xcalloc(21, sizeof(double));
    for (int k = 0; k < 21; k++)
        d->frame_offsets_mm[k] = k;
    d->dose_gy = xcalloc(40 * 40 * 21, sizeof(float));
    for (int k = 0; k < 21; k++)
        for (int j = 0; j < 40; j++)
            for (int i = 0; i < 40; i++)
                d->dose_gy[(k * 40 + j) * 40 + i] = (float)(scale * (10 + 0.1 * (-19.5 + i)));
}
