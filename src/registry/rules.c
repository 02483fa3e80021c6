/*
 * rules.c — what a single field cannot say: references to rows already in
 * the registry (the centre, the patient, the procedure or course), dates
 * against the birth date, and the consistency rules of the cohorts.  Then
 * the upsert on the natural key.
 */
#include "registry_int.h"
#ifdef HM_REGISTRY_HAVE_QOL
#include "hm_qol.h"
#endif

#include <stdlib.h>
#include <string.h>

static int idx(const hm_dict_table *t, const char *name)
{
    return hm_dict_field_index(t, name);
}

static const char *val(const hm_dict_table *t, const char **vals, const char *name)
{
    int i = idx(t, name);
    return i >= 0 ? vals[i] : NULL;
}

static double num(const char *s) { return s ? strtod(s, NULL) : 0.0; }

/* Binds text that outlives the step (a field of the current CSV record or a
 * buffer of the row): SQLite then need not copy it. */
static void bind_static(hm_stmt *st, int i, const char *v)
{
    if (st->sq && v)
        sqlite3_bind_text(st->sq, i, v, -1, SQLITE_STATIC);
    else
        hm_stmt_bind_text(st, i, v);
}

/* Runs a one-row look-up prepared once per handle; returns 1 found, 0 not, <0. */
static int lookup(hm_db *db, hm_stmt **cache, const char *sql, const char *a,
                  const char *b, hm_error *err)
{
    if (!*cache) {
        int rc = hm_db_prepare(db, sql, cache, err);
        if (rc)
            return rc;
    }
    hm_stmt_reset(*cache);
    bind_static(*cache, 1, a);
    if (b)
        bind_static(*cache, 2, b);
    return hm_stmt_step(*cache, err);
}

/* Birth data of the row's patient: the row itself for `patient`. */
typedef struct birth { int known; const char *date; long year; char datebuf[16]; } birth;

static int find_birth(hm_db *db, const hm_dict_table *t, const char **vals, long line,
                      hm_import_report *rep, birth *b, hm_error *err)
{
    memset(b, 0, sizeof *b);
    if (!strcmp(t->name, "patient")) {
        b->known = val(t, vals, "birth_year") != NULL;
        b->date = val(t, vals, "birth_date");
        b->year = (long)num(val(t, vals, "birth_year"));
        return HM_OK;
    }
    const char *pseudo = val(t, vals, "pseudonym");
    if (!pseudo || idx(t, "pseudonym") < 0)
        return HM_OK;
    const char *d = NULL;
    long year = 0;
    int rc;
    if (db->bulk) {                       /* answered from the batch's one query */
        rc = hm__pgbulk_patient(db->bulk, vals[0], pseudo, &d, &year);
    } else {
        rc = lookup(db, &db->find_patient,
                    "SELECT birth_date, birth_year FROM patient WHERE centre_code = ? AND pseudonym = ?",
                    vals[0], pseudo, err);
        if (rc == 1) {
            d = hm_stmt_column_text(db->find_patient, 0);
            year = (long)hm_stmt_column_int64(db->find_patient, 1);
        }
    }
    if (rc < 0)
        return rc;
    if (rc == 0) {
        hm__report_add(rep, HM_SEV_ERROR, line, "pseudonym",
                       "patient %.12s... is not registered for centre %s (import the patient file first)",
                       pseudo, vals[0]);
        return HM_OK;
    }
    b->known = 1;
    if (d) {
        snprintf(b->datebuf, sizeof b->datebuf, "%s", d);
        b->date = b->datebuf;
    }
    b->year = year;
    return HM_OK;
}

/* X_date against birth; derives X_day when the birth date is known. */
static void check_dates(const hm_dict_table *t, const char **vals, char daybuf[][24],
                        const birth *b, long line, hm_import_report *rep)
{
    long birth_days = 0;
    int have_birth_date = b->date && hm__parse_date(b->date, &birth_days) == 0;
    for (size_t i = 0; i < t->nfields; i++) {
        const hm_dict_field *f = &t->fields[i];
        if (f->pair < 0 || f->type != HM_FT_DATE || !vals[i])
            continue;
        long days;
        if (hm__parse_date(vals[i], &days))
            continue;                         /* already reported */
        const char *dayname = t->fields[f->pair].name;
        if (have_birth_date) {
            long offset = days - birth_days;
            if (offset < 0) {
                hm__report_add(rep, HM_SEV_ERROR, line, f->name, "%s is before the birth date %s",
                               vals[i], b->date);
                continue;
            }
            if (vals[f->pair]) {
                long long given;
                if (!hm__parse_int(vals[f->pair], &given) && given != offset)
                    hm__report_add(rep, HM_SEV_ERROR, line, dayname,
                                   "%lld disagrees with %s %s (%ld days after birth on %s)",
                                   given, f->name, vals[i], offset, b->date);
            } else {
                snprintf(daybuf[f->pair], 24, "%ld", offset);
                vals[f->pair] = daybuf[f->pair];
            }
        } else if (b->known && strtol(vals[i], NULL, 10) < b->year) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name, "%s is before the birth year %ld",
                           vals[i], b->year);
        }
    }
}

static void check_patient(const hm_dict_table *t, const char **vals, long line,
                          hm_import_report *rep)
{
    const char *bd = val(t, vals, "birth_date"), *by = val(t, vals, "birth_year");
    if (bd && by && strtol(bd, NULL, 10) != strtol(by, NULL, 10))
        hm__report_add(rep, HM_SEV_ERROR, line, "birth_year", "%s disagrees with birth_date %s",
                       by, bd);
}

static void check_procedure(const hm_dict_table *t, const char **vals, long line,
                            hm_import_report *rep)
{
    const char *age = val(t, vals, "age_days"), *day = val(t, vals, "proc_day");
    if (age && day && strtoll(age, NULL, 10) != strtoll(day, NULL, 10))
        hm__report_add(rep, HM_SEV_ERROR, line, "age_days",
                       "%s disagrees with the procedure date (%s days after birth)", age, day);
    const char *tier = val(t, vals, "dose_tier"), *kap = val(t, vals, "kap_total_gy_cm2");
    if (tier && (tier[0] == '1' || tier[0] == '2') && !kap)
        hm__report_add(rep, HM_SEV_ERROR, line, "kap_total_gy_cm2",
                       "required for dose_tier %s (tier 3 means no dose data)", tier);
    if (tier && tier[0] == '3' && kap)
        hm__report_add(rep, HM_SEV_ERROR, line, "dose_tier",
                       "3 means no dose data, but kap_total_gy_cm2 is %s (use tier 2)", kap);
    /* Unit plausibility: paediatric KAP per body weight has a median of
     * 0.09 Gy.cm2/kg (Campolo 2024, anchors.md section 1); 100 times that is
     * what a KAP sent in cGy.cm2 or uGy.m2 as if Gy.cm2 looks like. */
    const char *w = val(t, vals, "weight_kg");
    if (kap && w && num(w) > 0 && num(kap) / num(w) > 9.0)
        hm__report_add(rep, HM_SEV_WARNING, line, "kap_total_gy_cm2",
                       "%s Gy.cm2 for %s kg is over 100 times the usual KAP per kg: check the unit",
                       kap, w);
    const char *exam = val(t, vals, "exam_type"), *cat = val(t, vals, "category");
    if (exam && cat && !strcmp(exam, "diag_cath") && strcmp(cat, "diagnostic"))
        hm__report_add(rep, HM_SEV_ERROR, line, "category",
                       "exam_type diag_cath is diagnostic, not %s", cat);
}

static void check_event(const hm_dict_table *t, const char **vals, long line,
                        hm_import_report *rep)
{
    /* Field area = width x height (mm2 -> cm2 divides by 100), within 5 %. */
    const char *w = val(t, vals, "field_width_mm"), *h = val(t, vals, "field_height_mm");
    const char *a = val(t, vals, "field_area_cm2");
    if (w && h && a) {
        double expect = num(w) * num(h) / 100.0;
        if (expect > 0 && (num(a) < 0.95 * expect || num(a) > 1.05 * expect))
            hm__report_add(rep, HM_SEV_WARNING, line, "field_area_cm2",
                           "%s cm2 differs from field_width_mm x field_height_mm = %.4g cm2",
                           a, expect);
    }
}

/* Device corrections: axis signs are -1 or 1 (0 would erase the axis);
 * the detector lies beyond the isocentre; table transmission rises with kV
 * (a harder beam is attenuated less, e.g. NCRP 147 transmission curves), so
 * a falling series is most likely columns swapped. */
static void check_device(const hm_dict_table *t, const char **vals, long line,
                         hm_import_report *rep)
{
    static const char *signs[] = { "table_lateral_sign", "table_longitudinal_sign",
                                   "table_height_sign" };
    for (size_t i = 0; i < 3; i++) {
        const char *v = val(t, vals, signs[i]);
        if (v && strtol(v, NULL, 10) == 0)
            hm__report_add(rep, HM_SEV_ERROR, line, signs[i],
                           "0 is not a direction: expected -1 or 1 (see data/dosimetry/device_defaults.csv)");
    }
    const char *sid = val(t, vals, "source_detector_mm"), *sod = val(t, vals, "source_isocentre_mm");
    if (sid && sod && num(sid) <= num(sod))
        hm__report_add(rep, HM_SEV_ERROR, line, "source_detector_mm",
                       "%s mm is not beyond the isocentre (source_isocentre_mm %s)", sid, sod);
    static const char *tt[] = { "table_transmission_60kv", "table_transmission_80kv",
                                "table_transmission_100kv", "table_transmission_120kv" };
    const char *prev = NULL, *prev_name = NULL;
    for (size_t i = 0; i < 4; i++) {
        const char *v = val(t, vals, tt[i]);
        if (!v)
            continue;
        if (prev && num(v) < num(prev))
            hm__report_add(rep, HM_SEV_WARNING, line, tt[i],
                           "%s is below %s %s: transmission rises with kV (columns swapped?)",
                           v, prev_name, prev);
        prev = v;
        prev_name = tt[i];
    }
}

static void check_order(const hm_dict_table *t, const char **vals, const char *first,
                        const char *last, long line, hm_import_report *rep)
{
    const char *a = val(t, vals, first), *b = val(t, vals, last);
    if (a && b && strtoll(b, NULL, 10) < strtoll(a, NULL, 10))
        hm__report_add(rep, HM_SEV_ERROR, line, last, "%s is before %s %s", b, first, a);
}

/* The treatment tables (docs/registry.md "Treatment tables"). */
static void check_chemotherapy(const hm_dict_table *t, const char **vals, long line,
                               hm_import_report *rep)
{
    /* The range allows 0; a row says the agent was given, so 0 is a slip. */
    const char *dose = val(t, vals, "cumulative_dose_mg_m2");
    if (dose && !(num(dose) > 0))
        hm__report_add(rep, HM_SEV_ERROR, line, "cumulative_dose_mg_m2",
                       "%s: a cumulative dose must be > 0 mg/m2 (leave out agents not given)", dose);
    check_order(t, vals, "start_day", "end_day", line, rep);
    check_order(t, vals, "start_date", "end_date", line, rep);
}

static void check_sct(const hm_dict_table *t, const char **vals, long line,
                      hm_import_report *rep)
{
    const char *tbi = val(t, vals, "tbi"), *gy = val(t, vals, "tbi_dose_gy");
    if (gy && tbi && !strcmp(tbi, "0"))
        hm__report_add(rep, HM_SEV_ERROR, line, "tbi_dose_gy",
                       "%s Gy given but tbi is 0 (set tbi to 1 or leave the dose empty)", gy);
    if (gy && !tbi)
        hm__report_add(rep, HM_SEV_ERROR, line, "tbi",
                       "empty while tbi_dose_gy is %s (set tbi to 1)", gy);
}

static void check_rules(const hm_dict_table *t, const char **vals, long line,
                        hm_import_report *rep)
{
    if (!strcmp(t->name, "patient")) {
        check_patient(t, vals, line, rep);
    } else if (!strcmp(t->name, "procedure")) {
        check_procedure(t, vals, line, rep);
    } else if (!strcmp(t->name, "irradiation_event")) {
        check_event(t, vals, line, rep);
    } else if (!strcmp(t->name, "device")) {
        check_device(t, vals, line, rep);
    } else if (!strcmp(t->name, "rt_course")) {
        check_order(t, vals, "start_day", "end_day", line, rep);
        check_order(t, vals, "start_date", "end_date", line, rep);
        check_order(t, vals, "diag_day", "start_day", line, rep);
    } else if (!strcmp(t->name, "chemotherapy")) {
        check_chemotherapy(t, vals, line, rep);
    } else if (!strcmp(t->name, "stem_cell_transplant")) {
        check_sct(t, vals, line, rep);
    } else if (!strcmp(t->name, "outcome")) {
        const char *kind = val(t, vals, "kind");
        if (kind && !strcmp(kind, "cancer")) {
            if (!val(t, vals, "icdo3_topography"))
                hm__report_add(rep, HM_SEV_ERROR, line, "icdo3_topography", "required when kind is cancer");
            if (!val(t, vals, "icdo3_morphology"))
                hm__report_add(rep, HM_SEV_ERROR, line, "icdo3_morphology", "required when kind is cancer");
        }
    } else if (!strcmp(t->name, "followup")) {
        const char *vs = val(t, vals, "vital_status"), *why = val(t, vals, "end_reason");
        if (vs && why && (!strcmp(vs, "dead") != !strcmp(why, "death")))
            hm__report_add(rep, HM_SEV_ERROR, line, "end_reason",
                           "%s contradicts vital_status %s (death <-> dead)", why, vs);
    }
}

#ifdef HM_REGISTRY_HAVE_QOL
/* qol_item: the item, response, respondent and age at the assessment against
 * the questionnaire's form, by the scoring rules of data/qol (src/qol). */
typedef struct qol_ctx { hm_import_report *rep; long line; } qol_ctx;

static void qol_issue(void *arg, const char *field, const char *msg)
{
    qol_ctx *c = arg;
    hm__report_add(c->rep, HM_SEV_ERROR, c->line, field, "%s", msg);
}

static int check_qol_item(const hm_dict_table *t, const char **vals, const birth *b, long line,
                          hm_import_report *rep, hm_error *err)
{
    const hm_qol_defs *defs;
    int rc = hm_qol_defs_shared(&defs, err);
    if (rc)
        return rc;
    const char *day = val(t, vals, "assessment_day");
    int age = hm_qol_age_years(b->date, val(t, vals, "assessment_date"),
                               day ? strtol(day, NULL, 10) : -1);
    qol_ctx c = { rep, line };
    hm_qol_check_item(defs, val(t, vals, "instrument"), val(t, vals, "form"),
                      val(t, vals, "respondent"), val(t, vals, "item_id"),
                      val(t, vals, "response"), age, qol_issue, &c);
    return HM_OK;
}
#endif

/* A procedure, course or device of the centre: from the bulk import's batch
 * look-up or by a query. */
static int find_ref(hm_db *db, const char *what, const char *centre, const char *id,
                    hm_error *err)
{
    if (db->bulk)
        return hm__pgbulk_ref(db->bulk, what, centre, id);
    if (!strcmp(what, "procedure"))
        return lookup(db, &db->find_procedure,
                      "SELECT 1 FROM procedure WHERE centre_code = ? AND procedure_id = ?",
                      centre, id, err);
    if (!strcmp(what, "device"))
        return lookup(db, &db->find_device,
                      "SELECT 1 FROM device WHERE centre_code = ? AND device_id = ?",
                      centre, id, err);
    return lookup(db, &db->find_course,
                  "SELECT 1 FROM rt_course WHERE centre_code = ? AND course_id = ?", centre, id, err);
}

static int is_treatment(const hm_dict_table *t)
{
    return !strcmp(t->name, "chemotherapy") || !strcmp(t->name, "surgery") ||
           !strcmp(t->name, "stem_cell_transplant");
}

/* References to procedure / course / device rows of the same centre. */
static int check_refs(hm_db *db, const hm_dict_table *t, const char **vals, long line,
                      hm_import_report *rep, hm_error *err)
{
    int rc = 1;
    const char *field = NULL, *id = NULL, *what = NULL;
    if (!strcmp(t->name, "irradiation_event") && (id = val(t, vals, "procedure_id"))) {
        field = "procedure_id";
        what = "procedure";
    } else if (is_treatment(t) && (id = val(t, vals, "course_id"))) {
        field = "course_id";          /* optional: a treatment of the patient, no course */
        what = "rt_course";
    } else if (!strcmp(t->name, "procedure") && (id = val(t, vals, "device_id"))) {
        field = "device_id";
        what = "device";
    } else if (!strcmp(t->name, "organ_dose") && (id = val(t, vals, "source_id"))) {
        const char *type = val(t, vals, "source_type");
        field = "source_id";
        if (type && !strcmp(type, "procedure"))
            what = "procedure";
        else if (type && !strcmp(type, "rt_course"))
            what = "rt_course";
    }
    if (what)
        rc = find_ref(db, what, vals[0], id, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        hm__report_add(rep, HM_SEV_ERROR, line, field,
                       "%s '%.60s' is not registered for centre %s (import it first)", what, id,
                       vals[0]);
    return HM_OK;
}

int hm__check_row(hm_db *db, const hm_dict_table *t, const char **vals, char daybuf[][24],
                  long line, hm_import_report *rep, hm_error *err)
{
    /* The centre is looked up once per transaction (hm_db_exec, which runs
     * BEGIN/COMMIT/ROLLBACK, forgets it), not once per row. */
    if (strcmp(t->name, "centre") && vals[0] && strcmp(db->centre_ok, vals[0])) {
        int rc = lookup(db, &db->find_centre, "SELECT 1 FROM centre WHERE centre_code = ?",
                        vals[0], NULL, err);
        if (rc == 1 && strlen(vals[0]) < sizeof db->centre_ok)
            memcpy(db->centre_ok, vals[0], strlen(vals[0]) + 1);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            hm__report_add(rep, HM_SEV_ERROR, line, "centre_code",
                           "centre %s is not registered (import its centre row first)", vals[0]);
            return HM_OK;   /* every other reference would fail too */
        }
    }
    birth b;
    int rc = find_birth(db, t, vals, line, rep, &b, err);
    if (rc)
        return rc;
    check_dates(t, vals, daybuf, &b, line, rep);
    check_rules(t, vals, line, rep);
#ifdef HM_REGISTRY_HAVE_QOL
    if (!strcmp(t->name, "qol_item") && (rc = check_qol_item(t, vals, &b, line, rep, err)))
        return rc;
#endif
    return check_refs(db, t, vals, line, rep, err);
}

/* INSERT ... ON CONFLICT (key) DO UPDATE: portable upsert (SQLite >= 3.24,
 * PG >= 9.5).  The guarded form adds a WHERE on the existing row that is
 * false when this import wrote it, and RETURNING 1, so "no row returned"
 * means a duplicate key within the file:
 *  - SQLite: new rows get rowid max+1 (SQLite docs, "ROWIDs and the INTEGER
 *    PRIMARY KEY") and updated ones are given max+1, so rows of this import
 *    have rowid > the guard;
 *  - PostgreSQL: rows written by this transaction have xmin = its xid
 *    (txid_current() modulo 2^32, the epoch removed). */
static int build_upsert(hm_db *db, const hm_dict_table *t, int guarded, hm_stmt **st,
                        hm_error *err)
{
    size_t cap = 256 + t->nfields * 120;
    char *sql = malloc(cap);
    if (!sql)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    size_t o = (size_t)snprintf(sql, cap, "INSERT INTO %s (", t->name);
    for (size_t i = 0; i < t->nfields; i++)
        o += (size_t)snprintf(sql + o, cap - o, "%s%s", i ? ", " : "", t->fields[i].name);
    o += (size_t)snprintf(sql + o, cap - o, ") VALUES (");
    for (size_t i = 0; i < t->nfields; i++)
        o += (size_t)snprintf(sql + o, cap - o, "%s?", i ? ", " : "");
    o += (size_t)snprintf(sql + o, cap - o, ") ON CONFLICT (");
    int first = 1;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].key) {
            o += (size_t)snprintf(sql + o, cap - o, "%s%s", first ? "" : ", ", t->fields[i].name);
            first = 0;
        }
    if (t->nkeys == t->nfields) {
        snprintf(sql + o, cap - o, ") DO NOTHING");
    } else {
        o += (size_t)snprintf(sql + o, cap - o, ") DO UPDATE SET ");
        first = 1;
        for (size_t i = 0; i < t->nfields; i++)
            if (!t->fields[i].key) {
                o += (size_t)snprintf(sql + o, cap - o, "%s%s = excluded.%s", first ? "" : ", ",
                                      t->fields[i].name, t->fields[i].name);
                first = 0;
            }
        /* An updated row moves to a new rowid above the guard, so that a
         * second row of the file with its key is caught too (a row that
         * existed before the import keeps its rowid through an update). */
        if (guarded && db->kind == HM_DB_SQLITE)
            snprintf(sql + o, cap - o, ", rowid = (SELECT max(rowid) FROM %s) + 1"
                                       " WHERE %s.rowid <= ? RETURNING 1", t->name, t->name);
        else if (guarded)
            snprintf(sql + o, cap - o, " WHERE (%s.xmin::text)::bigint <> txid_current() %% 4294967296 "
                                       "RETURNING 1", t->name);
    }
    int rc = hm_db_prepare(db, sql, st, err);
    free(sql);
    return rc;
}

int hm__dup_guard(hm_db *db, const hm_dict_table *t, int64_t *guard, hm_error *err)
{
    *guard = 0;
    if (db->kind != HM_DB_SQLITE)
        return HM_OK;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(rowid), 0) FROM %s", t->name);
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    if (rc)
        return rc;
    rc = hm_stmt_step(st, err);
    if (rc == 1)
        *guard = hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

int hm__store_row(hm_db *db, const hm_dict_table *t, const char *const *vals, int64_t guard,
                  int *dup, hm_error *err)
{
    size_t ti = (size_t)(t - hm_dict_table_at(db->dict, 0));
    int guarded = guard >= 0 && t->nkeys < t->nfields;
    hm_stmt **st = guarded ? &db->cache[ti].upsert_guard : &db->cache[ti].upsert;
    int rc;
    *dup = 0;
    if (!*st && (rc = build_upsert(db, t, guarded, st, err)))
        return rc;
    hm_stmt_reset(*st);
    for (size_t i = 0; i < t->nfields; i++) {
        int col = (int)i + 1;
        const char *v = vals[i];
        if (!v) {
            hm_stmt_bind_null(*st, col);
        } else if (t->fields[i].type == HM_FT_INT || t->fields[i].type == HM_FT_BOOL) {
            hm_stmt_bind_int64(*st, col, strtoll(v, NULL, 10));
        } else if (t->fields[i].type == HM_FT_REAL) {
            hm_stmt_bind_double(*st, col, strtod(v, NULL));
        } else {
            bind_static(*st, col, v);
        }
    }
    if (guarded && db->kind == HM_DB_SQLITE)
        hm_stmt_bind_int64(*st, (int)t->nfields + 1, guard);
    rc = hm_stmt_step(*st, err);
    hm_stmt_reset(*st);
    if (rc < 0)
        return rc;
    if (guarded && rc == 0)
        *dup = 1;
    return HM_OK;
}
