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

/* ------------------------------------------------------ out-of-field dose */

/*
 * Analytical out-of-field dose (oof.c, oof_organs.c; docs/rt.md "Out-of-field
 * dose"): dose per prescribed Gy against the distance d from the field edge,
 * a sum of components amplitude * exp(-d / length) per technique (AAPM TG-158,
 * Kry et al. 2017), parameters in data/rt/out_of_field.csv with their sources.
 */
typedef enum hm_rt_technique {
    HM_RT_PHOTON_3DCRT = 0,
    HM_RT_PHOTON_IMRT  = 1,
    HM_RT_PHOTON_VMAT  = 2,
    HM_RT_PROTON_PS    = 3,   /* passive scattering */
    HM_RT_PROTON_PBS   = 4,   /* pencil-beam scanning */
    HM_RT_NTECHNIQUES  = 5
} hm_rt_technique;

/* "photon_3dcrt", "photon_imrt", "photon_vmat", "proton_ps", "proton_pbs". */
const char *hm_rt_technique_name(int technique);
/* The technique of a name above, or -1. */
int hm_rt_technique_parse(const char *name);

typedef struct hm_rt_oof_params hm_rt_oof_params;

/* Loads data/rt/out_of_field.csv (path NULL) or the named file.  HM_EPARSE /
 * HM_EVALIDATE naming line and field; every technique must have components. */
int  hm_rt_oof_load(const char *path, hm_rt_oof_params **out, hm_error *err);
void hm_rt_oof_free(hm_rt_oof_params *p);
/* The technique's default modulation factor M (MU per Gy relative to 3D-CRT). */
double hm_rt_oof_default_modulation(const hm_rt_oof_params *p, int technique);

typedef struct hm_rt_oof_dose {
    double photon_mgy_per_gy;    /* scattered / leaked / secondary photons */
    double neutron_msv_per_gy;   /* neutron dose equivalent (protons; 0 for photons) */
    double neutron_mgy_per_gy;   /* neutron absorbed dose = H / w_R */
    double total_mgy_per_gy;     /* photon + neutron absorbed dose */
} hm_rt_oof_dose;

/* Dose per prescribed Gy at distance_cm >= 0 from the field edge; modulation
 * <= 0 takes the technique's default.  HM_EINVAL for a bad technique or a
 * negative or non-finite distance. */
int hm_rt_oof_dose_at(const hm_rt_oof_params *p, int technique, double modulation,
                      double distance_cm, hm_rt_oof_dose *out, hm_error *err);

/*
 * A course for the whole-body table.  Registration rule (docs/rt.md): the
 * phantom matched to the patient's age (hm_rt_oof_phantom_age) stands for the
 * patient; the field is a sphere of radius target_radius_cm centred on the
 * target's position in the phantom, the centroid of target_organ (e.g.
 * "brain" for a cranial target) plus target_offset_cm (a target in no organ
 * ROI: its offset from the nearest organ's centre in the patient), or
 * target_cm when target_organ is NULL or "".
 * target_radius_cm: the PTV's equivalent-sphere radius (hm_rt_oof_radius_cc),
 * or the >= 50 % isodose extent of the dose grid (hm_rt_oof_field_from_grid).
 */
typedef struct hm_rt_oof_course {
    int         technique;
    double      modulation;        /* <= 0: the technique's default */
    double      prescription_gy;
    double      age_years;         /* picks the phantom when age is NULL */
    const char *age;               /* phantom age ("5y"...) or NULL */
    char        sex;               /* 'M', 'F' or 'H' (H below 15 y; 0 = H or M) */
    const char *target_organ;
    double      target_cm[3];      /* phantom coordinates, when no target_organ */
    double      target_offset_cm[3]; /* added to target_organ's centroid (0 0 0: at it) */
    int         target_side;       /* paired organ: +1 its left part, -1 its right, 0 whole */
    double      target_radius_cm;
    double      voxel_mm;          /* phantom voxels; 0 = 3 mm (the 5y lens has 8 voxels) */
    const char *cache_dir;         /* hm_phantom_voxelise_cached; NULL = default */
} hm_rt_oof_course;

#define HM_RT_OOF_POINTS_PER_REGION 32   /* sample points of an organ per phantom region */
#define HM_RT_OOF_TPS_LEVEL_DEFAULT 0.05 /* TPS trusted from 5 % of the prescription (TG-158) */

typedef struct hm_rt_oof_organ {
    char   organ[32];       /* id of data/organs.csv */
    char   method[32];      /* "model_photon_scatter", "model_proton_secondary", "tps",
                               "not_in_phantom" (dose NaN) */
    double distance_cm;     /* organ centroid to the field edge (0 inside the field) */
    double dose_gy;         /* mean over the organ's points: photon + neutron absorbed */
    double photon_gy;
    double neutron_sv;      /* neutron dose equivalent (protons) */
    int    npoints;         /* sample points the mean is over (0 for tps) */
} hm_rt_oof_organ;

/* Phantom age class of an age in years (anchors.md section 1: < 4 months
 * newborn, 4-30 months 1y, 31-90 5y, 91-210 10y, >= 211 15y, >= 21 y adult). */
const char *hm_rt_oof_phantom_age(double age_years);
/* Radius (cm) of the sphere of volume_cc. */
double hm_rt_oof_radius_cc(double volume_cc);
/* Centre (patient mm) and equivalent-sphere radius (cm) of the voxels of g at
 * or above 50 % of prescription_gy.  HM_ENOTFOUND when no voxel is. */
int hm_rt_oof_field_from_grid(const hm_rt_grid *g, double prescription_gy, double centre_mm[3],
                              double *radius_cm, hm_error *err);
/* One row per organ of data/organs.csv, in its order (free *rows). */
int hm_rt_oof_organ_table(const hm_rt_oof_params *p, const hm_rt_oof_course *c,
                          hm_rt_oof_organ **rows, int *nrows, hm_error *err);

/* A TPS value: the mean dose of the organ's DVH inside the dose grid. */
typedef struct hm_rt_tps_organ {
    const char *organ;
    double      mean_gy;
} hm_rt_tps_organ;

/* In place on the model rows: an organ with a TPS mean >= level_frac *
 * prescription_gy takes the TPS value (method "tps"); the others keep the
 * model.  level_frac <= 0: HM_RT_OOF_TPS_LEVEL_DEFAULT.  Returns the number
 * of rows taken from the TPS, or HM_EINVAL. */
int hm_rt_oof_merge(hm_rt_oof_organ *rows, int nrows, const hm_rt_tps_organ *tps, int ntps,
                    double prescription_gy, double level_frac, hm_error *err);

/* ------------------------------------------------------------- courses */
/*
 * A course read from its DICOM RT files (course.c; built when src/dicom is
 * present, HM_RT_HAVE_COURSE): the folder's objects grouped by their
 * references (plan -> structure set -> CT series, RT Dose -> plan), checked
 * (contours, frame of reference, absolute dose, dose grid scaling, one
 * patient across the files), every ROI's DVH and, on request, the
 * whole-body organ table.  Shared by `harmonic rt show`, `harmonic rt
 * import` (hm_rt_import) and the synthetic cohort.  Values are as in the
 * files: identifiers are pseudonymised by hm_rt_import only.
 *
 *     hm_rt_course_options o;  hm_rt_course_options_init(&o);
 *     o.whole_body = 1;                       // target, age, Rx from the files
 *     hm_rt_course c;
 *     if (hm_rt_course_read(dir, &o, &c, &err) == HM_OK) {
 *         for (int i = 0; i < c.nwb; i++) use(c.wb[i].organ, c.wb[i].dose_gy, c.wb[i].method);
 *         hm_rt_course_free(&c);
 *     }
 */
#define HM_RT_UID_LEN 68

typedef struct hm_rt_course_options {
    int         subsample;        /* DVH sampling (0 = default) */
    int         interp;           /* HM_RT_NEAREST or HM_RT_TRILINEAR */
    int         whole_body;       /* 1: also the whole-body organ table */
    const char *target_organ;     /* NULL: from the target ROI (see target_how) */
    double      age_years;        /* NAN: from birth and plan dates */
    double      prescription_gy;  /* <= 0: the plan's TARGET dose reference */
    double      tps_level;        /* <= 0: HM_RT_OOF_TPS_LEVEL_DEFAULT */
    const char *oof_params;       /* NULL: data/rt/out_of_field.csv */
} hm_rt_course_options;

void hm_rt_course_options_init(hm_rt_course_options *o);

typedef struct hm_rt_course_roi {
    int       number;             /* ROI Number */
    char      name[68];
    char      organ[48];          /* mapped code ("" when unmapped) */
    char      tg263[64];
    int       kind;               /* hm_rt_map_kind */
    int       ok;                 /* 1: dvh filled; 0: no volume in the grid (why) */
    char      why[512];
    double    centroid_mm[3];     /* mean of the contour points (patient mm) */
    hm_rt_dvh dvh;
} hm_rt_course_roi;

typedef struct hm_rt_course {
    /* files of the course */
    char   plan_path[512], struct_path[512], dose_path[512];
    /* identifiers and dates as written (DICOM DA: YYYYMMDD) */
    char   patient_id[68], birth_date[20], sex[20], study_date[20], plan_date[20];
    char   plan_uid[HM_RT_UID_LEN], struct_uid[HM_RT_UID_LEN], dose_uid[HM_RT_UID_LEN];
    char   study_uid[HM_RT_UID_LEN], ct_series_uid[HM_RT_UID_LEN];
    /* the plan this one revises: Referenced RT Plan Sequence (300C,0002) item
     * with RT Plan Relationship PREDECESSOR (or the older REVISION), "" = none */
    char   predecessor_uid[HM_RT_UID_LEN];
    char   plan_label[20];
    /* the plan */
    char   dicom_technique[24];   /* "IMRT", "VMAT", "PBS", ... (hm_rtdcm_technique_name) */
    int    technique;             /* hm_rt_technique of the out-of-field model, -1 none */
    char   registry_technique[16];/* rt_course.technique code: 3dcrt, imrt, vmat, proton_pbs... */
    char   particle[16];          /* rt_course.particle code: photon, proton, electron, other */
    char   beam_energy[48];       /* "6 MV", "140-150.5 MeV" */
    int    nbeams, fractions;
    double plan_rx_gy;            /* the plan's TARGET prescription, 0 = none */
    /* the dose grid */
    int    nx, ny, nz;
    char   dose_type[20], summation_type[32];
    /* ROIs and their DVHs, in structure-set order */
    size_t            nrois;
    hm_rt_course_roi *rois;
    /* whole-body table (options.whole_body), else NULL / 0 */
    double            prescription_gy;   /* used for the table */
    double            age_years;         /* used (NAN without the table) */
    char              target_organ[32];  /* the field's centre organ ("" when target_cm) */
    char              target_how[128];    /* "option", "target ROI 'PTV' in 'Brain'", ... */
    double            target_offset_cm[3]; /* target from target_organ's centre (0 when in it) */
    int               target_side;       /* +1 left / -1 right part of a paired organ, 0 whole */
    hm_rt_oof_organ  *wb;
    int               nwb;
} hm_rt_course;

/* The one course of dir (HM_EINVAL naming the plans when there are
 * several).  Errors name the file and the element (tag) and say what to do;
 * on error *c is zeroed and holds nothing. */
int  hm_rt_course_read(const char *dir, const hm_rt_course_options *o, hm_rt_course *c,
                       hm_error *err);
/* Every course under the folders dirs[0..ndirs) (each a course folder or a
 * folder of course folders, read recursively): the files are pooled and
 * grouped by references, one course per plan.  All or nothing: the first
 * failure is returned and *courses is NULL. */
int  hm_rt_course_read_all(const char *const *dirs, int ndirs, const hm_rt_course_options *o,
                           hm_rt_course **courses, size_t *ncourses, hm_error *err);
void hm_rt_course_free(hm_rt_course *c);
void hm_rt_course_free_all(hm_rt_course *courses, size_t n);

/* --------------------------------------------------------- registry import */
/*
 * Courses into the registry (rt_import.c; built with src/registry and
 * src/pseudo, HM_RT_HAVE_IMPORT), docs/rt.md "Import".  Pseudonymised as the
 * RDSR path: PatientID -> the patient table's pseudonym (namespace
 * "patient"), every UID through hm_pseudo_uid, dates only as days since
 * birth; the course_id is a keyed hash of the pseudonym and the root of the
 * plan lineage.  A plan already stored with the same UIDs and content is
 * left as it is; a revised plan adds a version of its course.  All courses
 * in ONE transaction: on any error nothing is stored.  Each course needs its
 * whole-body table (hm_rt_course_options.whole_body).
 */
struct hm_db;
struct hm_pseudo_key;

/* The diagnoses file of `rt import --diagnoses` (rt_diagnoses.c, docs/rt.md
 * "Import"): one row per patient, hospital form (local_patient_id, pseudonymised
 * on reading with the study key) or pooled form (pseudonym); diag_date or
 * diag_day (days since birth). */
typedef struct hm_rt_diagnosis {
    char pseudonym[65];            /* the patient table's pseudonym (64 hex) */
    char topography[8], morphology[8];
    int  has_date;                 /* 1: date_days; 0: day */
    long date_days;                /* the diagnosis date, days since 1970-01-01 */
    long day;                      /* days since birth */
    long line;                     /* of the file, for messages */
} hm_rt_diagnosis;

typedef struct hm_rt_diagnoses {
    char             path[1024];
    hm_rt_diagnosis *rows;
    size_t           n;
} hm_rt_diagnoses;

/* Reads path: file:line:field errors for bad rows (codes, dates, ids, a
 * centre_code other than centre unless centre is NULL, a patient twice
 * with different diagnoses); on error *ds holds nothing. */
int  hm_rt_diagnoses_read(const char *path, const char *centre, const struct hm_pseudo_key *key,
                          hm_rt_diagnoses *ds, hm_error *err);
const hm_rt_diagnosis *hm_rt_diagnoses_find(const hm_rt_diagnoses *ds, const char *pseudonym);
void hm_rt_diagnoses_free(hm_rt_diagnoses *ds);

typedef struct hm_rt_import_opts {
    const char                 *centre;
    const struct hm_pseudo_key *key;
    const char *diag_topography;   /* ICD-O-3 of a NEW course (DICOM has none): "C71.9" */
    const char *diag_morphology;   /* "9470/3"; an existing course keeps its diagnosis */
    const char *diag_date;         /* "YYYY-MM-DD", stored only as days since birth */
    /* Instead of the three above: each course's patient's row (every
     * course's patient must have one, else nothing is stored). */
    const hm_rt_diagnoses *diagnoses;
    /* Runs inside the import's transaction just before COMMIT (NULL: none):
     * the server's audit entry commits with the courses or not at all. */
    int (*before_commit)(struct hm_db *db, void *arg, hm_error *err);
    void *before_commit_arg;
} hm_rt_import_opts;

enum { HM_RT_IMPORT_NEW_COURSE = 1, HM_RT_IMPORT_NEW_VERSION = 2, HM_RT_IMPORT_UNCHANGED = 3 };

typedef struct hm_rt_import_result {
    char course_id[72];
    int  version;          /* the version stored, or the one found unchanged */
    int  status;           /* HM_RT_IMPORT_* */
    int  n_dvh;            /* rt_dvh rows written */
    int  n_organ_dose;     /* organ_dose rows written */
    char lineage[64];      /* why this course: "new", "same plan", "predecessor", "label" */
} hm_rt_import_result;

/* res: n entries, filled in course order. */
int hm_rt_import(struct hm_db *db, const hm_rt_import_opts *o, const hm_rt_course *courses,
                 size_t n, hm_rt_import_result *res, hm_error *err);
const char *hm_rt_import_status_name(int status);   /* "new course", ... */

#ifdef __cplusplus
}
#endif

#endif
