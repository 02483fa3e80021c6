/*
 * score_db.c — `harmonic qol score --db`: every assessment of qol_item
 * scored and written to qol_score in one transaction.  Rows are read in
 * (centre, assessment, instrument) order, so one assessment is in memory at
 * a time; the scores go through hm_registry_upsert_row, which validates them
 * like imported rows (patient registered, ranges, dates) and upserts on
 * (centre_code, assessment_id, scale): scoring twice gives the same rows.
 */
#include "hm_qol.h"
#include "qol_int.h"
#include "hm_registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct group {
    hm_qol_item *items;
    size_t       n, cap;
} group;

static void group_clear(group *g)
{
    for (size_t i = 0; i < g->n; i++)
        hm_qol__item_free(&g->items[i]);
    g->n = 0;
}

static char *dup_col(hm_stmt *st, int col, int *oom)
{
    const char *s = hm_stmt_column_text(st, col);
    if (!s)
        return NULL;
    char *p = strdup(s);
    if (!p)
        *oom = 1;
    return p;
}

/* The current row, copied (column texts live until the next step). */
static int group_add(group *g, hm_stmt *st, hm_error *err)
{
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 64;
        hm_qol_item *p = realloc(g->items, nc * sizeof *p);
        if (!p)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        g->items = p;
        g->cap = nc;
    }
    hm_qol_item *it = &g->items[g->n++];
    int oom = 0;
    memset(it, 0, sizeof *it);
    it->centre = dup_col(st, 0, &oom);
    it->assessment_id = dup_col(st, 1, &oom);
    it->item_id = dup_col(st, 2, &oom);
    it->pseudonym = dup_col(st, 3, &oom);
    it->instrument = dup_col(st, 4, &oom);
    it->form = dup_col(st, 5, &oom);
    it->respondent = dup_col(st, 6, &oom);
    it->assessment_date = dup_col(st, 7, &oom);
    it->assessment_day = hm_stmt_column_isnull(st, 8) ? -1 : (long)hm_stmt_column_int64(st, 8);
    it->response = hm_stmt_column_isnull(st, 9) ? -1 : (int)hm_stmt_column_int64(st, 9);
    return oom ? hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory") : HM_OK;
}

static int same_group(const hm_qol_item *a, hm_stmt *st)
{
    const char *c = hm_stmt_column_text(st, 0), *id = hm_stmt_column_text(st, 1),
               *in = hm_stmt_column_text(st, 4);
    return c && id && in && !strcmp(a->centre, c) && !strcmp(a->assessment_id, id) &&
           !strcmp(a->instrument, in);
}

/* Scores the group and writes (or, for scales not computed, removes) its rows. */
static int flush(hm_db *db, const hm_qol_defs *d, group *g, hm_stmt **del,
                 hm_qol_db_result *res, hm_error *err)
{
    if (g->n == 0)
        return HM_OK;
    hm_qol_score sc[HM_QOL_MAX_SCALES];
    size_t ns;
    int rc = hm_qol_score_assessment(d, g->items, g->n, sc, HM_QOL_MAX_SCALES, &ns, err);
    const hm_qol_item *a = &g->items[0];
    if (rc) {
        /* Name the row: the item's line means nothing for stored rows. */
        char what[sizeof err->msg], field[sizeof err->field];
        snprintf(what, sizeof what, "%s", err->msg);
        snprintf(field, sizeof field, "%s", err->field);
        rc = hm_error_set(err, rc, "qol_item", 0, field, "centre %s, assessment %s: %s",
                          a->centre, a->assessment_id, what);
        group_clear(g);
        return rc;
    }
    res->assessments++;
    for (size_t i = 0; i < ns && rc == HM_OK; i++) {
        if (!sc[i].computed) {
            if (!*del)
                rc = hm_db_prepare(db, "DELETE FROM qol_score WHERE centre_code = ? AND "
                                       "assessment_id = ? AND scale = ?", del, err);
            if (rc)
                break;
            hm_stmt_reset(*del);
            hm_stmt_bind_text(*del, 1, a->centre);
            hm_stmt_bind_text(*del, 2, a->assessment_id);
            hm_stmt_bind_text(*del, 3, sc[i].scale);
            rc = hm_stmt_step(*del, err) < 0 ? HM_EDB : HM_OK;
            res->scores_missing++;
            continue;
        }
        char score[32], day[24];
        snprintf(score, sizeof score, "%.17g", sc[i].score);
        snprintf(day, sizeof day, "%ld", a->assessment_day);
        const char *names[] = { "centre_code", "assessment_id", "scale", "pseudonym",
                                "instrument", "respondent", "assessment_date",
                                "assessment_day", "score" };
        const char *vals[] = { a->centre, a->assessment_id, sc[i].scale, a->pseudonym,
                               a->instrument, a->respondent, a->assessment_date,
                               a->assessment_day >= 0 ? day : NULL, score };
        rc = hm_registry_upsert_row(db, a->centre, "qol_score", names, vals, 9, err);
        if (rc == HM_OK)
            res->scores_written++;
    }
    group_clear(g);
    return rc;
}

int hm_qol_score_db(hm_db *db, const char *centre, hm_qol_db_result *res, hm_error *err)
{
    memset(res, 0, sizeof *res);
    const hm_qol_defs *d;
    int rc = hm_qol_defs_shared(&d, err);
    if (rc)
        return rc;
    if (hm_db_in_transaction(db))
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL,
                            "qol scoring runs its own transaction: commit the open one first");
    hm_stmt *st = NULL, *del = NULL;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT centre_code, assessment_id, item_id, pseudonym, instrument, form, "
             "respondent, assessment_date, assessment_day, response FROM qol_item%s "
             "ORDER BY centre_code, assessment_id, instrument, item_id",
             centre ? " WHERE centre_code = ?" : "");
    if ((rc = hm_db_begin(db, err)))
        return rc;
    rc = hm_db_prepare(db, sql, &st, err);
    if (rc == HM_OK && centre)
        hm_stmt_bind_text(st, 1, centre);
    group g = { 0 };
    while (rc == HM_OK && (rc = hm_stmt_step(st, err)) == 1) {
        rc = HM_OK;
        if (g.n && !same_group(&g.items[0], st))
            rc = flush(db, d, &g, &del, res, err);
        if (rc == HM_OK)
            rc = group_add(&g, st, err);
        res->items++;
    }
    if (rc == HM_OK)
        rc = flush(db, d, &g, &del, res, err);
    group_clear(&g);
    free(g.items);
    hm_stmt_finalize(st);
    hm_stmt_finalize(del);
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    return rc;
}
