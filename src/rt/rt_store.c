/*
 * rt_store.c — the SQL of an imported RT course (schema 005 and the
 * rt_course / organ_dose rows of 001), through the registry's db layer, so
 * SQLite and PostgreSQL run the same statements.  The caller (rt_import.c)
 * holds the transaction.  rt_course and organ_dose rows go through
 * hm_registry_upsert_row, which validates them against the dictionary (code
 * lists, ranges, the patient and course references); the computed tables
 * rt_course_version and rt_dvh are written directly, as dose_store.c writes
 * its tables.  The cumulative DVH is packed as little-endian float32, as
 * organ_dose_real's realizations are (dose_store.c), so the bytes are the
 * same on every host and back end.
 */
#include "rt_store.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROW_MAX 32

/* One row as parallel name/value arrays (values owned here). */
typedef struct row {
    const char *names[ROW_MAX];
    char        vals[ROW_MAX][96];
    const char *vptr[ROW_MAX];
    size_t      n;
} row;

static void row_set(row *r, const char *name, const char *value)
{
    size_t i;
    for (i = 0; i < r->n && strcmp(r->names[i], name); i++)
        ;
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
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    row_set(r, name, buf);
}

static int query1(hm_db *db, const char *sql, const char *a, const char *b, hm_stmt **st,
                  hm_error *err)
{
    int rc = hm_db_prepare(db, sql, st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(*st, 1, a);
    if (b)
        hm_stmt_bind_text(*st, 2, b);
    rc = hm_stmt_step(*st, err);
    if (rc < 0) {
        hm_stmt_finalize(*st);
        *st = NULL;
    }
    return rc;
}

static void copy_col(hm_stmt *st, int col, char *dst, size_t size)
{
    const char *s = hm_stmt_column_isnull(st, col) ? "" : hm_stmt_column_text(st, col);
    snprintf(dst, size, "%s", s ? s : "");
}

int rt__find_plan(hm_db *db, const char *centre, const char *plan_uid, rt_found *f,
                  hm_error *err)
{
    hm_stmt *st;
    int rc = query1(db, "SELECT course_id, version, dose_uid, struct_uid, content_digest FROM "
                        "rt_course_version WHERE centre_code = ? AND plan_uid = ? "
                        "ORDER BY version DESC", centre, plan_uid, &st, err);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        copy_col(st, 0, f->course_id, sizeof f->course_id);
        f->version = (int)hm_stmt_column_int64(st, 1);
        copy_col(st, 2, f->dose_uid, sizeof f->dose_uid);
        copy_col(st, 3, f->struct_uid, sizeof f->struct_uid);
        copy_col(st, 4, f->digest, sizeof f->digest);
    }
    hm_stmt_finalize(st);
    return rc;
}

int rt__find_lineage(hm_db *db, const char *centre, const char *lineage_key,
                     char course_id[72], hm_error *err)
{
    hm_stmt *st;
    int rc = query1(db, "SELECT course_id FROM rt_course_version WHERE centre_code = ? AND "
                        "lineage_key = ? ORDER BY version DESC", centre, lineage_key, &st, err);
    if (rc == 1)
        copy_col(st, 0, course_id, 72);
    if (rc >= 0)
        hm_stmt_finalize(st);
    return rc;
}

int rt__patient_exists(hm_db *db, const char *centre, const char *pseudonym, hm_error *err)
{
    hm_stmt *st;
    int rc = query1(db, "SELECT 1 FROM patient WHERE centre_code = ? AND pseudonym = ?", centre,
                    pseudonym, &st, err);
    if (rc >= 0)
        hm_stmt_finalize(st);
    return rc;
}

int rt__max_version(hm_db *db, const char *centre, const char *course_id, int *version,
                    hm_error *err)
{
    hm_stmt *st;
    int rc = query1(db, "SELECT MAX(version) FROM rt_course_version WHERE centre_code = ? AND "
                        "course_id = ?", centre, course_id, &st, err);
    if (rc < 0)
        return rc;
    *version = rc == 1 ? (int)hm_stmt_column_int64(st, 0) : 0;   /* NULL reads as 0 */
    hm_stmt_finalize(st);
    return HM_OK;
}

static int exec2(hm_db *db, const char *sql, const char *a, const char *b, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, a);
    hm_stmt_bind_text(st, 2, b);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

/* The rt_course row: an existing course keeps what DICOM cannot know (its
 * diagnosis, end day); the rest follows the new version. */
static int store_course_row(hm_db *db, const hm_rt_import_opts *o, const rt_pcourse *p,
                            const char *course_id, int exists, hm_error *err)
{
    row *r = calloc(1, sizeof *r);
    if (!r)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int rc = HM_OK;
    if (exists) {
        hm_stmt *st;
        rc = query1(db, "SELECT diag_topography, diag_morphology, diag_day, end_day FROM "
                        "rt_course WHERE centre_code = ? AND course_id = ?", o->centre, course_id,
                    &st, err);
        if (rc == 1) {
            static const char *keep[4] = { "diag_topography", "diag_morphology", "diag_day",
                                           "end_day" };
            for (int k = 0; k < 4; k++)
                if (!hm_stmt_column_isnull(st, k))
                    row_set(r, keep[k], hm_stmt_column_text(st, k));
        }
        if (rc >= 0)
            hm_stmt_finalize(st);
        rc = rc < 0 ? rc : HM_OK;
    } else {
        long diag = 0;
        if (!o->diag_topography || !o->diag_morphology || !o->diag_date)
            rc = hm_error_set(err, HM_EVALIDATE, p->c->plan_path, 0, "diag_topography",
                              "a new course needs its diagnosis, which DICOM RT does not carry: "
                              "give --diag-topography (ICD-O-3, e.g. C71.9), --diag-morphology "
                              "(e.g. 9470/3) and --diag-date (YYYY-MM-DD)");
        else if (hm_date_parse(o->diag_date, &diag))
            rc = hm_error_set(err, HM_EVALIDATE, NULL, 0, "diag-date",
                              "'%.40s' is not a date YYYY-MM-DD", o->diag_date);
        else {
            row_set(r, "diag_topography", o->diag_topography);
            row_set(r, "diag_morphology", o->diag_morphology);
            row_num(r, "diag_day", (double)(diag - p->birth_days), "%.0f");
        }
    }
    if (rc == HM_OK) {
        const hm_rt_course *c = p->c;
        row_set(r, "centre_code", o->centre);
        row_set(r, "course_id", course_id);
        row_set(r, "pseudonym", p->pseudonym);
        row_set(r, "technique", c->registry_technique);
        row_set(r, "particle", c->particle);
        if (c->beam_energy[0])
            row_set(r, "beam_energy", c->beam_energy);
        row_num(r, "prescription_gy", c->prescription_gy, "%.10g");
        row_num(r, "fractions", c->fractions, "%.0f");
        row_num(r, "start_day", (double)p->start_day, "%.0f");
        row_set(r, "rtplan_uid", p->plan_uid);
        row_set(r, "rtdose_uid", p->dose_uid);
        row_set(r, "rtstruct_uid", p->struct_uid);
        if (p->ct_series_uid[0])
            row_set(r, "ct_series_uid", p->ct_series_uid);
        rc = hm_registry_upsert_row(db, o->centre, "rt_course", r->names, r->vptr, r->n, err);
    }
    free(r);
    return rc;
}

static void utc_stamp(char when[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, 32, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void bind_opt(hm_stmt *st, int i, const char *s)
{
    if (s && s[0])
        hm_stmt_bind_text(st, i, s);
    else
        hm_stmt_bind_null(st, i);
}

static int store_version_row(hm_db *db, const hm_rt_import_opts *o, const rt_pcourse *p,
                             const char *course_id, int version, hm_error *err)
{
    const hm_rt_course *c = p->c;
    int rc = exec2(db, "UPDATE rt_course_version SET is_current = 0 WHERE centre_code = ? AND "
                       "course_id = ?", o->centre, course_id, err);
    if (rc == HM_OK)
        rc = exec2(db, "UPDATE rt_dvh SET is_current = 0 WHERE centre_code = ? AND course_id = ?",
                   o->centre, course_id, err);
    if (rc)
        return rc;
    hm_stmt *st;
    rc = hm_db_prepare(db, "INSERT INTO rt_course_version (centre_code, course_id, version, "
                           "is_current, plan_uid, dose_uid, struct_uid, ct_series_uid, study_uid, "
                           "predecessor_uid, lineage_key, content_digest, technique, "
                           "prescription_gy, fractions, target_organ, age_years, imported_at) "
                           "VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       &st, err);
    if (rc)
        return rc;
    char when[32];
    utc_stamp(when);
    int i = 1;
    hm_stmt_bind_text(st, i++, o->centre);
    hm_stmt_bind_text(st, i++, course_id);
    hm_stmt_bind_int64(st, i++, version);
    hm_stmt_bind_text(st, i++, p->plan_uid);
    hm_stmt_bind_text(st, i++, p->dose_uid);
    hm_stmt_bind_text(st, i++, p->struct_uid);
    bind_opt(st, i++, p->ct_series_uid);
    bind_opt(st, i++, p->study_uid);
    bind_opt(st, i++, p->predecessor_uid);
    hm_stmt_bind_text(st, i++, p->lineage_key);
    hm_stmt_bind_text(st, i++, p->digest);
    hm_stmt_bind_text(st, i++, c->registry_technique);
    hm_stmt_bind_double(st, i++, c->prescription_gy);
    hm_stmt_bind_int64(st, i++, c->fractions);
    bind_opt(st, i++, c->target_organ);
    if (isfinite(c->age_years))
        hm_stmt_bind_double(st, i++, c->age_years);
    else
        hm_stmt_bind_null(st, i++);
    hm_stmt_bind_text(st, i++, when);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

/* n doubles -> 4n little-endian float32 bytes (dose_store.c's layout). */
static void pack_le(const double *v, int n, unsigned char *out)
{
    for (int i = 0; i < n; i++) {
        float f = (float)v[i];
        uint32_t u;
        memcpy(&u, &f, 4);
        out[4 * i] = (unsigned char)u;
        out[4 * i + 1] = (unsigned char)(u >> 8);
        out[4 * i + 2] = (unsigned char)(u >> 16);
        out[4 * i + 3] = (unsigned char)(u >> 24);
    }
}

static int store_dvhs(hm_db *db, const hm_rt_import_opts *o, const rt_pcourse *p,
                      const char *course_id, int version, int *nrows, hm_error *err)
{
    const hm_rt_course *c = p->c;
    hm_stmt *st;
    int rc = hm_db_prepare(db, "INSERT INTO rt_dvh (centre_code, course_id, version, roi_number, "
                               "roi_name, mapping, organ, tg263, is_current, volume_cc, mean_gy, "
                               "min_gy, max_gy, d2_gy, d50_gy, d98_gy, d0_03cc_gy, v5gy, v10gy, "
                               "v20gy, v30gy, outside_grid, dvh_bin_gy, n_bins, cum_dvh_cc) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                               "?, ?, ?, ?, ?, ?)", &st, err);
    if (rc)
        return rc;
    *nrows = 0;
    for (size_t r = 0; rc == HM_OK && r < c->nrois; r++) {
        const hm_rt_course_roi *x = &c->rois[r];
        if (!x->ok)
            continue;              /* no volume in the grid: nothing to store */
        const hm_rt_dvh *d = &x->dvh;
        size_t nb = d->n_bins > 0 ? (size_t)d->n_bins : 1;
        unsigned char *blob = calloc(nb, 4);
        if (!blob) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
            break;
        }
        if (d->n_bins > 0)
            pack_le(d->cum_cc, d->n_bins, blob);
        hm_stmt_reset(st);
        int i = 1;
        hm_stmt_bind_text(st, i++, o->centre);
        hm_stmt_bind_text(st, i++, course_id);
        hm_stmt_bind_int64(st, i++, version);
        hm_stmt_bind_int64(st, i++, x->number);
        hm_stmt_bind_text(st, i++, x->name);
        hm_stmt_bind_text(st, i++, hm_rt_map_kind_name(x->kind));
        bind_opt(st, i++, x->kind == HM_RT_MAP_ORGAN ? x->organ : NULL);
        bind_opt(st, i++, x->tg263);
        const double v[8] = { d->volume_cc, d->mean_gy, d->min_gy, d->max_gy,
                              d->d2_gy, d->d50_gy, d->d98_gy, d->d0_03cc_gy };
        for (int k = 0; k < 8; k++)
            hm_stmt_bind_double(st, i++, v[k]);
        for (int k = 0; k < HM_RT_NVX; k++)
            hm_stmt_bind_double(st, i++, d->vx_pct[k] / 100.0);
        hm_stmt_bind_int64(st, i++, d->outside_grid);
        hm_stmt_bind_double(st, i++, d->dvh_bin_gy);
        hm_stmt_bind_int64(st, i++, (int64_t)nb);
        hm_stmt_bind_blob(st, i++, blob, 4 * nb);
        int s = hm_stmt_step(st, err);
        free(blob);
        if (s < 0) {
            rc = s;
            if (err)
                snprintf(err->field, sizeof err->field, "ROI %d", x->number);
        } else {
            (*nrows)++;
        }
    }
    hm_stmt_finalize(st);
    return rc;
}

/* The course's organ_dose rows: the whole-body table of this version, the
 * method "tps" (RT Dose, in field) or "rt_model" (out-of-field model);
 * organs without phantom voxels (dose NaN) have no row. */
static int store_organ_doses(hm_db *db, const hm_rt_import_opts *o, const rt_pcourse *p,
                             const char *course_id, int *nrows, hm_error *err)
{
    const hm_rt_course *c = p->c;
    int rc = exec2(db, "DELETE FROM organ_dose WHERE centre_code = ? AND source_type = 'rt_course' "
                       "AND source_id = ?", o->centre, course_id, err);
    *nrows = 0;
    row r;
    for (int i = 0; rc == HM_OK && i < c->nwb; i++) {
        const hm_rt_oof_organ *w = &c->wb[i];
        if (!isfinite(w->dose_gy))
            continue;
        memset(&r, 0, sizeof r);
        row_set(&r, "centre_code", o->centre);
        row_set(&r, "source_type", "rt_course");
        row_set(&r, "source_id", course_id);
        row_set(&r, "organ", w->organ);
        row_set(&r, "method", !strcmp(w->method, "tps") ? "tps" : "rt_model");
        row_set(&r, "realization", "0");
        row_num(&r, "dose_mgy", w->dose_gy * 1000.0, "%.10g");
        rc = hm_registry_upsert_row(db, o->centre, "organ_dose", r.names, r.vptr, r.n, err);
        if (rc == HM_OK)
            (*nrows)++;
    }
    return rc;
}

static int log_import(hm_db *db, const char *centre, const char *course_id, int version,
                      long rows, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "INSERT INTO import_log (centre_code, table_name, source, "
                               "rows_stored, imported_at) VALUES (?, 'rt_course', ?, ?, ?)", &st,
                           err);
    if (rc)
        return rc;
    /* No path: a folder name may carry the patient's name. */
    char src[160], when[32];
    snprintf(src, sizeof src, "DICOM RT course %.64s version %d", course_id, version);
    utc_stamp(when);
    hm_stmt_bind_text(st, 1, centre);
    hm_stmt_bind_text(st, 2, src);
    hm_stmt_bind_int64(st, 3, rows);
    hm_stmt_bind_text(st, 4, when);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

int rt__store_version(hm_db *db, const hm_rt_import_opts *o, const rt_pcourse *p,
                      const char *course_id, int version, hm_rt_import_result *res,
                      hm_error *err)
{
    int rc = store_course_row(db, o, p, course_id, version > 1, err);
    if (rc == HM_OK)
        rc = store_version_row(db, o, p, course_id, version, err);
    if (rc == HM_OK)
        rc = store_dvhs(db, o, p, course_id, version, &res->n_dvh, err);
    if (rc == HM_OK)
        rc = store_organ_doses(db, o, p, course_id, &res->n_organ_dose, err);
    if (rc == HM_OK)
        rc = log_import(db, o->centre, course_id, version, 2L + res->n_dvh + res->n_organ_dose,
                        err);
    return rc;
}
