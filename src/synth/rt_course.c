/* rt_course.c — the DICOM files of one synthetic radiotherapy course and
 * its truth rows (docs/synth.md, "RT courses"):
 *   CT     the age-matched built-in phantom classified at the CT voxel
 *          centres (as hm_phantom_voxelise does), slices over the target
 *          plus margins, HU of data/synth/rt_hu.csv;
 *   RTSTRUCT  EXTERNAL, the organs of data/synth/rt_roi_names.csv present in
 *          the CT (pixel-edge contours of their voxels, rt_contour.c), GTV,
 *          CTV, PTV ellipsoids;
 *   RTPLAN / RT Ion Plan  beams of the technique, isocentre at the PTV centre;
 *   RTDOSE the analytic dose of data/synth/rt_technique.csv on a grid over
 *          the PTV box plus a margin, aligned with the CT voxels;
 *   truth  per ROI the exact mean of that dose over the ROI's voxels.
 * Phantom and DICOM axes agree (x left, y posterior, z head: head-first
 * supine), so a phantom point in cm is a patient point in mm times 10. */
#include "rt_int.h"

#include "hm_rtdicom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEG 0.017453292519943295   /* pi / 180 */
#define MLC_PAIRS 60            /* 5 mm leaves, +-150 mm (the writer's boundaries) */
#define CT_MARGIN_MM 60.0       /* CT slices beyond the PTV in z */
#define MIN_ROI_VOXELS 8
#define EDGE_SIGMAS 1.5         /* the field edge (50 %) beyond the PTV surface, in sigma */

typedef struct geom {
    int    nx, ny, nz;
    double v_mm, x0, y0, z0;    /* centre of voxel (0,0,0), mm */
    uint16_t *ids;              /* phantom region ids */
    double c_mm[3], gtv[3], ctv[3], ptv[3];   /* target centre, semi-axes (mm) */
} geom;

static void *xcalloc(size_t n, size_t s, int *rc, hm_error *err)
{
    void *p = calloc(n ? n : 1, s);
    if (!p && *rc == HM_OK)
        *rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    return p;
}

static int name_in(const char *list, const char *name)
{
    return hm_list_has(list, '|', name);
}

/* Centroid (mm) of the coarse phantom's voxels of `regions` on one side. */
static int centroid(const hm_voxel_phantom *v, const char *regions, int side, double c[3],
                    hm_error *err)
{
    double s[3] = { 0, 0, 0 };
    long n = 0;
    for (int k = 0; k < v->nz; k++)
        for (int j = 0; j < v->ny; j++)
            for (int i = 0; i < v->nx; i++) {
                int id = v->ids[((size_t)k * v->ny + j) * v->nx + i];
                if (!id || !name_in(regions, v->regions[id].name))
                    continue;
                double x = v->origin_cm[0] + (i + 0.5) * v->voxel_cm[0];
                if ((side > 0 && x <= 0) || (side < 0 && x >= 0))
                    continue;
                s[0] += x;
                s[1] += v->origin_cm[1] + (j + 0.5) * v->voxel_cm[1];
                s[2] += v->origin_cm[2] + (k + 0.5) * v->voxel_cm[2];
                n++;
            }
    if (!n)
        return hm_error_set(err, HM_ENOTFOUND, "data/synth/rt_sites.csv", 0, "ref_regions",
                            "no voxel of '%s' in the %s phantom", regions, v->age);
    for (int a = 0; a < 3; a++)
        c[a] = 10.0 * s[a] / (double)n;
    return HM_OK;
}

/* rho of point (mm) in the ellipsoid with semi-axes ax around c: <= 1 inside. */
static double rho(const double *p, const double *c, const double *ax)
{
    double s = 0;
    for (int a = 0; a < 3; a++)
        s += (p[a] - c[a]) * (p[a] - c[a]) / (ax[a] * ax[a]);
    return sqrt(s);
}

/* The analytic dose (Gy) at p (rt_technique.csv): signed distance s from
 * the PTV surface along the ray from its centre, s = |p - c| (1 - 1/rho)
 * (exact for a sphere), an error-function edge and an exponential tail. */
static double dose_at(const rt_tech *t, double rx_gy, const geom *g, const double *p)
{
    double r = rho(p, g->c_mm, g->ptv), d = 0;
    for (int a = 0; a < 3; a++)
        d += (p[a] - g->c_mm[a]) * (p[a] - g->c_mm[a]);
    d = sqrt(d);
    double s = r > 0 ? d * (1 - 1 / r) : -1e9;
    /* The 50 % level lies EDGE_SIGMAS sigma outside the PTV surface, so the
     * PTV surface gets Phi(1.5) = 93 % of the prescription, as a plan that
     * covers its PTV with the 95 % isodose nearly does. */
    double in = 0.5 * erfc((s - EDGE_SIGMAS * t->sigma_mm) / (sqrt(2.0) * t->sigma_mm));
    double tail = t->edge_fraction * exp(-fmax(s - EDGE_SIGMAS * t->sigma_mm, 0) / t->falloff_mm);
    return rx_gy * (in + (1 - in) * tail);
}

static void voxel_mm(const geom *g, int i, int j, int k, double p[3])
{
    p[0] = g->x0 + i * g->v_mm;
    p[1] = g->y0 + j * g->v_mm;
    p[2] = g->z0 + k * g->v_mm;
}

/* 2.25.<digits>: a deterministic UID root for the course from its stream. */
static void uid_root(uint64_t seed, long index, char *root, size_t size)
{
    sy_rng r;
    sy_rng_init(&r, seed, (uint32_t)index, SY_S_RT_UID, 0);
    uint64_t hi = 0;
    for (int k = 0; k < 4; k++)
        hi = (hi << 16) ^ (uint64_t)(sy_u01(&r) * 65536.0);
    hi |= (uint64_t)1 << 63;   /* 20 digits, no leading zero */
    unsigned lo = (unsigned)(sy_u01(&r) * 1e9);
    snprintf(root, size, "2.25.%llu%09u", (unsigned long long)hi, lo);
}

/* ---- target, CT grid ---------------------------------------------------- */

static int build_geom(const rt_course_in *in, geom *g, hm_error *err)
{
    const rt_site *s = &in->p->sites[in->pt->site];
    double c[3];
    int rc = centroid(in->coarse, s->ref_regions, in->pt->side, c, err);
    if (rc)
        return rc;
    /* Sizes are for a 110 cm child (rt_sites.csv), scaled by the phantom's height. */
    double scale = hm_phantom_height_cm(in->phantom) / 110.0;
    for (int a = 0; a < 3; a++) {
        double off = s->offset_cm[a] * (a == 0 && in->pt->side ? in->pt->side : 1);
        g->c_mm[a] = c[a] + 10.0 * off * scale;
        g->gtv[a] = 10.0 * s->gtv_cm[a] * scale;
        g->ctv[a] = g->gtv[a] + 10.0 * s->ctv_margin_cm;
        g->ptv[a] = g->ctv[a] + 10.0 * s->ptv_margin_cm;
    }
    double lo[3], hi[3];
    hm_phantom_bounds(in->phantom, lo, hi);
    double v = in->voxel_mm;
    g->v_mm = v;
    /* In plane: the body's box plus 1 cm of air; in z: the PTV plus margins. */
    double xlo = 10 * lo[0] - 10, ylo = 10 * lo[1] - 10;
    g->nx = (int)ceil((10 * hi[0] + 10 - xlo) / v);
    g->ny = (int)ceil((10 * hi[1] + 10 - ylo) / v);
    double zlo = fmax(g->c_mm[2] - g->ptv[2] - CT_MARGIN_MM, 10 * lo[2]);
    double zhi = fmin(g->c_mm[2] + g->ptv[2] + CT_MARGIN_MM, 10 * hi[2]);
    g->nz = (int)ceil((zhi - zlo) / v);
    /* Voxel centres on a v-mm lattice through the target centre, so the
     * same course gives the same grid whatever rounding of the box. */
    g->x0 = g->c_mm[0] + v * floor((xlo - g->c_mm[0]) / v) + v / 2;
    g->y0 = g->c_mm[1] + v * floor((ylo - g->c_mm[1]) / v) + v / 2;
    g->z0 = g->c_mm[2] + v * floor((zlo - g->c_mm[2]) / v) + v / 2;
    size_t n = (size_t)g->nx * g->ny * g->nz;
    g->ids = xcalloc(n, sizeof *g->ids, &rc, err);
    if (rc)
        return rc;
    for (int k = 0; k < g->nz; k++)
        for (int j = 0; j < g->ny; j++)
            for (int i = 0; i < g->nx; i++) {
                double p[3];
                voxel_mm(g, i, j, k, p);
                double cm[3] = { p[0] / 10, p[1] / 10, p[2] / 10 };
                g->ids[((size_t)k * g->ny + j) * g->nx + i] =
                    (uint16_t)hm_phantom_region_at(in->phantom, cm);
            }
    return HM_OK;
}

/* ---- ROI masks ---------------------------------------------------------- */

enum { ROI_EXTERNAL, ROI_ORGAN, ROI_GTV, ROI_CTV, ROI_PTV };

typedef struct roi_def {
    int  kind, name_row;        /* name_row: rt_roi_names.csv row (organs) */
    char name[64], type[16], organ[32];
    unsigned char *mask;        /* CT voxels */
    long nvox;
} roi_def;

static void make_mask(const rt_course_in *in, const geom *g, roi_def *r)
{
    const hm_phantom *ph = in->phantom;
    const rt_roi_name *rn = r->kind == ROI_ORGAN ? &in->p->rois[r->name_row] : NULL;
    const double *ax = r->kind == ROI_GTV ? g->gtv : r->kind == ROI_CTV ? g->ctv : g->ptv;
    for (int k = 0; k < g->nz; k++)
        for (int j = 0; j < g->ny; j++)
            for (int i = 0; i < g->nx; i++) {
                size_t q = ((size_t)k * g->ny + j) * g->nx + i;
                int id = g->ids[q], in_roi = 0;
                double p[3];
                voxel_mm(g, i, j, k, p);
                if (!id)
                    in_roi = 0;
                else if (r->kind == ROI_EXTERNAL)
                    in_roi = 1;
                else if (rn)
                    in_roi = name_in(rn->regions, hm_phantom_region_info(ph, id)->name)
                             && (rn->side == '-' || (rn->side == 'L' ? p[0] > 0 : p[0] < 0));
                else
                    in_roi = rho(p, g->c_mm, ax) <= 1;
                r->mask[q] = (unsigned char)in_roi;
                r->nvox += in_roi;
            }
}

static int lang_index(const char *lang)
{
    return !strcmp(lang, "fr") ? 1 : !strcmp(lang, "de") ? 2 : !strcmp(lang, "nl") ? 3 : 0;
}

/* ---- RT Structure Set ------------------------------------------------------ */

static int add_contours(const geom *g, const roi_def *r, const hm_rtdcm_ct *ct,
                        hm_rtdcm_roi *out, hm_error *err)
{
    int rc = HM_OK;
    size_t cap = 0;
    unsigned char *slice = NULL;
    for (int k = 0; k < g->nz && rc == HM_OK; k++) {
        slice = r->mask + (size_t)k * g->nx * g->ny;
        double *xy;
        int *start;
        int nl = rt_trace_mask(slice, g->nx, g->ny, 0.02, &xy, &start, err);
        if (nl < 0)
            return nl;
        for (int l = 0; l < nl && rc == HM_OK; l++) {
            if (out->ncontours == cap) {
                cap = cap ? 2 * cap : 64;
                hm_rtdcm_contour *t = realloc(out->contours, cap * sizeof *t);
                if (!t) {
                    rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                    break;
                }
                out->contours = t;
            }
            hm_rtdcm_contour *c = &out->contours[out->ncontours];
            memset(c, 0, sizeof *c);
            strcpy(c->geometric_type, "CLOSED_PLANAR");
            c->npoints = (size_t)(start[l + 1] - start[l]);
            c->xyz_mm = calloc(3 * c->npoints, sizeof(double));
            if (!c->xyz_mm) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            out->ncontours++;
            for (size_t q = 0; q < c->npoints; q++) {
                const double *pt = &xy[2 * (start[l] + (int)q)];
                /* Pixel corner (u, v) of the mask -> patient mm. */
                c->xyz_mm[3 * q] = g->x0 + (pt[0] - 0.5) * g->v_mm;
                c->xyz_mm[3 * q + 1] = g->y0 + (pt[1] - 0.5) * g->v_mm;
                c->xyz_mm[3 * q + 2] = g->z0 + k * g->v_mm;
            }
            snprintf(c->ref_sop_uid, sizeof c->ref_sop_uid, "%s", ct->slices[k].sop_instance_uid);
        }
        free(xy);
        free(start);
    }
    return rc;
}

/* ---- RT Plan ------------------------------------------------------------------ */

/* Half-width (mm) of the PTV's beam's-eye-view section at BEV y = t for
 * gantry angle th: the ellipse (a, b) of the slice projected on the leaf
 * direction u = (cos th, sin th, 0); the source is at (sin th, -cos th, 0)
 * (IEC 61217 gantry angle, head-first supine). */
static double bev_half_width(const geom *g, double th, double t)
{
    double f = 1 - t * t / (g->ptv[2] * g->ptv[2]);
    if (f <= 0)
        return 0;
    double a = g->ptv[0] * cos(th), b = g->ptv[1] * sin(th);
    return sqrt(f) * sqrt(a * a + b * b);
}

static int photon_cp(hm_rtdcm_cp *cp, const geom *g, double gantry_deg, const char *rot,
                     double weight, double shrink, double energy_mev, int *rc, hm_error *err)
{
    double th = gantry_deg * DEG;
    cp->cum_meterset_weight = weight;
    cp->gantry_deg = gantry_deg;
    snprintf(cp->gantry_rotation, sizeof cp->gantry_rotation, "%s", rot);
    memcpy(cp->iso_mm, g->c_mm, sizeof cp->iso_mm);
    cp->energy_mev = energy_mev;
    cp->dose_rate_mu_min = 600;
    cp->mlc_pairs = MLC_PAIRS;
    cp->mlc_mm = xcalloc(2 * MLC_PAIRS, sizeof(double), rc, err);
    if (*rc)
        return *rc;
    double wmax = 0;
    for (int i = 0; i < MLC_PAIRS; i++) {
        double t = 5.0 * (i - MLC_PAIRS / 2.0) + 2.5;   /* leaf pair centre */
        double w = bev_half_width(g, th, t);
        if (w > 0)
            w = w * shrink + 5;   /* 5 mm leaf margin around the PTV */
        cp->mlc_mm[i] = -w;
        cp->mlc_mm[MLC_PAIRS + i] = w;
        wmax = fmax(wmax, w);
    }
    cp->jaw_x_mm[0] = -wmax - 5;
    cp->jaw_x_mm[1] = wmax + 5;
    cp->jaw_y_mm[0] = -g->ptv[2] - 10;
    cp->jaw_y_mm[1] = g->ptv[2] + 10;
    return HM_OK;
}

/* Depth (mm) from the skin to the isocentre along the beam from direction s. */
static double skin_depth(const hm_phantom *ph, const double *c_mm, const double *s)
{
    double d = 0;
    for (; d < 600; d += 1) {
        double cm[3] = { (c_mm[0] + d * s[0]) / 10, (c_mm[1] + d * s[1]) / 10,
                         (c_mm[2] + d * s[2]) / 10 };
        if (!hm_phantom_region_at(ph, cm))
            break;
    }
    return d;
}

/* Proton range in water R = alpha E^p, alpha = 0.0022 cm MeV^-p, p = 1.77
 * (Bragg-Kleeman rule; Bortfeld, Med Phys 24:2024, 1997): E = (R/alpha)^(1/p). */
static double proton_energy_mev(double range_mm)
{
    return pow(range_mm / 10.0 / 0.0022, 1 / 1.77);
}

static int ion_beam(hm_rtdcm_beam *b, const rt_course_in *in, const geom *g, double gantry_deg,
                    int pbs, int *rc, hm_error *err)
{
    double th = gantry_deg * DEG, s[3] = { sin(th), -cos(th), 0 };
    double depth = skin_depth(in->phantom, g->c_mm, s);
    double half = sqrt(pow(g->ptv[0] * sin(th), 2) + pow(g->ptv[1] * cos(th), 2));
    double distal = depth + half + 5, proximal = fmax(depth - half - 5, 10);
    strcpy(b->radiation_type, "PROTON");
    strcpy(b->dosimeter_unit, "NP");
    strcpy(b->beam_type, pbs ? "DYNAMIC" : "STATIC");
    strcpy(b->scan_mode, pbs ? "MODULATED" : "NONE");
    b->sad_mm = 2000;
    b->n_snouts = 1;
    if (!pbs) {
        /* Double scattering: two scatterers, a modulator wheel, an aperture. */
        b->n_range_modulators = 1;
        b->n_lateral_spreaders = 2;
        b->n_blocks = 1;
        b->n_compensators = 1;
        b->ncp = 2;
        b->cps = xcalloc(2, sizeof *b->cps, rc, err);
        if (*rc)
            return *rc;
        for (int k = 0; k < 2; k++) {
            hm_rtdcm_cp *cp = &b->cps[k];
            cp->cum_meterset_weight = k;
            cp->gantry_deg = gantry_deg;
            strcpy(cp->gantry_rotation, "NONE");
            memcpy(cp->iso_mm, g->c_mm, sizeof cp->iso_mm);
            cp->snout_mm = 300;
            cp->energy_mev = round(proton_energy_mev(distal + 20) * 10) / 10;
        }
        b->final_meterset_weight = 1;
        return HM_OK;
    }
    /* PBS: energy layers 5 mm of range apart from the distal edge to the
     * proximal one (at most 24), spots on a 7 mm square grid covering the
     * PTV's projection; a layer is two control points, the second closing
     * it with zero weights (PS3.3 C.8.8.25.7). */
    int nl = (int)ceil((distal - proximal) / 5.0) + 1;
    if (nl > 24)
        nl = 24;
    double w0 = sqrt(pow(g->ptv[0] * cos(th), 2) + pow(g->ptv[1] * sin(th), 2)), h0 = g->ptv[2];
    int nsx = 2 * (int)(w0 / 7.0) + 1, nsy = 2 * (int)(h0 / 7.0) + 1;
    double *sx = xcalloc((size_t)nsx * nsy * 2, sizeof(double), rc, err);
    if (*rc)
        return *rc;
    int ns = 0;
    for (int a = 0; a < nsx; a++)
        for (int c = 0; c < nsy; c++) {
            double x = 7.0 * (a - nsx / 2), y = 7.0 * (c - nsy / 2);
            if ((x * x) / (w0 * w0 + 1) + (y * y) / (h0 * h0 + 1) <= 1) {
                sx[2 * ns] = x;
                sx[2 * ns + 1] = y;
                ns++;
            }
        }
    b->ncp = 2 * (size_t)nl;
    b->cps = xcalloc(b->ncp, sizeof *b->cps, rc, err);
    double cum = 0;
    for (int l = 0; l < nl && *rc == HM_OK; l++) {
        double range = distal - 5.0 * l;
        /* Distal layers carry more weight (the Bragg peaks of the shallower
         * layers add to theirs): linear from 1 to 0.3 (ASSUMPTION). */
        double lw = 1 - 0.7 * l / (nl > 1 ? nl - 1 : 1);
        for (int q = 0; q < 2; q++) {
            hm_rtdcm_cp *cp = &b->cps[2 * l + q];
            cp->gantry_deg = gantry_deg;
            strcpy(cp->gantry_rotation, "NONE");
            memcpy(cp->iso_mm, g->c_mm, sizeof cp->iso_mm);
            cp->snout_mm = 300;
            cp->energy_mev = round(proton_energy_mev(range) * 100) / 100;
            cp->nspots = ns;
            cp->spot_xy_mm = xcalloc(2 * (size_t)ns, sizeof(double), rc, err);
            cp->spot_weight = xcalloc((size_t)ns, sizeof(double), rc, err);
            if (*rc)
                break;
            memcpy(cp->spot_xy_mm, sx, 2 * (size_t)ns * sizeof(double));
            cp->cum_meterset_weight = cum;
            for (int k = 0; k < ns; k++)
                cp->spot_weight[k] = q ? 0 : lw;
            if (!q)
                cum += lw * ns;
        }
    }
    b->final_meterset_weight = cum;
    free(sx);
    return *rc;
}

static int build_plan(const rt_course_in *in, const geom *g, hm_rtdcm_plan *pl, int ptv_number,
                      hm_error *err)
{
    const rt_patient *pt = in->pt;
    const rt_tech *t = &in->p->tech[pt->technique];
    int rc = HM_OK;
    sy_rng r;
    sy_rng_init(&r, in->seed, (uint32_t)pt->index, SY_S_RT_PLAN, 0);
    int nb = t->beams_min + (int)(sy_u01(&r) * (t->beams_max - t->beams_min + 1));
    if (nb > t->beams_max)
        nb = t->beams_max;
    int ion = pt->technique == RT_T_PBS || pt->technique == RT_T_DS;
    pl->ion = ion;
    snprintf(pl->label, sizeof pl->label, "%s", in->course_id);
    snprintf(pl->name, sizeof pl->name, "%s %s", in->p->sites[pt->site].label,
             rt_tech_names[pt->technique]);
    pl->fractions_planned = pt->fractions;
    pl->ndoserefs = 1;
    pl->doserefs = xcalloc(1, sizeof *pl->doserefs, &rc, err);
    pl->nbeams = (size_t)nb;
    pl->beams = xcalloc((size_t)nb, sizeof *pl->beams, &rc, err);
    if (rc)
        return rc;
    hm_rtdcm_doseref *dr = &pl->doserefs[0];
    dr->number = 1;
    strcpy(dr->structure_type, "VOLUME");
    strcpy(dr->type, "TARGET");
    strcpy(dr->description, "PTV");
    dr->roi_number = ptv_number;
    dr->target_rx_dose_gy = pt->rx_gy;
    double start = 360 * sy_u01(&r);
    for (int bi = 0; bi < nb && rc == HM_OK; bi++) {
        hm_rtdcm_beam *b = &pl->beams[bi];
        b->number = bi + 1;
        snprintf(b->machine, sizeof b->machine, "%s", ion ? "PROTON_G1" : "LINAC_1");
        strcpy(b->delivery_type, "TREATMENT");
        b->beam_dose_gy = pt->rx_gy / pt->fractions / nb;
        if (ion) {
            double gantry = fmod(start + 360.0 * bi / nb, 360);
            gantry = round(gantry);
            snprintf(b->name, sizeof b->name, "P%d G%03.0f", bi + 1, gantry);
            rc = ion_beam(b, in, g, gantry, pt->technique == RT_T_PBS, &rc, err);
            b->meterset = b->final_meterset_weight * 1e9;   /* protons (NP) */
            continue;
        }
        strcpy(b->radiation_type, "PHOTON");
        strcpy(b->dosimeter_unit, "MU");
        b->sad_mm = 1000;
        b->final_meterset_weight = 1;
        double e_mev = 6;
        if (pt->technique == RT_T_VMAT) {
            /* Arcs 181 -> 179 clockwise and back counter-clockwise, a control
             * point every 20 degrees, the aperture modulated with the angle. */
            strcpy(b->beam_type, "DYNAMIC");
            snprintf(b->name, sizeof b->name, "ARC%d %s", bi + 1, bi % 2 ? "CC" : "CW");
            size_t n = 19;
            b->ncp = n;
            b->cps = xcalloc(n, sizeof *b->cps, &rc, err);
            for (size_t k = 0; k < n && rc == HM_OK; k++) {
                double step = 358.0 * (double)k / (double)(n - 1);
                double gantry = fmod(bi % 2 ? 179 - step + 360 : 181 + step, 360);
                const char *rot = k + 1 == n ? "NONE" : bi % 2 ? "CC" : "CW";
                double shrink = 0.75 + 0.25 * cos(3.0 * (double)k);
                photon_cp(&b->cps[k], g, round(gantry * 10) / 10, rot, (double)k / (double)(n - 1),
                          shrink, e_mev, &rc, err);
            }
            b->meterset = 140 * pt->rx_gy / pt->fractions / nb;
            continue;
        }
        /* Static fields evenly spread from a random start (IMRT), or
         * opposed / box fields (3D-CRT). */
        double gantry = pt->technique == RT_T_IMRT ? fmod(round(start) + 360.0 * bi / nb, 360)
                                                  : fmod(90.0 * bi * (nb == 2 ? 2 : 1), 360);
        gantry = round(gantry);
        snprintf(b->name, sizeof b->name, "F%d G%03.0f", bi + 1, gantry);
        if (pt->technique == RT_T_IMRT) {
            /* Step and shoot: 5 segments of shrinking apertures, two
             * control points each (the MLC moves between segments). */
            strcpy(b->beam_type, "STATIC");
            int segs = 5;
            b->ncp = 2 * (size_t)segs;
            b->cps = xcalloc(b->ncp, sizeof *b->cps, &rc, err);
            for (int sgi = 0; sgi < segs && rc == HM_OK; sgi++)
                for (int q = 0; q < 2 && rc == HM_OK; q++)
                    photon_cp(&b->cps[2 * sgi + q], g, gantry, "NONE",
                              (double)(sgi + q) / segs, 1.0 - 0.12 * sgi, e_mev, &rc, err);
            b->meterset = 160 * pt->rx_gy / pt->fractions / nb;
        } else {
            strcpy(b->beam_type, "STATIC");
            b->ncp = 2;
            b->cps = xcalloc(2, sizeof *b->cps, &rc, err);
            for (int q = 0; q < 2 && rc == HM_OK; q++)
                photon_cp(&b->cps[q], g, gantry, "NONE", q, 1.0, e_mev, &rc, err);
            b->meterset = 110 * pt->rx_gy / pt->fractions / nb;
        }
    }
    return rc;
}

/* ---- the course ------------------------------------------------------------------ */

static void set_common(hm_rtdcm_common *c, const rt_course_in *in, const char *study_date,
                       const char *root)
{
    memset(c, 0, sizeof *c);
    snprintf(c->patient_id, sizeof c->patient_id, "%s", in->patient_id);
    snprintf(c->patient_birth_date, sizeof c->patient_birth_date, "%s", in->birth_dicom);
    snprintf(c->patient_sex, sizeof c->patient_sex, "%s", in->pt->male ? "M" : "F");
    snprintf(c->study_date, sizeof c->study_date, "%s", study_date);
    snprintf(c->study_uid, sizeof c->study_uid, "%s.1", root);
    snprintf(c->frame_of_reference_uid, sizeof c->frame_of_reference_uid, "%s.2", root);
}

int rt_course_write(const rt_course_in *in, long *files, hm_error *err)
{
    const rt_patient *pt = in->pt;
    const rt_params *p = in->p;
    const rt_tech *tech = &p->tech[pt->technique];
    geom g;
    memset(&g, 0, sizeof g);
    hm_rtdcm_ct ct;
    hm_rtdcm_struct ss;
    hm_rtdcm_plan pl;
    hm_rtdcm_dose dose;
    memset(&ct, 0, sizeof ct);
    memset(&ss, 0, sizeof ss);
    memset(&pl, 0, sizeof pl);
    memset(&dose, 0, sizeof dose);
    roi_def rois[RT_MAX_ROIS + 4];
    int nrois = 0;
    int16_t *hu = NULL;
    float *dfull = NULL;
    char root[40], path[4400];
    uid_root(in->seed, pt->index, root, sizeof root);
    int rc = build_geom(in, &g, err);
    size_t nvox = (size_t)g.nx * g.ny * g.nz, nxy = (size_t)g.nx * g.ny;

    /* CT. */
    if (rc == HM_OK) {
        hu = xcalloc(nvox, sizeof *hu, &rc, err);
        ct.slices = xcalloc((size_t)g.nz, sizeof *ct.slices, &rc, err);
    }
    if (rc == HM_OK) {
        for (size_t q = 0; q < nvox; q++) {
            int id = g.ids[q];
            const hm_phantom_region *reg = id ? hm_phantom_region_info(in->phantom, id) : NULL;
            const char *m = reg && reg->medium >= 0
                          ? hm_phantom_medium_info(in->phantom, reg->medium)->name : "air";
            double v = !strcmp(m, "lung") ? p->hu_lung : !strcmp(m, "skeleton") ? p->hu_bone
                     : !strcmp(m, "air") ? p->hu_air : p->hu_soft;
            hu[q] = (int16_t)v;
        }
        set_common(&ct.c, in, in->start_dicom, root);
        snprintf(ct.c.series_uid, sizeof ct.c.series_uid, "%s.3", root);
        static const double iop[6] = { 1, 0, 0, 0, 1, 0 };
        memcpy(ct.iop, iop, sizeof iop);
        ct.spacing_mm[0] = ct.spacing_mm[1] = g.v_mm;
        ct.slice_thickness_mm = g.v_mm;
        ct.rows = g.ny;
        ct.cols = g.nx;
        ct.nslices = (size_t)g.nz;
        for (int k = 0; k < g.nz; k++) {
            hm_rtdcm_ct_slice *sl = &ct.slices[k];
            snprintf(sl->sop_instance_uid, sizeof sl->sop_instance_uid, "%s.3.%d", root, k + 1);
            sl->ipp_mm[0] = g.x0;
            sl->ipp_mm[1] = g.y0;
            sl->ipp_mm[2] = g.z0 + k * g.v_mm;
            sl->instance_number = k + 1;
        }
        /* The writer takes one HU buffer per call (all slices, slice-major). */
        rc = hm_rtdcm_ct_write(in->dir, &ct, hu, err);
        *files += g.nz;
    }

    /* ROIs: EXTERNAL, organs present, GTV/CTV/PTV. */
    const rt_site *site = &p->sites[pt->site];
    int lang = lang_index(p->centres[pt->centre].language);
    for (int r = -1; rc == HM_OK && r < p->nrois + 3; r++) {
        roi_def *d = &rois[nrois];
        memset(d, 0, sizeof *d);
        if (r < 0) {
            d->kind = ROI_EXTERNAL;
            snprintf(d->name, sizeof d->name, "%s", lang == 1 ? "Contour externe"
                     : lang == 2 ? "Koerper" : lang == 3 ? "Lichaam" : "BODY");
            strcpy(d->type, "EXTERNAL");
            strcpy(d->organ, "other");
        } else if (r < p->nrois) {
            d->kind = ROI_ORGAN;
            d->name_row = r;
            snprintf(d->name, sizeof d->name, "%s", p->rois[r].names[lang]);
            strcpy(d->type, "ORGAN");
            snprintf(d->organ, sizeof d->organ, "%s", p->rois[r].organ);
        } else {
            d->kind = ROI_GTV + (r - p->nrois);
            static const char *const t[3] = { "GTV", "CTV", "PTV" };
            snprintf(d->name, sizeof d->name, "%s_%.4g", t[r - p->nrois], pt->rx_gy);
            strcpy(d->type, t[r - p->nrois]);
            strcpy(d->organ, "target");
        }
        if (!(d->mask = xcalloc(nvox, 1, &rc, err)))
            break;
        make_mask(in, &g, d);
        if (d->kind == ROI_ORGAN && d->nvox < MIN_ROI_VOXELS) {
            free(d->mask);
            continue;
        }
        nrois++;
    }
    int ptv_number = nrois;   /* the last ROI; numbers are 1..nrois */
    if (rc == HM_OK) {
        ss.c = ct.c;
        ss.c.sop_instance_uid[0] = '\0';
        snprintf(ss.c.series_uid, sizeof ss.c.series_uid, "%s.4", root);
        snprintf(ss.c.sop_instance_uid, sizeof ss.c.sop_instance_uid, "%s.4.1", root);
        snprintf(ss.label, sizeof ss.label, "%s", in->course_id);
        snprintf(ss.ref_ct_series_uid, sizeof ss.ref_ct_series_uid, "%s", ct.c.series_uid);
        ss.n_ref_ct_sops = ct.nslices;
        ss.ref_ct_sop_uids = xcalloc(ct.nslices, HM_RTDCM_UID_LEN, &rc, err);
        ss.rois = xcalloc((size_t)nrois, sizeof *ss.rois, &rc, err);
        ss.nrois = rc ? 0 : (size_t)nrois;
    }
    for (size_t k = 0; rc == HM_OK && k < ct.nslices; k++)
        strcpy(ss.ref_ct_sop_uids[k], ct.slices[k].sop_instance_uid);
    for (int r = 0; rc == HM_OK && r < nrois; r++) {
        hm_rtdcm_roi *o = &ss.rois[r];
        o->number = r + 1;
        snprintf(o->name, sizeof o->name, "%s", rois[r].name);
        strcpy(o->algorithm, rois[r].kind == ROI_ORGAN || rois[r].kind == ROI_EXTERNAL
                             ? "AUTOMATIC" : "MANUAL");
        snprintf(o->frame_of_reference_uid, sizeof o->frame_of_reference_uid, "%s",
                 ct.c.frame_of_reference_uid);
        snprintf(o->interpreted_type, sizeof o->interpreted_type, "%s", rois[r].type);
        o->color[0] = (37 * r) % 256;
        o->color[1] = (91 * r + 60) % 256;
        o->color[2] = (53 * r + 120) % 256;
        rc = add_contours(&g, &rois[r], &ct, o, err);
    }
    if (rc == HM_OK) {
        snprintf(path, sizeof path, "%s/RTSTRUCT.dcm", in->dir);
        rc = hm_rtdcm_struct_write(path, &ss, err);
        *files += rc == HM_OK;
    }

    /* Plan. */
    if (rc == HM_OK) {
        set_common(&pl.c, in, in->start_dicom, root);
        snprintf(pl.c.series_uid, sizeof pl.c.series_uid, "%s.5", root);
        snprintf(pl.c.sop_instance_uid, sizeof pl.c.sop_instance_uid, "%s.5.1", root);
        snprintf(pl.date, sizeof pl.date, "%s", in->start_dicom);
        strcpy(pl.time, "100000");
        snprintf(pl.ref_struct_uid, sizeof pl.ref_struct_uid, "%s", ss.c.sop_instance_uid);
        pl.n_ref_doses = 1;
        snprintf(pl.ref_dose_uids[0], sizeof pl.ref_dose_uids[0], "%s.6.1", root);
        rc = build_plan(in, &g, &pl, ptv_number, err);
    }
    if (rc == HM_OK) {
        snprintf(path, sizeof path, "%s/RTPLAN.dcm", in->dir);
        rc = hm_rtdcm_plan_write(path, &pl, err);
        *files += rc == HM_OK;
    }

    /* Dose: the analytic field at every CT voxel centre (0 in air, as a
     * TPS writes it), the grid the PTV box plus the margin. */
    int lo[3] = { 0, 0, 0 }, hi[3] = { g.nx - 1, g.ny - 1, g.nz - 1 };
    if (rc == HM_OK) {
        dfull = xcalloc(nvox, sizeof *dfull, &rc, err);
        const double org[3] = { g.x0, g.y0, g.z0 };
        for (int a = 0; a < 3; a++) {
            double m = g.ptv[a] + tech->grid_margin_mm;
            int l = (int)floor((g.c_mm[a] - m - org[a]) / g.v_mm);
            int h = (int)ceil((g.c_mm[a] + m - org[a]) / g.v_mm);
            lo[a] = l > lo[a] ? l : lo[a];
            hi[a] = h < hi[a] ? h : hi[a];
        }
    }
    for (int k = 0; rc == HM_OK && k < g.nz; k++)
        for (int j = 0; j < g.ny; j++)
            for (int i = 0; i < g.nx; i++) {
                size_t q = (size_t)k * nxy + (size_t)j * g.nx + i;
                double pmm[3];
                voxel_mm(&g, i, j, k, pmm);
                dfull[q] = g.ids[q] ? (float)dose_at(tech, pt->rx_gy, &g, pmm) : 0.0f;
            }
    if (rc == HM_OK) {
        dose.c = ct.c;
        snprintf(dose.c.series_uid, sizeof dose.c.series_uid, "%s.6", root);
        snprintf(dose.c.sop_instance_uid, sizeof dose.c.sop_instance_uid, "%s.6.1", root);
        dose.cols = hi[0] - lo[0] + 1;
        dose.rows = hi[1] - lo[1] + 1;
        dose.nframes = hi[2] - lo[2] + 1;
        voxel_mm(&g, lo[0], lo[1], lo[2], dose.ipp_mm);
        static const double iop[6] = { 1, 0, 0, 0, 1, 0 };
        memcpy(dose.iop, iop, sizeof iop);
        dose.spacing_mm[0] = dose.spacing_mm[1] = g.v_mm;
        dose.frame_offsets_mm = xcalloc((size_t)dose.nframes, sizeof(double), &rc, err);
        dose.offsets_relative = 1;
        strcpy(dose.dose_units, "GY");
        strcpy(dose.dose_type, "PHYSICAL");
        strcpy(dose.summation_type, "PLAN");
        dose.bits_allocated = 16;
        snprintf(dose.ref_plan_uid, sizeof dose.ref_plan_uid, "%s", pl.c.sop_instance_uid);
        dose.dose_gy = xcalloc((size_t)dose.cols * dose.rows * dose.nframes, sizeof(float), &rc,
                               err);
    }
    if (rc == HM_OK) {
        for (int k = 0; k < dose.nframes; k++) {
            dose.frame_offsets_mm[k] = k * g.v_mm;
            for (int j = 0; j < dose.rows; j++)
                for (int i = 0; i < dose.cols; i++)
                    dose.dose_gy[((size_t)k * dose.rows + j) * dose.cols + i] =
                        dfull[(size_t)(k + lo[2]) * nxy + (size_t)(j + lo[1]) * g.nx + i + lo[0]];
        }
        snprintf(path, sizeof path, "%s/RTDOSE.dcm", in->dir);
        rc = hm_rtdcm_dose_write(path, &dose, err);
        *files += rc == HM_OK;
    }

    /* Truth: per ROI the exact mean of the analytic field over its voxels,
     * and over those inside the dose grid (what a DVH of the RT Dose sees). */
    for (int r = 0; rc == HM_OK && r < nrois; r++) {
        double sum = 0, sum_in = 0;
        long n_in = 0;
        for (int k = 0; k < g.nz; k++)
            for (int j = 0; j < g.ny; j++)
                for (int i = 0; i < g.nx; i++) {
                    size_t q = (size_t)k * nxy + (size_t)j * g.nx + i;
                    if (!rois[r].mask[q])
                        continue;
                    sum += dfull[q];
                    if (i >= lo[0] && i <= hi[0] && j >= lo[1] && j <= hi[1] && k >= lo[2]
                        && k <= hi[2]) {
                        sum_in += dfull[q];
                        n_in++;
                    }
                }
        double vcc = g.v_mm * g.v_mm * g.v_mm / 1000.0;
        fprintf(in->truth, "%s,%s,%s,%d,", p->centres[pt->centre].code, in->course_id,
                in->patient_id, r + 1);
        hm_csv_write_field(in->truth, rois[r].name);
        fprintf(in->truth, ",%s,%s,%s,%s,%s,%s,%.4g,%d,%.3f,%ld,%.6g,%.6g,%ld,%.6g,%.6g\n",
                rois[r].organ, rois[r].type, site->site, site->topo, site->morph,
                rt_tech_names[pt->technique], pt->rx_gy, pt->fractions, pt->age_years,
                rois[r].nvox, rois[r].nvox * vcc, sum / (double)rois[r].nvox, n_in,
                n_in * vcc, n_in ? sum_in / (double)n_in : 0.0);
    }
    if (rc == HM_OK && ferror(in->truth))
        rc = hm_error_set(err, HM_EIO, "rt_truth.csv", 0, NULL, "write failed");

    for (int r = 0; r < nrois; r++)
        free(rois[r].mask);
    free(g.ids);
    free(hu);
    free(dfull);
    /* The structs own their arrays; the readers' _free() release them. */
    hm_rtdcm_ct_free(&ct);
    hm_rtdcm_struct_free(&ss);
    hm_rtdcm_plan_free(&pl);
    hm_rtdcm_dose_free(&dose);
    return rc;
}
