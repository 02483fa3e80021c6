/* geom.c — dose grid and ROI structs, orientation checks, dose at a point. */
#include "hm_rt.h"
#include "rt_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int hm_rt_grid_create(int nx, int ny, int nz, hm_rt_grid **out, hm_error *err)
{
    *out = NULL;
    if (nx < 1 || ny < 1 || nz < 1 || (double)nx * ny * nz > (double)INT32_MAX)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "grid",
                            "grid size %d x %d x %d: expected each >= 1 and at most 2^31 voxels",
                            nx, ny, nz);
    hm_rt_grid *g = calloc(1, sizeof *g);
    if (!g)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, "grid", "out of memory");
    g->nx = nx;
    g->ny = ny;
    g->nz = nz;
    g->row_cos[0] = 1;
    g->col_cos[1] = 1;
    g->dx_mm = g->dy_mm = 1;
    g->z_mm = malloc(sizeof *g->z_mm * (size_t)nz);
    g->dose_gy = calloc((size_t)nx * ny * nz, sizeof *g->dose_gy);
    if (!g->z_mm || !g->dose_gy) {
        hm_rt_grid_free(g);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, "grid", "out of memory for %d x %d x %d",
                            nx, ny, nz);
    }
    for (int k = 0; k < nz; k++)
        g->z_mm[k] = k;
    *out = g;
    return HM_OK;
}

void hm_rt_grid_free(hm_rt_grid *g)
{
    if (!g)
        return;
    free(g->z_mm);
    free(g->dose_gy);
    free(g);
}

void hm_rt_grid_set_offsets(hm_rt_grid *g, const double *offsets_mm)
{
    /* Slice normal n = row x col (DICOM PS3.3 C.7.6.2.1.1); only its z
     * component matters for an axial grid. */
    double nz = g->row_cos[0] * g->col_cos[1] - g->row_cos[1] * g->col_cos[0];
    for (int k = 0; k < g->nz; k++)
        g->z_mm[k] = g->origin_mm[2] + offsets_mm[k] * nz;
}

/* +1 or -1 when |v - (+-e)| is within tolerance of the axis unit vector e_axis. */
static int axis_sign(const double v[3], int axis)
{
    const double tol = 1e-4;
    for (int a = 0; a < 3; a++)
        if (a != axis && fabs(v[a]) > tol)
            return 0;
    if (fabs(fabs(v[axis]) - 1) > tol)
        return 0;
    return v[axis] > 0 ? 1 : -1;
}

int hm_rt_grid_check(const hm_rt_grid *g, hm_error *err)
{
    if (!axis_sign(g->row_cos, 0) || !axis_sign(g->col_cos, 1))
        return hm_error_set(err, HM_EUNSUPPORTED, NULL, 0, "ImageOrientationPatient",
                            "orientation (%g,%g,%g / %g,%g,%g) is not axial: expected rows "
                            "along +-x and columns along +-y; resample the dose grid to an "
                            "axial grid first",
                            g->row_cos[0], g->row_cos[1], g->row_cos[2],
                            g->col_cos[0], g->col_cos[1], g->col_cos[2]);
    if (!(g->dx_mm > 0) || !(g->dy_mm > 0))
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "PixelSpacing",
                            "pixel spacing %g x %g mm: expected both > 0", g->dy_mm, g->dx_mm);
    for (int k = 1; k < g->nz; k++) {
        double d0 = g->z_mm[1] - g->z_mm[0], d = g->z_mm[k] - g->z_mm[k - 1];
        if (!(fabs(d) > 1e-6) || (d > 0) != (d0 > 0) || !isfinite(g->z_mm[k]))
            return hm_error_set(err, HM_EVALIDATE, NULL, 0, "GridFrameOffsetVector",
                                "plane %d at z %g mm after %g mm: expected strictly "
                                "monotonic plane positions", k, g->z_mm[k], g->z_mm[k - 1]);
    }
    return HM_OK;
}

void hm_rt_to_index(const hm_rt_grid *g, double x_mm, double y_mm, double *fi, double *fj)
{
    *fi = (x_mm - g->origin_mm[0]) / (g->row_cos[0] * g->dx_mm);
    *fj = (y_mm - g->origin_mm[1]) / (g->col_cos[1] * g->dy_mm);
}

void hm_rt_plane_extents(const hm_rt_grid *g, double *lo_mm, double *hi_mm)
{
    /* Each plane reaches half-way to its neighbours; the end planes reach
     * as far beyond their centre as half the adjacent spacing (a single
     * plane: half of dx, the only scale there is). */
    int n = g->nz;
    for (int k = 0; k < n; k++) {
        double below, above;   /* half-gaps towards lower and higher z */
        double zp = k > 0 ? g->z_mm[k - 1] : NAN, zn = k + 1 < n ? g->z_mm[k + 1] : NAN;
        double lowz = NAN, highz = NAN;   /* neighbour positions below/above */
        if (!isnan(zp)) { if (zp < g->z_mm[k]) lowz = zp; else highz = zp; }
        if (!isnan(zn)) { if (zn < g->z_mm[k]) lowz = zn; else highz = zn; }
        below = !isnan(lowz) ? (g->z_mm[k] - lowz) / 2 : NAN;
        above = !isnan(highz) ? (highz - g->z_mm[k]) / 2 : NAN;
        if (isnan(below)) below = !isnan(above) ? above : g->dx_mm / 2;
        if (isnan(above)) above = below;
        lo_mm[k] = g->z_mm[k] - below;
        hi_mm[k] = g->z_mm[k] + above;
    }
}

/* Fractional plane index of z: index space along the plane order, linear
 * between centres; -1 when outside every plane's extent. */
double hm_rt_plane_coord(const hm_rt_grid *g, const double *lo, const double *hi, double z)
{
    int n = g->nz;
    int asc = n < 2 || g->z_mm[1] > g->z_mm[0];
    double zmin = asc ? lo[0] : lo[n - 1], zmax = asc ? hi[n - 1] : hi[0];
    if (z < zmin || z > zmax)
        return -1;
    if (n == 1)
        return 0;
    /* Binary search for the pair of centres bracketing z in plane order. */
    int a = 0, b = n - 1;
    while (b - a > 1) {
        int m = (a + b) / 2;
        if ((g->z_mm[m] <= z) == asc)
            a = m;
        else
            b = m;
    }
    double t = (z - g->z_mm[a]) / (g->z_mm[b] - g->z_mm[a]);
    double f = a + t;
    return f < 0 ? 0 : f > n - 1 ? n - 1 : f;
}

double hm_rt_trilinear(const hm_rt_grid *g, double fi, double fj, double fk)
{
    /* Clamp to the outermost centres: constant beyond them. */
    fi = fi < 0 ? 0 : fi > g->nx - 1 ? g->nx - 1 : fi;
    fj = fj < 0 ? 0 : fj > g->ny - 1 ? g->ny - 1 : fj;
    fk = fk < 0 ? 0 : fk > g->nz - 1 ? g->nz - 1 : fk;
    int i0 = (int)fi, j0 = (int)fj, k0 = (int)fk;
    int i1 = i0 + 1 < g->nx ? i0 + 1 : i0, j1 = j0 + 1 < g->ny ? j0 + 1 : j0;
    int k1 = k0 + 1 < g->nz ? k0 + 1 : k0;
    double ti = fi - i0, tj = fj - j0, tk = fk - k0;
    size_t sx = 1, sy = (size_t)g->nx, sz = (size_t)g->nx * g->ny;
    const float *d = g->dose_gy;
    #define V(i, j, k) ((double)d[(size_t)(i) * sx + (size_t)(j) * sy + (size_t)(k) * sz])
    double c00 = V(i0, j0, k0) * (1 - ti) + V(i1, j0, k0) * ti;
    double c10 = V(i0, j1, k0) * (1 - ti) + V(i1, j1, k0) * ti;
    double c01 = V(i0, j0, k1) * (1 - ti) + V(i1, j0, k1) * ti;
    double c11 = V(i0, j1, k1) * (1 - ti) + V(i1, j1, k1) * ti;
    #undef V
    double c0 = c00 * (1 - tj) + c10 * tj, c1 = c01 * (1 - tj) + c11 * tj;
    return c0 * (1 - tk) + c1 * tk;
}

double hm_rt_grid_dose_at(const hm_rt_grid *g, const double p_mm[3], int interp, int *inside)
{
    if (inside)
        *inside = 0;
    double fi, fj;
    hm_rt_to_index(g, p_mm[0], p_mm[1], &fi, &fj);
    if (fi < -0.5 || fi > g->nx - 0.5 || fj < -0.5 || fj > g->ny - 0.5)
        return 0;
    double *lo = malloc(sizeof *lo * 2 * (size_t)g->nz);
    if (!lo)
        return 0;
    double *hi = lo + g->nz;
    hm_rt_plane_extents(g, lo, hi);
    double fk = hm_rt_plane_coord(g, lo, hi, p_mm[2]);
    double dose = 0;
    if (fk >= 0) {
        if (inside)
            *inside = 1;
        if (interp == HM_RT_TRILINEAR) {
            dose = hm_rt_trilinear(g, fi, fj, fk);
        } else {
            /* Nearest plane: the one whose extent holds z (not the nearest
             * centre, which differs on a non-uniform grid only at ties). */
            int k = 0;
            for (k = 0; k < g->nz; k++)
                if (p_mm[2] >= lo[k] && p_mm[2] <= hi[k])
                    break;
            int i = (int)floor(fi + 0.5), j = (int)floor(fj + 0.5);
            i = i < 0 ? 0 : i >= g->nx ? g->nx - 1 : i;
            j = j < 0 ? 0 : j >= g->ny ? g->ny - 1 : j;
            dose = g->dose_gy[(size_t)i + (size_t)g->nx * ((size_t)j + (size_t)g->ny * k)];
        }
    }
    free(lo);
    return dose;
}

hm_rt_roi *hm_rt_roi_create(const char *name, int number)
{
    hm_rt_roi *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    r->number = number;
    return r;
}

void hm_rt_roi_free(hm_rt_roi *roi)
{
    if (!roi)
        return;
    for (int c = 0; c < roi->ncontours; c++)
        free(roi->contours[c].xy_mm);
    free(roi->contours);
    free(roi);
}

int hm_rt_roi_add_contour(hm_rt_roi *roi, double z_mm, const double *xy_mm, int npoints,
                          hm_error *err)
{
    if (npoints < 3)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "ContourData",
                            "ROI '%s': contour at z %g mm has %d points: expected a closed "
                            "polygon of at least 3", roi->name, z_mm, npoints);
    if (!isfinite(z_mm))
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "ContourData",
                            "ROI '%s': contour z is not a finite number", roi->name);
    for (int p = 0; p < 2 * npoints; p++)
        if (!isfinite(xy_mm[p]))
            return hm_error_set(err, HM_EVALIDATE, NULL, 0, "ContourData",
                                "ROI '%s': contour at z %g mm, point %d is not finite",
                                roi->name, z_mm, p / 2);
    if (roi->ncontours == roi->cap) {
        int cap = roi->cap ? 2 * roi->cap : 16;
        hm_rt_contour *c = realloc(roi->contours, sizeof *c * (size_t)cap);
        if (!c)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, "ContourData", "out of memory");
        roi->contours = c;
        roi->cap = cap;
    }
    hm_rt_contour *c = &roi->contours[roi->ncontours];
    c->xy_mm = malloc(sizeof *c->xy_mm * 2 * (size_t)npoints);
    if (!c->xy_mm)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, "ContourData", "out of memory");
    memcpy(c->xy_mm, xy_mm, sizeof *c->xy_mm * 2 * (size_t)npoints);
    c->z_mm = z_mm;
    c->npoints = npoints;
    roi->ncontours++;
    return HM_OK;
}

int hm_rt_roi_add_contour_xyz(hm_rt_roi *roi, const double *xyz_mm, int npoints, hm_error *err)
{
    if (npoints < 3)
        return hm_rt_roi_add_contour(roi, npoints > 0 ? xyz_mm[2] : 0, NULL, npoints, err);
    double *xy = malloc(sizeof *xy * 2 * (size_t)npoints);
    if (!xy)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, "ContourData", "out of memory");
    for (int p = 0; p < npoints; p++) {
        if (fabs(xyz_mm[3 * p + 2] - xyz_mm[2]) > 0.01) {
            free(xy);
            return hm_error_set(err, HM_EUNSUPPORTED, NULL, 0, "ContourData",
                                "ROI '%s': contour point %d at z %g mm, the first at %g mm: "
                                "expected an axial planar contour", roi->name, p,
                                xyz_mm[3 * p + 2], xyz_mm[2]);
        }
        xy[2 * p] = xyz_mm[3 * p];
        xy[2 * p + 1] = xyz_mm[3 * p + 1];
    }
    int rc = hm_rt_roi_add_contour(roi, xyz_mm[2], xy, npoints, err);
    free(xy);
    return rc;
}
