/*
 * rdsr_import.c — a mapped RDSR into the registry (patient, procedure,
 * irradiation_event rows), pseudonymised with the study key first.
 *
 * Identifiers never reach the database in clear: the Patient ID becomes an
 * HMAC pseudonym, the Study Instance UID and each Irradiation Event UID
 * become HMAC-derived 2.25 UIDs (hm_pseudo.h), the birth date is reduced to
 * the birth year and every date to days since birth (PS3.15 Annex E,
 * Retain Patient Characteristics and Longitudinal Temporal Information with
 * Modified Dates).  Rows are written through hm_registry_upsert_row, which
 * validates them against the data dictionary.
 */
#include "hm_pseudo.h"
#include "hm_rdsr.h"
#include "hm_registry.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROW_MAX 64

/* One row as parallel name/value arrays, values owned here. */
typedef struct row {
    const char *names[ROW_MAX];
    char        vals[ROW_MAX][256];
    const char *vptr[ROW_MAX];
    size_t      n;
} row;

static void row_set(row *r, const char *name, const char *value)
{
    size_t i;
    for (i = 0; i < r->n; i++)
        if (!strcmp(r->names[i], name))
            break;
    if (i == r->n) {
        if (r->n == ROW_MAX)
            return;
        r->names[r->n++] = name;
    }
    snprintf(r->vals[i], sizeof r->vals[i], "%s", value);
    r->vptr[i] = r->vals[i];
}

static void row_num(row *r, const char *name, double v, const char *fmt)
{
    if (isnan(v))
        return;
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    row_set(r, name, buf);
}

static const char *row_get(const row *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->names[i], name))
            return r->vals[i];
    return NULL;
}

/* Loads an existing row (by centre and one key field) into r; 1 if found.
 * Names are copied from the dictionary so they outlive the statement. */
static int row_load(hm_db *db, const char *table, const char *centre, const char *keyname,
                    const char *key, row *r, hm_error *err)
{
    const hm_dict_table *t = hm_dict_find_table(hm_db_dict(db), table);
    if (!t)
        return hm_error_set(err, HM_EDB, NULL, 0, "table", "registry has no table %s", table);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE centre_code = ? AND %s = ?", table, keyname);
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, centre);
    hm_stmt_bind_text(st, 2, key);
    rc = hm_stmt_step(st, err);
    if (rc == 1) {
        for (int c = 0; c < hm_stmt_column_count(st); c++) {
            int k = hm_dict_field_index(t, hm_stmt_column_name(st, c));
            if (k < 0 || hm_stmt_column_isnull(st, c))
                continue;
            row_set(r, t->fields[k].name, hm_stmt_column_text(st, c));
        }
    }
    hm_stmt_finalize(st);
    return rc;
}

static int exists_event(hm_db *db, const char *centre, const char *proc, const char *uid,
                        int *found, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT 1 FROM irradiation_event WHERE centre_code = ? "
                               "AND procedure_id = ? AND event_uid = ?", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, centre);
    hm_stmt_bind_text(st, 2, proc);
    hm_stmt_bind_text(st, 3, uid);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    *found = rc == 1;
    return 0;
}

/* "YYYYMMDD..." to days since 1970-01-01, or 0 with *ok = 0. */
static long dicom_days(const char *s, int *ok)
{
    int y, m, d;
    *ok = 0;
    if (strlen(s) < 8 || sscanf(s, "%4d%2d%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1
        || d > 31)
        return 0;
    *ok = 1;
    return hm_date_from_ymd(y, m, d);
}

/* Seconds since midnight of a DICOM DT "YYYYMMDDHHMMSS[.F]", or NAN. */
static double dicom_time_s(const char *dt)
{
    if (strlen(dt) < 12)
        return NAN;
    int h = 0, mi = 0;
    double sec = 0;
    if (sscanf(dt + 8, "%2d%2d", &h, &mi) != 2)
        return NAN;
    if (strlen(dt) >= 14)
        sec = strtod(dt + 12, NULL);
    if (h > 23 || mi > 59 || sec < 0 || sec >= 61)
        return NAN;
    return h * 3600.0 + mi * 60.0 + sec;
}

static int fail(hm_error *err, int code, const hm_rdsr_report *rep, const char *field,
                const char *msg)
{
    return hm_error_set(err, code, rep->source, 0, field, "%s", msg);
}

/* Lower-case with spaces as '_': "Stationary Acquisition" -> the
 * dictionary's "stationary_acquisition". */
static void code_of(const char *meaning, char *out, size_t size)
{
    size_t i = 0;
    for (; meaning[i] && i + 1 < size; i++) {
        char c = meaning[i];
        out[i] = c == ' ' || c == '-' ? '_' : (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out[i] = '\0';
}

static void units_note(const hm_rdsr_report *rep, char *out, size_t size)
{
    out[0] = '\0';
    size_t n = 0;
    for (size_t i = 0; i < rep->nnotes && n + 1 < size; i++) {
        const hm_rdsr_note *note = &rep->notes[i];
        if (note->kind == HM_RDSR_NOTE_MISSING
            || (strcmp(note->field, "kap_gy_cm2") && strcmp(note->field, "rp_air_kerma_mgy")))
            continue;
        int k = snprintf(out + n, size - n, "%s%s: %s", n ? "; " : "", note->field, note->msg);
        if (k < 0 || (size_t)k >= size - n)
            break;
        n += (size_t)k;
    }
}

static void event_row(row *r, const hm_rdsr_event *e, const char *centre, const char *proc,
                      const char *uid, long birth_days, int have_birth, const char *note)
{
    char buf[256];
    row_set(r, "centre_code", centre);
    row_set(r, "procedure_id", proc);
    row_set(r, "event_uid", uid);
    row_set(r, "plane", hm_rdsr_plane_name(e->plane));
    code_of(e->type, buf, sizeof buf);
    row_set(r, "event_type", buf);
    int ok;
    long day = dicom_days(e->datetime_started, &ok);
    if (ok && have_birth) {
        row_num(r, "event_day", (double)(day - birth_days), "%.0f");
        row_num(r, "event_time_s", dicom_time_s(e->datetime_started), "%.3f");
    }
    if (e->protocol[0])
        row_set(r, "protocol", e->protocol);
    row_num(r, "kvp", e->kvp_kv, "%.6g");
    row_num(r, "tube_current_ma", isnan(e->tube_current_ma) ? e->avg_tube_current_ma
                                                              : e->tube_current_ma, "%.6g");
    row_num(r, "pulse_width_ms", e->pulse_width_ms, "%.6g");
    row_num(r, "pulse_rate_per_s", e->pulse_rate_per_s, "%.6g");
    row_num(r, "n_pulses", e->number_of_pulses, "%.0f");
    row_num(r, "irradiation_duration_s", e->irradiation_duration_s, "%.6g");
    /* Filters by material: copper and aluminium thicknesses add up. */
    double cu = NAN, al = NAN;
    char other[256] = "";
    for (int i = 0; i < e->nfilters; i++) {
        const hm_rdsr_filter *f = &e->filters[i];
        double t = !isnan(f->thickness_max_mm) ? f->thickness_max_mm : f->thickness_min_mm;
        if (isnan(t))
            continue;
        if (strstr(f->material, "Copper") || strstr(f->material, "copper"))
            cu = isnan(cu) ? t : cu + t;
        else if (strstr(f->material, "Alumin") || strstr(f->material, "alumin"))
            al = isnan(al) ? t : al + t;
        else {
            size_t n = strlen(other);
            snprintf(other + n, sizeof other - n, "%s%.60s %.3g mm", n ? "; " : "", f->material, t);
        }
    }
    row_num(r, "filter_cu_mm", cu, "%.6g");
    row_num(r, "filter_al_mm", al, "%.6g");
    if (other[0])
        row_set(r, "filter_other", other);
    row_num(r, "field_width_mm", e->field_width_mm, "%.6g");
    row_num(r, "field_height_mm", e->field_height_mm, "%.6g");
    row_num(r, "field_area_cm2", e->field_area_cm2, "%.6g");
    row_num(r, "primary_angle_deg", e->primary_angle_deg, "%.6g");
    row_num(r, "secondary_angle_deg", e->secondary_angle_deg, "%.6g");
    row_num(r, "source_isocentre_mm", e->source_isocentre_mm, "%.6g");
    row_num(r, "source_detector_mm", e->source_detector_mm, "%.6g");
    row_num(r, "table_long_mm", e->table_longitudinal_mm, "%.6g");
    row_num(r, "table_lat_mm", e->table_lateral_mm, "%.6g");
    row_num(r, "table_height_mm", e->table_height_mm, "%.6g");
    row_num(r, "kap_gy_cm2", e->kap_gy_cm2, "%.10g");
    row_num(r, "air_kerma_rp_mgy", e->rp_air_kerma_mgy, "%.10g");
    if (e->patient_orientation[0] || e->patient_orientation_modifier[0]) {
        snprintf(buf, sizeof buf, "%s%s%s%s%s", e->patient_orientation,
                 e->patient_orientation_modifier[0] ? " " : "", e->patient_orientation_modifier,
                 e->patient_table_relationship[0] ? " " : "", e->patient_table_relationship);
        row_set(r, "patient_orientation", buf);
    }
    if (note[0])
        row_set(r, "units_note", note);
}

/* Registry errors name the table as the file: say which RDSR and row. */
static int retag(hm_error *err, int rc, const hm_rdsr_report *rep, const char *table, long line)
{
    if (!err)
        return rc;
    char msg[sizeof err->msg];
    memcpy(msg, err->msg, sizeof msg);
    int n = snprintf(err->msg, sizeof err->msg, "%s row%s: ", table, line ? " of this event" : "");
    if (n > 0 && (size_t)n < sizeof err->msg) {
        size_t room = sizeof err->msg - (size_t)n - 1, len = strnlen(msg, sizeof msg);
        memcpy(err->msg + n, msg, len < room ? len : room);
        err->msg[n + (len < room ? len : room)] = '\0';
    }
    snprintf(err->file, sizeof err->file, "%s", rep->source);
    err->line = line;
    return rc;
}

static double plane_sum(const hm_rdsr_report *rep, size_t off)
{
    double s = NAN;
    for (int p = 0; p < HM_RDSR_NPLANES; p++) {
        if (!rep->planes[p].present)
            continue;
        double v = *(const double *)((const char *)&rep->planes[p] + off);
        if (!isnan(v))
            s = isnan(s) ? v : s + v;
    }
    return s;
}

/* Adds v to a stored total (kept NULL if both are unknown). */
static void add_to(row *r, const char *name, double v, const char *fmt)
{
    if (isnan(v) || v == 0)
        return;
    const char *old = row_get(r, name);
    double base = old ? strtod(old, NULL) : 0;
    row_num(r, name, base + v, fmt);
}

static int store(hm_db *db, const hm_rdsr_import_opts *o, const hm_rdsr_report *rep,
                 hm_rdsr_import_result *res, hm_error *err)
{
    const char *centre = o->centre;
    char pseudonym[HM_PSEUDO_HEX_SIZE], proc[HM_PSEUDO_UID_SIZE], buf[64];
    /* The registry's procedures are catheterizations: a radiography report
     * is shown by `rdsr show` but never filed as one. */
    if (strcmp(rep->modality, "RF"))
        return fail(err, HM_EUNSUPPORTED, rep, "modality",
                    "radiography report (DX: no fluoroscopy, CR/DX images): not a "
                    "catheterization procedure, not imported");
    if (!rep->patient_id[0])
        return fail(err, HM_EVALIDATE, rep, "PatientID", "no Patient ID: cannot pseudonymise");
    if (!rep->study_uid[0])
        return fail(err, HM_EVALIDATE, rep, "StudyInstanceUID",
                    "no Study Instance UID: cannot key the procedure");
    int rc = hm_pseudo_id(o->key, "patient", rep->patient_id, pseudonym, err);
    if (!rc)
        rc = hm_pseudo_uid(o->key, "study_uid", rep->study_uid, proc, err);
    if (rc)
        return rc;
    snprintf(res->procedure_id, sizeof res->procedure_id, "%s", proc);
    int have_birth = 0, have_study = 0;
    long birth = dicom_days(rep->birth_date, &have_birth);
    long study = dicom_days(rep->study_date, &have_study);

    /* Patient: created when new, otherwise left as the registry has it. */
    row *pr = calloc(1, sizeof *pr);
    row *pc = calloc(1, sizeof *pc);
    row *ev = calloc(1, sizeof *ev);
    int *isnew = calloc(rep->nevents + 1, sizeof *isnew);
    char (*uids)[HM_PSEUDO_UID_SIZE] = calloc(rep->nevents + 1, sizeof *uids);
    char *note = calloc(1, 256);
    if (!pr || !pc || !ev || !isnew || !uids || !note) {
        rc = hm_error_set(err, HM_ENOMEM, rep->source, 0, NULL, "out of memory");
        goto done;
    }
    rc = row_load(db, "patient", centre, "pseudonym", pseudonym, pr, err);
    if (rc < 0)
        goto done;
    if (rc == 0) {
        if (!have_birth) {
            rc = fail(err, HM_EVALIDATE, rep, "PatientBirthDate",
                      "patient not yet in the registry and the report has no birth date");
            goto done;
        }
        res->patient_added = 1;
        row_set(pr, "centre_code", centre);
        row_set(pr, "pseudonym", pseudonym);
        snprintf(buf, sizeof buf, "%d", o->key->version);
        row_set(pr, "key_version", buf);
        row_set(pr, "cohort", "cardiac");
        row_set(pr, "sex", !strcmp(rep->sex, "M") ? "M" : !strcmp(rep->sex, "F") ? "F" : "U");
        snprintf(buf, sizeof buf, "%.4s", rep->birth_date);
        row_set(pr, "birth_year", buf);
        row_set(pr, "syndrome", "unknown");
        row_set(pr, "consent", "unknown");
        rc = hm_registry_upsert_row(db, centre, "patient", pr->names, pr->vptr, pr->n, err);
        if (rc) {
            retag(err, rc, rep, "patient", 0);
            goto done;
        }
    }
    if (have_birth && !have_study) {
        rc = fail(err, HM_EVALIDATE, rep, "StudyDate", "no study date: cannot give the day offset");
        goto done;
    }
    if (!have_birth) {
        /* Without the birth date nothing can be placed in time (dates are
         * stored only as days since birth). */
        rc = fail(err, HM_EVALIDATE, rep, "PatientBirthDate",
                  "no birth date: dates cannot be stored as days since birth");
        goto done;
    }

    /* Which events are new?  Keys are the pseudonymised event UIDs. */
    for (size_t i = 0; i < rep->nevents; i++) {
        rc = hm_pseudo_uid(o->key, "event_uid", rep->events[i].uid, uids[i], err);
        if (rc) {
            err->line = (long)i + 1;
            goto done;
        }
        int found;
        if ((rc = exists_event(db, centre, proc, uids[i], &found, err)))
            goto done;
        for (size_t j = 0; j < i && !found; j++)
            found = !strcmp(uids[j], uids[i]);     /* a UID twice in one file */
        isnew[i] = !found;
    }

    /* Procedure: created from the report's accumulated totals; an existing
     * one gets the doses of the new events added. */
    rc = row_load(db, "procedure", centre, "procedure_id", proc, pc, err);
    if (rc < 0)
        goto done;
    res->procedure_added = rc == 0;
    row_set(pc, "centre_code", centre);
    row_set(pc, "procedure_id", proc);
    row_set(pc, "pseudonym", pseudonym);
    row_num(pc, "proc_day", (double)(study - birth), "%.0f");
    row_num(pc, "age_days", (double)(study - birth), "%.0f");
    row_num(pc, "weight_kg", rep->weight_kg, "%.6g");
    row_num(pc, "height_cm", rep->height_m * 100.0, "%.6g");
    row_set(pc, "study_uid", proc);
    if (rep->manufacturer[0])
        row_set(pc, "device_manufacturer", rep->manufacturer);
    if (rep->model[0])
        row_set(pc, "device_model", rep->model);
    row_set(pc, "dose_tier", "1");
    if (res->procedure_added) {
        row_set(pc, "exam_type", o->exam_type ? o->exam_type : "other");
        row_set(pc, "category", o->category ? o->category : "diagnostic");
        row_num(pc, "kap_total_gy_cm2", rep->kap_total_gy_cm2, "%.10g");
        row_num(pc, "fluoro_time_s", plane_sum(rep, offsetof(hm_rdsr_accum, fluoro_time_s)), "%.6g");
        row_num(pc, "cine_frames", plane_sum(rep, offsetof(hm_rdsr_accum, frames)), "%.0f");
        row_num(pc, "air_kerma_rp_mgy", rep->rp_total_mgy, "%.10g");
    } else {
        for (size_t i = 0; i < rep->nevents; i++) {
            const hm_rdsr_event *e = &rep->events[i];
            if (!isnew[i])
                continue;
            add_to(pc, "kap_total_gy_cm2", e->kap_gy_cm2, "%.10g");
            add_to(pc, "air_kerma_rp_mgy", e->rp_air_kerma_mgy, "%.10g");
            if (strstr(e->type, "luoro"))
                add_to(pc, "fluoro_time_s", e->irradiation_duration_s, "%.6g");
            else
                add_to(pc, "cine_frames", e->number_of_pulses, "%.0f");
        }
    }
    rc = hm_registry_upsert_row(db, centre, "procedure", pc->names, pc->vptr, pc->n, err);
    if (rc) {
        retag(err, rc, rep, "procedure", 0);
        goto done;
    }

    units_note(rep, note, 256);
    for (size_t i = 0; i < rep->nevents; i++) {
        if (!isnew[i])
            continue;
        memset(ev, 0, sizeof *ev);
        event_row(ev, &rep->events[i], centre, proc, uids[i], birth, have_birth, note);
        rc = hm_registry_upsert_row(db, centre, "irradiation_event", ev->names, ev->vptr, ev->n,
                                    err);
        if (rc) {
            retag(err, rc, rep, "irradiation_event", (long)i + 1);  /* event's position */
            goto done;
        }
        res->events_added++;
    }
done:
    free(pr);
    free(pc);
    free(ev);
    free(isnew);
    free(uids);
    free(note);
    return rc;
}

int hm_rdsr_import(struct hm_db *db, const hm_rdsr_import_opts *opts, const hm_rdsr_report *rep,
                   hm_rdsr_import_result *res, hm_error *err)
{
    memset(res, 0, sizeof *res);
    res->events_in_file = (int)rep->nevents;
    int rc = hm_db_begin(db, err);
    if (rc)
        return rc;
    rc = store(db, opts, rep, res, err);
    if (rc == 0)
        rc = hm_db_commit(db, err);
    if (rc) {
        hm_db_rollback(db, NULL);
        res->events_added = res->procedure_added = res->patient_added = 0;
        if (err && !err->file[0])
            snprintf(err->file, sizeof err->file, "%s", rep->source);
    }
    return rc;
}

/* A batch in ONE transaction (the server's RDSR submissions): each report
 * in a savepoint, so every failing report is named in errs[i] (code != 0)
 * while the others are still checked; any failure rolls the whole batch
 * back.  before_commit (may be NULL) runs inside the transaction just
 * before COMMIT: the server's audit entry commits with the rows or not at
 * all. */
int hm_rdsr_import_batch(struct hm_db *db, const hm_rdsr_import_opts *opts,
                         hm_rdsr_report *const *reps, size_t n, hm_rdsr_import_result *res,
                         hm_error *errs, hm_rdsr_before_commit before_commit, void *arg,
                         hm_error *err)
{
    memset(res, 0, n * sizeof *res);
    int rc = hm_db_begin(db, err);
    if (rc)
        return rc;
    size_t failed = 0;
    for (size_t i = 0; rc == HM_OK && i < n; i++) {
        hm_error_clear(&errs[i]);
        res[i].events_in_file = (int)reps[i]->nevents;
        rc = hm_db_exec(db, "SAVEPOINT hm_rdsr_file", err);
        if (rc)
            break;
        int frc = store(db, opts, reps[i], &res[i], &errs[i]);
        if (frc == HM_OK) {
            rc = hm_db_exec(db, "RELEASE SAVEPOINT hm_rdsr_file", err);
            continue;
        }
        if (!errs[i].file[0])
            snprintf(errs[i].file, sizeof errs[i].file, "%s", reps[i]->source);
        errs[i].code = frc;
        failed++;
        memset(&res[i], 0, sizeof res[i]);
        rc = hm_db_exec(db, "ROLLBACK TO SAVEPOINT hm_rdsr_file", err);
        if (rc == HM_OK)
            rc = hm_db_exec(db, "RELEASE SAVEPOINT hm_rdsr_file", err);
    }
    if (rc == HM_OK && failed)
        rc = hm_error_set(err, HM_EVALIDATE, NULL, 0, NULL,
                          "%zu of %zu reports refused: nothing stored", failed, n);
    if (rc == HM_OK && before_commit)
        rc = before_commit(db, arg, err);
    if (rc == HM_OK)
        rc = hm_db_commit(db, err);
    if (rc) {
        hm_db_rollback(db, NULL);
        memset(res, 0, n * sizeof *res);
    }
    return rc;
}
