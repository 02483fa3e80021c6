/* rt_fixture.h — generated dose grids and contours with closed-form answers. */
#ifndef RT_FIXTURE_H
#define RT_FIXTURE_H

#include <math.h>
#include <stdlib.h>

#include "hm_rt.h"

#define FX_PI 3.14159265358979323846

/* An axial grid: voxel (0,0,k) centre at (x0, y0, z0 + k*dz). */
static inline hm_rt_grid *fx_grid(int nx, int ny, int nz, double dx, double dy, double dz,
                                  double x0, double y0, double z0)
{
    hm_rt_grid *g;
    if (hm_rt_grid_create(nx, ny, nz, &g, NULL))
        return NULL;
    g->dx_mm = dx;
    g->dy_mm = dy;
    g->origin_mm[0] = x0;
    g->origin_mm[1] = y0;
    g->origin_mm[2] = z0;
    for (int k = 0; k < nz; k++)
        g->z_mm[k] = z0 + k * dz;
    return g;
}

static inline double fx_x(const hm_rt_grid *g, int i) { return g->origin_mm[0] + i * g->row_cos[0] * g->dx_mm; }
static inline double fx_y(const hm_rt_grid *g, int j) { return g->origin_mm[1] + j * g->col_cos[1] * g->dy_mm; }
static inline float *fx_at(hm_rt_grid *g, int i, int j, int k)
{
    return &g->dose_gy[(size_t)i + (size_t)g->nx * ((size_t)j + (size_t)g->ny * k)];
}

/* A circle as an n-gon whose area is exactly pi r^2 (vertex radius scaled by
 * sqrt(2 pi / (n sin(2 pi / n)))), so the polygon adds no error of its own;
 * reverse = 1 lists it clockwise. */
static inline int fx_circle(hm_rt_roi *roi, double cx, double cy, double r, double z, int n,
                            int reverse)
{
    double *xy = malloc(sizeof *xy * 2 * (size_t)n);
    if (!xy)
        return -1;
    double rv = r * sqrt(2 * FX_PI / (n * sin(2 * FX_PI / n)));
    for (int p = 0; p < n; p++) {
        double a = 2 * FX_PI * (reverse ? n - p : p) / n;
        xy[2 * p] = cx + rv * cos(a);
        xy[2 * p + 1] = cy + rv * sin(a);
    }
    int rc = hm_rt_roi_add_contour(roi, z, xy, n, NULL);
    free(xy);
    return rc;
}

static inline int fx_rect(hm_rt_roi *roi, double x1, double y1, double x2, double y2, double z)
{
    double xy[8] = { x1, y1, x2, y1, x2, y2, x1, y2 };
    return hm_rt_roi_add_contour(roi, z, xy, 4, NULL);
}

/* A sphere of radius R at (cx, cy, cz) as circles on planes z = zfirst + m*dz
 * (those that cut it). */
static inline hm_rt_roi *fx_sphere(const char *name, double cx, double cy, double cz, double R,
                                   double zfirst, double dz, int npts)
{
    hm_rt_roi *roi = hm_rt_roi_create(name, 1);
    for (double z = zfirst; z < cz + R; z += dz) {
        double h = z - cz;
        if (fabs(h) < R)
            fx_circle(roi, cx, cy, sqrt(R * R - h * h), z, npts, 0);
    }
    return roi;
}

#endif
