/*
 * rt_import.c — courses read by course.c into the registry (hm_rt_import,
 * docs/rt.md "Import"): pseudonymisation, course identity and versions, one
 * transaction.  The SQL is in rt_store.c.
 *
 * Pseudonymisation follows the RDSR path (rdsr_import.c, PS3.15 Annex E
 * "Retain Longitudinal Temporal Information with Modified Dates"): the
 * PatientID becomes the patient table's HMAC pseudonym (namespace
 * "patient"), every UID an HMAC-derived 2.25 UID (hm_pseudo_uid: SOP
 * instances in namespace "sop_uid", the CT series in "series_uid", the study
 * in "study_uid"), the plan date a day offset from birth; names, IDs, dates
 * and UIDs in clear are never bound to a statement.
 *
 * Course identity (the lineage rule, docs/rt.md):
 *   1. a plan whose pseudonymised UID is stored: the same course (unchanged
 *      when dose, structure set and content digest agree, else a version);
 *   2. a plan whose Referenced RT Plan Sequence (300C,0002) names a
 *      PREDECESSOR (REVISION in older files) that is stored: a new version
 *      of the predecessor's course (PS3.3 C.8.8.9, RT General Plan);
 *   3. a plan of the same patient, Study Instance UID and RT Plan Label as a
 *      stored one (the TPS exported a revision without the reference): a new
 *      version of that course;
 *   4. otherwise a new course, course_id = HMAC(key, "rt_course",
 *      pseudonym ":" root), root = the pseudonymised predecessor UID when the
 *      plan names one, else its own: a predecessor imported later gets the
 *      same course_id by rule 4, so the order of imports does not matter for
 *      a two-plan lineage.
 * Within one run, a plan is stored after the plans of the run it revises.
 *
 * The diagnosis, which DICOM RT lacks, comes from the options (one for every
 * new course of the run) or from a diagnoses file (rt_diagnoses.c): each
 * course takes its patient's row, found by the pseudonym; every course's
 * patient needs one before the transaction opens.
 */
#include "rt_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hm_rt_import_status_name(int status)
{
    switch (status) {
    case HM_RT_IMPORT_NEW_COURSE: return "new course";
    case HM_RT_IMPORT_NEW_VERSION: return "new version";
    case HM_RT_IMPORT_UNCHANGED: return "unchanged";
    default: return "?";
    }
}

/* "YYYYMMDD" to days since 1970-01-01; 0 and *ok = 0 when not a date. */
static long dicom_days(const char *s, int *ok)
{
    int y, m, d;
    *ok = strlen(s) >= 8 && sscanf(s, "%4d%2d%2d", &y, &m, &d) == 3 && m >= 1 && m <= 12
          && d >= 1 && d <= 31;
    return *ok ? hm_date_from_ymd(y, m, d) : 0;
}

/* Keyed digest of the course's plan, structure set and dose files: a
 * re-import of the same files is recognised, and the digest says nothing
 * about the files to whoever lacks the key. */
static int digest_files(const hm_pseudo_key *key, const hm_rt_course *c, char hex[65],
                        hm_error *err)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key->key, key->key_len);
    const char *paths[3] = { c->plan_path, c->struct_path, c->dose_path };
    unsigned char buf[65536];
    for (int i = 0; i < 3; i++) {
        FILE *fp = fopen(paths[i], "rb");
        if (!fp)
            return hm_error_set(err, HM_EIO, paths[i], 0, NULL, "cannot read the file again");
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
            crypto_auth_hmacsha256_update(&st, buf, n);
        int bad = ferror(fp);
        fclose(fp);
        if (bad)
            return hm_error_set(err, HM_EIO, paths[i], 0, NULL, "read error");
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\0", 1);  /* file boundary */
    }
    unsigned char mac[32];
    crypto_auth_hmacsha256_final(&st, mac);
    hm_pseudo_hex(mac, 32, hex);
    return HM_OK;
}

static int puid(const hm_pseudo_key *k, const char *ns, const char *uid, char out[HM_PSEUDO_UID_SIZE],
                const char *file, const char *field, hm_error *err)
{
    out[0] = '\0';
    if (!uid[0])
        return HM_OK;
    int rc = hm_pseudo_uid(k, ns, uid, out, err);
    if (rc && err) {
        snprintf(err->file, sizeof err->file, "%.*s", (int)sizeof err->file - 1, file);
        snprintf(err->field, sizeof err->field, "%s", field);
    }
    return rc;
}

static int pseudonymise(const hm_rt_import_opts *o, const hm_rt_course *c, rt_pcourse *p,
                        hm_error *err)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    const hm_pseudo_key *k = o->key;
    if (c->nwb <= 0)
        return hm_error_set(err, HM_EINVAL, c->plan_path, 0, "whole_body",
                            "the course has no whole-body organ table to store");
    int rc = hm_pseudo_id(k, "patient", c->patient_id, p->pseudonym, err);
    if (rc) {
        if (err) {
            snprintf(err->file, sizeof err->file, "%.*s", (int)sizeof err->file - 1, c->plan_path);
            snprintf(err->field, sizeof err->field, "PatientID (0010,0020)");
        }
        return rc;
    }
    if ((rc = puid(k, "sop_uid", c->plan_uid, p->plan_uid, c->plan_path,
                   "SOPInstanceUID (0008,0018)", err))
        || (rc = puid(k, "sop_uid", c->dose_uid, p->dose_uid, c->dose_path,
                      "SOPInstanceUID (0008,0018)", err))
        || (rc = puid(k, "sop_uid", c->struct_uid, p->struct_uid, c->struct_path,
                      "SOPInstanceUID (0008,0018)", err))
        || (rc = puid(k, "sop_uid", c->predecessor_uid, p->predecessor_uid, c->plan_path,
                      "ReferencedSOPInstanceUID (0008,1155)", err))
        || (rc = puid(k, "series_uid", c->ct_series_uid, p->ct_series_uid, c->struct_path,
                      "SeriesInstanceUID (0020,000E)", err))
        || (rc = puid(k, "study_uid", c->study_uid, p->study_uid, c->plan_path,
                      "StudyInstanceUID (0020,000D)", err)))
        return rc;
    if (!p->plan_uid[0] || !p->dose_uid[0] || !p->struct_uid[0])
        return hm_error_set(err, HM_EVALIDATE, !p->plan_uid[0] ? c->plan_path
                                               : !p->dose_uid[0] ? c->dose_path : c->struct_path,
                            0, "SOPInstanceUID (0008,0018)",
                            "no SOP Instance UID: the object cannot be identified; re-export it");
    /* The lineage key of rule 3; without a label it is the plan's own UID,
     * which matches nothing else. */
    char lin[400];
    if (c->plan_label[0])
        snprintf(lin, sizeof lin, "%s|%s|%s", c->patient_id, c->study_uid, c->plan_label);
    else
        snprintf(lin, sizeof lin, "%s|%s", c->patient_id, c->plan_uid);
    if ((rc = hm_pseudo_id(k, "rt_lineage", lin, p->lineage_key, err)))
        return rc;
    int have_birth, have_day;
    long birth = dicom_days(c->birth_date, &have_birth);
    long day = dicom_days(c->plan_date[0] ? c->plan_date : c->study_date, &have_day);
    if (!have_birth)
        return hm_error_set(err, HM_EVALIDATE, c->plan_path, 0, "PatientBirthDate (0010,0030)",
                            "no birth date: dates are stored only as days since birth; export "
                            "the plan with the patient's birth date");
    if (!have_day)
        return hm_error_set(err, HM_EVALIDATE, c->plan_path, 0, "RTPlanDate (300A,0006)",
                            "neither RT Plan Date nor Study Date: the course cannot be placed in "
                            "time");
    p->start_day = day - birth;
    p->birth_days = birth;
    return digest_files(k, c, p->digest, err);
}

/* Rules 1-4 of the header, then the write. */
static int import_one(hm_db *db, const hm_rt_import_opts *o, const rt_pcourse *p,
                      hm_rt_import_result *res, hm_error *err)
{
    const char *centre = o->centre;
    int rc = rt__patient_exists(db, centre, p->pseudonym, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hm_error_set(err, HM_EVALIDATE, p->c->plan_path, 0, "PatientID (0010,0020)",
                            "patient %.12s... is not registered for centre %s: import the patient "
                            "first (harmonic import --db URL --centre %s patient FILE.csv, "
                            "pseudonymised with the same study key)", p->pseudonym, centre,
                            centre);
    rt_found f;
    memset(&f, 0, sizeof f);
    char course[72] = "";
    rc = rt__find_plan(db, centre, p->plan_uid, &f, err);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        snprintf(res->course_id, sizeof res->course_id, "%s", f.course_id);
        if (!strcmp(f.dose_uid, p->dose_uid) && !strcmp(f.struct_uid, p->struct_uid)
            && !strcmp(f.digest, p->digest)) {
            res->version = f.version;
            res->status = HM_RT_IMPORT_UNCHANGED;
            snprintf(res->lineage, sizeof res->lineage, "same files");
            return HM_OK;
        }
        snprintf(course, sizeof course, "%s", f.course_id);
        snprintf(res->lineage, sizeof res->lineage, "same plan, new dose or structures");
    }
    if (!course[0] && p->predecessor_uid[0]) {
        if ((rc = rt__find_plan(db, centre, p->predecessor_uid, &f, err)) < 0)
            return rc;
        if (rc == 1) {
            snprintf(course, sizeof course, "%s", f.course_id);
            snprintf(res->lineage, sizeof res->lineage, "revises a stored plan");
        }
    }
    if (!course[0]) {
        if ((rc = rt__find_lineage(db, centre, p->lineage_key, course, err)) < 0)
            return rc;
        if (rc == 1)
            snprintf(res->lineage, sizeof res->lineage, "same study and plan label");
    }
    int version = 0;
    if (course[0]) {
        if ((rc = rt__max_version(db, centre, course, &version, err)))
            return rc;
        res->status = HM_RT_IMPORT_NEW_VERSION;
    } else {
        char msg[200];
        snprintf(msg, sizeof msg, "%s:%s", p->pseudonym,
                 p->predecessor_uid[0] ? p->predecessor_uid : p->plan_uid);
        if ((rc = hm_pseudo_id(o->key, "rt_course", msg, course, err)))
            return rc;
        /* The root's course may exist already (rule 4 for a predecessor
         * whose files came later and whose own UID is the root). */
        if ((rc = rt__max_version(db, centre, course, &version, err)))
            return rc;
        res->status = version ? HM_RT_IMPORT_NEW_VERSION : HM_RT_IMPORT_NEW_COURSE;
        snprintf(res->lineage, sizeof res->lineage, version ? "same lineage root" : "new");
    }
    snprintf(res->course_id, sizeof res->course_id, "%s", course);
    res->version = version + 1;
    rc = rt__store_version(db, o, p, course, res->version, res, err);
    if (rc && err && !strchr(err->file, '/')) {
        /* Registry messages name the table as the file: say which course. */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "table %.60s: %.400s", err->file, err->msg);
        memcpy(err->msg, msg, sizeof msg);
        snprintf(err->file, sizeof err->file, "%.*s", (int)sizeof err->file - 1, p->c->plan_path);
    }
    return rc;
}

/* The diagnosis of course p from the diagnoses file into oc (a copy of o
 * for this course only): the clear date, when the file has days since
 * birth, is rebuilt from the DICOM birth date in memory, as rt_store.c
 * stores only diag_day = date - birth.  A course without its patient's row,
 * or planned before its diagnosis, is an error naming both files. */
static int course_diagnosis(const hm_rt_import_opts *o, const rt_pcourse *p,
                            hm_rt_import_opts *oc, char date[11], hm_error *err)
{
    *oc = *o;
    if (!o->diagnoses)
        return HM_OK;
    const hm_rt_diagnoses *ds = o->diagnoses;
    const hm_rt_diagnosis *d = hm_rt_diagnoses_find(ds, p->pseudonym);
    if (!d)
        return hm_error_set(err, HM_EVALIDATE, p->c->plan_path, 0, "PatientID (0010,0020)",
                            "patient %.12s... has a course and no row in the diagnoses file %.300s: "
                            "add the patient's diagnosis (its local_patient_id or pseudonym, "
                            "diag_topography, diag_morphology, diag_date)", p->pseudonym,
                            ds->path);
    long days = d->has_date ? d->date_days : p->birth_days + d->day;
    if (days - p->birth_days > p->start_day)
        return hm_error_set(err, HM_EVALIDATE, ds->path, d->line,
                            d->has_date ? "diag_date" : "diag_day",
                            "the diagnosis is %ld days after the plan date of %.300s: check the "
                            "date (or the patient id)", days - p->birth_days - p->start_day,
                            p->c->plan_path);
    hm_date_format(days, date);
    oc->diag_topography = d->topography;
    oc->diag_morphology = d->morphology;
    oc->diag_date = date;
    return HM_OK;
}

/* Order: a plan after the plans of the run that it revises. */
static void order_courses(const rt_pcourse *p, size_t n, size_t *order)
{
    int *done = calloc(n ? n : 1, sizeof *done);
    if (!done) {                          /* no memory: file order */
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        return;
    }
    size_t k = 0;
    while (k < n) {
        size_t before = k;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            int waits = 0;
            for (size_t j = 0; j < n && !waits; j++)
                waits = !done[j] && j != i && p[i].predecessor_uid[0]
                        && !strcmp(p[i].predecessor_uid, p[j].plan_uid);
            if (!waits) {
                order[k++] = i;
                done[i] = 1;
            }
        }
        for (size_t i = 0; k == before && i < n; i++)   /* a cycle: file order */
            if (!done[i]) {
                order[k++] = i;
                done[i] = 1;
            }
    }
    free(done);
}

int hm_rt_import(hm_db *db, const hm_rt_import_opts *o, const hm_rt_course *courses, size_t n,
                 hm_rt_import_result *res, hm_error *err)
{
    if (!o || !o->centre || !o->centre[0] || !o->key)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "centre", "a centre and a study key are needed");
    if (o->diagnoses && (o->diag_topography || o->diag_morphology || o->diag_date))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "diagnoses",
                            "give either a diagnoses file or --diag-topography, "
                            "--diag-morphology and --diag-date, not both");
    memset(res, 0, n * sizeof *res);
    rt_pcourse *p = calloc(n ? n : 1, sizeof *p);
    size_t *order = calloc(n ? n : 1, sizeof *order);
    int rc = p && order ? HM_OK : hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t i = 0; rc == HM_OK && i < n; i++)
        rc = pseudonymise(o, &courses[i], &p[i], err);
    for (size_t i = 0; rc == HM_OK && i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p[i].plan_uid, p[j].plan_uid)) {
                rc = hm_error_set(err, HM_EVALIDATE, courses[i].plan_path, 0,
                                  "SOPInstanceUID (0008,0018)",
                                  "the same RT Plan as %s: give each plan once",
                                  courses[j].plan_path);
                break;
            }
    /* Every course's patient has a diagnosis row before anything is written. */
    hm_rt_import_opts *oc = calloc(n ? n : 1, sizeof *oc);
    char (*dates)[11] = calloc(n ? n : 1, sizeof *dates);
    if (rc == HM_OK && (!oc || !dates))
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t i = 0; rc == HM_OK && i < n; i++)
        rc = course_diagnosis(o, &p[i], &oc[i], dates[i], err);
    if (rc == HM_OK) {
        order_courses(p, n, order);
        rc = hm_db_begin(db, err);
    }
    if (rc == HM_OK) {
        for (size_t k = 0; rc == HM_OK && k < n; k++)
            rc = import_one(db, &oc[order[k]], &p[order[k]], &res[order[k]], err);
        if (rc == HM_OK && o->before_commit)
            rc = o->before_commit(db, o->before_commit_arg, err);
        if (rc == HM_OK)
            rc = hm_db_commit(db, err);
        if (rc) {
            hm_db_rollback(db, NULL);
            memset(res, 0, n * sizeof *res);
        }
    }
    sodium_memzero(p, (n ? n : 1) * sizeof *p);
    if (dates)
        sodium_memzero(dates, (n ? n : 1) * sizeof *dates);
    free(dates);
    free(oc);
    free(p);
    free(order);
    return rc;
}
