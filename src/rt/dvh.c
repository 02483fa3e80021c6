/*
 * dvh.c — dose-volume metrics of an ROI on a dose grid.
 *
 * Occupancy: voxel (i, j, k) receives, from every contour slab c that
 * overlaps its through-plane extent by ov_mm, the volume
 *   (inside samples of c in the voxel) / s^2 * dx * dy * ov_mm,
 * i.e. the slab model integrated exactly in z and by s x s sampling in-plane.
 * Dose: the voxel's dose (nearest), or with HM_RT_TRILINEAR the trilinear dose
 * at each sample point, at the z centre of the slab/voxel overlap.
 *
 * Metrics as defined in ICRU Report 83 (2010, J ICRU 10(1), section 3.7 and
 * Appendix: "D_V", "V_D"): V_D is the volume receiving at least dose D;
 * D_V (D_x% with V = x % of the ROI volume, or D_0.03cc with V = 0.03 cm^3)
 * is the least dose received by the hottest volume V, i.e. the dose at which
 * the cumulative DVH falls to V.  D98% is the near-minimum, D2% the
 * near-maximum and D50% the median dose.  Mean, min and max are exact
 * (min/max over voxels or samples with non-zero occupancy), V_D exact (each
 * contribution compared with D), D_V from a fine histogram (mass spread
 * uniformly within a bin, so D_V is resolved to the bin width) clamped to
 * [min, max].  One pass over the ROI's bounding box: no sort.
 */
#include "rt_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double vx_thresholds_gy[HM_RT_NVX] = { 5, 10, 20, 30 };
#define MAX_FINE_BINS (1 << 22)

typedef struct acc {
    double  sum_w, sum_wd, min, max;
    double  vx_w[HM_RT_NVX];
    double *fine;
    int     n_fine;
    double  inv_bin;
} acc;

static inline void add(acc *a, double d, double w)
{
    a->sum_w += w;
    a->sum_wd += w * d;
    if (d < a->min) a->min = d;
    if (d > a->max) a->max = d;
    for (int t = 0; t < HM_RT_NVX; t++)
        if (d >= vx_thresholds_gy[t])
            a->vx_w[t] += w;
    double f = d * a->inv_bin;
    int b = f <= 0 ? 0 : f >= a->n_fine - 1 ? a->n_fine - 1 : (int)f;
    a->fine[b] += w;
}

void hm_rt_dvh_free(hm_rt_dvh *d)
{
    if (!d)
        return;
    free(d->cum_cc);
    free(d->fine_cc);
    d->cum_cc = d->fine_cc = NULL;
}

double hm_rt_dvh_d_cc(const hm_rt_dvh *d, double cc)
{
    if (cc <= 0)
        return d->max_gy;
    if (cc >= d->volume_cc)
        return d->min_gy;
    double accv = 0, bw = d->fine_bin_gy, dose = d->min_gy;
    for (int b = d->n_fine - 1; b >= 0; b--) {
        double h = d->fine_cc[b];
        if (h > 0 && accv + h >= cc) {
            dose = (b + 1) * bw - (cc - accv) / h * bw;
            break;
        }
        accv += h;
    }
    return dose < d->min_gy ? d->min_gy : dose > d->max_gy ? d->max_gy : dose;
}

double hm_rt_dvh_d_pct(const hm_rt_dvh *d, double pct)
{
    return hm_rt_dvh_d_cc(d, pct / 100 * d->volume_cc);
}

static int check_options(const hm_rt_dvh_options *in, hm_rt_dvh_options *o, hm_error *err)
{
    hm_rt_dvh_options z = { 0 };
    *o = in ? *in : z;
    if (!o->subsample) o->subsample = HM_RT_SUBSAMPLE_DEFAULT;
    if (!o->hist_bin_gy) o->hist_bin_gy = 0.001;
    if (!o->dvh_bin_gy) o->dvh_bin_gy = 0.01;
    if (!o->z_tol_mm) o->z_tol_mm = 0.01;
    if (o->subsample < 1 || o->subsample > 64)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "subsample",
                            "%d samples per voxel side: expected 1 to 64", o->subsample);
    if (o->interp != HM_RT_NEAREST && o->interp != HM_RT_TRILINEAR)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "interp",
                            "%d: expected HM_RT_NEAREST or HM_RT_TRILINEAR", o->interp);
    if (!(o->hist_bin_gy > 0) || !(o->dvh_bin_gy > 0) || !(o->z_tol_mm > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "dvh options",
                            "bin widths and z tolerance must be > 0");
    return HM_OK;
}

/* Largest dose in the ROI's box over the planes k0..k1 (histogram range). */
static double box_max(const hm_rt_grid *g, const hm_rt_raster *r, int k0, int k1)
{
    double m = 0;
    for (int k = k0; k <= k1; k++)
        for (int j = r->j0; j <= r->j1; j++) {
            const float *row = g->dose_gy + (size_t)g->nx * ((size_t)j + (size_t)g->ny * k);
            for (int i = r->i0; i <= r->i1; i++)
                if (row[i] > m)
                    m = row[i];
        }
    return m;
}

/* Nearest: runs of slab c to per-voxel sample counts, then voxel doses. */
static void add_nearest(acc *a, const hm_rt_grid *g, const hm_rt_raster *r, int *counts, int k,
                        double w_per_sample)
{
    const int s = r->s, bw = r->i1 - r->i0 + 1, bh = r->j1 - r->j0 + 1;
    memset(counts, 0, sizeof *counts * (size_t)bw * bh);
    for (int q = 0; q < r->nruns; q++) {
        const int *run = &r->runs[3 * q];
        int *row = counts + (size_t)(run[0] / s - r->j0) * bw - r->i0;
        int ga = run[1], gb = run[2];
        int ia = ga / s, ib = (gb - 1) / s;
        if (ia == ib) {
            row[ia] += gb - ga;
            continue;
        }
        row[ia] += (ia + 1) * s - ga;
        row[ib] += gb - ib * s;
        for (int i = ia + 1; i < ib; i++)
            row[i] += s;
    }
    for (int j = 0; j < bh; j++) {
        const float *dose = g->dose_gy + (size_t)g->nx * ((size_t)(j + r->j0) + (size_t)g->ny * k)
                            + r->i0;
        const int *cnt = counts + (size_t)j * bw;
        for (int i = 0; i < bw; i++)
            if (cnt[i])
                add(a, dose[i], cnt[i] * w_per_sample);
    }
}

static void add_trilinear(acc *a, const hm_rt_grid *g, const hm_rt_raster *r, double fk,
                          double w_per_sample)
{
    const int s = r->s;
    for (int q = 0; q < r->nruns; q++) {
        const int *run = &r->runs[3 * q];
        double fj = (run[0] + 0.5) / s - 0.5;
        for (int gi = run[1]; gi < run[2]; gi++)
            add(a, hm_rt_trilinear(g, (gi + 0.5) / s - 0.5, fj, fk), w_per_sample);
    }
}

static int finish(acc *a, const hm_rt_dvh_options *o, hm_rt_dvh *out)
{
    out->volume_cc = a->sum_w / 1000;
    out->mean_gy = a->sum_wd / a->sum_w;
    out->min_gy = a->min;
    out->max_gy = a->max;
    for (int t = 0; t < HM_RT_NVX; t++) {
        out->vx_gy[t] = vx_thresholds_gy[t];
        out->vx_cc[t] = a->vx_w[t] / 1000;
        out->vx_pct[t] = 100 * a->vx_w[t] / a->sum_w;
    }
    out->n_fine = a->n_fine;
    out->fine_bin_gy = 1 / a->inv_bin;
    out->fine_cc = a->fine;
    for (int b = 0; b < a->n_fine; b++)
        out->fine_cc[b] /= 1000;
    a->fine = NULL;
    out->d2_gy = hm_rt_dvh_d_pct(out, 2);
    out->d50_gy = hm_rt_dvh_d_pct(out, 50);
    out->d98_gy = hm_rt_dvh_d_pct(out, 98);
    out->small_volume = out->volume_cc < 0.03;
    out->d0_03cc_gy = out->small_volume ? out->max_gy : hm_rt_dvh_d_cc(out, 0.03);

    /* Cumulative DVH on the output bins from the fine histogram's suffix
     * sums, mass uniform within a fine bin, exact at 0 and beyond max. */
    out->dvh_bin_gy = o->dvh_bin_gy;
    out->n_bins = (int)floor(out->max_gy / o->dvh_bin_gy) + 2;
    out->cum_cc = malloc(sizeof *out->cum_cc * (size_t)out->n_bins);
    double *suffix = malloc(sizeof *suffix * (size_t)(a->n_fine + 1));
    if (!out->cum_cc || !suffix) {
        free(suffix);
        return HM_ENOMEM;
    }
    suffix[a->n_fine] = 0;
    for (int b = a->n_fine - 1; b >= 0; b--)
        suffix[b] = suffix[b + 1] + out->fine_cc[b];
    for (int b = 0; b < out->n_bins; b++) {
        double dose = b * o->dvh_bin_gy, v;
        if (dose <= out->min_gy) {
            v = out->volume_cc;
        } else if (dose > out->max_gy) {
            v = 0;
        } else {
            double f = dose / out->fine_bin_gy;
            int fb = (int)f;
            if (fb >= a->n_fine) fb = a->n_fine - 1;
            v = suffix[fb + 1] + out->fine_cc[fb] * (fb + 1 - f);
        }
        out->cum_cc[b] = v;
    }
    free(suffix);
    return HM_OK;
}

int hm_rt_dvh_compute(const hm_rt_grid *g, const hm_rt_roi *roi, const hm_rt_dvh_options *opt,
                      hm_rt_dvh *out, hm_error *err)
{
    memset(out, 0, sizeof *out);
    hm_rt_dvh_options o;
    int rc = check_options(opt, &o, err);
    if (rc || (rc = hm_rt_grid_check(g, err)))
        return rc;
    double *plo = malloc(sizeof *plo * 2 * (size_t)g->nz);
    if (!plo)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, roi->name, "out of memory");
    double *phi = plo + g->nz;
    hm_rt_plane_extents(g, plo, phi);

    hm_rt_raster r;
    acc a = { 0, 0, INFINITY, -INFINITY, { 0 }, NULL, 0, 0 };
    int *counts = NULL;
    if ((rc = hm_rt_raster_init(&r, g, roi, o.subsample, o.z_tol_mm, plo, phi, err)))
        goto done;
    /* Planes overlapped by any slab. */
    int k0 = g->nz, k1 = -1;
    for (int k = 0; k < g->nz; k++)
        if (phi[k] > r.slabs[0].lo_mm && plo[k] < r.slabs[r.nslab - 1].hi_mm) {
            if (k < k0) k0 = k;
            k1 = k;
        }
    if (r.empty || k1 < 0) {
        rc = hm_error_set(err, HM_EVALIDATE, NULL, 0, roi->name,
                          "ROI '%s' (number %d) lies wholly outside the dose grid",
                          roi->name, roi->number);
        goto done;
    }
    double maxd = box_max(g, &r, k0, k1);
    double bin = o.hist_bin_gy;
    if (maxd / bin + 2 > MAX_FINE_BINS)
        bin = maxd / (MAX_FINE_BINS - 2);   /* bounded memory for absurd doses */
    a.inv_bin = 1 / bin;
    a.n_fine = (int)(maxd / bin) + 2;
    a.fine = calloc((size_t)a.n_fine, sizeof *a.fine);
    counts = malloc(sizeof *counts * (size_t)(r.i1 - r.i0 + 1) * (size_t)(r.j1 - r.j0 + 1));
    if (!a.fine || !counts) {
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, roi->name, "out of memory");
        goto done;
    }
    const double area = g->dx_mm * g->dy_mm / ((double)o.subsample * o.subsample);
    /* Slabs ascend in z; plane k overlaps a contiguous range of them.  The
     * runs of the last slab are kept: consecutive planes often share it. */
    int cur = -1;
    for (int k = k0; k <= k1; k++) {
        for (int c = 0; c < r.nslab; c++) {
            double lo = fmax(plo[k], r.slabs[c].lo_mm), hi = fmin(phi[k], r.slabs[c].hi_mm);
            if (hi <= lo)
                continue;
            if (c != cur && (rc = hm_rt_raster_runs(&r, g, roi, c, err)))
                goto done;
            cur = c;
            if (o.interp == HM_RT_TRILINEAR)
                add_trilinear(&a, g, &r, hm_rt_plane_coord(g, plo, phi, (lo + hi) / 2),
                              area * (hi - lo));
            else
                add_nearest(&a, g, &r, counts, k, area * (hi - lo));
        }
    }
    if (!(a.sum_w > 0)) {
        rc = hm_error_set(err, HM_EVALIDATE, NULL, 0, roi->name,
                          "ROI '%s' (number %d) covers no sample point of the dose grid "
                          "(empty or degenerate contours?)", roi->name, roi->number);
        goto done;
    }
    out->outside_grid = r.outside;
    if (finish(&a, &o, out)) {
        hm_rt_dvh_free(out);
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, roi->name, "out of memory");
    }
done:
    free(a.fine);
    free(counts);
    free(plo);
    hm_rt_raster_free(&r);
    return rc;
}
