/*
 * report.c — `harmonic report`: what a data manager checks after imports.
 * Rows per table and centre; completeness = share of the optional fields
 * that are filled (required ones are always filled, so they would only
 * dilute it); dose-tier mix; tier-1 procedures lacking irradiation events;
 * the least complete fields; what the dose runs imputed and which tier they
 * used, per centre; the treatment summary per centre (patients with
 * chemotherapy, their median CED and DIE, patients with a stem-cell
 * transplant or an operation, and the radiotherapy courses by technique
 * with those whose plan was revised).  X_date/X_day pairs are left out of
 * completeness: one of the two is always there, and which one depends on the
 * country's privacy rules, not on data quality.
 */
#include "registry_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct cell { long rows; double filled, slots; } cell;

/* Imputed-input names counted separately (kvp, field, position...); more
 * distinct names than this are counted under "other". */
#define MAX_IMPUTED 32
typedef struct dosim {
    long events, events_imputed, by_name[MAX_IMPUTED + 1];
    long tier_used[3];
} dosim;

/* Treatment summary of a centre (treatment.c's exposures). */
#define RT_MAX_TECH 8
typedef struct treat {
    long   chemo_patients, sct_patients, surgery_patients;
    double ced_median_mg_m2, die_median_mg_m2;   /* over the patients with chemotherapy */
    /* Radiotherapy courses (rt_course, `rt import`): count, by technique,
     * courses with a revised plan (more than one rt_course_version). */
    long   rt_courses, rt_revised;
    char   rt_tech[RT_MAX_TECH][16];
    long   rt_tech_n[RT_MAX_TECH];
    int    rt_ntech;
} treat;

typedef struct report {
    char  **centres;
    size_t  ncentres;
    cell   *cells;              /* [centre][table] */
    double *field_filled;       /* [table][field] summed over centres */
    long   *table_rows;
    long    tiers[3];
    long    tier1_without_events;
    long    patients_without_followup;
    long    procedures_without_doses;
    long    imports;
    char    last_import[32];
    /* Dosimetry of the dose runs, per centre (dose_event, dose_procedure). */
    dosim  *dose;               /* [centre] */
    char    imp_names[MAX_IMPUTED][32];
    size_t  nimp;
    treat  *treat;              /* [centre] */
} report;

static int load_centres(hm_db *db, report *r, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, db->kind == HM_DB_POSTGRES
                               ? "SELECT centre_code FROM centre ORDER BY centre_code COLLATE \"C\""
                               : "SELECT centre_code FROM centre ORDER BY centre_code", &st, err);
    if (rc)
        return rc;
    size_t cap = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        if (r->ncentres == cap) {
            cap = cap ? 2 * cap : 16;
            char **v = realloc(r->centres, cap * sizeof *v);
            if (!v) { rc = HM_ENOMEM; break; }
            r->centres = v;
        }
        r->centres[r->ncentres++] = strdup(hm_stmt_column_text(st, 0));
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

static int centre_index(const report *r, const char *c)
{
    for (size_t i = 0; i < r->ncentres; i++)
        if (c && !strcmp(r->centres[i], c))
            return (int)i;
    return -1;
}

static int scan_table(hm_db *db, report *r, size_t ti, size_t foff, hm_error *err)
{
    const hm_dict_table *t = hm_dict_table_at(db->dict, ti);
    size_t cap = 96 + t->nfields * 64;
    char *sql = malloc(cap);
    if (!sql)
        return HM_ENOMEM;
    size_t o = (size_t)snprintf(sql, cap, "SELECT centre_code, COUNT(*)");
    for (size_t j = 0; j < t->nfields; j++)
        o += (size_t)snprintf(sql + o, cap - o, ", COUNT(%s)", t->fields[j].name);
    snprintf(sql + o, cap - o, " FROM %s GROUP BY centre_code", t->name);
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    free(sql);
    if (rc)
        return rc;
    size_t nt = hm_dict_ntables(db->dict);
    while ((rc = hm_stmt_step(st, err)) == 1) {
        int ci = centre_index(r, hm_stmt_column_text(st, 0));
        long rows = (long)hm_stmt_column_int64(st, 1);
        r->table_rows[ti] += rows;
        for (size_t j = 0; j < t->nfields; j++) {
            long n = (long)hm_stmt_column_int64(st, (int)j + 2);
            r->field_filled[foff + j] += (double)n;
            /* Pairs always hold a date or a day: only plain optional fields count. */
            if (ci >= 0 && t->fields[j].required == HM_REQ_NO) {
                r->cells[(size_t)ci * nt + ti].filled += (double)n;
                r->cells[(size_t)ci * nt + ti].slots += (double)rows;
            }
        }
        if (ci >= 0)
            r->cells[(size_t)ci * nt + ti].rows += rows;
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

static int scalar(hm_db *db, const char *sql, long *v, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    if (rc)
        return rc;
    rc = hm_stmt_step(st, err);
    *v = rc == 1 ? (long)hm_stmt_column_int64(st, 0) : 0;
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

static int scan_tiers(hm_db *db, report *r, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT dose_tier, COUNT(*) FROM procedure GROUP BY dose_tier", &st, err);
    if (rc)
        return rc;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        const char *t = hm_stmt_column_text(st, 0);
        if (t && t[0] >= '1' && t[0] <= '3')
            r->tiers[t[0] - '1'] = (long)hm_stmt_column_int64(st, 1);
    }
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    rc = hm_db_prepare(db, "SELECT COUNT(*) FROM procedure p WHERE p.dose_tier = '1' AND NOT EXISTS "
                           "(SELECT 1 FROM irradiation_event e WHERE e.centre_code = p.centre_code "
                           "AND e.procedure_id = p.procedure_id)", &st, err);
    if (rc)
        return rc;
    if ((rc = hm_stmt_step(st, err)) == 1)
        r->tier1_without_events = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    rc = scalar(db, "SELECT COUNT(*) FROM patient p WHERE NOT EXISTS (SELECT 1 FROM followup f "
                    "WHERE f.centre_code = p.centre_code AND f.pseudonym = p.pseudonym)",
                &r->patients_without_followup, err);
    if (rc == HM_OK)
        rc = scalar(db, "SELECT COUNT(*) FROM procedure p WHERE NOT EXISTS (SELECT 1 FROM organ_dose d "
                        "WHERE d.centre_code = p.centre_code AND d.source_type = 'procedure' "
                        "AND d.source_id = p.procedure_id AND d.realization = 0)",
                    &r->procedures_without_doses, err);
    if (rc == HM_OK)
        rc = scalar(db, "SELECT COUNT(*) FROM import_log", &r->imports, err);
    if (rc == HM_OK && r->imports) {
        rc = hm_db_prepare(db, "SELECT MAX(imported_at) FROM import_log", &st, err);
        if (rc == HM_OK && hm_stmt_step(st, err) == 1 && hm_stmt_column_text(st, 0))
            snprintf(r->last_import, sizeof r->last_import, "%s", hm_stmt_column_text(st, 0));
        if (rc == HM_OK)
            hm_stmt_finalize(st);
    }
    return rc;
}

static size_t imputed_slot(report *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->nimp; i++)
        if (strlen(r->imp_names[i]) == len && !strncmp(r->imp_names[i], name, len))
            return i;
    if (r->nimp == MAX_IMPUTED || len >= sizeof r->imp_names[0])
        return MAX_IMPUTED;                 /* "other" */
    memcpy(r->imp_names[r->nimp], name, len);
    r->imp_names[r->nimp][len] = 0;
    return r->nimp++;
}

/* Events per distinct imputed list (few: the rules impute a handful of
 * inputs), split into names here; procedures per tier actually used. */
static int scan_dosimetry(hm_db *db, report *r, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT centre_code, imputed, COUNT(*) FROM dose_event "
                               "GROUP BY centre_code, imputed", &st, err);
    if (rc)
        return rc;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        int ci = centre_index(r, hm_stmt_column_text(st, 0));
        if (ci < 0)
            continue;
        const char *imp = hm_stmt_column_text(st, 1);
        long n = (long)hm_stmt_column_int64(st, 2);
        dosim *d = &r->dose[ci];
        d->events += n;
        if (!imp || !imp[0])
            continue;
        d->events_imputed += n;
        for (const char *p = imp; *p;) {
            size_t len = strcspn(p, ",");
            if (len)
                d->by_name[imputed_slot(r, p, len)] += n;
            p += len + (p[len] == ',');
        }
    }
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    /* Names in byte order, whatever order the back end grouped in. */
    for (size_t i = 1; i < r->nimp; i++)
        for (size_t j = i; j > 0 && strcmp(r->imp_names[j - 1], r->imp_names[j]) > 0; j--) {
            char tmp[sizeof r->imp_names[0]];
            memcpy(tmp, r->imp_names[j], sizeof tmp);
            memcpy(r->imp_names[j], r->imp_names[j - 1], sizeof tmp);
            memcpy(r->imp_names[j - 1], tmp, sizeof tmp);
            for (size_t ci = 0; ci < r->ncentres; ci++) {
                long t = r->dose[ci].by_name[j];
                r->dose[ci].by_name[j] = r->dose[ci].by_name[j - 1];
                r->dose[ci].by_name[j - 1] = t;
            }
        }
    rc = hm_db_prepare(db, "SELECT centre_code, tier_used, COUNT(*) FROM dose_procedure "
                           "GROUP BY centre_code, tier_used", &st, err);
    if (rc)
        return rc;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        int ci = centre_index(r, hm_stmt_column_text(st, 0));
        int64_t tier = hm_stmt_column_int64(st, 1);
        if (ci >= 0 && tier >= 1 && tier <= 3)
            r->dose[ci].tier_used[tier - 1] += (long)hm_stmt_column_int64(st, 2);
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int scan_treatment(hm_db *db, report *r, hm_error *err)
{
    hm_chemo_factors *f;
    int rc = hm_chemo_factors_load(NULL, &f, err);
    if (rc)
        return rc;
    hm_treatment_exposure *e;
    size_t n;
    rc = hm_registry_treatment_exposures(db, NULL, f, &e, &n, err);
    hm_chemo_factors_free(f);
    if (rc)
        return rc;
    double *ced = malloc((n ? n : 1) * sizeof *ced), *die = malloc((n ? n : 1) * sizeof *die);
    if (!ced || !die)
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    /* e is in centre order: one run of entries per centre. */
    for (size_t i = 0; i < n && rc == HM_OK;) {
        size_t j = i, k = 0;
        int ci = centre_index(r, e[i].centre);
        treat *t = ci >= 0 ? &r->treat[ci] : NULL;
        for (; j < n && !strcmp(e[j].centre, e[i].centre); j++) {
            if (!t)
                continue;
            t->sct_patients += e[j].sct_rows > 0;
            t->surgery_patients += e[j].surgery_rows > 0;
            if (e[j].chemo_rows) {
                ced[k] = e[j].ced_mg_m2;
                die[k++] = e[j].die_mg_m2;
            }
        }
        if (t) {
            t->chemo_patients = (long)k;
            t->ced_median_mg_m2 = median(ced, k);
            t->die_median_mg_m2 = median(die, k);
        }
        i = j;
    }
    free(ced);
    free(die);
    free(e);
    return rc;
}

/* Per centre and technique: courses, and those with more than one version. */
static int scan_rt(hm_db *db, report *r, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db,
        "SELECT c.centre_code, c.technique, COUNT(*), SUM(CASE WHEN (SELECT COUNT(*) FROM "
        "rt_course_version v WHERE v.centre_code = c.centre_code AND v.course_id = c.course_id) "
        "> 1 THEN 1 ELSE 0 END) FROM rt_course c GROUP BY c.centre_code, c.technique "
        "ORDER BY c.centre_code, c.technique", &st, err);
    if (rc)
        return rc;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        int ci = centre_index(r, hm_stmt_column_text(st, 0));
        if (ci < 0)
            continue;
        treat *t = &r->treat[ci];
        long n = (long)hm_stmt_column_int64(st, 2);
        t->rt_courses += n;
        t->rt_revised += (long)hm_stmt_column_int64(st, 3);
        /* Seven technique codes exist; more would share the last slot as "other". */
        int k = t->rt_ntech < RT_MAX_TECH ? t->rt_ntech++ : RT_MAX_TECH - 1;
        snprintf(t->rt_tech[k], sizeof t->rt_tech[k], "%s",
                 t->rt_tech_n[k] ? "other" : hm_stmt_column_text(st, 1));
        t->rt_tech_n[k] += n;
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

static double pct(double a, double b) { return b > 0 ? 100.0 * a / b : 100.0; }

static void print_text(hm_db *db, const report *r, int version, FILE *out)
{
    const hm_dict *d = db->dict;
    size_t nt = hm_dict_ntables(d);
    fprintf(out, "harmonic registry report (%s, schema version %d)\n\n",
            db->kind == HM_DB_SQLITE ? "SQLite" : "PostgreSQL", version);
    fprintf(out, "Rows per table and centre\n%-8s", "centre");
    for (size_t ti = 0; ti < nt; ti++)
        fprintf(out, " %10.10s", hm_dict_table_at(d, ti)->name);
    fputc('\n', out);
    for (size_t ci = 0; ci < r->ncentres; ci++) {
        fprintf(out, "%-8s", r->centres[ci]);
        for (size_t ti = 0; ti < nt; ti++)
            fprintf(out, " %10ld", r->cells[ci * nt + ti].rows);
        fputc('\n', out);
    }
    fprintf(out, "%-8s", "total");
    for (size_t ti = 0; ti < nt; ti++)
        fprintf(out, " %10ld", r->table_rows[ti]);
    fprintf(out, "\n\nCompleteness of optional fields (%% filled) per centre\n%-8s", "centre");
    for (size_t ti = 0; ti < nt; ti++)
        fprintf(out, " %10.10s", hm_dict_table_at(d, ti)->name);
    fputc('\n', out);
    for (size_t ci = 0; ci < r->ncentres; ci++) {
        fprintf(out, "%-8s", r->centres[ci]);
        for (size_t ti = 0; ti < nt; ti++) {
            const cell *c = &r->cells[ci * nt + ti];
            if (c->rows)
                fprintf(out, " %9.1f%%", pct(c->filled, c->slots));
            else
                fprintf(out, " %10s", "-");
        }
        fputc('\n', out);
    }
    long np = r->tiers[0] + r->tiers[1] + r->tiers[2];
    fprintf(out, "\nDose data tiers (procedures): tier 1 %ld (%.1f%%), tier 2 %ld (%.1f%%), "
                 "tier 3 %ld (%.1f%%)\n", r->tiers[0], pct(r->tiers[0], np), r->tiers[1],
            pct(r->tiers[1], np), r->tiers[2], pct(r->tiers[2], np));
    fprintf(out, "Tier-1 procedures without irradiation events: %ld\n", r->tier1_without_events);
    fprintf(out, "Procedures without a best-estimate organ dose: %ld\n", r->procedures_without_doses);
    fprintf(out, "Patients without a follow-up record: %ld\n", r->patients_without_followup);
    fprintf(out, "Files imported (audit log): %ld%s%s\n", r->imports,
            r->last_import[0] ? ", latest " : "", r->last_import);
    fputs("\nDosimetry (dose runs): events, events with an imputed input, per input; "
          "procedures per tier used\n", out);
    for (size_t ci = 0; ci < r->ncentres; ci++) {
        const dosim *x = &r->dose[ci];
        fprintf(out, "%-8s events %ld, imputed %ld (%.1f%%)", r->centres[ci], x->events,
                x->events_imputed, pct((double)x->events_imputed, (double)x->events));
        for (size_t k = 0; k <= MAX_IMPUTED; k++)
            if (x->by_name[k])
                fprintf(out, ", %s %ld", k < r->nimp ? r->imp_names[k] : "other", x->by_name[k]);
        fprintf(out, "; tier used 1: %ld, 2: %ld, 3: %ld\n", x->tier_used[0], x->tier_used[1],
                x->tier_used[2]);
    }
    fputs("\nTreatment: patients with chemotherapy, their median cyclophosphamide-equivalent dose "
          "(CED) and doxorubicin isotoxic equivalent (DIE) in mg/m2; patients with a stem-cell "
          "transplant (SCT), with surgery\n", out);
    for (size_t ci = 0; ci < r->ncentres; ci++) {
        const treat *t = &r->treat[ci];
        fprintf(out, "%-8s chemotherapy %ld, median CED %.6g, median DIE %.6g; SCT %ld; surgery %ld\n",
                r->centres[ci], t->chemo_patients, t->ced_median_mg_m2, t->die_median_mg_m2,
                t->sct_patients, t->surgery_patients);
        if (!t->rt_courses)
            continue;
        /* Beside the centre's treatment line, only where it sent RT courses. */
        fprintf(out, "%-8s radiotherapy courses %ld (", r->centres[ci], t->rt_courses);
        for (int k = 0; k < t->rt_ntech; k++)
            fprintf(out, "%s%s %ld", k ? ", " : "", t->rt_tech[k], t->rt_tech_n[k]);
        fprintf(out, "); with a revised plan (versions > 1) %ld\n", t->rt_revised);
    }
    fputs("\nOptional fields under 50% filled (all centres)\n", out);
    size_t foff = 0;
    int any = 0;
    for (size_t ti = 0; ti < nt; ti++) {
        const hm_dict_table *t = hm_dict_table_at(d, ti);
        for (size_t j = 0; j < t->nfields; j++)
            if (t->fields[j].required == HM_REQ_NO && r->table_rows[ti] &&
                pct(r->field_filled[foff + j], (double)r->table_rows[ti]) < 50.0) {
                fprintf(out, "  %s.%s: %.1f%%\n", t->name, t->fields[j].name,
                        pct(r->field_filled[foff + j], (double)r->table_rows[ti]));
                any = 1;
            }
        foff += t->nfields;
    }
    if (!any)
        fputs("  none\n", out);
}

static int print_json(hm_db *db, const report *r, int version, FILE *out, hm_error *err)
{
    const hm_dict *d = db->dict;
    size_t nt = hm_dict_ntables(d);
    json_t *root = json_object(), *centres = json_array(), *fields = json_array();
    json_object_set_new(root, "backend", json_string(db->kind == HM_DB_SQLITE ? "sqlite" : "postgresql"));
    json_object_set_new(root, "schema_version", json_integer(version));
    for (size_t ci = 0; ci < r->ncentres; ci++) {
        json_t *c = json_object(), *tables = json_object();
        json_object_set_new(c, "centre_code", json_string(r->centres[ci]));
        for (size_t ti = 0; ti < nt; ti++) {
            const cell *x = &r->cells[ci * nt + ti];
            json_t *jt = json_object();
            json_object_set_new(jt, "rows", json_integer(x->rows));
            json_object_set_new(jt, "completeness_pct", x->rows ? json_real(pct(x->filled, x->slots)) : json_null());
            json_object_set_new(tables, hm_dict_table_at(d, ti)->name, jt);
        }
        json_object_set_new(c, "tables", tables);
        const dosim *x = &r->dose[ci];
        json_t *jd = json_object(), *names = json_object(), *tu = json_object();
        json_object_set_new(jd, "events", json_integer(x->events));
        json_object_set_new(jd, "events_imputed", json_integer(x->events_imputed));
        for (size_t k = 0; k <= MAX_IMPUTED; k++)
            if (x->by_name[k])
                json_object_set_new(names, k < r->nimp ? r->imp_names[k] : "other",
                                    json_integer(x->by_name[k]));
        json_object_set_new(jd, "imputed", names);
        json_object_set_new(tu, "1", json_integer(x->tier_used[0]));
        json_object_set_new(tu, "2", json_integer(x->tier_used[1]));
        json_object_set_new(tu, "3", json_integer(x->tier_used[2]));
        json_object_set_new(jd, "tier_used", tu);
        json_object_set_new(c, "dosimetry", jd);
        const treat *t = &r->treat[ci];
        json_t *jt = json_object();
        json_object_set_new(jt, "chemotherapy_patients", json_integer(t->chemo_patients));
        json_object_set_new(jt, "ced_median_mg_m2",
                            t->chemo_patients ? json_real(t->ced_median_mg_m2) : json_null());
        json_object_set_new(jt, "die_median_mg_m2",
                            t->chemo_patients ? json_real(t->die_median_mg_m2) : json_null());
        json_object_set_new(jt, "sct_patients", json_integer(t->sct_patients));
        json_object_set_new(jt, "surgery_patients", json_integer(t->surgery_patients));
        json_t *rt = json_object(), *by = json_object();
        json_object_set_new(rt, "courses", json_integer(t->rt_courses));
        for (int k = 0; k < t->rt_ntech; k++)
            json_object_set_new(by, t->rt_tech[k], json_integer(t->rt_tech_n[k]));
        json_object_set_new(rt, "by_technique", by);
        json_object_set_new(rt, "revised_courses", json_integer(t->rt_revised));
        json_object_set_new(jt, "radiotherapy", rt);
        json_object_set_new(c, "treatment", jt);
        json_array_append_new(centres, c);
    }
    json_object_set_new(root, "centres", centres);
    json_t *tiers = json_object();
    json_object_set_new(tiers, "1", json_integer(r->tiers[0]));
    json_object_set_new(tiers, "2", json_integer(r->tiers[1]));
    json_object_set_new(tiers, "3", json_integer(r->tiers[2]));
    json_object_set_new(root, "dose_tiers", tiers);
    json_object_set_new(root, "tier1_without_events", json_integer(r->tier1_without_events));
    json_object_set_new(root, "procedures_without_doses", json_integer(r->procedures_without_doses));
    json_object_set_new(root, "patients_without_followup", json_integer(r->patients_without_followup));
    json_object_set_new(root, "imports", json_integer(r->imports));
    size_t foff = 0;
    for (size_t ti = 0; ti < nt; ti++) {
        const hm_dict_table *t = hm_dict_table_at(d, ti);
        for (size_t j = 0; j < t->nfields; j++) {
            json_t *f = json_object();
            json_object_set_new(f, "table", json_string(t->name));
            json_object_set_new(f, "field", json_string(t->fields[j].name));
            json_object_set_new(f, "filled_pct", r->table_rows[ti]
                ? json_real(pct(r->field_filled[foff + j], (double)r->table_rows[ti])) : json_null());
            json_array_append_new(fields, f);
        }
        foff += t->nfields;
    }
    json_object_set_new(root, "fields", fields);
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(root);
    return rc ? hm_error_set(err, HM_EIO, NULL, 0, NULL, "cannot write JSON") : HM_OK;
}

int hm_registry_report(hm_db *db, FILE *out, int json, hm_error *err)
{
    report r;
    memset(&r, 0, sizeof r);
    size_t nt = hm_dict_ntables(db->dict), nf = 0;
    for (size_t ti = 0; ti < nt; ti++)
        nf += hm_dict_table_at(db->dict, ti)->nfields;
    int version = 0;
    int rc = hm_db_schema_version(db, &version, err);
    if (rc == HM_OK)
        rc = load_centres(db, &r, err);
    if (rc == HM_OK) {
        r.cells = calloc((r.ncentres ? r.ncentres : 1) * nt, sizeof *r.cells);
        r.field_filled = calloc(nf, sizeof *r.field_filled);
        r.table_rows = calloc(nt, sizeof *r.table_rows);
        r.dose = calloc(r.ncentres ? r.ncentres : 1, sizeof *r.dose);
        r.treat = calloc(r.ncentres ? r.ncentres : 1, sizeof *r.treat);
        if (!r.cells || !r.field_filled || !r.table_rows || !r.dose || !r.treat)
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    size_t foff = 0;
    for (size_t ti = 0; ti < nt && rc == HM_OK; ti++) {
        rc = scan_table(db, &r, ti, foff, err);
        foff += hm_dict_table_at(db->dict, ti)->nfields;
    }
    if (rc == HM_OK)
        rc = scan_tiers(db, &r, err);
    if (rc == HM_OK)
        rc = scan_dosimetry(db, &r, err);
    if (rc == HM_OK)
        rc = scan_treatment(db, &r, err);
    if (rc == HM_OK)
        rc = scan_rt(db, &r, err);
    if (rc == HM_OK) {
        if (json)
            rc = print_json(db, &r, version, out, err);
        else
            print_text(db, &r, version, out);
    }
    for (size_t i = 0; i < r.ncentres; i++)
        free(r.centres[i]);
    free(r.centres);
    free(r.cells);
    free(r.field_filled);
    free(r.table_rows);
    free(r.dose);
    free(r.treat);
    return rc;
}
