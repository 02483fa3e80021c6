/*
 * hm_rtdicom.h — DICOM RT objects as plain C structures: RT Plan and RT Ion
 * Plan, RT Dose, RT Structure Set and the geometry of a CT series, read
 * through the DCMTK bridge (dcm_rt_bridge.cc, the one C++ file for RT) and
 * written back so harmonic can generate its own RT fixtures.
 *
 * The structures are DICOM-level but decoded: numbers are parsed (DS/IS
 * to double/int), units are in the field names, control points carry the
 * values inherited from earlier control points (PS3.3 C.8.8.14.5), dose is
 * scaled to Gy.  Everything above the bridge (technique inference,
 * validation, grouping by references) is C: rt_plan.c, rt_check.c.
 *
 * Coordinates are in the DICOM patient coordinate system (PS3.3 C.7.6.2.1.1),
 * in mm.  Every reader zeroes its output first and, on failure, frees and
 * zeroes it again: nothing is ever returned half-filled.  Release with the
 * matching _free() whatever the result.
 */
#ifndef HM_RTDICOM_H
#define HM_RTDICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "hm_core.h"

#define HM_RTDCM_UID_LEN 68  /* UIDs are at most 64 characters (PS3.5 §9.1) */
#define HM_RTDCM_MAX_REFS 8  /* referenced RT Dose / plan objects kept per object */

/* SOP classes (PS3.4 B.5). */
#define HM_RTDCM_SOP_CT       "1.2.840.10008.5.1.4.1.1.2"
#define HM_RTDCM_SOP_DOSE     "1.2.840.10008.5.1.4.1.1.481.2"
#define HM_RTDCM_SOP_STRUCT   "1.2.840.10008.5.1.4.1.1.481.3"
#define HM_RTDCM_SOP_PLAN     "1.2.840.10008.5.1.4.1.1.481.5"
#define HM_RTDCM_SOP_ION_PLAN "1.2.840.10008.5.1.4.1.1.481.8"

/* Header attributes common to every object (as written, "" when absent). */
typedef struct hm_rtdcm_common {
    char sop_class_uid[HM_RTDCM_UID_LEN];
    char sop_instance_uid[HM_RTDCM_UID_LEN];
    char study_uid[HM_RTDCM_UID_LEN];
    char series_uid[HM_RTDCM_UID_LEN];
    char frame_of_reference_uid[HM_RTDCM_UID_LEN];
    char modality[20];
    char patient_id[68];
    char patient_birth_date[20];  /* DA, YYYYMMDD */
    char patient_sex[20];         /* M, F, O */
    char study_date[20];
} hm_rtdcm_common;

/* ---- RT Plan / RT Ion Plan ------------------------------------------- */

/* Treatment technique, inferred per beam (rt_plan.c, see docs/rt_dicom.md). */
typedef enum hm_rtdcm_technique {
    HM_RTDCM_TECH_UNKNOWN = 0,
    HM_RTDCM_TECH_3DCRT,        /* photon, static gantry, no MLC modulation */
    HM_RTDCM_TECH_IMRT,         /* photon, static gantry, MLC changes between control points */
    HM_RTDCM_TECH_ARC,          /* photon, gantry rotation without MLC/dose-rate modulation */
    HM_RTDCM_TECH_VMAT,         /* photon, gantry rotation with MLC or dose-rate modulation */
    HM_RTDCM_TECH_ELECTRON,
    HM_RTDCM_TECH_ION_PASSIVE,  /* ion, ScanMode NONE: passive scattering */
    HM_RTDCM_TECH_ION_UNIFORM,  /* ion, ScanMode UNIFORM: uniform scanning / wobbling */
    HM_RTDCM_TECH_ION_PBS       /* ion, ScanMode MODULATED(_SPEC): pencil-beam scanning */
} hm_rtdcm_technique;
const char *hm_rtdcm_technique_name(int technique);  /* "3D-CRT", "IMRT", ... */

/* One control point, with values inherited from earlier control points
 * when the file leaves them out (PS3.3 C.8.8.14.5 / C.8.8.25.7). */
typedef struct hm_rtdcm_cp {
    double  cum_meterset_weight;  /* Cumulative Meterset Weight (300A,0134) */
    double  gantry_deg;           /* Gantry Angle (300A,011E) */
    char    gantry_rotation[8];   /* CW, CC, NONE (300A,011F) */
    double  collimator_deg;       /* Beam Limiting Device Angle (300A,0120) */
    double  couch_deg;            /* Patient Support Angle (300A,0122) */
    double  iso_mm[3];            /* Isocenter Position (300A,012C) */
    double  energy_mev;           /* Nominal Beam Energy (300A,0114), MeV (ions: MeV/u) */
    double  dose_rate_mu_min;     /* Dose Rate Set (300A,0115), MU/min; 0 = absent */
    double  jaw_x_mm[2], jaw_y_mm[2]; /* ASYMX/X and ASYMY/Y jaws (0 when absent) */
    int     mlc_pairs;            /* leaf pairs of the MLC positions below (0 = no MLC) */
    double *mlc_mm;               /* 2*mlc_pairs LeafJawPositions: bank A then bank B */
    /* Ion control points (RT Ion Beams, C.8.8.25). */
    double  snout_mm;             /* Snout Position (300A,030D) */
    int     nspots;               /* Number of Scan Spot Positions (300A,0392) */
    double *spot_xy_mm;           /* 2*nspots Scan Spot Position Map (300A,0394) */
    double *spot_weight;          /* nspots Scan Spot Meterset Weights (300A,0396) */
} hm_rtdcm_cp;

typedef struct hm_rtdcm_beam {
    int    number;                /* Beam Number */
    char   name[68];
    char   machine[68];           /* Treatment Machine Name */
    char   radiation_type[20];    /* PHOTON, ELECTRON, PROTON, ION, NEUTRON */
    char   beam_type[20];         /* STATIC, DYNAMIC */
    char   delivery_type[32];     /* TREATMENT, SETUP, VERIFICATION, ... */
    char   scan_mode[20];         /* ions: NONE, UNIFORM, MODULATED, MODULATED_SPEC */
    char   dosimeter_unit[20];    /* Primary Dosimeter Unit: MU, NP, MINUTE */
    double sad_mm;                /* Source-Axis Distance (photons) / Virtual SAD (ions) */
    double final_meterset_weight;
    double meterset;              /* Beam Meterset from the fraction group, in dosimeter_unit */
    double beam_dose_gy;          /* Beam Dose from the fraction group (0 = absent) */
    int    n_wedges, n_blocks, n_compensators, n_boli;
    int    n_snouts, n_range_modulators, n_range_shifters, n_lateral_spreaders; /* ions */
    size_t ncp;
    hm_rtdcm_cp *cps;
    /* Summary (rt_plan.c). */
    int    technique;             /* hm_rtdcm_technique */
    double gantry_start_deg, gantry_stop_deg;
    double arc_deg;               /* total gantry rotation over the beam, degrees */
    int    mlc_changes;           /* control point transitions where the MLC moves */
    int    n_energy_layers;       /* ions: control-point pairs with spots (0 otherwise) */
} hm_rtdcm_beam;

/* One item of the plan's Referenced RT Plan Sequence (300C,0002): a plan
 * this plan is related to (RT General Plan module, PS3.3 C.8.8.9), e.g. the
 * plan it revises (PREDECESSOR) or replaces (REVISION). */
typedef struct hm_rtdcm_plan_ref {
    char uid[HM_RTDCM_UID_LEN];   /* Referenced SOP Instance UID */
    char relationship[20];        /* RT Plan Relationship (300A,0055): PRIOR, ALTERNATIVE,
                                     PREDECESSOR, VERIFIED_PLAN, CONCURRENT (REVISION in
                                     files written before the 2011 term change) */
} hm_rtdcm_plan_ref;

/* One item of the Dose Reference Sequence (RT Prescription, C.8.8.10). */
typedef struct hm_rtdcm_doseref {
    int    number;
    char   structure_type[20];    /* POINT, VOLUME, COORDINATES, SITE */
    char   type[20];              /* TARGET, ORGAN_AT_RISK */
    char   description[68];
    int    roi_number;            /* Referenced ROI Number (0 = absent) */
    double target_rx_dose_gy;     /* Target Prescription Dose (0 = absent) */
} hm_rtdcm_doseref;

typedef struct hm_rtdcm_plan {
    hm_rtdcm_common c;
    int    ion;                   /* 1 = RT Ion Plan */
    char   label[20];             /* RT Plan Label */
    char   name[68];
    char   date[20];
    char   time[20];
    char   ref_struct_uid[HM_RTDCM_UID_LEN];          /* Referenced Structure Set */
    char   ref_dose_uids[HM_RTDCM_MAX_REFS][HM_RTDCM_UID_LEN]; /* Referenced Dose */
    int    n_ref_doses;
    hm_rtdcm_doseref *doserefs;
    size_t ndoserefs;
    int    fractions_planned;     /* first fraction group's Number of Fractions Planned */
    int    n_fraction_groups;
    hm_rtdcm_beam *beams;
    size_t nbeams;
    /* Summary (rt_plan.c). */
    double rx_dose_gy;            /* first TARGET dose reference's prescription, 0 = none */
    int    technique;             /* of the treatment beams; UNKNOWN when they differ */
    /* Referenced RT Plan Sequence (300C,0002): related plans, as written. */
    hm_rtdcm_plan_ref ref_plans[HM_RTDCM_MAX_REFS];
    int    n_ref_plans;
} hm_rtdcm_plan;

int  hm_rtdcm_plan_read_file(const char *path, hm_rtdcm_plan *plan, hm_error *err);
int  hm_rtdcm_plan_read_memory(const void *data, size_t size, const char *name,
                               hm_rtdcm_plan *plan, hm_error *err);
void hm_rtdcm_plan_free(hm_rtdcm_plan *plan);
/* Fills the summary fields from the control points (called by the reader). */
void hm_rtdcm_plan_summarise(hm_rtdcm_plan *plan);

/* ---- RT Dose ----------------------------------------------------------- */

typedef struct hm_rtdcm_dose {
    hm_rtdcm_common c;
    double  ipp_mm[3];            /* Image Position (Patient): centre of the first voxel */
    double  iop[6];               /* Image Orientation (Patient): row then column cosines */
    double  spacing_mm[2];        /* Pixel Spacing: [0] between rows (y), [1] between columns (x) */
    int     rows, cols, nframes;
    double *frame_offsets_mm;     /* nframes, Grid Frame Offset Vector as written */
    int     offsets_relative;     /* 1: first element 0 (C.8.8.3.2 a); 0: absolute z (b) */
    double  scaling;              /* Dose Grid Scaling (3004,000E), Gy per stored unit */
    char    dose_units[20];       /* GY, RELATIVE */
    char    dose_type[20];        /* PHYSICAL, EFFECTIVE, ERROR */
    char    summation_type[32];   /* PLAN, MULTI_PLAN, FRACTION, BEAM, BRACHY, ... */
    int     bits_allocated;       /* 16 or 32 */
    int     pixel_signed;         /* Pixel Representation 1 (DoseType ERROR) */
    char    ref_plan_uid[HM_RTDCM_UID_LEN];
    float  *dose_gy;              /* cols*rows*nframes, x fastest, then y, then frame;
                                     relative values when dose_units is RELATIVE */
} hm_rtdcm_dose;

int  hm_rtdcm_dose_read_file(const char *path, hm_rtdcm_dose *dose, hm_error *err);
int  hm_rtdcm_dose_read_memory(const void *data, size_t size, const char *name,
                               hm_rtdcm_dose *dose, hm_error *err);
void hm_rtdcm_dose_free(hm_rtdcm_dose *dose);
/* Offset of frame k along the slice normal from the first frame, mm. */
double hm_rtdcm_dose_frame_mm(const hm_rtdcm_dose *dose, int k);

/* ---- RT Structure Set -------------------------------------------------- */

typedef struct hm_rtdcm_contour {
    char    geometric_type[20];   /* CLOSED_PLANAR, POINT, OPEN_PLANAR, OPEN_NONPLANAR */
    size_t  npoints;
    double *xyz_mm;               /* 3*npoints Contour Data */
    char    ref_sop_uid[HM_RTDCM_UID_LEN]; /* Contour Image Sequence, first item ("" = none) */
} hm_rtdcm_contour;

typedef struct hm_rtdcm_roi {
    int    number;                /* ROI Number */
    char   name[68];
    char   algorithm[20];         /* ROI Generation Algorithm: AUTOMATIC, SEMIAUTOMATIC, MANUAL */
    char   frame_of_reference_uid[HM_RTDCM_UID_LEN];
    char   interpreted_type[20];  /* RT ROI Interpreted Type: EXTERNAL, PTV, CTV, ORGAN, ... */
    int    color[3];              /* ROI Display Color (0 0 0 when absent) */
    hm_rtdcm_contour *contours;
    size_t ncontours;
} hm_rtdcm_roi;

typedef struct hm_rtdcm_struct {
    hm_rtdcm_common c;            /* c.frame_of_reference_uid: the referenced frame */
    char   label[20];             /* Structure Set Label */
    char   ref_ct_series_uid[HM_RTDCM_UID_LEN];
    char (*ref_ct_sop_uids)[HM_RTDCM_UID_LEN];  /* Contour Image Sequence of the series */
    size_t n_ref_ct_sops;
    hm_rtdcm_roi *rois;
    size_t nrois;
} hm_rtdcm_struct;

int  hm_rtdcm_struct_read_file(const char *path, hm_rtdcm_struct *ss, hm_error *err);
int  hm_rtdcm_struct_read_memory(const void *data, size_t size, const char *name,
                                 hm_rtdcm_struct *ss, hm_error *err);
void hm_rtdcm_struct_free(hm_rtdcm_struct *ss);
/* Geometry rules on the contours (rt_check.c): closed planar contours with
 * at least 3 points, planar on an axial slice (z constant within tol_mm) and
 * not self-intersecting.  `name` is the file named in the message. */
int  hm_rtdcm_struct_validate(const hm_rtdcm_struct *ss, const char *name, double tol_mm,
                              hm_error *err);

/* ---- CT series geometry ------------------------------------------------ */

typedef struct hm_rtdcm_ct_slice {
    char   sop_instance_uid[HM_RTDCM_UID_LEN];
    double ipp_mm[3];
    int    instance_number;
} hm_rtdcm_ct_slice;

typedef struct hm_rtdcm_ct {
    hm_rtdcm_common c;            /* of the first slice */
    double iop[6];
    double spacing_mm[2];         /* Pixel Spacing: rows (y), columns (x) */
    double slice_thickness_mm;
    int    rows, cols;
    hm_rtdcm_ct_slice *slices;    /* sorted by position along the slice normal */
    size_t nslices;
} hm_rtdcm_ct;

/* Reads the CT images of `series_uid` (NULL: the folder must hold one CT
 * series) among the regular files of dir; other files are ignored.  Every
 * slice must share orientation, spacing, size and frame of reference. */
int  hm_rtdcm_ct_read_dir(const char *dir, const char *series_uid, hm_rtdcm_ct *ct,
                          hm_error *err);
void hm_rtdcm_ct_free(hm_rtdcm_ct *ct);

/* ---- Objects of a folder and their references -------------------------- */

typedef enum hm_rtdcm_kind {
    HM_RTDCM_OTHER = 0, HM_RTDCM_CT, HM_RTDCM_PLAN, HM_RTDCM_ION_PLAN, HM_RTDCM_DOSE,
    HM_RTDCM_STRUCT
} hm_rtdcm_kind;

/* What one file is and what it references (header only, no pixel data). */
typedef struct hm_rtdcm_object {
    char path[512];
    int  kind;                    /* hm_rtdcm_kind */
    hm_rtdcm_common c;
    char ref_struct_uid[HM_RTDCM_UID_LEN];    /* plan -> RT Structure Set */
    char ref_plan_uid[HM_RTDCM_UID_LEN];      /* dose -> RT Plan */
    char ref_ct_series_uid[HM_RTDCM_UID_LEN]; /* structure set -> CT series */
} hm_rtdcm_object;

int  hm_rtdcm_object_read_file(const char *path, hm_rtdcm_object *obj, hm_error *err);
/* Reads every regular file of dir (sorted; non-DICOM files are OTHER). */
int  hm_rtdcm_scan_dir(const char *dir, hm_rtdcm_object **objs, size_t *nobjs, hm_error *err);

/* A course: one plan and what it references, found by UID. */
typedef struct hm_rtdcm_group {
    const hm_rtdcm_object *plan;
    const hm_rtdcm_object *structure_set;   /* NULL when missing */
    const hm_rtdcm_object *doses[HM_RTDCM_MAX_REFS];
    int    ndoses;
    size_t n_ct;                            /* CT images of the referenced series */
    char   missing[1024];                   /* "" or one line per missing object */
} hm_rtdcm_group;

/* Groups objects by references: plan -> structure set -> CT series, and every
 * dose whose Referenced RT Plan is the plan.  Returns HM_ENOTFOUND (first
 * missing reference in err, all of them in each group's `missing`) when a
 * reference points at an object not in objs, or HM_EINVAL when there is no
 * plan.  *groups (one per plan) is malloc'ed, free() it. */
int  hm_rtdcm_group_objects(const hm_rtdcm_object *objs, size_t nobjs,
                            hm_rtdcm_group **groups, size_t *ngroups, hm_error *err);

/* Cross-object rules: the dose grid and the structure set share a frame of
 * reference; the dose references the plan; the plan references the set. */
int  hm_rtdcm_check_dose_struct(const hm_rtdcm_dose *dose, const char *dose_name,
                                const hm_rtdcm_struct *ss, const char *ss_name, hm_error *err);

/* ---- Writers ------------------------------------------------------------ */
/*
 * Each writer fills empty UIDs of its object (SOP instance, series, study,
 * frame of reference) with new ones from dcmGenerateUniqueIdentifier and
 * writes them back into the structure, so the caller can pass them on to the
 * objects that reference it.  Files are written beside the target and
 * renamed, so a failed write leaves nothing.
 */
/* Writes ct->nslices CT images into dir (CT_0001.dcm, ...) with 16-bit HU
 * pixels from hu (cols*rows per slice, NULL = all -1000). */
int  hm_rtdcm_ct_write(const char *dir, hm_rtdcm_ct *ct, const int16_t *hu, hm_error *err);
int  hm_rtdcm_struct_write(const char *path, hm_rtdcm_struct *ss, hm_error *err);
int  hm_rtdcm_plan_write(const char *path, hm_rtdcm_plan *plan, hm_error *err);
/* Stores dose_gy with bits_allocated 16 or 32 and a scaling chosen so the
 * maximum fits (dose->scaling is set to the value written). */
int  hm_rtdcm_dose_write(const char *path, hm_rtdcm_dose *dose, hm_error *err);

#ifdef __cplusplus
}
#endif

#endif
