/*
 * jobs.c — background analysis jobs (docs/server.md "Background jobs",
 * data/schema/011_jobs.sql): the worker threads and the heartbeat thread of
 * one server instance, and the job kinds, which call the same library code
 * as `harmonic epi tabulate`, `harmonic epi fit` (src/epi) and `harmonic
 * dose cohort --library` (src/doserun).
 *
 * The queue is the table server_job and nothing else: a worker claims the
 * oldest queued job with one UPDATE guarded by status = 'queued' (on
 * PostgreSQL a concurrent claimer blocks on the row, re-reads it, finds it
 * running and updates nothing; SQLite has one writer at a time), so several
 * instances share one queue without talking to each other.  The heartbeat
 * thread refreshes heartbeat of this instance's running jobs every
 * job_stale_s / 4 and puts back in the queue any running job whose
 * heartbeat is older than job_stale_s (its instance was killed).  A
 * graceful stop lets the running stage finish, then re-queues the job.
 */
#include "srv_int.h"

#include "hm_doserun.h"
#include "hm_epi.h"
#include "hm_registry_server.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define MAX_ATTEMPTS 5             /* claims of a job whose runners all died */

struct srv_jobs {
    char        db_url[1024];
    char        dose_library[1024];  /* the configured library of dose jobs, or "" */
    char        instance[64];        /* "host:pid:random", claimed_by */
    int         stale_s, nworkers;
    atomic_int  stop;
    pthread_t   workers[MAX_WORKERS], beat;
    int         started, beat_started;
};

/* One job being run: what a stage needs to report progress. */
typedef struct job_run {
    srv_jobs   *jobs;
    hm_db      *db;
    int64_t     id;
    const char *created_by;
    json_t     *params;
    json_t     *result;               /* set by a kind on success */
    hm_error    err;
} job_run;

/* Why a stage asks to stop. */
enum { GO_ON = 0, STOP_CANCEL = 1, STOP_SERVER = 2 };

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}

static int exec_text(hm_db *db, const char *sql, const char *const *p, int n, int64_t id,
                     hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++)
        hm_stmt_bind_text(st, i + 1, p[i]);
    if (id >= 0)
        hm_stmt_bind_int64(st, n + 1, id);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

/* ---- progress, cancel, finish ------------------------------------------ */

/* Records progress p (kept monotone) and msg; returns GO_ON, or why the job
 * must stop (cancel requested, server stopping, claim lost). */
static int job_progress(job_run *j, double p, const char *msg)
{
    char now[32];
    srv_utc(now, 0);
    hm_error err;
    hm_stmt *st;
    if (hm_db_prepare(j->db, "UPDATE server_job SET progress = CASE WHEN progress < ? THEN ? "
                             "ELSE progress END, message = ?, heartbeat = ? "
                             "WHERE job_id = ? AND claimed_by = ? AND status = 'running'",
                      &st, &err) == HM_OK) {
        hm_stmt_bind_double(st, 1, p);
        hm_stmt_bind_double(st, 2, p);
        hm_stmt_bind_text(st, 3, msg);
        hm_stmt_bind_text(st, 4, now);
        hm_stmt_bind_int64(st, 5, j->id);
        hm_stmt_bind_text(st, 6, j->jobs->instance);
        hm_stmt_step(st, &err);
        hm_stmt_finalize(st);
    }
    int why = atomic_load(&j->jobs->stop) ? STOP_SERVER : GO_ON;
    if (hm_db_prepare(j->db, "SELECT cancel_requested, claimed_by FROM server_job "
                             "WHERE job_id = ?", &st, &err) == HM_OK) {
        hm_stmt_bind_int64(st, 1, j->id);
        if (hm_stmt_step(st, &err) == 1) {
            const char *by = hm_stmt_column_text(st, 1);
            if (hm_stmt_column_int64(st, 0))
                why = STOP_CANCEL;
            else if (!by || strcmp(by, j->jobs->instance))
                why = STOP_SERVER;            /* re-queued by another instance */
        }
        hm_stmt_finalize(st);
    }
    return why;
}

/* The job's last state and its audit entry, in one transaction (retried:
 * another instance may have appended to the chain at the same moment). */
static void job_finish(job_run *j, const char *status, const char *message)
{
    char now[32], *res = NULL, idtxt[24];
    srv_utc(now, 0);
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)j->id);
    if (j->result)
        res = json_dumps(j->result, JSON_COMPACT | JSON_PRESERVE_ORDER);
    for (int attempt = 0; attempt < 5; attempt++) {
        hm_error err;
        int rc = hm_db_begin(j->db, &err);
        if (rc == HM_OK) {
            const char *p[6] = { status, message, res, now, idtxt, j->jobs->instance };
            hm_stmt *st;
            rc = hm_db_prepare(j->db, "UPDATE server_job SET status = ?, message = ?, result = ?, "
                                      "finished_at = ?, progress = CASE WHEN ? = 'done' THEN 1 "
                                      "ELSE progress END, heartbeat = NULL "
                                      "WHERE job_id = ? AND claimed_by = ? AND status = "
                                      "'running' RETURNING job_id", &st, &err);
            if (rc == HM_OK) {
                for (int i = 0; i < 4; i++)
                    hm_stmt_bind_text(st, i + 1, p[i]);
                hm_stmt_bind_text(st, 5, status);
                hm_stmt_bind_int64(st, 6, j->id);
                hm_stmt_bind_text(st, 7, p[5]);
                int got = hm_stmt_step(st, &err);
                while (got == 1 && hm_stmt_step(st, &err) == 1)
                    ;
                hm_stmt_finalize(st);
                rc = got < 0 ? HM_EDB : HM_OK;
                if (got == 0) {          /* re-queued meanwhile: its next runner finishes it */
                    hm_db_rollback(j->db, NULL);
                    break;
                }
            }
        }
        if (rc == HM_OK) {
            hm_audit_entry e = { .user = j->created_by, .remote_addr = j->jobs->instance,
                                 .action = "job_finish", .centre = "", .table = "server_job",
                                 .record = idtxt, .old_value = "running", .new_value = status,
                                 .digest = "", .reason = message ? message : "" };
            rc = hm_audit_append(j->db, &e, &err);
        }
        if (rc == HM_OK && (rc = hm_db_commit(j->db, &err)) == HM_OK)
            break;
        if (hm_db_in_transaction(j->db))
            hm_db_rollback(j->db, NULL);
        srv_log_event("job_finish_retry", err.msg);
        sleep_s(0.05 * (attempt + 1));
    }
    free(res);
}

/* A graceful stop in the middle: back in the queue, for any instance. */
static void job_requeue(job_run *j)
{
    hm_error err;
    const char *p[1] = { j->jobs->instance };
    hm_stmt *st;
    if (hm_db_prepare(j->db, "UPDATE server_job SET status = 'queued', claimed_by = NULL, "
                             "heartbeat = NULL, progress = 0, message = 're-queued: server "
                             "stopped' WHERE job_id = ? AND claimed_by = ? AND status = "
                             "'running'", &st, &err) == HM_OK) {
        hm_stmt_bind_int64(st, 1, j->id);
        hm_stmt_bind_text(st, 2, p[0]);
        hm_stmt_step(st, &err);
        hm_stmt_finalize(st);
    }
}

/* ---- parameters -------------------------------------------------------- */

/* Every member of params must be one of names (a typo is an error, not a
 * silently ignored option). */
static int check_names(json_t *params, const char *const *names, hm_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach(params, k, v) {
        int ok = !strcmp(k, "kind");
        for (int i = 0; names[i] && !ok; i++)
            ok = !strcmp(k, names[i]);
        if (!ok)
            return hm_error_set(err, HM_EINVAL, NULL, 0, k, "unknown parameter (see "
                                "docs/server.md, \"Background jobs\")");
    }
    return HM_OK;
}

static int get_str(json_t *p, const char *name, const char **out, hm_error *err)
{
    json_t *v = json_object_get(p, name);
    if (!v)
        return HM_OK;
    if (!json_is_string(v))
        return hm_error_set(err, HM_EINVAL, NULL, 0, name, "a string is expected");
    *out = json_string_value(v);
    return HM_OK;
}

static int get_num(json_t *p, const char *name, double *out, int *given, hm_error *err)
{
    json_t *v = json_object_get(p, name);
    if (!v)
        return HM_OK;
    if (!json_is_number(v))
        return hm_error_set(err, HM_EINVAL, NULL, 0, name, "a number is expected");
    *out = json_number_value(v);
    if (given)
        *given = 1;
    return HM_OK;
}

static int get_bool(json_t *p, const char *name, int *out, hm_error *err)
{
    json_t *v = json_object_get(p, name);
    if (!v)
        return HM_OK;
    if (!json_is_boolean(v))
        return hm_error_set(err, HM_EINVAL, NULL, 0, name, "true or false is expected");
    *out = json_is_true(v);
    return HM_OK;
}

/* A run id stored in epi_result: a plain name, like every name the server
 * takes from a request. */
static int plain_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* ---- kind tabulate: `harmonic epi tabulate --db ... --store RUN` -------- */

static int kind_tabulate(job_run *j)
{
    static const char *const names[] = {
        "outcome", "organ", "lag", "exclusion", "age", "calendar", "tsfe", "afe", "dose",
        "no_sex", "by_country", "by_transplant", "by_syndrome", "by_person", "study_end",
        "realizations", "syndrome_codes", "store", NULL
    };
    hm_error *err = &j->err;
    json_t *p = j->params;
    const char *outcome = "leukaemia_excl_cll", *organ = NULL, *cuts_s[5] = { 0 };
    const char *study_end = NULL, *syndromes = NULL, *store = NULL;
    double lag = 0, excl = 0;
    int have_lag = 0, have_excl = 0, no_sex = 0, by_c = 0, by_tx = 0, by_syn = 0, by_p = 0;
    int real = 0;
    static const char *cut_names[5] = { "age", "calendar", "tsfe", "afe", "dose" };
    int rc = check_names(p, names, err);
    if (!rc) rc = get_str(p, "outcome", &outcome, err);
    if (!rc) rc = get_str(p, "organ", &organ, err);
    for (int k = 0; k < 5 && !rc; k++)
        rc = get_str(p, cut_names[k], &cuts_s[k], err);
    if (!rc) rc = get_str(p, "study_end", &study_end, err);
    if (!rc) rc = get_str(p, "syndrome_codes", &syndromes, err);
    if (!rc) rc = get_str(p, "store", &store, err);
    if (!rc) rc = get_num(p, "lag", &lag, &have_lag, err);
    if (!rc) rc = get_num(p, "exclusion", &excl, &have_excl, err);
    if (!rc) rc = get_bool(p, "no_sex", &no_sex, err);
    if (!rc) rc = get_bool(p, "by_country", &by_c, err);
    if (!rc) rc = get_bool(p, "by_transplant", &by_tx, err);
    if (!rc) rc = get_bool(p, "by_syndrome", &by_syn, err);
    if (!rc) rc = get_bool(p, "by_person", &by_p, err);
    if (!rc) rc = get_bool(p, "realizations", &real, err);
    if (rc)
        return rc;
    char run_id[80];
    if (store && !plain_name(store))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "store",
                            "a run id of [A-Za-z0-9_-], 1-64 characters, is expected");
    snprintf(run_id, sizeof run_id, "%s", store ? store : "");
    if (!store)
        snprintf(run_id, sizeof run_id, "job-%lld", (long long)j->id);
    /* Stage 1: the outcome groups and their default options (as cmd_epi.c). */
    hm_epi_outcomes *oc = NULL;
    hm_epi_cohort *c = NULL;
    hm_epi_table t;
    hm_epi_table_init(&t);
    hm_epi_tab_options to;
    hm_epi_tab_summary sum;
    int groups[16], ng = 0, why = GO_ON;
    char list[1024];
    snprintf(list, sizeof list, "%s", outcome);
    if ((rc = hm_epi_outcomes_load(NULL, &oc, err)) < 0)
        goto done;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int g = hm_epi_outcomes_find(oc, tok);
        if (g < 0 || ng >= 16) {
            rc = hm_error_set(err, HM_EINVAL, NULL, 0, "outcome", g < 0 ?
                              "unknown outcome group '%s' (see harmonic epi outcomes)" :
                              "at most 16 groups (%s)", tok);
            goto done;
        }
        groups[ng++] = g;
    }
    if (!ng) {
        rc = hm_error_set(err, HM_EINVAL, NULL, 0, "outcome", "no outcome group given");
        goto done;
    }
    if ((rc = hm_epi_tab_options_default(&to, oc, groups[0], err)) < 0)
        goto done;
    to.ngroups = ng;
    memcpy(to.groups, groups, sizeof groups);
    hm_epi_cuts *cuts[5] = { &to.age, &to.calendar, &to.tsfe, &to.afe, &to.dose };
    for (int k = 0; k < 5; k++)
        if (cuts_s[k]) {
            if (!strcmp(cuts_s[k], "none"))
                cuts[k]->n = 0;
            else if ((rc = hm_epi_cuts_parse(cuts_s[k], cuts[k], cut_names[k], err)) < 0)
                goto done;
        }
    if (have_lag)
        to.lag_years = lag;
    if (have_excl)
        to.exclusion_years = excl;
    to.by_sex = !no_sex;
    to.by_country = by_c;
    to.by_transplant = by_tx;
    to.by_syndrome = by_syn;
    to.by_person = by_p;
    to.study_end_day = NAN;
    if (study_end && hm_epi_parse_day(study_end, &to.study_end_day) < 0) {
        rc = hm_error_set(err, HM_EINVAL, NULL, 0, "study_end", "expected YYYY-MM-DD, found '%s'",
                          study_end);
        goto done;
    }
    if ((why = job_progress(j, 0.1, "options read; loading the cohort from the registry")))
        goto done;
    /* Stage 2: the cohort from the registry. */
    if ((rc = hm_epi_cohort_from_registry(j->jobs->db_url, organ, real, syndromes, &c, err)) < 0)
        goto done;
    char msg[160];
    snprintf(msg, sizeof msg, "cohort of %zu persons loaded; tabulating",
             hm_epi_cohort_size(c));
    if ((why = job_progress(j, 0.4, msg)))
        goto done;
    if (getenv("HM_TEST_JOB_KILL")) {   /* tests: an instance dying mid-job */
        srv_log_event("test_kill", "HM_TEST_JOB_KILL");
        _exit(137);
    }
    if (getenv("HM_TEST_JOB_STALL_MS"))  /* tests: a stage long enough to stop the server in */
        sleep_s(atof(getenv("HM_TEST_JOB_STALL_MS")) / 1000);
    /* Stage 3: person-years. */
    if ((rc = hm_epi_tabulate(c, oc, &to, &t, &sum, err)) < 0)
        goto done;
    snprintf(msg, sizeof msg, "%zu cells tabulated; storing run %s", t.nrows, run_id);
    if ((why = job_progress(j, 0.8, msg)))
        goto done;
    /* Stage 4: stored as `epi tabulate --store` stores it. */
    if ((rc = hm_epi_table_store(j->jobs->db_url, run_id, &t, err)) < 0)
        goto done;
    json_t *cases = json_object();
    for (int g = 0; g < ng; g++)
        json_object_set_new(cases, hm_epi_outcomes_name(oc, groups[g]), json_real(sum.cases[g]));
    j->result = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:f, s:f, s:o}",
                          "run_id", run_id, "persons", (json_int_t)sum.persons,
                          "followed", (json_int_t)sum.followed,
                          "excluded_prevalent", (json_int_t)sum.excluded_prevalent,
                          "unexposed", (json_int_t)sum.unexposed,
                          "outside_cuts", (json_int_t)sum.outside_cuts, "pyr", sum.pyr,
                          "cells", (json_int_t)t.nrows, "lag_years", to.lag_years,
                          "exclusion_years", to.exclusion_years, "cases", cases);
done:
    hm_epi_table_free(&t);
    hm_epi_cohort_free(c);
    hm_epi_outcomes_free(oc);
    return rc < 0 ? rc : why ? -1000 - why : HM_OK;
}

/* ---- kind fit: `harmonic epi fit TABLE --model M --format json` --------- */

/* A table stored by tabulate (epi_result, long format) read back: one
 * column per name, categorical where the rows carry labels (level index =
 * the stored value, as hm_epi_table_store wrote it). */
static int load_run(hm_db *db, const char *run_id, hm_epi_table *t, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT cell, name, value, label FROM epi_result WHERE run_id = ? "
                               "ORDER BY cell, name", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, run_id);
    /* Per column: its labels by level index, grown as met. */
    char ***labels = NULL;
    size_t *nlab = NULL;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        int64_t cell = hm_stmt_column_int64(st, 0);
        const char *name = hm_stmt_column_text(st, 1);
        double v = hm_stmt_column_double(st, 2);
        const char *label = hm_stmt_column_text(st, 3);
        if (cell < 1) {
            rc = hm_error_set(err, HM_EVALIDATE, NULL, 0, "run", "bad cell %lld in run %s",
                              (long long)cell, run_id);
            break;
        }
        int c = hm_epi_table_col(t, name);
        if (c < 0) {
            if ((c = hm_epi_table_add_col(t, name, err)) < 0) {
                rc = c;
                break;
            }
            char ***nl = realloc(labels, t->ncols * sizeof *labels);
            size_t *nn = realloc(nlab, t->ncols * sizeof *nlab);
            if (nl) labels = nl;
            if (nn) nlab = nn;
            if (!nl || !nn) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            labels[c] = NULL;
            nlab[c] = 0;
        }
        if ((size_t)cell > t->nrows && (rc = hm_epi_table_resize(t, (size_t)cell, err)) < 0)
            break;
        t->nrows = t->nrows > (size_t)cell ? t->nrows : (size_t)cell;
        t->cols[c][cell - 1] = v;
        if (label && v >= 0 && v < 4096) {
            size_t k = (size_t)v;
            if (k >= nlab[c]) {
                char **g = realloc(labels[c], (k + 1) * sizeof *g);
                if (!g) {
                    rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                    break;
                }
                memset(g + nlab[c], 0, (k + 1 - nlab[c]) * sizeof *g);
                labels[c] = g;
                nlab[c] = k + 1;
            }
            if (!labels[c][k])
                labels[c][k] = strdup(label);
        }
    }
    hm_stmt_finalize(st);
    for (size_t c = 0; c < t->ncols && labels; c++) {
        if (rc >= 0 && nlab[c]) {
            for (size_t k = 0; k < nlab[c]; k++)
                if (!labels[c][k])
                    labels[c][k] = strdup("?");
            rc = hm_epi_table_set_levels(t, (int)c, labels[c], nlab[c], err);
        }
        for (size_t k = 0; k < nlab[c]; k++)
            free(labels[c][k]);
        free(labels[c]);
    }
    free(labels);
    free(nlab);
    if (rc >= 0 && t->nrows == 0)
        rc = hm_error_set(err, HM_EINVAL, NULL, 0, "run", "no run '%s' in epi_result "
                          "(a tabulate job's run_id)", run_id);
    return rc < 0 ? rc : HM_OK;
}

static int kind_fit(job_run *j)
{
    static const char *const names[] = { "run", "model", "ci", "profile_all", NULL };
    hm_error *err = &j->err;
    const char *run = NULL, *model = NULL;
    double ci = 0.95;
    int profile_all = 0;
    int rc = check_names(j->params, names, err);
    if (!rc) rc = get_str(j->params, "run", &run, err);
    if (!rc) rc = get_str(j->params, "model", &model, err);
    if (!rc) rc = get_num(j->params, "ci", &ci, NULL, err);
    if (!rc) rc = get_bool(j->params, "profile_all", &profile_all, err);
    if (rc)
        return rc;
    if (!run || !model)
        return hm_error_set(err, HM_EINVAL, NULL, 0, run ? "model" : "run", "required");
    if (!(ci > 0 && ci < 1))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "ci", "expected a level in (0,1)");
    hm_epi_table t;
    hm_epi_table_init(&t);
    int why = GO_ON;
    if ((rc = load_run(j->db, run, &t, err)) < 0)
        goto done;
    if ((why = job_progress(j, 0.2, "table read from epi_result; fitting")))
        goto done;
    hm_epi_model m;
    hm_epi_fit fit;
    hm_epi_fit_options fo;
    hm_epi_fit_options_default(&fo);
    fo.ci_level = ci;
    fo.profile_all = profile_all;
    if ((rc = hm_epi_model_parse(model, &t, &m, err)) < 0 ||
        (rc = hm_epi_fit_poisson(&t, &m, &fo, &fit, err)) < 0)
        goto done;
    /* The result is the CLI's JSON (--format json), parsed back. */
    char *buf = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&buf, &n);
    if (!mem) {
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        goto done;
    }
    hm_epi_fit_print_json(&fit, mem);
    fclose(mem);
    json_error_t je;
    json_t *f = json_loads(buf, 0, &je);
    free(buf);
    if (!f) {
        rc = hm_error_set(err, HM_EIO, NULL, 0, NULL, "fit JSON unreadable: %s", je.text);
        goto done;
    }
    j->result = json_pack("{s:s, s:s, s:o}", "run", run, "model", model, "fit", f);
done:
    hm_epi_table_free(&t);
    return rc < 0 ? rc : why ? -1000 - why : HM_OK;
}

/* ---- kind dose: `harmonic dose cohort --library LIB` (small runs) ------ */

/* Bounds of a dose job: the server's runs are small (a bigger one is a
 * `harmonic dose cohort` on the command line, or under mpirun). */
#define DOSE_MAX_REALIZATIONS 200

typedef struct dose_progress {
    job_run *j;
    double   last_s;
} dose_progress;

/* hm_doserun's per-procedure callback: progress 0.1..0.95 by procedures
 * done, written at most 4 times a second.  The run cannot be interrupted
 * from here (its callback returns nothing): a cancel or a stop asked during
 * the run is too late, the run finishes and the job is done.  Only a
 * cancel before the run starts stops it. */
static void dose_cb(void *arg, long done, long total, double seconds)
{
    dose_progress *d = arg;
    if (done < total && seconds - d->last_s < 0.25)
        return;
    d->last_s = seconds;
    char msg[96];
    snprintf(msg, sizeof msg, "%ld of %ld procedures", done, total);
    job_progress(d->j, 0.1 + 0.85 * (total > 0 ? (double)done / (double)total : 1), msg);
}

static int kind_dose(job_run *j)
{
    static const char *const names[] = { "realizations", "seed", "organs", "run",
                                         "max_procedures", NULL };
    hm_error *err = &j->err;
    const char *organs = NULL, *run = NULL;
    double reals = 20, seed = 1, maxp = 0;
    int rc = check_names(j->params, names, err);
    if (!rc) rc = get_num(j->params, "realizations", &reals, NULL, err);
    if (!rc) rc = get_num(j->params, "seed", &seed, NULL, err);
    if (!rc) rc = get_num(j->params, "max_procedures", &maxp, NULL, err);
    if (!rc) rc = get_str(j->params, "organs", &organs, err);
    if (!rc) rc = get_str(j->params, "run", &run, err);
    if (rc)
        return rc;
    if (!(reals >= 0 && reals <= DOSE_MAX_REALIZATIONS) || reals != (double)(long)reals)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "realizations", "an integer 0..%d is "
                            "expected (larger runs: harmonic dose cohort)", DOSE_MAX_REALIZATIONS);
    if (!(seed >= 0 && seed <= 1e18) || !(maxp >= 0 && maxp <= 1e9))
        return hm_error_set(err, HM_EINVAL, NULL, 0, seed >= 0 && seed <= 1e18 ?
                            "max_procedures" : "seed", "a whole number 0.. is expected");
    if (run && !plain_name(run))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "run",
                            "a run id of [A-Za-z0-9_-], 1-64 characters, is expected");
    if (!j->jobs->dose_library[0])
        return hm_error_set(err, HM_EINVAL, NULL, 0, "dose_library", "this server has no "
                            "dose_library configured (docs/server.md)");
    char run_id[80];
    snprintf(run_id, sizeof run_id, "%s", run ? run : "");
    if (!run)
        snprintf(run_id, sizeof run_id, "job-%lld", (long long)j->id);
    hm_dose_library *lib = NULL;
    if ((rc = hm_dose_library_load(j->jobs->dose_library, &lib, err)) < 0)
        return rc;
    int why = job_progress(j, 0.1, "library loaded; computing organ doses");
    hm_doserun_summary s;
    memset(&s, 0, sizeof s);
    if (!why) {
        hm_doserun_library le;
        hm_doserun_engine eng;
        hm_doserun_library_engine(lib, &le, &eng);
        hm_doserun_opts o;
        hm_doserun_opts_default(&o);
        o.run_id = run_id;
        o.seed = (uint64_t)seed;
        o.realizations = (int)reals;
        o.organs = organs;
        o.max_procedures = (long)maxp;
        /* On SQLite the run's writer holds the one write lock for its whole
         * batch: committing every procedure lets the progress UPDATE (and
         * the heartbeat) through between procedures.  Only the transaction
         * boundaries change, not a stored value. */
        if (hm_db_kind(j->db) == HM_DB_SQLITE)
            o.commit_every = 1;
        dose_progress d = { j, -1 };
        o.progress = dose_cb;
        o.progress_arg = &d;
        rc = hm_doserun_cohort(j->jobs->db_url, &eng, &o, &s, err);
    }
    hm_dose_library_free(lib);
    if (rc < 0)
        return rc;
    /* A cancel or stop seen during the run came too late to stop it: its
     * doses are stored, so the job is done (why is ignored). */
    j->result = json_pack("{s:s, s:I, s:I, s:[I, I, I], s:I, s:I, s:I, s:I, s:I, s:f}",
                          "run_id", s.run_id, "procedures", (json_int_t)s.procedures,
                          "skipped_done", (json_int_t)s.skipped_done, "tiers",
                          (json_int_t)s.tier[1], (json_int_t)s.tier[2], (json_int_t)s.tier[3],
                          "events", (json_int_t)s.events,
                          "events_imputed", (json_int_t)s.events_imputed,
                          "rows_best", (json_int_t)s.rows_best,
                          "rows_realizations", (json_int_t)s.rows_realizations,
                          "realizations", (json_int_t)reals, "seconds", s.seconds);
    return HM_OK;
}

int srv_job_kind_known(const char *kind)
{
    return kind && (!strcmp(kind, "tabulate") || !strcmp(kind, "fit") || !strcmp(kind, "dose"));
}

/* ---- the threads ------------------------------------------------------- */

/* Claims the oldest queued job: 1 and its row, 0 none, <0 error. */
static int claim(srv_jobs *J, hm_db *db, int64_t *id, char **kind, char **params, char **by,
                 hm_error *err)
{
    char now[32];
    srv_utc(now, 0);
    hm_stmt *st;
    int rc = hm_db_prepare(db, "UPDATE server_job SET status = 'running', claimed_by = ?, "
                               "heartbeat = ?, started_at = ?, attempts = attempts + 1, "
                               "progress = 0, message = 'claimed' WHERE job_id = (SELECT "
                               "MIN(job_id) FROM server_job WHERE status = 'queued') AND "
                               "status = 'queued' RETURNING job_id, kind, parameters, created_by",
                           &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, J->instance);
    hm_stmt_bind_text(st, 2, now);
    hm_stmt_bind_text(st, 3, now);
    rc = hm_stmt_step(st, err);
    if (rc == 1) {
        *id = hm_stmt_column_int64(st, 0);
        *kind = strdup(hm_stmt_column_text(st, 1));
        *params = strdup(hm_stmt_column_text(st, 2));
        *by = strdup(hm_stmt_column_text(st, 3));
        while (hm_stmt_step(st, err) == 1)
            ;
    }
    hm_stmt_finalize(st);
    return rc;
}

static void run_one(srv_jobs *J, hm_db *db, int64_t id, const char *kind, const char *params,
                    const char *by)
{
    job_run j = { .jobs = J, .db = db, .id = id, .created_by = by };
    hm_error_clear(&j.err);
    json_error_t je;
    j.params = json_loads(params, 0, &je);
    int rc;
    if (!json_is_object(j.params))
        rc = hm_error_set(&j.err, HM_EINVAL, NULL, 0, "parameters", "not a JSON object");
    else if (!strcmp(kind, "tabulate"))
        rc = kind_tabulate(&j);
    else if (!strcmp(kind, "fit"))
        rc = kind_fit(&j);
    else if (!strcmp(kind, "dose"))
        rc = kind_dose(&j);
    else
        rc = hm_error_set(&j.err, HM_EINVAL, NULL, 0, "kind", "unknown kind '%s'", kind);
    if (rc == -1000 - STOP_SERVER)
        job_requeue(&j);
    else if (rc == -1000 - STOP_CANCEL)
        job_finish(&j, "cancelled", "cancelled on request");
    else if (rc < 0) {
        char msg[700];
        snprintf(msg, sizeof msg, "%s%s%s", j.err.field[0] ? j.err.field : "",
                 j.err.field[0] ? ": " : "", j.err.msg);
        job_finish(&j, "failed", msg);
    } else
        job_finish(&j, "done", "done");
    json_decref(j.params);
    json_decref(j.result);
}

/* A job queued by this process wakes its idle workers at once; jobs queued
 * by other instances are found by the poll (POLL_S). */
#define POLL_S 0.2
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  wake_cv = PTHREAD_COND_INITIALIZER;
static unsigned long   wake_n;

void srv_jobs_wake(void)
{
    pthread_mutex_lock(&wake_mu);
    wake_n++;
    pthread_cond_broadcast(&wake_cv);
    pthread_mutex_unlock(&wake_mu);
}

static void idle_wait(unsigned long seen)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(POLL_S * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&wake_mu);
    while (wake_n == seen && pthread_cond_timedwait(&wake_cv, &wake_mu, &ts) == 0)
        ;
    pthread_mutex_unlock(&wake_mu);
}

static void *worker_main(void *arg)
{
    srv_jobs *J = arg;
    hm_db *db = NULL;
    hm_error err;
    while (!atomic_load(&J->stop)) {
        if (!db && hm_db_open(J->db_url, &db, &err)) {
            srv_log_event("job_worker", err.msg);
            db = NULL;
            sleep_s(1);
            continue;
        }
        int64_t id = 0;
        char *kind = NULL, *params = NULL, *by = NULL;
        pthread_mutex_lock(&wake_mu);
        unsigned long seen = wake_n;          /* a wake after this claim is not lost */
        pthread_mutex_unlock(&wake_mu);
        int rc = claim(J, db, &id, &kind, &params, &by, &err);
        if (rc == 1 && kind && params && by)
            run_one(J, db, id, kind, params, by);
        else if (rc < 0)
            srv_log_event("job_claim", err.msg);
        /* Statements the registry caches on this connection, stepped and
         * left, would hold an SQLite read snapshot into the next claim (a
         * long-lived connection, as the request pool's: hm_registry_server.h). */
        hm_db_release(db);
        free(kind);
        free(params);
        free(by);
        if (rc != 1)
            idle_wait(seen);
    }
    hm_db_close(db);
    return NULL;
}

/* A job whose runners keep dying (it may be what kills them) is failed
 * after MAX_ATTEMPTS claims instead of being re-queued forever; its
 * job_finish audit entry commits with it. */
static void fail_dead_jobs(srv_jobs *J, hm_db *db, const char *now, const char *old)
{
    hm_error err;
    hm_stmt *st;
    if (hm_db_begin(db, &err))
        return;
    int rc = hm_db_prepare(db, "UPDATE server_job SET status = 'failed', claimed_by = NULL, "
                               "heartbeat = NULL, finished_at = ?, message = 'its instance "
                               "died in each of its attempts' WHERE status = 'running' AND "
                               "(heartbeat IS NULL OR heartbeat < ?) AND attempts >= ? "
                               "RETURNING job_id, created_by", &st, &err);
    /* The rows first, the audit entries after: no statement open meanwhile. */
    enum { MAXN = 16 };
    int64_t ids[MAXN];
    char by[MAXN][64];
    int n = 0;
    if (rc == HM_OK) {
        hm_stmt_bind_text(st, 1, now);
        hm_stmt_bind_text(st, 2, old);
        hm_stmt_bind_int64(st, 3, MAX_ATTEMPTS);
        while ((rc = hm_stmt_step(st, &err)) == 1)
            if (n < MAXN) {
                ids[n] = hm_stmt_column_int64(st, 0);
                snprintf(by[n], sizeof by[n], "%s", hm_stmt_column_text(st, 1));
                n++;
            }
        hm_stmt_finalize(st);
    }
    for (int i = 0; i < n && rc == 0; i++) {
        char idtxt[24];
        snprintf(idtxt, sizeof idtxt, "%lld", (long long)ids[i]);
        hm_audit_entry e = { .user = by[i], .remote_addr = J->instance, .action = "job_finish",
                             .centre = "", .table = "server_job", .record = idtxt,
                             .old_value = "running", .new_value = "failed", .digest = "",
                             .reason = "its instance died in each of its attempts" };
        rc = hm_audit_append(db, &e, &err);
    }
    if (rc == 0)
        rc = hm_db_commit(db, &err);
    if (rc && hm_db_in_transaction(db))
        hm_db_rollback(db, NULL);
}

static void *beat_main(void *arg)
{
    srv_jobs *J = arg;
    hm_db *db = NULL;
    hm_error err;
    double period = J->stale_s / 4.0 < 0.5 ? 0.5 : J->stale_s / 4.0, waited = period;
    while (!atomic_load(&J->stop)) {
        if (waited < period) {
            sleep_s(0.1);
            waited += 0.1;
            continue;
        }
        waited = 0;
        if (!db && hm_db_open(J->db_url, &db, &err)) {
            db = NULL;
            continue;
        }
        char now[32], old[32];
        srv_utc(now, 0);
        srv_utc(old, -(double)J->stale_s);
        const char *p1[2] = { now, J->instance };
        exec_text(db, "UPDATE server_job SET heartbeat = ? WHERE claimed_by = ? AND "
                      "status = 'running'", p1, 2, -1, &err);
        fail_dead_jobs(J, db, now, old);
        const char *p2[1] = { old };
        exec_text(db, "UPDATE server_job SET status = 'queued', claimed_by = NULL, heartbeat = "
                      "NULL, progress = 0, message = 're-queued: its instance stopped sending "
                      "heartbeats' WHERE status = 'running' AND (heartbeat IS NULL OR "
                      "heartbeat < ?)", p2, 1, -1, &err);
        hm_db_release(db);
    }
    hm_db_close(db);
    return NULL;
}

/* The URL the jobs' library calls open: on PostgreSQL with "-c
 * harmonic.centre=*" added to libpq's "options" (appended to options the
 * URL has already, e.g. a search_path).  0, or -1 if it does not fit. */
static int pooled_url(const char *db, char *out, size_t size)
{
    static const char flag[] = "-c%20harmonic.centre%3D%2A";
    int n;
    if (strncmp(db, "postgresql://", 13) && strncmp(db, "postgres://", 11))
        n = snprintf(out, size, "%s", db);
    else {
        const char *q = strchr(db, '?'), *o = q ? strstr(q, "options=") : NULL;
        if (o && (o[-1] == '?' || o[-1] == '&')) {
            size_t end = strcspn(o, "&") + (size_t)(o - db);
            n = snprintf(out, size, "%.*s%%20%s%s", (int)end, db, flag, db + end);
        } else {
            n = snprintf(out, size, "%s%coptions=%s", db, q ? '&' : '?', flag);
        }
    }
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int srv_jobs_start(const hm_server_config *cfg, srv_jobs **out, hm_error *err)
{
    *out = NULL;
    if (cfg->job_workers <= 0)
        return HM_OK;
    srv_jobs *J = calloc(1, sizeof *J);
    if (!J)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    /* Jobs analyse the pooled data (analysts and admins only), through the
     * library, which opens its own connections by URL.  On PostgreSQL those
     * connections get harmonic.centre = '*' at connection start (libpq's
     * "options", -c): row-level security binds a server running as a
     * non-owner role (install = off), and without the setting a job would
     * see no rows at all. */
    if (pooled_url(cfg->db, J->db_url, sizeof J->db_url)) {
        free(J);
        return hm_error_set(err, HM_EINVAL, NULL, 0, "db", "database URL too long for the jobs");
    }
    snprintf(J->dose_library, sizeof J->dose_library, "%s", cfg->dose_library);
    char host[32] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    snprintf(J->instance, sizeof J->instance, "%s:%ld:%08x", host, (long)getpid(),
             (unsigned)randombytes_random());
    J->stale_s = cfg->job_stale_s;
    J->nworkers = cfg->job_workers > MAX_WORKERS ? MAX_WORKERS : cfg->job_workers;
    atomic_init(&J->stop, 0);
    for (int i = 0; i < J->nworkers; i++) {
        if (pthread_create(&J->workers[i], NULL, worker_main, J))
            break;
        J->started++;
    }
    J->beat_started = pthread_create(&J->beat, NULL, beat_main, J) == 0;
    if (J->started < J->nworkers || !J->beat_started) {
        srv_jobs_stop(J);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, "job_workers", "cannot start threads");
    }
    srv_log_event("jobs", J->instance);
    *out = J;
    return HM_OK;
}

void srv_jobs_stop(srv_jobs *J)
{
    if (!J)
        return;
    atomic_store(&J->stop, 1);
    srv_jobs_wake();
    for (int i = 0; i < J->started; i++)
        pthread_join(J->workers[i], NULL);
    if (J->beat_started)
        pthread_join(J->beat, NULL);
    free(J);
}
