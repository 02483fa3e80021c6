/* rt_int.h — private to src/synth: the synthetic radiotherapy patients
 * (`harmonic synth --rt-patients N`, docs/synth.md "Radiotherapy patients").
 *
 * Every random number of RT patient i comes from the same Philox streams
 * as the cardiac cohort, keyed by the seed, with purposes of their own
 * (SY_S_RT_*, far from the cardiac ones), so adding RT patients never moves
 * a cardiac draw. */
#ifndef HM_SYNTH_RT_INT_H
#define HM_SYNTH_RT_INT_H

#include <stdint.h>

#include "hm_phantom.h"
#include "synth_int.h"

#define RT_MAX_CENTRES 16
#define RT_MAX_SITES   16
#define RT_MAX_CHEMO   64
#define RT_MAX_ERAS    8
#define RT_MAX_ROIS    40
#define RT_MAX_AGENTS  12

/* Purposes of the RT streams (the b of sy_rng_init). */
enum { SY_S_RT_DEMOG = 101, SY_S_RT_NAMES, SY_S_RT_TREAT, SY_S_RT_UID, SY_S_RT_PLAN };

enum { RT_T_3DCRT, RT_T_IMRT, RT_T_VMAT, RT_T_PBS, RT_T_DS, RT_NTECH };
extern const char *const rt_tech_names[RT_NTECH];   /* rt_course technique codes */

typedef struct { char code[16], country[4], name[128], language[4];
                 double share; int first_year, proton_year; } rt_centre;
typedef struct {
    char   site[32], label[64], topo[8], morph[8], ref_regions[96], side[4];
    char   chemo[32], surgery_kind[16], sct_type[16], source[160];
    double weight, p_male, age_min, age_mode, age_max;
    double offset_cm[3], gtv_cm[3], ctv_margin_cm, ptv_margin_cm, rx_gy;
    int    fractions;
    double p_proton, p_surgery, p_gross_total, p_sct, survival_5y;
    int    rt_delay_days;
} rt_site;
typedef struct { char protocol[32], agent[32], route[16]; double dose_mg_m2; } rt_chemo;
typedef struct { int from, to; double p_photon[3], p_pbs; } rt_era;
typedef struct { double sigma_mm, edge_fraction, falloff_mm, grid_margin_mm;
                 int beams_min, beams_max; } rt_tech;
typedef struct { char roi[32], regions[96], side, organ[32], names[4][48]; } rt_roi_name;

typedef struct rt_params {
    rt_centre   centres[RT_MAX_CENTRES]; int ncentres;
    rt_site     sites[RT_MAX_SITES];     int nsites;
    rt_chemo    chemo[RT_MAX_CHEMO];     int nchemo;
    rt_era      eras[RT_MAX_ERAS];       int neras;
    rt_tech     tech[RT_NTECH];
    rt_roi_name rois[RT_MAX_ROIS];       int nrois;
    double      hu_soft, hu_lung, hu_bone, hu_air;
} rt_params;

int rt_params_load(rt_params *p, hm_error *err);

/* One simulated RT patient and course (dates: days since 1970-01-01). */
typedef struct rt_patient {
    long   index;
    int    centre, site, male, technique, side;   /* side: -1 right, +1 left, 0 midline */
    long   birth, diag, rt_start, rt_end, exit;
    int    exit_reason;                            /* 0 study end, 1 death, 3 lost */
    double age_years;                              /* at the first fraction */
    double rx_gy;
    int    fractions;
    double chemo_factor[RT_MAX_AGENTS];            /* delivered share of each agent */
    int    surgery, gross_total, sct;
    long   surgery_date, sct_date, chemo_start, chemo_end;
} rt_patient;

void rt_simulate(const rt_params *p, const sy_params *sp, uint64_t seed, long index,
                 rt_patient *pt);

/* A binary mask of one axial slice, nx x ny, x fastest. */
/* Boundary of the in-pixels as closed polygons along pixel edges (exact
 * area: the pixel count), holes as separate loops; points in pixel units
 * (pixel (i, j) spans [i, i+1] x [j, j+1]).  Saddle vertices (two in-pixels
 * touching only at a corner) are cut by eps so no loop touches another.
 * Returns the number of loops (>= 0) or a negative hm_status; *xy holds all
 * points, loop k has points start[k] .. start[k+1]-1. */
int rt_trace_mask(const unsigned char *mask, int nx, int ny, double eps, double **xy,
                  int **start, hm_error *err);

/* The course's DICOM files and its truth rows (rt_course.c).  dir exists. */
typedef struct rt_course_in {
    const rt_params  *p;
    const rt_patient *pt;
    const hm_phantom *phantom;
    const hm_voxel_phantom *coarse;   /* 10 mm voxelisation, for the target's centroid */
    uint64_t    seed;
    const char *dir;                  /* DIR/<centre>/rt/<course id> */
    const char *patient_id, *course_id, *birth_dicom, *start_dicom;
    FILE       *truth;                /* DIR/rt_truth.csv */
    double      voxel_mm;
} rt_course_in;

int  rt_course_write(const rt_course_in *in, long *files, hm_error *err);

/* The RT part of hm_synth_run: patients, their CSV rows, their course folders. */
int sy_rt_run(const hm_synth_opts *o, const sy_params *sp, const hm_pseudo_key *key,
              const char *dir, int write_centres_header, hm_synth_summary *s, hm_error *err);

/* Removes dir and everything below it (a failed run's temporary folder). */
void sy_rt_remove_tree(const char *dir);

#endif
