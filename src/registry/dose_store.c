/*
 * dose_store.c — writing what a dose run computes (packed realizations,
 * per-event and per-procedure results) and streaming the realizations back.
 *
 * Realizations: 200 values per (procedure, organ) as one row of
 * organ_dose_real, the values as little-endian IEEE 754 binary32 (4 bytes
 * each, whatever the host), so the bytes are the same on every machine and
 * back end and exports of SQLite and PostgreSQL stay byte-identical.  float32
 * keeps 24 bits (7 significant digits), far below the spread the 2-D Monte
 * Carlo describes (shared KAP-meter errors alone are tens of %).
 *
 * The writers check their arguments against the dictionary's code lists and
 * that the source is registered for the centre (one look-up per source: the
 * runner writes a procedure's 15 organs in a row).
 */
#include "registry_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* n float32 -> 4n little-endian bytes. */
static void pack_le(const float *v, int n, unsigned char *out)
{
    if (host_is_le()) {
        memcpy(out, v, (size_t)n * 4);
        return;
    }
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        out[4 * i] = (unsigned char)u;
        out[4 * i + 1] = (unsigned char)(u >> 8);
        out[4 * i + 2] = (unsigned char)(u >> 16);
        out[4 * i + 3] = (unsigned char)(u >> 24);
    }
}

static void unpack_le(const unsigned char *b, int n, float *out)
{
    for (int i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&out[i], &u, 4);
    }
}

/* value is one of the codes of table.field in the dictionary. */
static int check_code(hm_db *db, const char *table, const char *field, const char *value,
                      hm_error *err)
{
    const hm_dict_table *t = hm_dict_find_table(db->dict, table);
    int k = t ? hm_dict_field_index(t, field) : -1;
    if (k < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, field, "dictionary lacks %s.%s", table, field);
    const hm_dict_field *f = &t->fields[k];
    for (size_t i = 0; value && i < f->ncodes; i++)
        if (!strcmp(value, f->code_list[i]))
            return HM_OK;
    return hm_error_set(err, HM_EINVAL, table, 0, field, "'%.60s' is not a known code: expected %s",
                        value ? value : "(none)",
                        f->codes[0] == '@' ? "an id of data/organs.csv" : f->codes);
}

static int need_text(const char *v, const char *table, const char *field, hm_error *err)
{
    if (v && v[0] && strlen(v) <= 200)
        return HM_OK;
    return hm_error_set(err, HM_EINVAL, table, 0, field, "%s (1 to 200 characters)",
                        v && v[0] ? "too long" : "required value is empty");
}

static int prepare_once(hm_db *db, hm_stmt **st, const char *sql, hm_error *err)
{
    if (*st) {
        hm_stmt_reset(*st);
        return HM_OK;
    }
    return hm_db_prepare(db, sql, st, err);
}

/* The procedure or course exists for the centre; remembered for the next call. */
static int check_source(hm_db *db, const char *table, const char *centre, const char *type,
                        const char *id, hm_error *err)
{
    char key[sizeof db->source_ok];
    snprintf(key, sizeof key, "%.60s|%.20s|%.160s", centre, type, id);
    if (!strcmp(key, db->source_ok))
        return HM_OK;
    int proc = !strcmp(type, "procedure");
    hm_stmt *st;
    int rc = hm_db_prepare(db, proc ? "SELECT 1 FROM procedure WHERE centre_code = ? AND procedure_id = ?"
                                    : "SELECT 1 FROM rt_course WHERE centre_code = ? AND course_id = ?",
                           &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, centre);
    hm_stmt_bind_text(st, 2, id);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hm_error_set(err, HM_EVALIDATE, table, 0, proc ? "procedure_id" : "source_id",
                            "%s '%.60s' is not registered for centre %s", type, id, centre);
    snprintf(db->source_ok, sizeof db->source_ok, "%s", key);
    return HM_OK;
}

int hm_registry_put_realizations(hm_db *db, const char *centre, const char *source_type,
                                 const char *source_id, const char *organ, const char *method,
                                 const char *run_id, const float *dose_mgy, int n,
                                 hm_error *err)
{
    static const char *T = "organ_dose_real";
    int rc;
    if ((rc = need_text(centre, T, "centre_code", err)) || (rc = need_text(source_id, T, "source_id", err)) ||
        (rc = need_text(run_id, T, "run_id", err)) ||
        (rc = check_code(db, T, "source_type", source_type, err)) ||
        (rc = check_code(db, T, "organ", organ, err)) || (rc = check_code(db, T, "method", method, err)))
        return rc;
    if (n < 1 || n > 100000 || !dose_mgy)
        return hm_error_set(err, HM_EINVAL, T, 0, "n_real", "%d realizations: expected 1 to 100000", n);
    for (int i = 0; i < n; i++)
        if (!(dose_mgy[i] >= 0.0f) || !isfinite(dose_mgy[i]))
            return hm_error_set(err, HM_EINVAL, T, 0, "dose_mgy",
                                "realization %d of %s %s, %s is %g: expected a finite dose >= 0",
                                i + 1, source_id, organ, method, (double)dose_mgy[i]);
    if ((rc = check_source(db, T, centre, source_type, source_id, err)))
        return rc;
    rc = prepare_once(db, &db->put_real,
        "INSERT INTO organ_dose_real (centre_code, source_type, source_id, organ, method, run_id, "
        "n_real, dose_mgy) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (organ, centre_code, "
        "source_id, source_type, method) DO UPDATE SET run_id = excluded.run_id, "
        "n_real = excluded.n_real, dose_mgy = excluded.dose_mgy", err);
    if (rc)
        return rc;
    unsigned char stackbuf[4096], *bytes = (size_t)n * 4 <= sizeof stackbuf ? stackbuf
                                                                            : malloc((size_t)n * 4);
    if (!bytes)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    pack_le(dose_mgy, n, bytes);
    hm_stmt *st = db->put_real;
    hm_stmt_bind_text(st, 1, centre);
    hm_stmt_bind_text(st, 2, source_type);
    hm_stmt_bind_text(st, 3, source_id);
    hm_stmt_bind_text(st, 4, organ);
    hm_stmt_bind_text(st, 5, method);
    hm_stmt_bind_text(st, 6, run_id);
    hm_stmt_bind_int64(st, 7, n);
    rc = hm_stmt_bind_blob(st, 8, bytes, (size_t)n * 4);
    if (bytes != stackbuf)
        free(bytes);
    if (rc)
        return hm_error_set(err, rc, NULL, 0, NULL, "cannot bind the realizations");
    rc = hm_stmt_step(st, err);
    hm_stmt_reset(st);
    return rc < 0 ? rc : HM_OK;
}

int hm_registry_read_realizations(hm_db *db, const char *organ, const char *centre,
                                  hm_realization_fn fn, void *arg, hm_error *err)
{
    int rc = check_code(db, "organ_dose_real", "organ", organ, err);
    if (rc)
        return rc;
    const char *c = db->kind == HM_DB_POSTGRES ? " COLLATE \"C\"" : "";
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT centre_code, source_type, source_id, organ, method, run_id, n_real, dose_mgy "
             "FROM organ_dose_real WHERE organ = ?%s ORDER BY centre_code%s, source_id%s, "
             "source_type%s, method%s", centre ? " AND centre_code = ?" : "", c, c, c, c);
    hm_stmt *st;
    if ((rc = hm_db_prepare(db, sql, &st, err)))
        return rc;
    hm_stmt_bind_text(st, 1, organ);
    if (centre)
        hm_stmt_bind_text(st, 2, centre);
    float *vals = NULL;
    int cap = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        hm_realization_row row;
        row.centre = hm_stmt_column_text(st, 0);
        row.source_type = hm_stmt_column_text(st, 1);
        row.source_id = hm_stmt_column_text(st, 2);
        row.organ = hm_stmt_column_text(st, 3);
        row.method = hm_stmt_column_text(st, 4);
        row.run_id = hm_stmt_column_text(st, 5);
        int64_t n = hm_stmt_column_int64(st, 6);
        size_t nbytes;
        const unsigned char *b = hm_stmt_column_blob(st, 7, &nbytes);
        if (n < 1 || n > 100000 || !b || nbytes != (size_t)n * 4) {
            rc = hm_error_set(err, HM_EDB, "organ_dose_real", 0, "dose_mgy",
                              "%s %s %s: %zu bytes for n_real %lld (expected 4 per value)",
                              row.centre, row.source_id, row.organ, nbytes, (long long)n);
            break;
        }
        if (n > cap) {
            float *v = realloc(vals, (size_t)n * sizeof *v);
            if (!v) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            vals = v;
            cap = (int)n;
        }
        unpack_le(b, (int)n, vals);
        row.n = (int)n;
        row.dose_mgy = vals;
        if ((rc = fn(arg, &row)) != 0)
            break;
    }
    hm_stmt_finalize(st);
    free(vals);
    return rc;            /* 0 at the end, else the error or fn's value */
}

static void bind_real(hm_stmt *st, int i, double v)
{
    if (isnan(v))
        hm_stmt_bind_null(st, i);
    else
        hm_stmt_bind_double(st, i, v);
}

static int check_real(double v, double lo, double hi, const char *table, const char *field,
                      hm_error *err)
{
    if (isnan(v) || (v >= lo && v <= hi))
        return HM_OK;
    return hm_error_set(err, HM_EINVAL, table, 0, field, "%g is outside %g to %g", v, lo, hi);
}

/* "kvp,field,position": names of lowercase letters, digits and '_'. */
static int check_imputed(const char *s, hm_error *err)
{
    if (!s)
        return HM_OK;
    size_t len = 0;
    for (const char *p = s; *p; p++, len++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                 (*p == ',' && p != s && p[1] && p[1] != ',');
        if (!ok || len >= 200)
            return hm_error_set(err, HM_EINVAL, "dose_event", 0, "imputed",
                                "'%.60s': expected comma-separated names (a-z, 0-9, _), "
                                "e.g. kvp,field,position", s);
    }
    return HM_OK;
}

int hm_registry_put_dose_event(hm_db *db, const hm_dose_event_row *r, hm_error *err)
{
    static const char *T = "dose_event";
    int rc;
    if ((rc = need_text(r->centre, T, "centre_code", err)) ||
        (rc = need_text(r->procedure_id, T, "procedure_id", err)) ||
        (rc = need_text(r->event_uid, T, "event_uid", err)) || (rc = need_text(r->run_id, T, "run_id", err)) ||
        (rc = check_code(db, T, "method", r->method, err)) || (rc = check_imputed(r->imputed, err)) ||
        (rc = check_real(r->effective_dose_msv, 0, 100000, T, "effective_dose_msv", err)) ||
        (rc = check_real(r->kap_used_gy_cm2, 0, 1000, T, "kap_used_gy_cm2", err)) ||
        (rc = check_source(db, T, r->centre, "procedure", r->procedure_id, err)))
        return rc;
    rc = prepare_once(db, &db->put_event,
        "INSERT INTO dose_event (centre_code, procedure_id, event_uid, run_id, imputed, method, "
        "effective_dose_msv, kap_used_gy_cm2) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
        "(centre_code, procedure_id, event_uid) DO UPDATE SET run_id = excluded.run_id, "
        "imputed = excluded.imputed, method = excluded.method, effective_dose_msv = "
        "excluded.effective_dose_msv, kap_used_gy_cm2 = excluded.kap_used_gy_cm2", err);
    if (rc)
        return rc;
    hm_stmt *st = db->put_event;
    hm_stmt_bind_text(st, 1, r->centre);
    hm_stmt_bind_text(st, 2, r->procedure_id);
    hm_stmt_bind_text(st, 3, r->event_uid);
    hm_stmt_bind_text(st, 4, r->run_id);
    hm_stmt_bind_text(st, 5, r->imputed ? r->imputed : "");
    hm_stmt_bind_text(st, 6, r->method);
    bind_real(st, 7, r->effective_dose_msv);
    bind_real(st, 8, r->kap_used_gy_cm2);
    rc = hm_stmt_step(st, err);
    hm_stmt_reset(st);
    return rc < 0 ? rc : HM_OK;
}

int hm_registry_put_dose_procedure(hm_db *db, const hm_dose_procedure_row *r, hm_error *err)
{
    static const char *T = "dose_procedure";
    int rc;
    if ((rc = need_text(r->centre, T, "centre_code", err)) ||
        (rc = need_text(r->procedure_id, T, "procedure_id", err)) ||
        (rc = need_text(r->run_id, T, "run_id", err)))
        return rc;
    if (r->tier_used < 1 || r->tier_used > 3)
        return hm_error_set(err, HM_EINVAL, T, 0, "tier_used", "%d: expected 1, 2 or 3", r->tier_used);
    if ((rc = check_real(r->effective_dose_msv, 0, 100000, T, "effective_dose_msv", err)) ||
        (rc = check_real(r->peak_skin_dose_mgy, 0, 200000, T, "peak_skin_dose_mgy", err)) ||
        (rc = check_source(db, T, r->centre, "procedure", r->procedure_id, err)))
        return rc;
    rc = prepare_once(db, &db->put_proc,
        "INSERT INTO dose_procedure (centre_code, procedure_id, run_id, tier_used, "
        "effective_dose_msv, peak_skin_dose_mgy, skin_map) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (centre_code, procedure_id) DO UPDATE SET run_id = excluded.run_id, "
        "tier_used = excluded.tier_used, effective_dose_msv = excluded.effective_dose_msv, "
        "peak_skin_dose_mgy = excluded.peak_skin_dose_mgy, skin_map = excluded.skin_map", err);
    if (rc)
        return rc;
    hm_stmt *st = db->put_proc;
    hm_stmt_bind_text(st, 1, r->centre);
    hm_stmt_bind_text(st, 2, r->procedure_id);
    hm_stmt_bind_text(st, 3, r->run_id);
    hm_stmt_bind_int64(st, 4, r->tier_used);
    bind_real(st, 5, r->effective_dose_msv);
    bind_real(st, 6, r->peak_skin_dose_mgy);
    if ((rc = hm_stmt_bind_blob(st, 7, r->skin_map, r->skin_map_bytes)))
        return hm_error_set(err, rc, T, 0, "skin_map", "cannot bind the skin map");
    rc = hm_stmt_step(st, err);
    hm_stmt_reset(st);
    return rc < 0 ? rc : HM_OK;
}
