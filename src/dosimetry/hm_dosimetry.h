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
} hm_dosimetry_beam;

void hm_dosimetry_beam_default(hm_dosimetry_beam *b);
/* The frontal cardiac-catheterisation beam for an age
 * (data/phantoms/cardiac_beams.csv). */
int  hm_dosimetry_beam_cardiac(const char *age, hm_dosimetry_beam *b, hm_error *err);

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

#endif
