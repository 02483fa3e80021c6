/*
 * oof_organs.c — the whole-body out-of-field organ table of a course and the
 * merge with the TPS values (docs/rt.md "Out-of-field dose").
 *
 * Registration rule: the built-in phantom of the patient's age class stands
 * for the patient (patient axes = phantom axes for a head-first supine
 * patient: x to the left, y posterior, z to the head).  The field is a
 * sphere of the target's equivalent radius centred on the target's position
 * in the phantom (an organ's centroid or a point).  Each organ is sampled at
 * up to HM_RT_OOF_POINTS_PER_REGION voxel centres per phantom region that
 * carries it (evenly strided through the region's voxels, weighted by the
 * region's mass); the organ dose is the weighted mean of the model over those
 * points, each at its own distance max(0, |p - c| - r) from the field edge.
 * Skeletal organs: red marrow over the skeletal sites weighted by their share
 * of active marrow at the age (hm_phantom_marrow_share), bone surface over
 * the skeletal regions by mass.
 */
#include "rt_int.h"
#include "hm_phantom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *hm_rt_oof_phantom_age(double age_years)
{
    double months = age_years * 12;
    /* Classes in whole months: 4-30 is [4, 31) etc. */
    if (months < 4)
        return "newborn";
    if (months < 31)
        return "1y";
    if (months < 91)
        return "5y";
    if (months < 211)
        return "10y";
    return age_years < 21 ? "15y" : "adult";
}

double hm_rt_oof_radius_cc(double volume_cc)
{
    /* V = 4/3 pi r^3 */
    return volume_cc > 0 ? cbrt(3 * volume_cc / (4 * 3.14159265358979323846)) : 0;
}

int hm_rt_oof_field_from_grid(const hm_rt_grid *g, double presc_gy, double c_mm[3],
                              double *radius_cm, hm_error *err)
{
    int rc = hm_rt_grid_check(g, err);
    if (rc)
        return rc;
    if (!(presc_gy > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "prescription_gy", "%g: expected > 0",
                            presc_gy);
    double s[3] = { 0, 0, 0 }, vol_mm3 = 0;
    for (int k = 0; k < g->nz; k++) {
        /* Plane thickness: half-way to the neighbours (end planes: the adjacent spacing). */
        double lo = k > 0 ? g->z_mm[k - 1] : 2 * g->z_mm[k] - g->z_mm[k + (g->nz > 1)];
        double hi = k < g->nz - 1 ? g->z_mm[k + 1] : 2 * g->z_mm[k] - g->z_mm[k - (g->nz > 1)];
        double dz = g->nz > 1 ? fabs(hi - lo) / 2 : 1;
        for (int j = 0; j < g->ny; j++)
            for (int i = 0; i < g->nx; i++) {
                if (g->dose_gy[i + (size_t)g->nx * (j + (size_t)g->ny * k)] < 0.5 * presc_gy)
                    continue;
                double w = g->dx_mm * g->dy_mm * dz;
                s[0] += w * (g->origin_mm[0] + i * g->dx_mm * g->row_cos[0]);
                s[1] += w * (g->origin_mm[1] + j * g->dy_mm * g->col_cos[1]);
                s[2] += w * g->z_mm[k];
                vol_mm3 += w;
            }
    }
    if (vol_mm3 <= 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "dose_gy",
                            "no voxel at or above 50 %% of %g Gy: give the PTV volume instead",
                            presc_gy);
    for (int d = 0; d < 3; d++)
        c_mm[d] = s[d] / vol_mm3;
    *radius_cm = hm_rt_oof_radius_cc(vol_mm3 / 1000);
    return HM_OK;
}

/* Per region: voxel count and up to HM_RT_OOF_POINTS_PER_REGION strided centres. */
typedef struct region_pts {
    size_t count;
    int    npts;
    double p[HM_RT_OOF_POINTS_PER_REGION][3];
} region_pts;

static int sample_regions(const hm_voxel_phantom *v, region_pts **out, hm_error *err)
{
    region_pts *r = calloc((size_t)v->nregions + 1, sizeof *r);
    size_t *seen = calloc((size_t)v->nregions + 1, sizeof *seen);
    if (!r || !seen) {
        free(r);
        free(seen);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    size_t n = (size_t)v->nx * v->ny * v->nz;
    for (size_t i = 0; i < n; i++)
        if (v->ids[i] <= v->nregions)
            r[v->ids[i]].count++;
    for (int z = 0; z < v->nz; z++)
        for (int y = 0; y < v->ny; y++)
            for (int x = 0; x < v->nx; x++) {
                int id = v->ids[x + (size_t)v->nx * (y + (size_t)v->ny * z)];
                if (id == 0 || id > v->nregions)
                    continue;
                /* Stride so the points spread over the whole region: of its c
                 * voxels (in scan order) take number s when floor(s P / c) steps up,
                 * s = 0 included: P points, or all voxels when c <= P. */
                size_t s = seen[id]++, c = r[id].count;
                size_t P = HM_RT_OOF_POINTS_PER_REGION;
                if (c > P && s > 0 && (s * P) / c == ((s - 1) * P) / c)
                    continue;
                if (r[id].npts == HM_RT_OOF_POINTS_PER_REGION)
                    continue;
                double *p = r[id].p[r[id].npts++];
                p[0] = v->origin_cm[0] + (x + 0.5) * v->voxel_cm[0];
                p[1] = v->origin_cm[1] + (y + 0.5) * v->voxel_cm[1];
                p[2] = v->origin_cm[2] + (z + 0.5) * v->voxel_cm[2];
            }
    free(seen);
    *out = r;
    return HM_OK;
}

static double field_distance(const double p[3], const double c[3], double r)
{
    double d = sqrt((p[0] - c[0]) * (p[0] - c[0]) + (p[1] - c[1]) * (p[1] - c[1]) +
                    (p[2] - c[2]) * (p[2] - c[2]));
    return d > r ? d - r : 0;
}

/* Weight of region reg for organ (0 when it does not carry it). */
static double region_weight(const hm_voxel_phantom *v, const region_pts *rp, int reg,
                            const char *organ, const char *age)
{
    const hm_phantom_region *R = &v->regions[reg];
    double mass = (double)rp[reg].count * R->density_g_cm3;
    if (!strcmp(organ, "red_marrow") || !strcmp(organ, "bone_surface")) {
        if (!R->site[0])
            return 0;
        if (!strcmp(organ, "bone_surface"))
            return mass;
        double share = 0;
        hm_error e;
        return hm_phantom_marrow_share(age, R->site, &share, &e) ? 0 : share;
    }
    return hm_list_has(R->organs, '|', organ) ? mass : 0;
}

static int organ_row(const hm_rt_oof_params *p, const hm_rt_oof_course *c,
                     const hm_voxel_phantom *v, const region_pts *rp, const char *age,
                     const double centre[3], hm_rt_oof_organ *row, hm_error *err)
{
    int proton = c->technique == HM_RT_PROTON_PS || c->technique == HM_RT_PROTON_PBS;
    double sw = 0, sd = 0, sph = 0, sn = 0, sdist = 0, swc = 0;
    int npts = 0;
    for (int reg = 1; reg <= v->nregions; reg++) {
        double w = region_weight(v, rp, reg, row->organ, age);
        if (w <= 0 || rp[reg].npts == 0)
            continue;
        for (int k = 0; k < rp[reg].npts; k++) {
            hm_rt_oof_dose d;
            double dist = field_distance(rp[reg].p[k], centre, c->target_radius_cm);
            int rc = hm_rt_oof_dose_at(p, c->technique, c->modulation, dist, &d, err);
            if (rc)
                return rc;
            double wk = w / rp[reg].npts;
            sw += wk;
            sd += wk * d.total_mgy_per_gy;
            sph += wk * d.photon_mgy_per_gy;
            sn += wk * d.neutron_msv_per_gy;
            npts++;
        }
        /* Mass-weighted centroid of the regions, for the distance column. */
        double rc3[3] = { 0, 0, 0 };
        for (int k = 0; k < rp[reg].npts; k++)
            for (int a = 0; a < 3; a++)
                rc3[a] += rp[reg].p[k][a] / rp[reg].npts;
        sdist += w * field_distance(rc3, centre, c->target_radius_cm);
        swc += w;
    }
    row->npoints = npts;
    if (sw <= 0) {
        snprintf(row->method, sizeof row->method, "not_in_phantom");
        row->dose_gy = row->photon_gy = row->neutron_sv = row->distance_cm = NAN;
        return HM_OK;
    }
    snprintf(row->method, sizeof row->method, "%s",
             proton ? "model_proton_secondary" : "model_photon_scatter");
    /* mGy/Gy * Gy / 1000 = Gy; mSv/Gy * Gy / 1000 = Sv. */
    row->dose_gy = sd / sw * c->prescription_gy / 1000;
    row->photon_gy = sph / sw * c->prescription_gy / 1000;
    row->neutron_sv = sn / sw * c->prescription_gy / 1000;
    row->distance_cm = sdist / swc;
    return HM_OK;
}

int hm_rt_oof_organ_table(const hm_rt_oof_params *p, const hm_rt_oof_course *c,
                          hm_rt_oof_organ **rows, int *nrows, hm_error *err)
{
    *rows = NULL;
    *nrows = 0;
    if (!p || !c || c->technique < 0 || c->technique >= HM_RT_NTECHNIQUES)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "technique", "expected a technique");
    if (!(c->prescription_gy > 0) || !(c->target_radius_cm >= 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "prescription_gy",
                            "prescription %g Gy and target radius %g cm: expected > 0 and >= 0",
                            c->prescription_gy, c->target_radius_cm);
    const char *age = c->age ? hm_phantom_age_name(c->age) : hm_rt_oof_phantom_age(c->age_years);
    if (!age)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age",
                            "'%s': expected newborn, 1y, 5y, 10y, 15y or adult", c->age);
    char sex = c->sex ? c->sex : (!strcmp(age, "15y") || !strcmp(age, "adult") ? 'M' : 'H');
    hm_phantom *ph = NULL;
    hm_voxel_phantom v;
    memset(&v, 0, sizeof v);
    region_pts *rp = NULL;
    char ids[HM_RT_MAX_ORGANS][32];
    int nids = 0;
    hm_rt_oof_organ *out = NULL;
    int rc = hm_phantom_build(age, sex, &ph, err);
    if (!rc)
        rc = hm_phantom_voxelise_cached(ph, c->voxel_mm > 0 ? c->voxel_mm : 3, c->cache_dir, &v,
                                        NULL, err);
    double centre[3];
    if (!rc) {
        if (c->target_organ && c->target_organ[0]) {
            rc = hm_voxel_phantom_centroid_side(&v, c->target_organ, c->target_side, centre, err);
            for (int k = 0; k < 3; k++)
                centre[k] += c->target_offset_cm[k];
        } else
            memcpy(centre, c->target_cm, sizeof centre);
    }
    if (!rc)
        rc = sample_regions(&v, &rp, err);
    if (!rc)
        rc = hm_rt__organ_ids(ids, HM_RT_MAX_ORGANS, &nids, err);
    if (!rc && !(out = calloc((size_t)(nids > 0 ? nids : 1), sizeof *out)))
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (int i = 0; !rc && i < nids; i++) {
        snprintf(out[i].organ, sizeof out[i].organ, "%s", ids[i]);
        rc = organ_row(p, c, &v, rp, age, centre, &out[i], err);
    }
    free(rp);
    hm_voxel_phantom_free(&v);
    hm_phantom_free(ph);
    if (rc) {
        free(out);
        return rc;
    }
    *rows = out;
    *nrows = nids;
    return HM_OK;
}

int hm_rt_oof_merge(hm_rt_oof_organ *rows, int nrows, const hm_rt_tps_organ *tps, int ntps,
                    double presc_gy, double level_frac, hm_error *err)
{
    if (!(presc_gy > 0) || (nrows > 0 && !rows) || (ntps > 0 && !tps))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "prescription_gy",
                            "expected rows and a prescription > 0 Gy");
    double level_gy = (level_frac > 0 ? level_frac : HM_RT_OOF_TPS_LEVEL_DEFAULT) * presc_gy;
    int taken = 0;
    for (int i = 0; i < nrows; i++)
        for (int k = 0; k < ntps; k++) {
            if (!tps[k].organ || strcmp(tps[k].organ, rows[i].organ))
                continue;
            /* TG-158: below a few % of the prescription the TPS is unreliable. */
            if (isfinite(tps[k].mean_gy) && tps[k].mean_gy >= level_gy) {
                rows[i].dose_gy = tps[k].mean_gy;
                rows[i].photon_gy = NAN;
                rows[i].neutron_sv = NAN;
                rows[i].npoints = 0;
                snprintf(rows[i].method, sizeof rows[i].method, "tps");
                taken++;
            }
            break;
        }
    return taken;
}
