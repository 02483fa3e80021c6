/* doserun_int.h — private to src/doserun. */
#ifndef DOSERUN_INT_H
#define DOSERUN_INT_H

#include "hm_doserun.h"

#include <stdint.h>

enum { DR_MAX_ORGANS = 64 };

/* One procedure as the run needs it, with its events (strings owned here). */
typedef struct dr_proc {
    char   centre[16], procedure_id[80], exam[48], country[4];
    char   device_id[80], manufacturer[80], model[80];
    char   sex;
    int    tier;                 /* as registered (dose_tier) */
    int    year;                 /* of the procedure, 0 if unknown */
    double age_days, weight_kg, height_cm, kap_total_gy_cm2;
    size_t nevents, cap;
    hm_dosimetry_event *events;
    char (*uid)[80];
    char (*position)[64];        /* event patient_orientation texts */
} dr_proc;

void dr_proc_free(dr_proc *p);

/* Streams procedures with their events in (centre, procedure_id) byte
 * order: one statement per table, merged, so memory is one procedure. */
typedef struct dr_reader dr_reader;
int  dr_reader_open_url(const char *url, int postgres, dr_reader **r, hm_error *err);
/* 1 with *p filled (valid until the next call), 0 at the end, < 0 error. */
int  dr_reader_next(dr_reader *r, dr_proc **p, hm_error *err);
void dr_reader_close(dr_reader *r);

/* Devices of the registry's device table, by (centre, device_id). */
typedef struct dr_devices dr_devices;
int  dr_devices_load(hm_db *db, dr_devices **d, hm_error *err);
/* The device of a procedure (the defaults when it names none or an
 * unknown one); *known says whether its KAP calibration was measured. */
void dr_devices_get(const dr_devices *d, const hm_dosimetry_device *defaults, const dr_proc *p,
                    hm_dosimetry_device *dev, int *known);
void dr_devices_free(dr_devices *d);

/* What the uncertainty of one procedure depends on. */
typedef struct dr_unc_in {
    int         tier;                    /* used: 1, 2, 3 */
    const char *device_entity;           /* "centre|device" */
    const char *model_entity;            /* "manufacturer|model" */
    const char *class_entity;            /* "age|sex" */
    const char *tier2_class;             /* "5y|F|diag_cath" */
    const char *procedure_entity;        /* "centre|procedure_id" */
    int         calibration_known, phantom_scaled, geometry_imputed;
    /* tier 2/3: per organ */
    const double *coef, *gsd_t2_ind, *gsd_t2_cls;
    /* tier 3: the class to draw a KAP from */
    const hm_tier3 *t3;
    const char *age_class, *exam, *country;
    int         era;
} dr_unc_in;

/* Realizations r = 0..R-1 of the stored organs: out[o * R + r] (mGy). */
int dr_realize(const dr_unc_in *in, const hm_dose_uncertainty *u, uint64_t seed, int R,
               const double *best_mgy, size_t norgans, float *out, hm_error *err);

#endif
