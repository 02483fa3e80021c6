/*
 * dose_run.c — dose runs and resuming them: the dose_run row (parameters,
 * engine, library), the procedures a run finished (dose_run_done), the ones
 * still to do, and the one-writer bulk helper that commits every K
 * procedures.
 *
 * Why whole procedures survive a kill: a procedure's dose rows and its
 * dose_run_done row are written in one transaction, and SQLite (WAL) and
 * PostgreSQL both discard an uncommitted transaction on recovery, so after
 * a kill a procedure is either done with all its rows or absent from
 * dose_run_done (its rows, if any, from an earlier run of the same key are
 * upserted again on resume).
 */
#include "registry_int.h"
#include "hm_registry_server.h"

#include <stdlib.h>
#include <string.h>

void hm_dose_run_clear(hm_dose_run *run)
{
    if (!run)
        return;
    free(run->params);
    memset(run, 0, sizeof *run);
}

static int check_run_id(const char *run_id, hm_error *err)
{
    if (!run_id || !run_id[0] || strlen(run_id) >= sizeof ((hm_dose_run *)0)->run_id)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "run_id", "a run id of 1 to %zu characters "
                            "is required", sizeof ((hm_dose_run *)0)->run_id - 1);
    return HM_OK;
}

int hm_dose_run_find(hm_db *db, const char *run_id, hm_dose_run *run, hm_error *err)
{
    memset(run, 0, sizeof *run);
    int rc = check_run_id(run_id, err);
    hm_stmt *st;
    if (rc || (rc = hm_db_prepare(db, "SELECT run_id, created_at, params, engine_version, library_id "
                                      "FROM dose_run WHERE run_id = ?", &st, err)))
        return rc;
    hm_stmt_bind_text(st, 1, run_id);
    rc = hm_stmt_step(st, err);
    if (rc == 1) {
        const char *p = hm_stmt_column_text(st, 2);
        snprintf(run->run_id, sizeof run->run_id, "%s", hm_stmt_column_text(st, 0));
        snprintf(run->created_at, sizeof run->created_at, "%s", hm_stmt_column_text(st, 1));
        snprintf(run->engine_version, sizeof run->engine_version, "%s",
                 hm_stmt_column_text(st, 3) ? hm_stmt_column_text(st, 3) : "");
        snprintf(run->library_id, sizeof run->library_id, "%s",
                 hm_stmt_column_text(st, 4) ? hm_stmt_column_text(st, 4) : "");
        if (p && !(run->params = strdup(p)))
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    } else if (rc == 0) {
        rc = hm_error_set(err, HM_ENOTFOUND, NULL, 0, "run_id", "no dose run '%s'", run_id);
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

int hm_dose_run_open(hm_db *db, const char *run_id, const char *params_json,
                     const char *engine_version, const char *library_id, int *created,
                     hm_error *err)
{
    if (created)
        *created = 0;
    int rc = check_run_id(run_id, err);
    if (rc)
        return rc;
    char when[32];
    hm__utc_stamp(when);
    hm_stmt *st;
    /* RETURNING 1 only for a row inserted (both back ends; the guarded
     * import upsert relies on the same). */
    rc = hm_db_prepare(db, "INSERT INTO dose_run (run_id, created_at, params, engine_version, "
                           "library_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING "
                           "RETURNING 1", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, run_id);
    hm_stmt_bind_text(st, 2, when);
    hm_stmt_bind_text(st, 3, params_json);
    hm_stmt_bind_text(st, 4, engine_version);
    hm_stmt_bind_text(st, 5, library_id);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    if (created)
        *created = rc == 1;
    return HM_OK;
}

int hm_dose_run_mark_done(hm_db *db, const char *run_id, const char *centre,
                          const char *procedure_id, hm_error *err)
{
    if (!db->in_tx)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "a procedure is marked done in the "
                            "transaction that wrote its doses: none is open");
    if (!centre || !centre[0] || !procedure_id || !procedure_id[0])
        return hm_error_set(err, HM_EINVAL, "dose_run_done", 0, "procedure_id",
                            "centre and procedure are required");
    int rc = check_run_id(run_id, err);
    if (rc)
        return rc;
    if (db->mark_done)
        hm_stmt_reset(db->mark_done);
    else if ((rc = hm_db_prepare(db, "INSERT INTO dose_run_done (run_id, centre_code, procedure_id) "
                                     "VALUES (?, ?, ?) ON CONFLICT (run_id, centre_code, procedure_id) "
                                     "DO NOTHING", &db->mark_done, err)))
        return rc;
    hm_stmt_bind_text(db->mark_done, 1, run_id);
    hm_stmt_bind_text(db->mark_done, 2, centre);
    hm_stmt_bind_text(db->mark_done, 3, procedure_id);
    rc = hm_stmt_step(db->mark_done, err);
    hm_stmt_reset(db->mark_done);
    return rc < 0 ? rc : HM_OK;
}

int hm_dose_run_count_done(hm_db *db, const char *run_id, long *n, hm_error *err)
{
    *n = 0;
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT COUNT(*) FROM dose_run_done WHERE run_id = ?", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, run_id);
    if ((rc = hm_stmt_step(st, err)) == 1)
        *n = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

int hm_dose_run_pending(hm_db *db, const char *run_id, hm_pending_fn fn, void *arg,
                        hm_error *err)
{
    int rc = check_run_id(run_id, err);
    if (rc)
        return rc;
    const char *c = db->kind == HM_DB_POSTGRES ? " COLLATE \"C\"" : "";
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT p.centre_code, p.procedure_id, p.dose_tier FROM procedure p WHERE NOT EXISTS "
             "(SELECT 1 FROM dose_run_done d WHERE d.run_id = ? AND d.centre_code = p.centre_code "
             "AND d.procedure_id = p.procedure_id) ORDER BY p.centre_code%s, p.procedure_id%s", c, c);
    hm_stmt *st;
    if ((rc = hm_db_prepare(db, sql, &st, err)))
        return rc;
    hm_stmt_bind_text(st, 1, run_id);
    while ((rc = hm_stmt_step(st, err)) == 1) {
        const char *tier = hm_stmt_column_text(st, 2);
        /* Copies: fn may run statements, which on PostgreSQL set this
         * result's rows aside (the current row stays valid, but be safe). */
        char centre[128], proc[256];
        snprintf(centre, sizeof centre, "%s", hm_stmt_column_text(st, 0));
        snprintf(proc, sizeof proc, "%s", hm_stmt_column_text(st, 1));
        if ((rc = fn(arg, centre, proc, tier ? atoi(tier) : 0)) != 0)
            break;
    }
    hm_stmt_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- */

struct hm_dose_writer {
    hm_db *db;
    char   run_id[128];
    int    commit_every;
    int    in_batch;          /* procedures done in the open transaction */
    long   committed;
};

int hm_dose_writer_open(hm_db *db, const char *run_id, int commit_every, hm_dose_writer **w,
                        hm_error *err)
{
    *w = NULL;
    int rc = check_run_id(run_id, err);
    if (rc)
        return rc;
    if (commit_every < 1)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "commit_every", "%d: expected >= 1", commit_every);
    hm_dose_writer *x = calloc(1, sizeof *x);
    if (!x)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    x->db = db;
    snprintf(x->run_id, sizeof x->run_id, "%s", run_id);
    x->commit_every = commit_every;
    *w = x;
    return HM_OK;
}

int hm_dose_writer_start(hm_dose_writer *w, hm_error *err)
{
    if (hm_db_in_transaction(w->db))
        return HM_OK;
    /* The connection's cached look-ups, stepped and left, hold an SQLite
     * read snapshot between batches: after another connection's commit (a
     * server job's progress update, a submission) BEGIN would then fail at
     * once with SQLITE_BUSY_SNAPSHOT instead of waiting.  End them first
     * (hm_registry_server.h); the run's own loops read on other connections. */
    hm_db_release(w->db);
    return hm_db_begin(w->db, err);
}

int hm_dose_writer_done(hm_dose_writer *w, const char *centre, const char *procedure_id,
                        hm_error *err)
{
    int rc = hm_dose_run_mark_done(w->db, w->run_id, centre, procedure_id, err);
    if (rc)
        return rc;
    if (++w->in_batch < w->commit_every)
        return HM_OK;
    if ((rc = hm_db_commit(w->db, err)))
        return rc;
    w->committed += w->in_batch;
    w->in_batch = 0;
    return HM_OK;
}

long hm_dose_writer_committed(const hm_dose_writer *w) { return w->committed; }

int hm_dose_writer_close(hm_dose_writer *w, hm_error *err)
{
    if (!w)
        return HM_OK;
    int rc = hm_db_in_transaction(w->db) ? hm_db_commit(w->db, err) : HM_OK;
    free(w);
    return rc;
}

void hm_dose_writer_abort(hm_dose_writer *w)
{
    if (!w)
        return;
    hm_db_rollback(w->db, NULL);
    free(w);
}
