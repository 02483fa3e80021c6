/*
 * hm_dosimetry.h — from an X-ray beam on a voxel phantom to organ doses per
 * kerma-area product, and ICRP 103 effective dose.
 *
 * A beam (point source, rectangular field, tungsten spectrum with Al/Cu
 * filtration) is aimed at a landmark of the phantom (the heart centre by
 * default, as in cardiac catheterisation); the Monte Carlo engine (hm_mc)
 * tallies energy per region; regions are gathered into the organs of
 * data/organs.csv; doses are normalised by the beam's KAP.  Active marrow and
 * bone surface come from the skeletal sites (hm_phantom_marrow_share).
 */
#ifndef HM_DOSIMETRY_H
#define HM_DOSIMETRY_H

#include "hm_core.h"
#include "hm_phantom.h"

#include <stddef.h>
#include <math.h>
#include <stdint.h>

typedef struct hm_dosimetry_beam {
    const char *projection;        /* "AP", "PA", "LLAT", "RLAT" (NULL = "AP") */
    double primary_deg;            /* rotation about the body axis, + towards the patient's left */
    double secondary_deg;          /* + cranial tilt of the source */
    double source_isocentre_cm;    /* source to isocentre distance */
    double field_w_cm, field_h_cm; /* field at the isocentre plane: lateral x cranio-caudal */
    double kvp;
    double anode_angle_deg;        /* 0 = default 12 degrees */
    double filter_al_mm, filter_cu_mm;
    const char *landmark;          /* organ id whose centroid is the isocentre (NULL = "heart") */
    double offset_cm[3];           /* isocentre offset from the landmark */
    /* When not all zero: the central ray (source -> isocentre) in phantom
     * coordinates, overriding projection and angles (set by
     * hm_dosimetry_event_beam for any C-arm angle and patient position). */
    double direction[3];
    /* Multiplies the organ doses per KAP the engine gives for this beam:
     * the table and mattress a beam from under the table crosses after the
     * KAP meter (hm_dosimetry_event_beam sets it; 1 = none, the default). */
    double dose_factor;
} hm_dosimetry_beam;

void hm_dosimetry_beam_default(hm_dosimetry_beam *b);
/* The frontal cardiac-catheterisation beam for an age
 * (data/phantoms/cardiac_beams.csv). */
int  hm_dosimetry_beam_cardiac(const char *age, hm_dosimetry_beam *b, hm_error *err);

/*
 * Irradiation events (DICOM TID 10003) -> beams.
 *
 * Angles follow DICOM PS3.3 C.8.7.5 (XA Positioner): they give the position
 * of the image receptor; primary + towards the patient's left (LAO), -
 * right (RAO); secondary + cranial, - caudal; 0/0 = receptor anterior, so the
 * source is posterior (the under-couch tube: a PA beam).  As C-arms report
 * them, they are taken relative to a head-first supine patient and turned
 * into the patient's frame by the patient position (feet first, prone,
 * decubitus).  Phantom coordinates: x to the patient's left, y posterior,
 * z cranial (DICOM LPS).
 */
typedef enum hm_patient_position {
    HM_POS_UNKNOWN = 0,
    HM_POS_HFS, HM_POS_HFP, HM_POS_FFS, HM_POS_FFP,
    HM_POS_HFDL, HM_POS_HFDR, HM_POS_FFDL, HM_POS_FFDR
} hm_patient_position;

/* From the RDSR's Patient Table Relationship ("headfirst", "feet-first"),
 * Patient Orientation ("recumbent", "erect") and Modifier ("supine",
 * "prone", "left lateral decubitus", ...), case and blanks ignored; also
 * accepts one combined text ("HFS", "head first supine", as in the
 * registry's patient_orientation).  Missing parts take head first and supine,
 * and *imputed (may be NULL) is then set.  HM_EINVAL for text it cannot read. */
int hm_dosimetry_patient_position(const char *table_relationship, const char *orientation,
                                  const char *modifier, hm_patient_position *pos, int *imputed,
                                  hm_error *err);
const char *hm_dosimetry_position_name(hm_patient_position pos);   /* "HFS", ... */

/* One X-ray device as dosimetry needs it (defaults: data/dosimetry/device_defaults.csv). */
typedef struct hm_dosimetry_device {
    double inherent_filter_al_mm;
    double source_isocentre_mm;
    double source_detector_mm;
    double isocentre_to_reference_point_mm;
    double kap_calibration;                 /* true KAP / displayed KAP */
    double field_at_detector_mm;            /* square field when none is reported */
    int    table_sign[3];                   /* lateral, longitudinal, height (see the data file) */
    double table_transmission[4];           /* table + mattress at 60, 80, 100, 120 kV; NAN:
                                               the measured default table */
} hm_dosimetry_device;

/* Transmission of the table and mattress for a beam of kvp and cu_mm added
 * copper whose ray leaves the source at angle theta from the vertical below
 * the table.  At normal incidence: the device's own transmission at kvp
 * (linear between its kV points, constant outside) where the device gives
 * it, else the measured table + mattress of data/dosimetry/table_transmission.csv
 * at (kvp, cu_mm), the table the skin dose uses too; a device that gives
 * some of its four kV points has the others filled from that table at the
 * same copper.  To the power 1/cos(theta) for the longer path (exponential
 * attenuation, Beer-Lambert).  1 for beams whose source is not under the
 * table within 60 degrees of the vertical (they pass beside it). */
int hm_dosimetry_table_factor(const hm_dosimetry_device *dev, double kvp, double cu_mm,
                              double cos_from_vertical, double *factor, hm_error *err);

int hm_dosimetry_device_default(hm_dosimetry_device *d, hm_error *err);

/* An event as read from the registry or an RDSR; NAN (or "") when absent. */
typedef struct hm_dosimetry_event {
    double kvp;
    double filter_al_mm, filter_cu_mm;      /* added filtration */
    double primary_angle_deg, secondary_angle_deg;
    double primary_end_angle_deg, secondary_end_angle_deg;  /* rotational acquisitions */
    double source_isocentre_mm, source_detector_mm;
    double field_width_mm, field_height_mm; /* collimated field at the image receptor */
    double field_area_cm2;                  /* at the image receptor */
    double table_lateral_mm, table_longitudinal_mm, table_height_mm;
    double kap_gy_cm2, rp_air_kerma_mgy;
    const char *table_relationship, *orientation, *orientation_modifier;
} hm_dosimetry_event;

void hm_dosimetry_event_init(hm_dosimetry_event *e);     /* everything absent */

/* What hm_dosimetry_event_beam had to fill in (bits of *imputed). */
enum {
    HM_IMPUTED_KVP         = 1 << 0,
    HM_IMPUTED_FILTER      = 1 << 1,
    HM_IMPUTED_ANGLES      = 1 << 2,
    HM_IMPUTED_SID         = 1 << 3,   /* source-isocentre distance */
    HM_IMPUTED_SDD         = 1 << 4,   /* source-detector distance */
    HM_IMPUTED_FIELD       = 1 << 5,
    HM_IMPUTED_POSITION    = 1 << 6,   /* patient orientation or table relationship */
    HM_IMPUTED_TABLE       = 1 << 7
};
/* "kvp,field" for the bits set (buf of 128 bytes is enough). */
size_t hm_dosimetry_imputed_names(unsigned imputed, char *buf, size_t size);

/* Where the isocentre sits in the phantom. */
typedef enum hm_dosimetry_align {
    HM_ALIGN_HEART = 0,      /* every event's isocentre on the heart centre */
    HM_ALIGN_TABLE           /* the reference event on the heart; others moved by
                              * their table displacement from it */
} hm_dosimetry_align;

/*
 * The beam of one event.  Missing values come, in this order, from `fallback`
 * (the procedure's other events, e.g. the previous event; may be NULL), then
 * from the device; each such use sets a bit of *imputed.  kVp with no value
 * anywhere is imputed as 70 kV (the cardiac default of
 * data/phantoms/cardiac_beams.csv).  With HM_ALIGN_TABLE, `reference` is the
 * event whose isocentre is on the heart (NULL: this event).
 */
int hm_dosimetry_event_beam(const hm_dosimetry_event *e, const hm_dosimetry_event *fallback,
                            const hm_dosimetry_device *dev, hm_dosimetry_align align,
                            const hm_dosimetry_event *reference, hm_dosimetry_beam *b,
                            unsigned *imputed, hm_error *err);

typedef struct hm_dosimetry_params {
    long long histories;
    uint64_t  seed;
    int       threads;
} hm_dosimetry_params;

typedef struct hm_organ_dose {
    char   organ[32];                  /* id of data/organs.csv */
    double dose_mgy_per_gy_cm2;        /* absorbed dose per KAP */
    double sigma_mgy_per_gy_cm2;       /* 1-sigma statistical */
    double mass_g;                     /* 0 for marrow/bone surface (derived) */
    int    present;                    /* 0: the phantom has no such organ */
} hm_organ_dose;

typedef struct hm_dosimetry_result {
    size_t         n;
    hm_organ_dose *organs;
    double         kap_gy_cm2;         /* per history */
    double         entrance_cm[3];     /* skin entrance point of the central ray */
    double         isocentre_cm[3];
    double         seconds;
    long long      histories;
} hm_dosimetry_result;

/* Organ doses per KAP for one beam on one voxel phantom (whose age selects the
 * marrow shares; "" falls back to adult). */
int  hm_dosimetry_organ_doses(const hm_voxel_phantom *v, const hm_dosimetry_beam *b,
                              const hm_dosimetry_params *p, hm_dosimetry_result *out, hm_error *err);
void hm_dosimetry_result_free(hm_dosimetry_result *r);
/* Dose of one organ in a result, or NULL. */
const hm_organ_dose *hm_dosimetry_find(const hm_dosimetry_result *r, const char *organ);

/* Gathering region doses into organs: dose[r] and sigma[r] per region id
 * 0..v->nregions (region 0 ignored), masses from v.  Organ = mass-weighted mean
 * of its regions; red marrow and bone surface, when no region carries them,
 * from the skeletal sites times marrow_factor (dose in skeleton medium ->
 * dose in soft tissue, 1 = none).  Used by hm_dosimetry_organ_doses, exposed
 * for tests. */
int hm_dosimetry_gather(const hm_voxel_phantom *v, const double *dose, const double *sigma,
                        double marrow_factor, hm_dosimetry_result *out, hm_error *err);

/* ICRP 103 effective dose (ICRP Publication 103, 2007, eq. 3.6 and Table 3):
 * E = sum_T w_T (H_T^M + H_T^F)/2, the remainder's 0.12 applied to the
 * arithmetic mean of the 13 remainder tissues of each sex; gonads = testes
 * (male) / ovaries (female).  For X-rays w_R = 1, so H_T = D_T.  `male` and
 * `female` may be the same hermaphrodite result.  Weights from data/organs.csv.
 * Result in the unit of the inputs (mSv per Gy cm2 for results per KAP). */
int hm_dosimetry_effective_dose(const hm_dosimetry_result *male, const hm_dosimetry_result *female,
                                double *e, hm_error *err);

/*
 * Age classes and the 2-D Monte Carlo of dose uncertainty (uncertainty.c).
 *
 * Age classes for dose (anchors.md section 1; Harbron 2020): < 4 months,
 * 4-30, 31-90, 91-210 and >= 211 months, matched to the newborn, 1, 5, 10
 * and 15-year phantoms.
 */
const char *hm_dosimetry_age_class(double age_days);   /* "newborn" ... "15y"; NULL if < 0 */
#define HM_DOSIMETRY_NAGE_CLASSES 5
extern const char *const HM_DOSIMETRY_AGE_CLASSES[HM_DOSIMETRY_NAGE_CLASSES];  /* in order */
/* Index of an age class name in HM_DOSIMETRY_AGE_CLASSES, -1 if none. */
int hm_dosimetry_age_class_index(const char *age_class);

/* Sources of error (data/dosimetry/uncertainty.csv, which says who shares each). */
typedef enum hm_unc_source {
    HM_UNC_KAP_CALIBRATION = 0,  /* shared by a device */
    HM_UNC_TABLE,                /* shared by a device model */
    HM_UNC_PHANTOM_ANATOMY,      /* shared by an age class */
    HM_UNC_LIBRARY,              /* shared by everyone */
    HM_UNC_GEOMETRY_IMPUTED,     /* unshared: a procedure with imputed event geometry */
    HM_UNC_ANATOMY_INDIVIDUAL,   /* unshared */
    HM_UNC_TIER2_CLASS,          /* shared by a tier-2 class (age class, sex, exam type) */
    HM_UNC_TIER2_INDIVIDUAL,     /* unshared */
    HM_UNC_TIER3_SAMPLE,         /* unshared: the KAP drawn for a tier-3 procedure */
    HM_UNC_NSOURCES
} hm_unc_source;

typedef struct hm_dose_uncertainty {
    double gsd[HM_UNC_NSOURCES];        /* when the value is not known */
    double gsd_known[HM_UNC_NSOURCES];  /* a measured factor, a scaled phantom */
    char   shared_by[HM_UNC_NSOURCES][24];
} hm_dose_uncertainty;

/* path NULL: data/dosimetry/uncertainty.csv. */
int hm_dose_uncertainty_load(const char *path, hm_dose_uncertainty *u, hm_error *err);
const char *hm_unc_source_name(hm_unc_source s);

/*
 * A standard normal deviate for (seed, source, entity, realization) from a
 * counter-based stream (Philox4x32-10, Salmon et al. SC'11): the same
 * arguments give the same number on any process, thread or order, so any
 * subset of realizations can be recomputed bit-identically and an entity
 * (device id, class name, procedure id) shares its draw with everyone who
 * names it.  The factor of a lognormal error of median 1 is exp(z ln gsd).
 */
double hm_unc_normal(uint64_t seed, hm_unc_source s, const char *entity, int realization);
double hm_unc_uniform(uint64_t seed, hm_unc_source s, const char *entity, int realization);
static inline double hm_unc_factor(double z, double gsd) { return exp(z * log(gsd)); }

/*
 * Tiers 2 and 3 from the cohort's own data (tiers.c; anchors.md section 1).
 *
 * Tier 2 (total KAP only): organ dose = KAP x a coefficient of the class
 * (age class, sex, exam type), the ratio of sums sum(dose)/sum(KAP) over the
 * class's tier-1 procedures; a class with fewer than min_n of them falls
 * back to (age, any sex, exam), (age, sex, any exam), (age), then everyone.
 * Its uncertainty: the spread of single procedures' log(dose/KAP) (unshared)
 * and the standard error of the class's log mean (shared by the class).
 * Tier 3 (no dose data): KAP from the tier-1 and tier-2 procedures of the
 * same age class, exam type, country and era (falling back the same way):
 * the median as the best estimate, one draw from the class per realization.
 */
typedef struct hm_tier2 hm_tier2;
hm_tier2 *hm_tier2_new(size_t norgans);
void hm_tier2_free(hm_tier2 *t);
/* One tier-1 procedure: its total KAP and its organ doses (norgans values). */
int  hm_tier2_add(hm_tier2 *t, const char *age_class, char sex, const char *exam_type,
                  double kap_gy_cm2, const double *dose_mgy, hm_error *err);
int  hm_tier2_finish(hm_tier2 *t, long min_n, hm_error *err);
/* Coefficients (mGy per Gy cm2, norgans values) for a procedure's class; the
 * log-space spreads as GSDs; the class used ("5y|F|diag_cath", "5y|*|*", ...)
 * and how many tier-1 procedures it holds.  HM_ENOTFOUND with no data at all. */
int  hm_tier2_lookup(const hm_tier2 *t, const char *age_class, char sex, const char *exam_type,
                     double *coef, double *gsd_individual, double *gsd_class,
                     const char **class_used, long *n, hm_error *err);

typedef struct hm_tier3 hm_tier3;
hm_tier3 *hm_tier3_new(void);
void hm_tier3_free(hm_tier3 *t);
int  hm_tier3_add(hm_tier3 *t, const char *age_class, const char *exam_type,
                  const char *country, int era, double kap_gy_cm2, hm_error *err);
int  hm_tier3_finish(hm_tier3 *t, long min_n, hm_error *err);
/* The class's median KAP, and the KAP at uniform u (0,1) of its empirical
 * distribution (the sorted KAPs, u picking one). */
int  hm_tier3_kap(const hm_tier3 *t, const char *age_class, const char *exam_type,
                  const char *country, int era, double u, double *median_gy_cm2,
                  double *drawn_gy_cm2, const char **class_used, hm_error *err);
/* Calendar era of a procedure year: 1975-1989, 1990-1999, 2000-2009, 2010-
 * (Afroz 2024: KAP fell by era) as 0..3. */
int  hm_dosimetry_era(int year);

/*
 * One procedure's events to organ doses (procedure.c).  How a beam becomes
 * organ doses per KAP is the caller's: direct Monte Carlo on a voxel phantom
 * (hm_dosimetry_direct_fn) or interpolation in a library.  Below the 15-year
 * class the phantoms are hermaphrodite (sex 'H'); from 15 years male and
 * female are both evaluated: the patient's sex gives the organ doses (the
 * mean of the two for an unknown sex), and the pair gives the ICRP 103
 * effective dose, which is sex-averaged by definition.
 */
typedef int (*hm_dosimetry_beam_fn)(void *ctx, const hm_dosimetry_beam *b, char sex,
                                    hm_dosimetry_result *per_kap, hm_error *err);

/* Direct simulation: ctx is a hm_dosimetry_direct (phantoms by sex). */
typedef struct hm_dosimetry_direct {
    const hm_voxel_phantom *phantom_h, *phantom_m, *phantom_f;   /* as the age class needs */
    hm_dosimetry_params     params;  /* each beam's seed: params.seed mixed with a hash of the
                                      * beam, so events' statistical errors are independent and
                                      * a result depends on the beam alone, not on run order */
} hm_dosimetry_direct;
int hm_dosimetry_direct_fn(void *ctx, const hm_dosimetry_beam *b, char sex,
                           hm_dosimetry_result *per_kap, hm_error *err);

typedef struct hm_dosimetry_event_dose {
    unsigned imputed;               /* HM_IMPUTED_* */
    double   kap_gy_cm2;            /* the event's KAP times the device's calibration */
    double   effective_msv;
    int      no_kap;                /* the event had no KAP: its doses are 0 */
} hm_dosimetry_event_dose;

typedef struct hm_dosimetry_procedure_dose {
    size_t                   nevents;
    hm_dosimetry_event_dose *events;
    size_t                   norgans;
    char                   (*organ)[32];
    double                  *dose_mgy;        /* per organ, summed over events */
    double                  *sigma_mgy;       /* statistical (MC or library), 1 sigma */
    double                  *event_dose_mgy;  /* nevents x norgans */
    double                   effective_msv;
    double                   kap_gy_cm2;      /* summed over events, calibrated */
} hm_dosimetry_procedure_dose;

/* events[i] in acquisition order (each event's fallback is the one before);
 * age_class from hm_dosimetry_age_class; sex 'M', 'F' or 'U'. */
int  hm_dosimetry_procedure(const hm_dosimetry_event *events, size_t nevents,
                            const hm_dosimetry_device *dev, hm_dosimetry_align align,
                            const char *age_class, char sex, hm_dosimetry_beam_fn fn, void *ctx,
                            hm_dosimetry_procedure_dose *out, hm_error *err);
void hm_dosimetry_procedure_free(hm_dosimetry_procedure_dose *p);

/* ---- conversion-coefficient libraries (library.c) ---- */
/*
 * A library holds organ dose per KAP (and its 1-sigma statistical error) from
 * hm_dosimetry_organ_doses on a grid of beams per phantom, so that per-event
 * doses for a whole cohort come from multilinear interpolation instead of one
 * Monte Carlo run per event (docs/dosimetry.md, "Conversion-coefficient
 * libraries", which also documents the file format).
 *
 * Axes (all configurable; an axis of one point is fixed):
 *   kvp_kv, filter_al_mm (total: inherent + added), filter_cu_mm,
 *   primary_deg, secondary_deg (C-arm angles in the patient frame as if head
 *   first supine: a beam direction d in phantom coordinates gives
 *   alpha = atan2(d_x, -d_y), beta = asin(d_z), the inverse of
 *   d = (sin a cos b, -cos a cos b, sin b) of hm_dosimetry_event_beam),
 *   field_cm (side of the square of the same area at the isocentre),
 *   offset_cm (isocentre shift from the heart centre along the body axis).
 * The primary axis is periodic over the full circle when primary_periodic is
 * set (points in [-180, 180)); every other axis is clamped at its ends.
 */
enum {
    HM_DOSE_AXIS_KVP = 0, HM_DOSE_AXIS_AL, HM_DOSE_AXIS_CU, HM_DOSE_AXIS_PRIMARY,
    HM_DOSE_AXIS_SECONDARY, HM_DOSE_AXIS_FIELD, HM_DOSE_AXIS_OFFSET,
    HM_DOSE_NAXES
};
#define HM_DOSE_AXIS_MAX     64     /* points per axis */
#define HM_DOSE_MAX_PHANTOMS 16

typedef struct hm_dose_phantom_key {
    char   age[16];                /* canonical: "newborn", "1y", ..., "adult" */
    char   sex;                    /* 'M', 'F', 'H' */
    double lateral_scale;          /* trunk width and depth / the reference's (x and y of
                                    * hm_phantom_scale; z unchanged); 0 or 1 = reference
                                    * (grid files store the reference as 0);
                                    * HM_DOSE_SCALE_MIN..HM_DOSE_SCALE_MAX */
} hm_dose_phantom_key;
#define HM_DOSE_SCALE_MIN 0.5
#define HM_DOSE_SCALE_MAX 2.0

typedef struct hm_dose_grid {
    size_t              nphantoms;
    hm_dose_phantom_key phantoms[HM_DOSE_MAX_PHANTOMS];
    size_t              n[HM_DOSE_NAXES];                 /* points per axis, >= 1 */
    double              v[HM_DOSE_NAXES][HM_DOSE_AXIS_MAX]; /* strictly increasing */
    int                 primary_periodic;
    double              source_isocentre_cm;              /* fixed for the library */
    double              anode_angle_deg;
} hm_dose_grid;

/* Build parameters (defaults in the grid file too). */
typedef struct hm_dose_library_params {
    long long   histories_per_node;
    uint64_t    seed;
    int         threads;           /* nodes run in parallel; the file does not depend on it */
    double      voxel_mm;
    const char *cache_dir;         /* voxel phantom cache (NULL: the default) */
} hm_dose_library_params;

/* "kvp_kv", "filter_al_mm", "filter_cu_mm", "primary_deg", "secondary_deg",
 * "field_cm", "offset_cm"; NULL outside 0..HM_DOSE_NAXES-1. */
const char *hm_dose_axis_name(int axis);
/* "5y_H" (scale 1), "5y_H_s0.85" (the scale with %g). */
void   hm_dose_phantom_name(const hm_dose_phantom_key *k, char *buf, size_t size);
/* Nodes per phantom (product of the axis sizes). */
size_t hm_dose_grid_nodes(const hm_dose_grid *g);
int    hm_dose_grid_check(const hm_dose_grid *g, hm_error *err);
/* A grid file ("key,values" lines, values blank-separated; docs/dosimetry.md;
 * phantoms as AGE:SEX or AGE:SEX:SCALE, e.g. "5y:H:0.85 5y:H 5y:H:1.2");
 * params (may be NULL) takes histories_per_node, seed and voxel_mm when the
 * file has them.  The default: data/dosimetry/library_grid_default.csv. */
int    hm_dose_grid_read(const char *path, hm_dose_grid *g, hm_dose_library_params *params,
                         hm_error *err);
int    hm_dose_grid_default(hm_dose_grid *g, hm_dose_library_params *params, hm_error *err);
void   hm_dose_library_params_default(hm_dose_library_params *p);

/* Axis coordinates of node `node` (0..nodes-1; axis 0 varies slowest), and
 * the beam the library runs there. */
int hm_dose_grid_node_coords(const hm_dose_grid *g, size_t node, double x[HM_DOSE_NAXES]);
int hm_dose_grid_node_beam(const hm_dose_grid *g, size_t node, hm_dosimetry_beam *b,
                           hm_error *err);
/* Engine seed of a node: a hash of (seed, phantom name, node index), so any
 * node can be rebuilt alone, bit-identically. */
uint64_t hm_dose_node_seed(uint64_t seed, const hm_dose_phantom_key *k, size_t node);
/* Library coordinates of a beam (angles from its direction, or from its
 * projection and angles when the direction is zero). */
int hm_dose_beam_coords(const hm_dosimetry_beam *b, double x[HM_DOSE_NAXES], hm_error *err);

typedef struct hm_dose_library hm_dose_library;

/* Provenance, for the file's header and the run's provenance. */
typedef struct hm_dose_library_info {
    int       format_version;
    char      library_id[40];      /* "fnv1a64:" + 16 hex digits of the content */
    char      harmonic_version[32];
    char      engine[512];
    char      created[32];         /* UTC, ISO 8601 */
    long long histories_per_node;
    uint64_t  seed;
    double    voxel_mm;
} hm_dose_library_info;

typedef struct hm_dose_progress {
    size_t      done, total;       /* nodes over all phantoms, resumed ones included */
    size_t      resumed;           /* nodes taken from an interrupted build */
    const char *phantom;           /* "5y_H" */
    double      elapsed_s, eta_s;
} hm_dose_progress;
/* Returns 0 to go on; anything else stops the build (HM_EINVAL, "interrupted";
 * the finished nodes stay in the resume file). */
typedef int (*hm_dose_progress_fn)(const hm_dose_progress *pr, void *user);

/*
 * Runs the engine on every node of every phantom of the grid (each phantom
 * built and voxelised once, through the voxel cache) and writes the library
 * to `path` atomically (path.tmp, then rename).  Finished nodes are kept in
 * path.part as they finish, so an interrupted build resumes where it
 * stopped (with the same grid and parameters) and gives the same file.
 * `progress` (may be NULL) is called after each node, from the worker
 * threads but one call at a time.
 */
int hm_dose_library_build(const hm_dose_grid *g, const hm_dose_library_params *p,
                          const char *path, hm_dose_progress_fn progress, void *user,
                          hm_error *err);

/* In memory: an empty library on a grid, filled node by node (the first
 * result of a phantom fixes its organ list), then saved.  For the builder
 * and for synthetic libraries in tests. */
int  hm_dose_library_create(const hm_dose_grid *g, const hm_dose_library_params *p,
                            hm_dose_library **out, hm_error *err);
int  hm_dose_library_set_node(hm_dose_library *lib, size_t phantom, size_t node,
                              const hm_dosimetry_result *r, hm_error *err);
/* Writes every node (all must be set) to path.tmp and renames it to path. */
int  hm_dose_library_save(hm_dose_library *lib, const char *path, hm_error *err);

/* Loads and validates a library file (errors name file, line and field). */
int  hm_dose_library_load(const char *path, hm_dose_library **out, hm_error *err);
/* The same from an open stream (`name` for the messages). */
int  hm_dose_library_read(FILE *fp, const char *name, hm_dose_library **out, hm_error *err);
void hm_dose_library_free(hm_dose_library *lib);
const hm_dose_grid         *hm_dose_library_grid(const hm_dose_library *lib);
const hm_dose_library_info *hm_dose_library_get_info(const hm_dose_library *lib);

/* Bits of *out_of_grid: (1u << axis) for each axis whose value lay outside
 * the grid (or off a one-point axis) and was clamped; HM_DOSE_OFF_LATERAL
 * when the isocentre offset had a lateral or antero-posterior part (the
 * library only holds offsets along the body axis); HM_DOSE_SOURCE_DISTANCE
 * when the beam's source-isocentre distance differs from the library's by
 * more than 1 cm (doses per KAP barely depend on it); HM_DOSE_OFF_SIZE when
 * hm_dose_library_lookup_sized clamped the patient's lateral scale to the
 * library's phantoms of the age (or the library has one scale and the
 * patient's differs from it by more than 0.02).  0: inside. */
enum { HM_DOSE_OFF_LATERAL = 1u << 8, HM_DOSE_SOURCE_DISTANCE = 1u << 9, HM_DOSE_OFF_SIZE = 1u << 10 };

/*
 * Organ doses per KAP for a beam on the library's phantom (age as
 * hm_phantom_build takes it; sex 'M', 'F' or 'H', where M or F falls back to
 * the age's H phantom): multilinear interpolation between the 2^k nodes
 * around the beam's coordinates (copper in ln(1 + Cu/0.1 mm)) plus a
 * curvature correction along each axis of 3+ points (library_interp.c).
 * sigma is the statistical error sqrt(sum w_i^2 sigma_i^2) (nodes are
 * independent runs) and the interpolation error, in quadrature: per axis the
 * correction's size, the disagreement of the neighbouring second
 * differences (library_interp.c), and the cross-validation term
 * s_a^2 (1 + (1-t)^2 + t^2) D^2 on axes of 4+ points where the beam is
 * off-node (library_loo.c; hm_dose_library_cv_sigma).  On a node it is
 * the node's statistical sigma.  out as from hm_dosimetry_organ_doses
 * (isocentre, entrance, KAP and seconds left 0); *out_of_grid (may be NULL)
 * as above.
 */
int hm_dose_library_lookup(const hm_dose_library *lib, const char *age, char sex,
                           const hm_dosimetry_beam *b, hm_dosimetry_result *out,
                           unsigned *out_of_grid, hm_error *err);
/* As hm_dose_library_lookup, for a patient whose trunk is lateral_scale times as wide and
 * deep as the reference phantom of the age class (sqrt((m/m_ref)/(h/h_ref)); <= 0: 1).
 * Between the library's phantoms of that age and sex with different scales, the organ doses
 * are interpolated linearly in log dose against the scale (doses per KAP fall roughly
 * exponentially with depth: AAPM Report 204, 2011; Turner et al. 2010, Med Phys 37:1816);
 * outside their range, clamped with HM_DOSE_OFF_SIZE set in *out_of_grid; a library with a
 * single scale for the phantom sets HM_DOSE_OFF_SIZE when |lateral_scale-1| > 0.02 and
 * returns the reference doses. */
int hm_dose_library_lookup_sized(const hm_dose_library *lib, const char *age, char sex,
                                 double lateral_scale, const hm_dosimetry_beam *b,
                                 hm_dosimetry_result *out, unsigned *out_of_grid,
                                 hm_error *err);
/* Reference height and mass of a built-in phantom (for lateral_scale): those
 * hm_phantom_scale scales from (the phantom's standing height and analytic
 * mass; computed once per age and sex, then remembered; thread-safe). */
int hm_dose_phantom_reference_size(const char *age, char sex, double *height_cm,
                                   double *mass_kg, hm_error *err);
/* The same at axis coordinates, for phantom index `phantom` of the grid. */
int hm_dose_library_lookup_at(const hm_dose_library *lib, size_t phantom,
                              const double x[HM_DOSE_NAXES], hm_dosimetry_result *out,
                              unsigned *out_of_grid, hm_error *err);
/* The cross-validation term of a phantom's organ along an axis
 * (library_loo.c), relative to the dose: *loo (may be NULL) the
 * leave-one-out estimate, each interior node predicted by the lookup's
 * scheme from the others on its line, the nodes' noise taken out; *rel the
 * term at the lookup's spacing, s_a = rho * loo, rho measured on the line
 * of every other node where the axis has 7+ points (8+, even, periodic),
 * else 1/4 (a smooth dose's).  0 on an axis of fewer than 4 points.  The
 * lookup adds s_a^2 (1 + (1-t)^2 + t^2) D^2 to sigma^2 on each axis where
 * the point is off-node (t its weight in the cell).  HM_ENOTFOUND for an
 * organ the library does not hold. */
int hm_dose_library_cv_sigma(const hm_dose_library *lib, size_t phantom, int axis,
                             const char *organ, double *rel, double *loo, hm_error *err);
/* A library as a beam function (hm_dosimetry_beam_fn) for one age class:
 * ctx is a hm_dose_library_beam; it counts the lookups and those with an
 * axis (or the size) clamped (the source-distance bit alone is not counted:
 * doses per KAP barely depend on it).  lateral_scale as for
 * hm_dose_library_lookup_sized (0 = reference). */
typedef struct hm_dose_library_beam {
    const hm_dose_library *lib;
    const char            *age;
    long                   lookups, out_of_grid;
    double                 lateral_scale;
} hm_dose_library_beam;
int hm_dose_library_beam_fn(void *ctx, const hm_dosimetry_beam *b, char sex,
                            hm_dosimetry_result *out, hm_error *err);

/* Index of the phantom for (age, sex) with the fall-back above, or HM_ENOTFOUND;
 * of several scales of it, the one nearest 1. */
int hm_dose_library_phantom(const hm_dose_library *lib, const char *age, char sex,
                            size_t *index, hm_error *err);

/*
 * The default library: the default grid and parameters, cached as
 * <cache>/dose_library_<key>.csv, key = hash of the grid and parameters
 * ($HARMONIC_CACHE, else $XDG_CACHE_HOME/harmonic, else ~/.cache/harmonic).
 * hm_dose_library_ensure_default builds it when missing (threads > 0) and
 * gives its path.
 */
int hm_dose_library_default_path(char *buf, size_t size, hm_error *err);
int hm_dose_library_ensure_default(int threads, hm_dose_progress_fn progress, void *user,
                                   char *path, size_t size, hm_error *err);
/* ---- end libraries ---- */

/* ---- skin dose (skin.c) ---- */
/*
 * Skin dose maps and the peak skin dose (PSD) of a procedure, from its
 * irradiation events (the method of OpenREM's openSkin and of Jones &
 * Pasciak 2011, J Appl Clin Med Phys 12(4):231): for each skin cell that the
 * collimated beam reaches first (not shadowed by the body),
 *     D = K_rp x (d_source_rp / d_source_cell)^2 x BSF x f x T,
 * K_rp the reference-point air kerma (mGy; from KAP / field area at the
 * reference point when absent), BSF the backscatter factor by kVp, HVL and
 * field size (Benmakhlouf et al. 2011, Phys Med Biol 56:7179; data in
 * data/dosimetry/backscatter_water.csv), f the skin-to-air kerma ratio
 * computed over the event's spectrum, T the table + mattress transmission by
 * kVp and copper filtration when the ray crosses the table
 * (data/dosimetry/table_transmission.csv).  Details: docs/dosimetry.md,
 * "Skin dose".
 *
 * The skin is an unwrapped surface: cells of cell_cm along the body axis (z)
 * by angle around it (phi: 0 = anterior midline, +90 = the patient's left,
 * +-180 = posterior midline); each cell sits where the ray from the slice's
 * centroid at angle phi leaves the body for the last time.
 */
typedef struct hm_skin_map hm_skin_map;

typedef struct hm_skin_options {
    hm_patient_position position;   /* which side lies on the table (UNKNOWN = HFS) */
    int    no_table;                /* 1: no table correction at all */
    int    no_mattress;             /* 1: the table-only column of the table file */
    double table_transmission;      /* > 0: this fixed transmission at normal incidence */
    const char *table_file;         /* NULL: data/dosimetry/table_transmission.csv */
    double table_width_cm;          /* 0: data/dosimetry/skin_defaults.csv */
} hm_skin_options;

void hm_skin_options_default(hm_skin_options *o);

/* A zero map on the surface of v (v is not kept; cell_cm in 0.2..10). */
int  hm_skin_map_new(const hm_voxel_phantom *v, double cell_cm, const hm_skin_options *opt,
                     hm_skin_map **out, hm_error *err);
void hm_skin_map_free(hm_skin_map *m);
void hm_skin_map_clear(hm_skin_map *m);   /* doses back to zero (next procedure) */

/* The per-event factors (also what hm_skin_map_add_event uses). */
typedef struct hm_skin_factors {
    double k_rp_mgy;            /* used: reported, or KAP / A_rp; x kap_calibration */
    double source_cm[3];        /* focal spot, phantom frame */
    double isocentre_cm[3];
    double direction[3];        /* central ray, unit */
    double source_rp_cm;        /* source to the reference point */
    double entrance_cm[3];      /* central-ray skin entrance (NAN when it misses) */
    double source_skin_cm;      /* source to that entrance (NAN when it misses) */
    double field_side_cm;       /* square-equivalent field at the entrance */
    double hvl_mm_al;           /* first HVL of the event's spectrum */
    double bsf;                 /* backscatter factor */
    double f_skin_air;          /* skin / air kerma ratio over the spectrum */
    double table_t;             /* table transmission at normal incidence (1: no table) */
    int    table_crossed;       /* the central ray crosses the table */
} hm_skin_factors;

/* One event: beam b (hm_dosimetry_event_beam), its reference-point air
 * kerma k_rp_mgy and KAP (either may be NAN or <= 0, not both), device dev
 * (reference point, KAP calibration; NULL = data defaults).  factors may be
 * NULL. */
int hm_skin_map_add_event(hm_skin_map *m, const hm_dosimetry_beam *b, double k_rp_mgy,
                          double kap_gy_cm2, const hm_dosimetry_device *dev, hm_error *err);
int hm_skin_event_factors(hm_skin_map *m, const hm_dosimetry_beam *b, double k_rp_mgy,
                          double kap_gy_cm2, const hm_dosimetry_device *dev,
                          hm_skin_factors *f, hm_error *err);

/* Peak skin dose (mGy) and where it is (cell centre on the skin, cm);
 * where_cm may be NULL.  0 and HM_ENOTFOUND-free: an empty map has PSD 0. */
int hm_skin_map_peak(const hm_skin_map *m, double *psd_mgy, double where_cm[3]);

typedef struct hm_skin_grid {
    int    n_angle;              /* cells around the body (a multiple of 4) */
    int    n_height;             /* cells along the body axis */
    double cell_cm;              /* height of a cell */
    double z0_cm;                /* bottom of row 0 (phantom z) */
    int    events;               /* events added since new/clear */
    double k_rp_total_mgy;       /* sum of their k_rp_mgy */
} hm_skin_grid;
void hm_skin_map_grid(const hm_skin_map *m, hm_skin_grid *g);
/* Angle (degrees) of the centre of angle column ia: -180 + (ia + 0.5) * 360 / n_angle. */
double hm_skin_map_angle_deg(const hm_skin_map *m, int ia);
/* Dose of cell (ia, ih) and its position; HM_ENOTFOUND where no skin. */
int hm_skin_map_cell(const hm_skin_map *m, int ia, int ih, double *dose_mgy, double pos_cm[3]);

/* The map as n = n_angle * n_height float32 doses in mGy, row-major from the
 * lowest row (index ih * n_angle + ia), -1 where there is no skin; *cells is
 * malloc'd (free()).  grid may be NULL. */
int hm_skin_map_pack(const hm_skin_map *m, float **cells, size_t *n, hm_skin_grid *grid,
                     hm_error *err);

/* PNG of HM_SKIN_PNG_WIDTH x HM_SKIN_PNG_HEIGHT pixels: the anterior half
 * seen from the front and the posterior half seen from behind (angle x
 * height), a colour scale in mGy, the title and the PSD. */
#define HM_SKIN_PNG_WIDTH  960
#define HM_SKIN_PNG_HEIGHT 720
int hm_skin_map_write_png(const hm_skin_map *m, const char *path, const char *title,
                          hm_error *err);

/* Data lookups, exposed for tests and reports. */
int hm_skin_backscatter(double kvp, double hvl_mm_al, double field_side_cm, double *bsf,
                        hm_error *err);
int hm_skin_table_transmission(const hm_skin_options *opt, double kvp, double cu_mm, double *t,
                               hm_error *err);
/* ---- end skin dose ---- */

#endif
