/*
 * hm_rdsr.h — X-Ray Radiation Dose Structured Reports (DICOM PS3.16
 * TID 10001 report, TID 10002 accumulated dose per plane, TID 10003
 * irradiation event) mapped to plain C records, whatever the vendor wrote.
 *
 * Concept codes and units are data (data/rdsr/concepts.csv, units.csv):
 * every numeric value is converted in one place (rdsr_units.c) to the unit
 * its field name carries, and each conversion or repair that was not a
 * plain UCUM conversion is recorded in the report's notes.
 *
 * Also here: the synthetic RDSR generator used for test fixtures, and the
 * pseudonymised import into the registry.
 */
#ifndef HM_RDSR_H
#define HM_RDSR_H

#include "hm_core.h"

#include <stddef.h>

/* Tables (concept codes, units) loaded from data/rdsr/; one per process is
 * enough and it may be shared by any number of reads. */
typedef struct hm_rdsr_ctx hm_rdsr_ctx;
hm_rdsr_ctx *hm_rdsr_ctx_new(hm_error *err);
void         hm_rdsr_ctx_free(hm_rdsr_ctx *ctx);

enum { HM_RDSR_PLANE_SINGLE = 0, HM_RDSR_PLANE_A = 1, HM_RDSR_PLANE_B = 2,
       HM_RDSR_NPLANES = 3 };
const char *hm_rdsr_plane_name(int plane);   /* "single", "A", "B" */

#define HM_RDSR_MAX_FILTERS 4

typedef struct hm_rdsr_filter {
    char   type[64];                 /* e.g. "Strip filter", "Flat filter" */
    char   material[64];             /* e.g. "Copper or Copper compound" */
    double thickness_min_mm;
    double thickness_max_mm;
} hm_rdsr_filter;

/* One TID 10003 irradiation event.  Numbers are NAN when absent. */
typedef struct hm_rdsr_event {
    char   uid[68];
    char   type[64];                 /* Fluoroscopy, Stationary/Stepping/Rotational Acquisition */
    int    plane;                    /* HM_RDSR_PLANE_* */
    char   datetime_started[32];     /* DICOM DT as written */
    char   protocol[128];
    char   target_region[64];
    char   fluoro_mode[32];
    char   reference_point[64];
    char   patient_orientation[32];
    char   patient_orientation_modifier[32];
    char   patient_table_relationship[32];
    /* X-ray source (TID 10003b); per-pulse values are averaged, *_values says how many */
    double kvp_kv;
    double tube_current_ma;
    double avg_tube_current_ma;
    double pulse_width_ms;
    int    kvp_values, tube_current_values, pulse_width_values;
    double pulse_rate_per_s;
    double number_of_pulses;
    double irradiation_duration_s;
    double exposure_time_ms;
    double exposure_uas;
    double focal_spot_mm;
    int    nfilters;
    hm_rdsr_filter filters[HM_RDSR_MAX_FILTERS];
    double field_area_cm2;
    double field_height_mm;
    double field_width_mm;
    /* mechanical (TID 10003c) */
    double primary_angle_deg;
    double secondary_angle_deg;
    double primary_end_angle_deg;
    double secondary_end_angle_deg;
    double source_isocentre_mm;
    double source_detector_mm;
    double source_rp_mm;
    double table_longitudinal_mm;
    double table_lateral_mm;
    double table_height_mm;
    double table_head_tilt_deg;
    double table_horizontal_rotation_deg;
    double table_cradle_tilt_deg;
    /* dose */
    double kap_gy_cm2;
    double rp_air_kerma_mgy;
} hm_rdsr_event;

/* TID 10002 accumulated dose data for one plane. */
typedef struct hm_rdsr_accum {
    int    present;
    double kap_total_gy_cm2;
    double fluoro_kap_gy_cm2;
    double acq_kap_gy_cm2;
    double rp_total_mgy;
    double fluoro_rp_mgy;
    double acq_rp_mgy;
    double fluoro_time_s;
    double acq_time_s;
    double frames;
    char   reference_point[64];
} hm_rdsr_accum;

/* Something the reader repaired, or a field it found missing, counted over
 * the report (e.g. "kvp_kv", "missing in 20 of 20 events"). */
enum { HM_RDSR_NOTE_CONVERTED = 0,  /* a plain unit conversion */
       HM_RDSR_NOTE_REPAIRED  = 1,  /* a vendor deviation read as intended */
       HM_RDSR_NOTE_MISSING   = 2 };/* a value absent, empty or unusable */
const char *hm_rdsr_note_kind_name(int kind);  /* "converted", "repaired", "missing" */

typedef struct hm_rdsr_note {
    int  kind;
    char field[48];
    char msg[200];
    int  count;
} hm_rdsr_note;

typedef struct hm_rdsr_report {
    char   source[256];              /* file name */
    char   modality[8];              /* "RF" (fluoroscopy/angiography) or "DX" (radiography) */
    char   sop_class_uid[68];        /* X-Ray Radiation Dose SR, Enhanced/Comprehensive SR */
    char   sop_instance_uid[68];
    char   transfer_syntax[68];
    char   study_uid[68];
    char   study_date[20];           /* YYYYMMDD as written */
    char   study_time[20];
    char   template_id[20];          /* "" when the file has none */
    char   charset[68];
    int    implicit_vr;
    char   completion_flag[20];
    /* patient (identifying: patient_id, birth_date — pseudonymised on import) */
    char   patient_id[68];
    char   birth_date[20];
    char   sex[4];                   /* M, F, O or "" */
    char   age[8];                   /* DICOM AS as written */
    double age_years;                /* from `age`, NAN when absent */
    double weight_kg;
    double height_m;
    /* equipment */
    char   manufacturer[68];
    char   model[68];
    char   device_serial[68];
    char   station[68];
    char   device_observer_uid[68];
    char   procedure_reported[64];
    int    biplane;                  /* plane A or B seen */
    hm_rdsr_accum planes[HM_RDSR_NPLANES];
    double kap_total_gy_cm2;         /* accumulated over planes (or summed events) */
    double rp_total_mgy;
    hm_rdsr_event *events;
    size_t nevents;
    hm_rdsr_note  *notes;
    size_t nnotes;
} hm_rdsr_report;

/* Reads and maps one RDSR.  Errors carry a one-line reason:
 *   HM_EPARSE        not DICOM, truncated or corrupt;
 *   HM_EUNSUPPORTED  DICOM but not a projection X-ray dose report (CT
 *                    TID 10011, mammography, other SR, non-SR object).
 * On success *out is a new report to free with hm_rdsr_report_free(). */
int  hm_rdsr_read_file(hm_rdsr_ctx *ctx, const char *path, hm_rdsr_report **out,
                       hm_error *err);
int  hm_rdsr_read_memory(hm_rdsr_ctx *ctx, const void *data, size_t size, const char *name,
                         hm_rdsr_report **out, hm_error *err);
void hm_rdsr_report_free(hm_rdsr_report *rep);

/* Sum of event KAP per plane (Gy.cm2), for checking against the accumulated
 * totals.  Events without KAP count as 0. */
double hm_rdsr_events_kap_gy_cm2(const hm_rdsr_report *rep, int plane);

/* The mapped report as JSON text (malloc'd, NULL when out of memory).
 * Identifiers are included: this is for the hospital's own inspection. */
char *hm_rdsr_to_json(const hm_rdsr_report *rep);

/* ---- synthetic RDSRs (test fixtures) --------------------------------- */

enum {
    HM_RDSR_QUIRK_GYM2        = 1 << 0, /* KAP unit written "Gym2" (Siemens) */
    HM_RDSR_QUIRK_DGYCM2      = 1 << 1, /* KAP in dGy.cm2 */
    HM_RDSR_QUIRK_NO_TEMPLATE = 1 << 2, /* no Content Template Sequence */
    HM_RDSR_QUIRK_IMPLICIT_VR = 1 << 3, /* implicit VR little endian */
    HM_RDSR_QUIRK_EMPTY       = 1 << 4, /* kVp and tube current present but empty */
    HM_RDSR_QUIRK_MGY_RP      = 1 << 5, /* reference-point air kerma in mGy */
    HM_RDSR_QUIRK_PER_PULSE   = 1 << 6  /* kVp written once per pulse (several NUMs) */
};
/* Parses "gym2,dgycm2,..." into HM_RDSR_QUIRK_ bits; -1 on an unknown name. */
int hm_rdsr_quirks_parse(const char *list);

typedef struct hm_rdsr_synth_spec {
    int         nevents;             /* events in this report */
    int         first_event;         /* index of the first event (continued reports) */
    int         biplane;             /* alternate events between planes A and B */
    int         radiography;         /* DX: single exposures referencing DX images */
    unsigned    seed;                /* event values are a function of (seed, index) */
    unsigned    quirks;              /* HM_RDSR_QUIRK_* */
    const char *study_uid;           /* NULL: derived from seed */
    const char *patient_id;          /* NULL: "SYN" + seed */
    const char *birth_date;          /* NULL: "20190315" */
    const char *sex;                 /* NULL: "F" */
    const char *study_date;          /* NULL: "20230611" */
} hm_rdsr_synth_spec;

/* What the generator wrote, in canonical units, for tests to check. */
typedef struct hm_rdsr_synth_truth {
    int    events_per_plane[HM_RDSR_NPLANES];
    double kap_gy_cm2[HM_RDSR_NPLANES];
    double rp_mgy[HM_RDSR_NPLANES];
    double kap_total_gy_cm2;
    double first_kvp_kv;             /* kVp of the first event (mean over pulses) */
} hm_rdsr_synth_truth;

int hm_rdsr_synth_write(const char *path, const hm_rdsr_synth_spec *spec,
                        hm_rdsr_synth_truth *truth, hm_error *err);

/* ---- registry import ------------------------------------------------- */

/* Storing a mapped report in the registry (hm_registry.h), pseudonymised
 * with the study key (hm_pseudo.h) before anything is written:
 *  - patient: pseudonym = HMAC of the Patient ID (namespace "patient"); sex,
 *    birth year kept; the birth date itself is not stored (PS3.15 Retain
 *    Patient Characteristics; dates as offsets).  An existing patient row is
 *    kept as it is.
 *  - procedure: procedure_id = study_uid = HMAC UID of the Study Instance
 *    UID; age in days, weight, height, totals, device; proc_day = days since
 *    birth.
 *  - irradiation_event: one row per event keyed by its pseudonymised UID;
 *    an event already stored is skipped, so repeated, continued or
 *    cumulative reports of a study add only their new events (and add those
 *    events' doses to the procedure totals).
 * One transaction: all or nothing. */
struct hm_db;
struct hm_pseudo_key;

typedef struct hm_rdsr_import_opts {
    const char *centre;                 /* centre_code of every row */
    const struct hm_pseudo_key *key;    /* study key */
    const char *exam_type;              /* procedure.exam_type for new procedures ("other") */
    const char *category;               /* procedure.category for new procedures ("diagnostic") */
} hm_rdsr_import_opts;

typedef struct hm_rdsr_import_result {
    int    events_in_file;
    int    events_added;             /* new event UIDs stored */
    int    procedure_added;          /* 1 when the study was new */
    int    patient_added;            /* 1 when the patient was new */
    char   procedure_id[68];         /* the pseudonymised study UID */
} hm_rdsr_import_result;

/* Available when harmonic is built with the registry and pseudo subsystems
 * (HM_RDSR_IMPORT defined). */
int hm_rdsr_import(struct hm_db *db, const hm_rdsr_import_opts *opts, const hm_rdsr_report *rep,
                   hm_rdsr_import_result *res, hm_error *err);

/* The reports reps[0..n) in one transaction, each in a savepoint: HM_OK
 * with res[i] for all, or HM_EVALIDATE when any report failed (errs[i].code
 * set for those; nothing stored), or another error.  before_commit (NULL:
 * none) runs inside the transaction just before COMMIT (the server's audit
 * entry); its failure rolls everything back. */
typedef int (*hm_rdsr_before_commit)(struct hm_db *db, void *arg, hm_error *err);
int hm_rdsr_import_batch(struct hm_db *db, const hm_rdsr_import_opts *opts,
                         hm_rdsr_report *const *reps, size_t n, hm_rdsr_import_result *res,
                         hm_error *errs, hm_rdsr_before_commit before_commit, void *arg,
                         hm_error *err);

#endif
