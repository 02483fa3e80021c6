/* rt_store.h — between rt_import.c (pseudonymisation, course identity) and
 * rt_store.c (the SQL of the RT tables).  Internal to hm_rt. */
#ifndef HM_RT_STORE_H
#define HM_RT_STORE_H

#include "hm_pseudo.h"
#include "hm_registry.h"
#include "hm_rt.h"

/* A course with every identifier pseudonymised and every date a day offset:
 * all that reaches the database. */
typedef struct rt_pcourse {
    const hm_rt_course *c;            /* values (DVHs, organ table, plan summary) */
    char pseudonym[HM_PSEUDO_HEX_SIZE];
    char plan_uid[HM_PSEUDO_UID_SIZE], dose_uid[HM_PSEUDO_UID_SIZE];
    char struct_uid[HM_PSEUDO_UID_SIZE], ct_series_uid[HM_PSEUDO_UID_SIZE];
    char study_uid[HM_PSEUDO_UID_SIZE], predecessor_uid[HM_PSEUDO_UID_SIZE];
    char lineage_key[HM_PSEUDO_HEX_SIZE];
    char digest[HM_PSEUDO_HEX_SIZE];
    long start_day;                   /* plan (else study) date - birth date */
    long birth_days;                  /* the birth date (never stored): for diag_day */
} rt_pcourse;

/* A stored version of the plan, found by its pseudonymised plan UID. */
typedef struct rt_found {
    char course_id[72];
    int  version;
    char dose_uid[HM_PSEUDO_UID_SIZE], struct_uid[HM_PSEUDO_UID_SIZE];
    char digest[HM_PSEUDO_HEX_SIZE];
} rt_found;

/* 1 and *f filled when a version of plan_uid is stored (the newest), 0 when
 * none, < 0 on a database error. */
int rt__find_plan(hm_db *db, const char *centre, const char *plan_uid, rt_found *f,
                  hm_error *err);
/* The course of a version with lineage_key (1 / 0 / < 0), course_id filled. */
int rt__find_lineage(hm_db *db, const char *centre, const char *lineage_key,
                     char course_id[72], hm_error *err);
/* 1 when the patient is registered for the centre. */
int rt__patient_exists(hm_db *db, const char *centre, const char *pseudonym, hm_error *err);
/* Highest stored version of the course (0 when none). */
int rt__max_version(hm_db *db, const char *centre, const char *course_id, int *version,
                    hm_error *err);
/* Writes version `version` of course_id: the rt_course row (created with
 * the diagnosis of o, or updated keeping its diagnosis), the version row and
 * the DVHs (older versions flagged not current), and the course's organ_dose
 * rows replaced by this version's whole-body table. */
int rt__store_version(hm_db *db, const hm_rt_import_opts *o, const rt_pcourse *p,
                      const char *course_id, int version, hm_rt_import_result *res,
                      hm_error *err);

#endif
