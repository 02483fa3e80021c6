/*
 * pool.c — a fixed set of database connections, one lent per request.  A
 * cache only: every fact lives in the database, so several server processes
 * can serve one PostgreSQL.
 */
#include "srv_int.h"

#include "hm_registry_server.h"

#include <pthread.h>
#include <stdlib.h>

struct srv_pool {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    hm_db         **free_dbs;
    int             nfree, n;
};

int srv_pool_open(const char *url, int n, srv_pool **pool, hm_error *err)
{
    srv_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->free_dbs = calloc((size_t)n, sizeof *p->free_dbs))) {
        free(p);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->n = n;
    for (int i = 0; i < n; i++) {
        int rc = hm_db_open(url, &p->free_dbs[i], err);
        if (rc) {
            p->nfree = i;
            srv_pool_close(p);
            return rc;
        }
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
    for (int i = 0; i < p->nfree; i++)
        hm_db_close(p->free_dbs[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->free_dbs);
    free(p);
}
