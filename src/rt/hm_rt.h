/*
 * hm_rt.h — radiotherapy dose-volume engine: a dose grid and ROIs (closed
 * planar contours) in DICOM patient coordinates (mm), rasterisation of the
 * ROIs on the grid with sub-voxel sampling, dose-volume metrics and the
 * cumulative DVH, and the mapping of ROI names to TG-263 names and the
 * harmonic organ codes (data/organs.csv).  No DICOM here: src/dicom reads
 * the files and fills these plain structs.  Method and rules: docs/rt.md.
 */
#ifndef HM_RT_H
#define HM_RT_H

#include <stddef.h>

#include "hm_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- grid */

/*
 * A dose grid.  Voxel (i, j, k) has its centre at
 *   origin_mm + i*dx_mm*row_cos + j*dy_mm*col_cos, with patient z = z_mm[k]
 * (DICOM: origin = ImagePositionPatient, row_cos/col_cos =
 * ImageOrientationPatient[0..2]/[3..5], dx_mm = PixelSpacing[1] (between
 * columns), dy_mm = PixelSpacing[0] (between rows), z_mm[k] = origin z +
 * GridFrameOffsetVector[k] along the slice normal: hm_rt_grid_set_offsets).
 * Planes need not be equally spaced but z_mm must be strictly monotonic.
 * Only axial grids are handled: row_cos = (+-1,0,0), col_cos = (0,+-1,0).
 */
typedef struct hm_rt_grid {
    int     nx, ny, nz;
    double  origin_mm[3];
    double  row_cos[3];
    double  col_cos[3];
    double  dx_mm, dy_mm;
    double *z_mm;           /* nz plane positions */
    float  *dose_gy;        /* nx*ny*nz, index i + nx*(j + ny*k) */
} hm_rt_grid;

/* A grid of zero dose, identity cosines, origin 0, 1 mm spacing, planes at
 * z = k mm.  Returns HM_OK, HM_EINVAL (a size < 1 or too large) or HM_ENOMEM. */
int  hm_rt_grid_create(int nx, int ny, int nz, hm_rt_grid **out, hm_error *err);
void hm_rt_grid_free(hm_rt_grid *g);
/* z_mm[k] = origin_mm[2] + offsets_mm[k] * n_z, n = row_cos x col_cos (the
 * GridFrameOffsetVector rule of DICOM RT Dose, offsets relative to the origin). */
void hm_rt_grid_set_offsets(hm_rt_grid *g, const double *offsets_mm);
/* HM_OK, or HM_EUNSUPPORTED for an oblique or non-axial orientation, or
 * HM_EVALIDATE for spacing <= 0 or z_mm not strictly monotonic (err names the
 * element: ImageOrientationPatient, PixelSpacing, GridFrameOffsetVector). */
int  hm_rt_grid_check(const hm_rt_grid *g, hm_error *err);

enum { HM_RT_NEAREST = 0, HM_RT_TRILINEAR = 1 };
/* Dose at a patient point: nearest voxel, or trilinear between voxel centres
 * (held constant beyond the outermost centres).  *inside (may be NULL) is 0
 * and the result 0 for a point outside the grid's voxel extent. */
double hm_rt_grid_dose_at(const hm_rt_grid *g, const double p_mm[3], int interp, int *inside);

/* ----------------------------------------------------------------- ROI */

typedef struct hm_rt_contour {
    double  z_mm;           /* patient z of the contour's plane */
    int     npoints;
    double *xy_mm;          /* 2*npoints: x0, y0, x1, y1, ...; closed implicitly */
} hm_rt_contour;

typedef struct hm_rt_roi {
    char           name[128];
    int            number;          /* ROI Number */
    int            ncontours, cap;
    hm_rt_contour *contours;
} hm_rt_roi;

hm_rt_roi *hm_rt_roi_create(const char *name, int number);
void       hm_rt_roi_free(hm_rt_roi *roi);
/* Copies npoints >= 3 (x, y) pairs at plane z_mm.  HM_EVALIDATE for fewer
 * points or non-finite values, HM_ENOMEM. */
int hm_rt_roi_add_contour(hm_rt_roi *roi, double z_mm, const double *xy_mm, int npoints,
                          hm_error *err);
/* The same from DICOM ContourData triplets (x, y, z): all z must agree within
 * 0.01 mm (an axial planar contour), else HM_EUNSUPPORTED. */
int hm_rt_roi_add_contour_xyz(hm_rt_roi *roi, const double *xyz_mm, int npoints, hm_error *err);

/* ----------------------------------------------------------------- DVH */

#define HM_RT_SUBSAMPLE_DEFAULT 8     /* chosen by measured accuracy: docs/rt.md */
#define HM_RT_NVX 4                   /* V5Gy, V10Gy, V20Gy, V30Gy */

typedef struct hm_rt_dvh_options {
    int    subsample;       /* s: s x s in-plane sample points per voxel; 0 = default */
    int    interp;          /* HM_RT_NEAREST (default) or HM_RT_TRILINEAR per sample */
    double hist_bin_gy;     /* fine histogram for the D metrics; 0 = 0.001 Gy */
    double dvh_bin_gy;      /* cumulative DVH output bins; 0 = 0.01 Gy */
    double z_tol_mm;        /* contours closer than this in z are one slice; 0 = 0.01 mm */
} hm_rt_dvh_options;

typedef struct hm_rt_dvh {
    double volume_cc;       /* ROI volume inside the dose grid */
    double mean_gy, min_gy, max_gy;
    double d2_gy, d50_gy, d98_gy;   /* ICRU 83 D_x%: docs/rt.md */
    double d0_03cc_gy;
    double vx_gy[HM_RT_NVX];        /* the thresholds: 5, 10, 20, 30 Gy */
    double vx_pct[HM_RT_NVX];       /* % of volume_cc receiving >= the threshold */
    double vx_cc[HM_RT_NVX];
    int    outside_grid;    /* 1: part of the ROI lies outside the grid (not counted) */
    int    small_volume;    /* 1: volume < 0.03 cc, D0.03cc is then the maximum */
    /* Cumulative DVH: cum_cc[b] = volume receiving >= b*dvh_bin_gy, b < n_bins. */
    int     n_bins;
    double  dvh_bin_gy;
    double *cum_cc;
    /* Fine differential histogram (cc per bin of hist_bin_gy), for any D_x. */
    int     n_fine;
    double  fine_bin_gy;
    double *fine_cc;
} hm_rt_dvh;

/* Rasterises roi on g and fills out (free with hm_rt_dvh_free).  HM_OK;
 * HM_EVALIDATE for an ROI without contours or with nothing inside the grid
 * (err names the ROI); the errors of hm_rt_grid_check; HM_EINVAL for bad
 * options; HM_ENOMEM. */
int  hm_rt_dvh_compute(const hm_rt_grid *g, const hm_rt_roi *roi, const hm_rt_dvh_options *opt,
                       hm_rt_dvh *out, hm_error *err);
void hm_rt_dvh_free(hm_rt_dvh *d);
/* D_x: the least dose received by the hottest pct % (or cc) of the volume,
 * from the fine histogram (resolution fine_bin_gy), within [min, max]. */
/* Cumulative DVHs (volume %% of each ROI against dose) of n ROIs as one PNG
 * with a legend of names (dvh_png.c).  HM_EIO when the file cannot be written. */
int hm_rt_dvh_plot_png(const hm_rt_dvh *const *dvh, const char *const *names, int n,
                       const char *png, const char *title, hm_error *err);
double hm_rt_dvh_d_pct(const hm_rt_dvh *d, double pct);
double hm_rt_dvh_d_cc(const hm_rt_dvh *d, double cc);

/* ---------------------------------------------------------- TG-263 names */

typedef enum hm_rt_map_kind {
    HM_RT_MAP_UNMAPPED = 0, /* no rule matched: report it */
    HM_RT_MAP_ORGAN    = 1, /* out_code is an organ id of data/organs.csv */
    HM_RT_MAP_TARGET   = 2, /* PTV/CTV/GTV/ITV: out_code "target" */
    HM_RT_MAP_HELPER   = 3, /* z_, opt, ring, ...: planning helpers, out_code "other" */
    HM_RT_MAP_OTHER    = 4  /* a TG-263 structure outside the organ list (Body, ...) */
} hm_rt_map_kind;

typedef struct hm_rt_tg263 hm_rt_tg263;

/* Loads data/rt/tg263_map.csv (path NULL) or the named file. */
int  hm_rt_tg263_load(const char *path, hm_rt_tg263 **out, hm_error *err);
void hm_rt_tg263_free(hm_rt_tg263 *m);
/* Maps an ROI name (UTF-8).  Returns an hm_rt_map_kind (>= 0) and fills
 * out_code ("" when unmapped) and out_tg263 (the standard name, laterality
 * included: "Lung_L"; "" when unmapped), or a negative hm_status. */
int  hm_rt_map_roi(const hm_rt_tg263 *m, const char *name, char *out_code, size_t code_size,
                   char *out_tg263, size_t tg263_size, hm_error *err);
const char *hm_rt_map_kind_name(int kind);

#ifdef __cplusplus
}
#endif

#endif
