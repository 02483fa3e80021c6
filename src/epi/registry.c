/*
 * registry.c — individual records from the registry (hm_registry), and the
 * person-year table stored back as results.
 *
 * Dates: a field X_date (YYYY-MM-DD) when present, else X_day (days since
 * birth; Norway sends dates so).  Birth is birth_date, else 1 July of
 * birth_year (only differences from birth and calendar periods use it).
 * Country: centre.country of the patient's centre.  Organ doses: one method
 * per procedure, realization and organ, by the priority rdsr_mc,
 * kap_coefficient, tier3_sample, synthetic, tps, other.  Realizations come
 * from organ_dose_real (packed float32 per procedure and organ) when it holds
 * the organ, else from organ_dose rows with realization > 0.  Treatments:
 * each chemotherapy row with its CED and DIE (hm_chemo_row_exposure, factors
 * of data/rt/chemo_agents.csv) from start_date/start_day, each stem-cell
 * transplant from sct_date/sct_day; without a day, from the start of
 * follow-up (docs/epi.md "Treatment covariates").
 */
#include "cohort.h"
#include "hm_registry.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static double field_day(hm_stmt *st, int col_date, int col_day, double birth)
{
    const char *s = hm_stmt_column_text(st, col_date);
    double d;
    if (s && *s && hm_epi_parse_day(s, &d) == 0)
        return d;
    if (col_day >= 0 && !hm_stmt_column_isnull(st, col_day))
        return birth + (double)hm_stmt_column_int64(st, col_day);
    return NAN;
}

static void make_id(char *buf, size_t n, const char *centre, const char *pseudonym)
{
    snprintf(buf, n, "%.40s:%.80s", centre ? centre : "", pseudonym ? pseudonym : "");
}

static int query(hm_db *db, const char *sql, hm_stmt **st, hm_error *err)
{
    return hm_db_prepare(db, sql, st, err);
}

static int read_patients(hm_db *db, hm_epi_cohort *c, const char *syndromes, hm_error *err)
{
    hm_stmt *st;
    int rc = query(db,
        "SELECT p.centre_code, p.pseudonym, p.sex, p.birth_year, p.birth_date, p.syndrome, "
        "p.transplant_date, p.transplant_day, f.end_date, f.end_day, c.country "
        "FROM patient p JOIN followup f ON f.centre_code = p.centre_code AND f.pseudonym = p.pseudonym "
        "LEFT JOIN centre c ON c.centre_code = p.centre_code ORDER BY p.centre_code, p.pseudonym", &st, err);
    if (rc < 0)
        return rc;
    long row = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        row++;
        char id[160];
        make_id(id, sizeof id, hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 1));
        const char *bd = hm_stmt_column_text(st, 4);
        double birth;
        if (!bd || !*bd || hm_epi_parse_day(bd, &birth) < 0)
            birth = hm_epi_day_from_civil((int)hm_stmt_column_int64(st, 3), 7, 1);
        const char *syn = hm_stmt_column_text(st, 5);
        int syndrome = hm_list_has(syndromes, ',', syn);
        double tx = field_day(st, 6, 7, birth), end = field_day(st, 8, 9, birth);
        if (isnan(end)) {
            rc = hm_error_set(err, HM_EVALIDATE, "followup", row, "end_date", "patient %s has no end of follow-up", id);
            break;
        }
        if ((rc = hm_epi_cohort_add_person(c, id, hm_stmt_column_text(st, 2), birth, end,
                                           hm_stmt_column_text(st, 10), syndrome, tx, err)) < 0)
            break;
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

/* 1 when organ_dose_real holds realizations of the organ, 0 if not, < 0. */
static int have_packed(hm_db *db, const char *organ, hm_error *err)
{
    hm_stmt *st;
    int rc = query(db, "SELECT 1 FROM organ_dose_real WHERE organ = ? AND source_type = 'procedure' "
                       "LIMIT 1", &st, err);
    if (rc < 0)
        return rc;
    hm_stmt_bind_text(st, 1, organ);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc;
}

/* Realizations packed per (procedure, organ, method): n little-endian
 * float32 (docs/registry.md), realization k+1 = value k.  Same method
 * priority as the rows of organ_dose. */
static int read_packed(hm_db *db, hm_epi_cohort *c, const char *organ, hm_error *err)
{
    hm_stmt *st;
    int rc = query(db,
        "SELECT p.centre_code, p.pseudonym, p.proc_date, p.proc_day, o.n_real, o.dose_mgy, p.procedure_id "
        "FROM procedure p JOIN organ_dose_real o ON o.centre_code = p.centre_code AND o.source_type = 'procedure' "
        "AND o.source_id = p.procedure_id WHERE o.organ = ? "
        "ORDER BY p.centre_code, p.procedure_id, CASE o.method WHEN 'rdsr_mc' THEN 0 "
        "WHEN 'kap_coefficient' THEN 1 WHEN 'tier3_sample' THEN 2 WHEN 'synthetic' THEN 3 WHEN 'tps' THEN 4 "
        "ELSE 5 END", &st, err);
    if (rc < 0)
        return rc;
    hm_stmt_bind_text(st, 1, organ);
    char last[300] = "";
    long row = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        row++;
        char id[160], key[300];
        make_id(id, sizeof id, hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 1));
        snprintf(key, sizeof key, "%.40s|%.200s", hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 6));
        if (!strcmp(key, last))
            continue;  /* a lower-priority method for the same procedure */
        snprintf(last, sizeof last, "%s", key);
        long pi = epi_cohort_find(c, id);
        if (pi < 0)
            continue;
        double day = field_day(st, 2, 3, c->p[pi].birth_day);
        if (isnan(day)) {
            rc = hm_error_set(err, HM_EVALIDATE, "procedure", row, "proc_date", "procedure of %s has no date", id);
            break;
        }
        int64_t n = hm_stmt_column_int64(st, 4);
        size_t nbytes;
        const unsigned char *b = hm_stmt_column_blob(st, 5, &nbytes);
        if (n < 1 || !b || nbytes != (size_t)n * 4) {
            rc = hm_error_set(err, HM_EVALIDATE, "organ_dose_real", row, "dose_mgy",
                              "%s: %zu bytes for n_real %lld", key, nbytes, (long long)n);
            break;
        }
        for (int64_t k = 0; k < n && rc >= 0; k++) {
            const unsigned char *q = b + 4 * k;
            uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
            float f;
            memcpy(&f, &u, 4);
            rc = hm_epi_cohort_add_dose(c, id, day, (int)k + 1, (double)f, err);
        }
        if (rc < 0)
            break;
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

static int read_doses(hm_db *db, hm_epi_cohort *c, const char *organ, int realizations, hm_error *err)
{
    if (realizations) {
        int rc = have_packed(db, organ, err);
        if (rc < 0)
            return rc;
        if (rc == 1)
            return read_packed(db, c, organ, err);
    }
    hm_stmt *st;
    char sql[1200];
    snprintf(sql, sizeof sql,
        "SELECT p.centre_code, p.pseudonym, p.proc_date, p.proc_day, o.realization, o.dose_mgy, p.procedure_id "
        "FROM procedure p JOIN organ_dose o ON o.centre_code = p.centre_code AND o.source_type = 'procedure' "
        "AND o.source_id = p.procedure_id WHERE o.organ = ? AND o.realization %s "
        "ORDER BY p.centre_code, p.procedure_id, o.realization, CASE o.method WHEN 'rdsr_mc' THEN 0 "
        "WHEN 'kap_coefficient' THEN 1 WHEN 'tier3_sample' THEN 2 WHEN 'synthetic' THEN 3 WHEN 'tps' THEN 4 "
        "ELSE 5 END", realizations ? "> 0" : "= 0");
    int rc = query(db, sql, &st, err);
    if (rc < 0)
        return rc;
    hm_stmt_bind_text(st, 1, organ);
    char last[300] = "";
    long row = 0, stored = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        row++;
        char id[160], key[300];
        make_id(id, sizeof id, hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 1));
        snprintf(key, sizeof key, "%.40s|%.200s|%lld", hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 6),
                 (long long)hm_stmt_column_int64(st, 4));
        if (!strcmp(key, last))
            continue;  /* a lower-priority method for the same dose */
        snprintf(last, sizeof last, "%s", key);
        long pi = epi_cohort_find(c, id);
        if (pi < 0)
            continue;  /* patient without follow-up */
        double day = field_day(st, 2, 3, c->p[pi].birth_day);
        if (isnan(day)) {
            rc = hm_error_set(err, HM_EVALIDATE, "procedure", row, "proc_date", "procedure of %s has no date", id);
            break;
        }
        if ((rc = hm_epi_cohort_add_dose(c, id, day, (int)hm_stmt_column_int64(st, 4),
                                         hm_stmt_column_double(st, 5), err)) < 0)
            break;
        stored++;
    }
    hm_stmt_finalize(st);
    if (rc >= 0 && stored == 0)
        rc = hm_error_set(err, HM_ENOTFOUND, "organ_dose", 0, "organ", "no %s doses for organ '%s'",
                          realizations ? "realization (1..N)" : "best-estimate (realization 0)", organ);
    return rc < 0 ? rc : HM_OK;
}

static int read_outcomes(hm_db *db, hm_epi_cohort *c, hm_error *err)
{
    hm_stmt *st;
    int rc = query(db,
        "SELECT centre_code, pseudonym, icdo3_morphology, icdo3_topography, event_date, event_day "
        "FROM outcome WHERE kind = 'cancer'", &st, err);
    if (rc < 0)
        return rc;
    long row = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        row++;
        char id[160];
        make_id(id, sizeof id, hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 1));
        long pi = epi_cohort_find(c, id);
        if (pi < 0)
            continue;
        double day = field_day(st, 4, 5, c->p[pi].birth_day);
        const char *morph = hm_stmt_column_text(st, 2);
        if (isnan(day) || !morph || !*morph) {
            rc = hm_error_set(err, HM_EVALIDATE, "outcome", row, isnan(day) ? "event_date" : "icdo3_morphology",
                              "cancer of %s without %s", id, isnan(day) ? "a date" : "a morphology");
            break;
        }
        if ((rc = hm_epi_cohort_add_event(c, id, day, morph, hm_stmt_column_text(st, 3), err)) < 0)
            break;
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

static int read_treatments(hm_db *db, hm_epi_cohort *c, hm_error *err)
{
    hm_chemo_factors *f;
    int rc = hm_chemo_factors_load(NULL, &f, err);
    if (rc < 0)
        return rc;
    hm_stmt *st = NULL;
    rc = query(db, "SELECT centre_code, pseudonym, agent, cumulative_dose_mg_m2, start_date, start_day "
                   "FROM chemotherapy", &st, err);
    long row = 0;
    while (rc >= 0 && (rc = hm_stmt_step(st, err)) == 1) {
        row++;
        char id[160];
        make_id(id, sizeof id, hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 1));
        long pi = epi_cohort_find(c, id);
        if (pi < 0)
            continue;  /* patient without follow-up */
        double ced, die;
        if ((rc = hm_chemo_row_exposure(f, hm_stmt_column_text(st, 2), hm_stmt_column_double(st, 3),
                                        &ced, &die, err)) < 0) {
            err->line = row;
            break;
        }
        if (ced > 0 || die > 0)   /* agents without a factor add nothing */
            rc = hm_epi_cohort_add_treatment(c, id, field_day(st, 4, 5, c->p[pi].birth_day), ced, die, 0,
                                             err);
    }
    if (st)
        hm_stmt_finalize(st);
    hm_chemo_factors_free(f);
    if (rc < 0)
        return rc;
    if ((rc = query(db, "SELECT centre_code, pseudonym, sct_date, sct_day FROM stem_cell_transplant", &st,
                    err)) < 0)
        return rc;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        char id[160];
        make_id(id, sizeof id, hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 1));
        long pi = epi_cohort_find(c, id);
        if (pi >= 0 && (rc = hm_epi_cohort_add_treatment(c, id, field_day(st, 2, 3, c->p[pi].birth_day), 0, 0,
                                                         1, err)) < 0)
            break;
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

int hm_epi_cohort_from_registry(const char *db_url, const char *organ, int realizations,
                                const char *syndrome_codes, hm_epi_cohort **out, hm_error *err)
{
    *out = NULL;
    if (!organ || !*organ)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "organ", "give the organ whose dose is analysed (--organ)");
    hm_db *db;
    int rc = hm_db_open(db_url, &db, err);
    if (rc < 0)
        return rc;
    hm_epi_cohort *c = hm_epi_cohort_new();
    if (!c) {
        hm_db_close(db);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    if ((rc = read_patients(db, c, syndrome_codes ? syndrome_codes : "down", err)) >= 0 && (rc = read_doses(db, c, organ, realizations, err)) >= 0 &&
        (rc = read_outcomes(db, c, err)) >= 0 && (rc = read_treatments(db, c, err)) >= 0)
        rc = hm_epi_cohort_finish(c, err);
    hm_db_close(db);
    if (rc < 0) {
        hm_epi_cohort_free(c);
        return rc;
    }
    *out = c;
    return HM_OK;
}

/* Long format (run, row, column, value, label) keeps one results table for
 * every layout of cells; all-or-nothing in one transaction. */
int hm_epi_table_store(const char *db_url, const char *run_id, const hm_epi_table *t, hm_error *err)
{
    hm_db *db;
    int rc = hm_db_open(db_url, &db, err);
    if (rc < 0)
        return rc;
    hm_stmt *del = NULL, *ins = NULL;
    /* epi_result comes from migration 002 (hm_db_open): no DDL here, so a
     * role that may not run DDL (the server's job workers) can store. */
    if ((rc = hm_db_begin(db, err)) < 0) {
        hm_db_close(db);
        return rc;
    }
    if ((rc = hm_db_prepare(db, "DELETE FROM epi_result WHERE run_id = ?", &del, err)) >= 0 &&
        (rc = hm_db_prepare(db, "INSERT INTO epi_result (run_id, cell, name, value, label) VALUES (?, ?, ?, ?, ?)",
                            &ins, err)) >= 0) {
        hm_stmt_bind_text(del, 1, run_id);
        rc = hm_stmt_step(del, err);
        for (size_t r = 0; rc >= 0 && r < t->nrows; r++)
            for (size_t k = 0; rc >= 0 && k < t->ncols; k++) {
                double v = t->cols[k][r];
                const char *label = t->levels && t->levels[k] && v >= 0 && (size_t)v < t->nlevels[k]
                                        ? t->levels[k][(size_t)v] : NULL;
                hm_stmt_reset(ins);
                hm_stmt_bind_text(ins, 1, run_id);
                hm_stmt_bind_int64(ins, 2, (int64_t)r + 1);
                hm_stmt_bind_text(ins, 3, t->names[k]);
                hm_stmt_bind_double(ins, 4, v);
                hm_stmt_bind_text(ins, 5, label);
                rc = hm_stmt_step(ins, err);
            }
    }
    if (del)
        hm_stmt_finalize(del);
    if (ins)
        hm_stmt_finalize(ins);
    if (rc < 0)
        hm_db_rollback(db, NULL);
    else
        rc = hm_db_commit(db, err);
    hm_db_close(db);
    return rc < 0 ? rc : HM_OK;
}
