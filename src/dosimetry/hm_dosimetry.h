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
} hm_dosimetry_device;

int hm_dosimetry_device_default(hm_dosimetry_device *d, hm_error *err);

/* An event as read from the registry or an RDSR; NAN (or "") when absent. */
typedef struct hm_dosimetry_event {
    double kvp;
    double filter_al_mm, filter_cu_mm;      /* added filtration */
    double primary_angle_deg, secondary_angle_deg;
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
    char age[16];                  /* canonical: "newborn", "1y", ..., "adult" */
    char sex;                      /* 'M', 'F', 'H' */
} hm_dose_phantom_key;

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
/* "5y_H". */
void   hm_dose_phantom_name(const hm_dose_phantom_key *k, char *buf, size_t size);
/* Nodes per phantom (product of the axis sizes). */
size_t hm_dose_grid_nodes(const hm_dose_grid *g);
int    hm_dose_grid_check(const hm_dose_grid *g, hm_error *err);
/* A grid file ("key,values" lines, values blank-separated; docs/dosimetry.md);
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
    char      engine[256];
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
 * more than 1 cm (doses per KAP barely depend on it).  0: inside. */
enum { HM_DOSE_OFF_LATERAL = 1u << 8, HM_DOSE_SOURCE_DISTANCE = 1u << 9 };

/*
 * Organ doses per KAP for a beam on the library's phantom (age as
 * hm_phantom_build takes it; sex 'M', 'F' or 'H', where M or F falls back to
 * the age's H phantom): multilinear interpolation between the 2^k nodes
 * around the beam's coordinates; sigma = sqrt(sum w_i^2 sigma_i^2) (nodes
 * are independent runs).  out as from hm_dosimetry_organ_doses (isocentre,
 * entrance, KAP and seconds left 0); *out_of_grid (may be NULL) as above.
 */
int hm_dose_library_lookup(const hm_dose_library *lib, const char *age, char sex,
                           const hm_dosimetry_beam *b, hm_dosimetry_result *out,
                           unsigned *out_of_grid, hm_error *err);
/* The same at axis coordinates, for phantom index `phantom` of the grid. */
int hm_dose_library_lookup_at(const hm_dose_library *lib, size_t phantom,
                              const double x[HM_DOSE_NAXES], hm_dosimetry_result *out,
                              unsigned *out_of_grid, hm_error *err);
/* Index of the phantom for (age, sex) with the fall-back above, or HM_ENOTFOUND. */
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
/* ---- end skin dose ---- */

#endif
