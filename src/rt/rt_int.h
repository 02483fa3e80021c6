/* rt_int.h — internals shared by the hm_rt sources (not installed). */
#ifndef HM_RT_INT_H
#define HM_RT_INT_H

#include "hm_rt.h"

/* Patient (x, y) to fractional grid indices (i, j): voxel i spans [i-0.5, i+0.5). */
void   hm_rt_to_index(const hm_rt_grid *g, double x_mm, double y_mm, double *fi, double *fj);
/* Through-plane extent [lo, hi] of every plane (docs/rt.md, "voxel extent"). */
void   hm_rt_plane_extents(const hm_rt_grid *g, double *lo_mm, double *hi_mm);
/* Fractional plane index of z (linear between centres, clamped), -1 outside. */
double hm_rt_plane_coord(const hm_rt_grid *g, const double *lo, const double *hi, double z);
/* Trilinear dose at fractional indices, constant beyond the outer centres. */
double hm_rt_trilinear(const hm_rt_grid *g, double fi, double fj, double fk);



/* The organ ids of data/organs.csv, in its order (tg263.c): the TG-263 map
 * checks its codes against them, the out-of-field table has a row for each. */
#define HM_RT_MAX_ORGANS 128
int hm_rt__organ_ids(char ids[][32], int max, int *n, hm_error *err);
/* tg263.c: the sex of an organ of data/organs.csv ('M', 'F', 0 = both). */
int hm_rt__organ_sex(const char *organ, char *sex, hm_error *err);

/* ---- rasterisation (raster.c) ---- */

/* One contour slice of an ROI and its slab [lo, hi] in z (docs/rt.md). */
typedef struct hm_rt_slab {
    double z_mm, lo_mm, hi_mm;
    int    first, n;           /* its contours: order[first .. first+n-1] */
} hm_rt_slab;

typedef struct hm_rt_raster {
    int         s;             /* samples per voxel along i and along j */
    int         i0, i1, j0, j1; /* voxel bounding box of the ROI, clipped to the grid */
    int         empty;         /* 1: the box misses the grid */
    int         outside;       /* 1: the ROI extends beyond the grid */
    int         nslab;
    hm_rt_slab *slabs;         /* ascending z */
    int        *order;         /* contour indices sorted by z */
    double     *cross;         /* crossings of one sample row */
    int         cross_cap;
    /* Inside runs of the last slab: (h, a, b) = sample row h (global, j*s+n),
     * samples a <= g < b (global, i*s+m) are inside by the even-odd rule. */
    int        *runs;
    int         nruns, runs_cap;
} hm_rt_raster;

int  hm_rt_raster_init(hm_rt_raster *r, const hm_rt_grid *g, const hm_rt_roi *roi, int s,
                       double z_tol_mm, const double *plane_lo, const double *plane_hi,
                       hm_error *err);
/* Fills r->runs for slab c. */
int  hm_rt_raster_runs(hm_rt_raster *r, const hm_rt_grid *g, const hm_rt_roi *roi, int c,
                       hm_error *err);
void hm_rt_raster_free(hm_rt_raster *r);
#endif
