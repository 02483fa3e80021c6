/*
 * raster.c — ROI contours to inside runs of sub-voxel sample points.
 *
 * Sample points: s x s per voxel in-plane, at fractional index
 * (g + 0.5)/s - 0.5 for global sample index g = i*s + m (m < s), i.e. the
 * centres of an s x s subdivision of the voxel.
 *
 * Inside test: the even-odd (crossing number) rule of the point-in-polygon
 * test (W. R. Franklin, PNPOLY, 1970s; E. Haines, "Point in polygon
 * strategies", Graphics Gems IV, 1994): a point is inside when a ray towards
 * +x crosses the slice's edges an odd number of times, with all contours of
 * the slice taken together, so a hole is a contour inside another and
 * several islands are several contours.  For a whole sample row at once the
 * test is evaluated by scanline: the crossings of the row with every edge,
 * sorted x_0 <= x_1 <= ..., make the point x inside exactly when x lies in
 * some [x_2k, x_2k+1) (an odd number of crossings lie strictly to its
 * right), so each row costs one pass over the edges plus a sort, not one
 * pass per point.  An edge counts for row y when (y_a > y) != (y_b > y)
 * (half-open, so a vertex on the row is counted once), at
 * x = (x_b - x_a)(y - y_a)/(y_b - y_a) + x_a, PNPOLY's expression.
 */
#include "rt_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const hm_rt_roi *sort_roi;   /* qsort has no context argument in C11 */

static int by_z(const void *a, const void *b)
{
    double za = sort_roi->contours[*(const int *)a].z_mm;
    double zb = sort_roi->contours[*(const int *)b].z_mm;
    return za < zb ? -1 : za > zb;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void hm_rt_raster_free(hm_rt_raster *r)
{
    free(r->slabs);
    free(r->order);
    free(r->cross);
    free(r->runs);
    memset(r, 0, sizeof *r);
}

/* The through-plane thickness given to a lone contour slice: that of the
 * dose plane holding it (or the nearest plane), the grid's own z scale. */
static double lone_thickness(const hm_rt_grid *g, const double *lo, const double *hi, double z)
{
    int best = 0;
    double bestd = INFINITY;
    for (int k = 0; k < g->nz; k++) {
        double d = fabs(g->z_mm[k] - z);
        if (d < bestd) {
            bestd = d;
            best = k;
        }
    }
    return hi[best] - lo[best];
}

int hm_rt_raster_init(hm_rt_raster *r, const hm_rt_grid *g, const hm_rt_roi *roi, int s,
                      double z_tol_mm, const double *plane_lo, const double *plane_hi,
                      hm_error *err)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    int n = roi->ncontours;
    if (n < 1)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "ContourSequence",
                            "ROI '%s' (number %d) has no contours", roi->name, roi->number);
    r->order = malloc(sizeof *r->order * (size_t)n);
    r->slabs = malloc(sizeof *r->slabs * (size_t)n);
    if (!r->order || !r->slabs) {
        hm_rt_raster_free(r);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, roi->name, "out of memory");
    }
    for (int c = 0; c < n; c++)
        r->order[c] = c;
    sort_roi = roi;
    qsort(r->order, (size_t)n, sizeof *r->order, by_z);
    sort_roi = NULL;

    /* Slices: contours within z_tol of the slice's first contour. */
    for (int c = 0; c < n;) {
        hm_rt_slab *sl = &r->slabs[r->nslab++];
        sl->first = c;
        sl->z_mm = roi->contours[r->order[c]].z_mm;
        while (c < n && roi->contours[r->order[c]].z_mm - sl->z_mm <= z_tol_mm)
            c++;
        sl->n = c - sl->first;
    }
    /* Slabs: half-way to the neighbouring slices; the end slices extend by
     * half the adjacent contour spacing (docs/rt.md, "slab rule"). */
    for (int k = 0; k < r->nslab; k++) {
        hm_rt_slab *sl = &r->slabs[k];
        double below = k > 0 ? (sl->z_mm - sl[-1].z_mm) / 2 : NAN;
        double above = k + 1 < r->nslab ? (sl[1].z_mm - sl->z_mm) / 2 : NAN;
        if (isnan(below) && isnan(above))
            below = above = lone_thickness(g, plane_lo, plane_hi, sl->z_mm) / 2;
        if (isnan(below)) below = above;
        if (isnan(above)) above = below;
        sl->lo_mm = sl->z_mm - below;
        sl->hi_mm = sl->z_mm + above;
    }

    /* Voxel bounding box in index space (voxel i spans [i-0.5, i+0.5)). */
    double fimin = INFINITY, fimax = -INFINITY, fjmin = INFINITY, fjmax = -INFINITY;
    int maxedges = 0;
    for (int c = 0; c < n; c++) {
        const hm_rt_contour *ct = &roi->contours[c];
        for (int p = 0; p < ct->npoints; p++) {
            double fi, fj;
            hm_rt_to_index(g, ct->xy_mm[2 * p], ct->xy_mm[2 * p + 1], &fi, &fj);
            fimin = fmin(fimin, fi); fimax = fmax(fimax, fi);
            fjmin = fmin(fjmin, fj); fjmax = fmax(fjmax, fj);
        }
    }
    for (int k = 0; k < r->nslab; k++) {
        int e = 0;
        for (int c = 0; c < r->slabs[k].n; c++)
            e += roi->contours[r->order[r->slabs[k].first + c]].npoints;
        if (e > maxedges)
            maxedges = e;
    }
    double zlo = fmin(plane_lo[0], plane_lo[g->nz - 1]);
    double zhi = fmax(plane_hi[0], plane_hi[g->nz - 1]);
    double ilo = floor(fimin + 0.5), ihi = floor(fimax + 0.5);
    double jlo = floor(fjmin + 0.5), jhi = floor(fjmax + 0.5);
    r->outside = ilo < 0 || jlo < 0 || ihi > g->nx - 1 || jhi > g->ny - 1 ||
                 r->slabs[0].lo_mm < zlo || r->slabs[r->nslab - 1].hi_mm > zhi;
    r->i0 = (int)fmax(ilo, 0);
    r->j0 = (int)fmax(jlo, 0);
    r->i1 = (int)fmin(ihi, g->nx - 1);
    r->j1 = (int)fmin(jhi, g->ny - 1);
    r->empty = r->i0 > r->i1 || r->j0 > r->j1 ||
               r->slabs[0].lo_mm >= zhi || r->slabs[r->nslab - 1].hi_mm <= zlo;
    r->cross_cap = maxedges;
    r->cross = malloc(sizeof *r->cross * (size_t)(maxedges > 0 ? maxedges : 1));
    if (!r->cross) {
        hm_rt_raster_free(r);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, roi->name, "out of memory");
    }
    return HM_OK;
}

static int push_run(hm_rt_raster *r, int h, int a, int b)
{
    if (r->nruns == r->runs_cap) {
        int cap = r->runs_cap ? 2 * r->runs_cap : 1024;
        int *p = realloc(r->runs, sizeof *p * 3 * (size_t)cap);
        if (!p)
            return HM_ENOMEM;
        r->runs = p;
        r->runs_cap = cap;
    }
    int *q = &r->runs[3 * r->nruns++];
    q[0] = h; q[1] = a; q[2] = b;
    return HM_OK;
}

int hm_rt_raster_runs(hm_rt_raster *r, const hm_rt_grid *g, const hm_rt_roi *roi, int c,
                      hm_error *err)
{
    const hm_rt_slab *sl = &r->slabs[c];
    const int s = r->s;
    const int glo = r->i0 * s, ghi = (r->i1 + 1) * s;
    /* Index-space scale: a patient (x, y) maps to (fi, fj) by an affine map
     * (a reflection for flipped cosines), which keeps even-odd insideness. */
    const double sx = 1.0 / (g->row_cos[0] * g->dx_mm), sy = 1.0 / (g->col_cos[1] * g->dy_mm);
    r->nruns = 0;
    for (int h = r->j0 * s; h < (r->j1 + 1) * s; h++) {
        double y = (h + 0.5) / s - 0.5;
        int nc = 0;
        for (int q = 0; q < sl->n; q++) {
            const hm_rt_contour *ct = &roi->contours[r->order[sl->first + q]];
            const double *p = ct->xy_mm;
            int np = ct->npoints;
            double xa = (p[2 * (np - 1)] - g->origin_mm[0]) * sx;
            double ya = (p[2 * (np - 1) + 1] - g->origin_mm[1]) * sy;
            for (int v = 0; v < np; v++) {
                double xb = (p[2 * v] - g->origin_mm[0]) * sx;
                double yb = (p[2 * v + 1] - g->origin_mm[1]) * sy;
                if ((ya > y) != (yb > y))
                    r->cross[nc++] = (xb - xa) * (y - ya) / (yb - ya) + xa;
                xa = xb;
                ya = yb;
            }
        }
        if (nc < 2)
            continue;
        if (nc < 16) {   /* insertion sort: rows of a convex contour have 2 */
            for (int a = 1; a < nc; a++) {
                double x = r->cross[a];
                int b = a - 1;
                for (; b >= 0 && r->cross[b] > x; b--)
                    r->cross[b + 1] = r->cross[b];
                r->cross[b + 1] = x;
            }
        } else {
            qsort(r->cross, (size_t)nc, sizeof *r->cross, by_value);
        }
        for (int a = 0; a + 1 < nc; a += 2) {
            /* Samples with (g+0.5)/s - 0.5 in [x_a, x_a+1). */
            double ga = ceil((r->cross[a] + 0.5) * s - 0.5);
            double gb = ceil((r->cross[a + 1] + 0.5) * s - 0.5);
            if (ga < glo) ga = glo;
            if (gb > ghi) gb = ghi;
            if (gb > ga && push_run(r, h, (int)ga, (int)gb))
                return hm_error_set(err, HM_ENOMEM, NULL, 0, roi->name, "out of memory");
        }
    }
    return HM_OK;
}
