/*
 * pool.c — a fixed set of database connections, one lent per request, each
 * with the prepared statements of the read routes kept on it.  A cache
 * only: every fact lives in the database, so several server processes can
 * serve one PostgreSQL.
 *
 * Why the statement cache: preparing the SELECT of a page of rows (SQLite's
 * parser and planner; on PostgreSQL a PREPARE and a DEALLOCATE round trip)
 * was a large part of a read's cost under load (docs/server.md, benchmark).
 * A statement belongs to one connection, so it is kept with it and used only
 * by the request holding that connection.
 */
#include "srv_int.h"

#include "hm_registry_server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 22 tables x 2 query shapes (one centre, pooled) fit with room to spare;
 * past this the oldest-made slot is replaced. */
enum { STMT_SLOTS = 64 };

struct srv_stmt_cache {
    hm_db *db;
    int    n, next;                  /* slots used; the one to replace when full */
    int    centre_known;             /* centre holds the connection's harmonic.centre */
    char   centre[64];
    struct { char key[96]; hm_stmt *st; } slot[STMT_SLOTS];
};

struct srv_pool {
    pthread_mutex_t  mu;
    pthread_cond_t   cv;
    hm_db          **free_dbs;
    int              nfree, n;
    srv_stmt_cache  *caches;         /* one per connection, for its whole life */
};

int srv_pool_open(const char *url, int n, srv_pool **pool, hm_error *err)
{
    return srv_pool_open_ex(url, n, 1, pool, err);
}

/* PostgreSQL re-plans a prepared statement on every execution while its
 * generic plan's estimate is dearer than the custom plans' (PostgreSQL
 * documentation, PREPARE, "plan_cache_mode"): a page's "LIMIT $n OFFSET $m"
 * is estimated generically at a tenth of the table, so the page reads were
 * planned anew each time, the planner being the largest part of the
 * backend's time (perf).  The pooled connections run only the server's own
 * statements, keyed by primary key or centre, whose generic plans are the
 * custom ones: forced generic, the page reads went from 8,000 to 10,200
 * per second (docs/server.md).  A server older than PostgreSQL 12 lacks the
 * setting and keeps re-planning: not an error. */
static void generic_plans(hm_db *db)
{
    hm_error ignored;
    (void)hm_db_exec(db, "SET plan_cache_mode = force_generic_plan", &ignored);
}

int srv_pool_open_ex(const char *url, int n, int migrate, srv_pool **pool, hm_error *err)
{
    srv_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->free_dbs = calloc((size_t)n, sizeof *p->free_dbs)) ||
        !(p->caches = calloc((size_t)n, sizeof *p->caches))) {
        if (p)
            free(p->free_dbs);
        free(p);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->n = n;
    for (int i = 0; i < n; i++) {
        int rc = migrate ? hm_db_open(url, &p->free_dbs[i], err)
                         : hm_db_open_nomigrate(url, &p->free_dbs[i], err);
        if (rc) {
            p->nfree = i;
            srv_pool_close(p);
            return rc;
        }
        p->caches[i].db = p->free_dbs[i];
        if (hm_db_kind(p->free_dbs[i]) == HM_DB_POSTGRES)
            generic_plans(p->free_dbs[i]);
    }
    p->nfree = n;
    *pool = p;
    return HM_OK;
}

hm_db *srv_pool_get(srv_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->nfree == 0)
        pthread_cond_wait(&p->cv, &p->mu);
    hm_db *db = p->free_dbs[--p->nfree];
    pthread_mutex_unlock(&p->mu);
    return db;
}

srv_stmt_cache *srv_pool_stmts(srv_pool *p, hm_db *db)
{
    for (int i = 0; i < p->n; i++)        /* a handful of connections: a scan */
        if (p->caches[i].db == db)
            return &p->caches[i];
    return NULL;
}

hm_stmt *srv_stmt_cached(srv_stmt_cache *c, const char *key)
{
    for (int i = 0; c && i < c->n; i++)
        if (!strcmp(c->slot[i].key, key))
            return c->slot[i].st;
    return NULL;
}

int srv_stmt_get(srv_stmt_cache *c, hm_db *db, const char *key, const char *sql,
                 hm_stmt **st, hm_error *err)
{
    if (!c)
        return hm_db_prepare(db, sql, st, err);
    if ((*st = srv_stmt_cached(c, key)))
        return HM_OK;
    int rc = hm_db_prepare(db, sql, st, err);
    if (rc)
        return rc;
    int i = c->n < STMT_SLOTS ? c->n++ : c->next++ % STMT_SLOTS;
    hm_stmt_finalize(c->slot[i].st);
    snprintf(c->slot[i].key, sizeof c->slot[i].key, "%s", key);
    c->slot[i].st = *st;
    return HM_OK;
}

void srv_stmt_done(srv_stmt_cache *c, hm_stmt *st, int failed)
{
    if (!c) {
        hm_stmt_finalize(st);
        return;
    }
    /* Reset at once: on SQLite a stepped statement holds a read snapshot
     * (hm_registry_server.h).  A statement that failed is dropped and made
     * again next time (PostgreSQL: the connection may have been reset). */
    hm_stmt_reset(st);
    if (!failed)
        return;
    for (int i = 0; i < c->n; i++)
        if (c->slot[i].st == st) {
            hm_stmt_finalize(st);
            c->slot[i] = c->slot[--c->n];
            c->slot[c->n].st = NULL;
            return;
        }
}

/* The connection's harmonic.centre as last set by srv_rls_set_on, or NULL
 * when not known (never set, or its last setting failed). */
const char *srv_stmt_centre(const srv_stmt_cache *c)
{
    return c && c->centre_known ? c->centre : NULL;
}

void srv_stmt_set_centre(srv_stmt_cache *c, const char *centre)
{
    if (!c)
        return;
    c->centre_known = centre && strlen(centre) < sizeof c->centre;
    snprintf(c->centre, sizeof c->centre, "%s", c->centre_known ? centre : "");
}

void srv_pool_put(srv_pool *p, hm_db *db)
{
    /* A handler that failed mid-transaction must not lend it on open. */
    if (hm_db_in_transaction(db))
        hm_db_rollback(db, NULL);
    hm_db_release(db);            /* no read snapshot kept between requests */
    pthread_mutex_lock(&p->mu);
    p->free_dbs[p->nfree++] = db;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void srv_pool_close(srv_pool *p)
{
    if (!p)
        return;
    /* Statements go before their connection. */
    for (int i = 0; i < p->n; i++)
        for (int k = 0; k < p->caches[i].n; k++)
            hm_stmt_finalize(p->caches[i].slot[k].st);
    for (int i = 0; i < p->nfree; i++)
        hm_db_close(p->free_dbs[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->caches);
    free(p->free_dbs);
    free(p);
}
