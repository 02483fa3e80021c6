/*
 * hm_testdb.h — a fresh registry database for tests, on SQLite (a file in the
 * test's scratch folder) or PostgreSQL (a throw-away schema on the server of
 * HM_TEST_PG_URL, dropped by tdb_cleanup).  HM_TEST_DB=pg picks PostgreSQL
 * for tdb_new_url; tdb_new_url_on picks it explicitly.  Shared by the
 * registry, RDSR-import and epi tests (include after cmocka.h).
 */
#ifndef HM_TESTDB_H
#define HM_TESTDB_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hm_registry.h"

/* Each test uses some of the helpers below. */
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-function"

static char tdb_schemas[16][64];
static int  tdb_nschemas;

static int tdb_is_pg(void)
{
    const char *b = getenv("HM_TEST_DB");
    return b && !strcmp(b, "pg");
}

/* 77 (skip) when the PostgreSQL variant has no server. */
static int tdb_skip(void)
{
    if (!tdb_is_pg())
        return 0;
    const char *url = getenv("HM_TEST_PG_URL");
    if (!url || !url[0]) {
        fprintf(stderr, "HM_TEST_PG_URL unset: PostgreSQL variant skipped\n");
        return 1;
    }
    return 0;
}

static void tdb_pg_exec(const char *sql)
{
    PGconn *c = PQconnectdb(getenv("HM_TEST_PG_URL"));
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

/* A new empty database on PostgreSQL (pg) or SQLite; its URL/path in url. */
static void tdb_new_url_on(int pg, const char *tag, char *url, size_t size)
{
    if (pg) {
        const char *base = getenv("HM_TEST_PG_URL");
        char *schema = tdb_schemas[tdb_nschemas++ % 16];
        snprintf(schema, 64, "hm_t%ld_%s", (long)getpid(), tag);
        char sql[160];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
        tdb_pg_exec(sql);
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
        tdb_pg_exec(sql);
        snprintf(url, size, "%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?",
                 schema);
    } else {
        snprintf(url, size, "%s/%s.db", HM_TEST_TMPDIR, tag);
        char side[4200];
        remove(url);
        /* The WAL and shared-memory files beside it (a cut name would miss them). */
        if (snprintf(side, sizeof side, "%s-wal", url) < (int)sizeof side)
            remove(side);
        if (snprintf(side, sizeof side, "%s-shm", url) < (int)sizeof side)
            remove(side);
    }
}

/* The same on the back end HM_TEST_DB names. */
static void tdb_new_url(const char *tag, char *url, size_t size)
{
    tdb_new_url_on(tdb_is_pg(), tag, url, size);
}

static hm_db *tdb_open(const char *url)
{
    hm_db *db = NULL;
    hm_error err;
    hm_error_clear(&err);
    int rc = hm_db_open(url, &db, &err);
    if (rc)
        fprintf(stderr, "hm_db_open(%s): %s\n", url, err.msg);
    assert_int_equal(rc, HM_OK);
    return db;
}

/* Drops the PostgreSQL schemas made so far. */
static void tdb_cleanup(void)
{
    if (!getenv("HM_TEST_PG_URL"))
        return;
    for (int i = 0; i < tdb_nschemas && i < 16; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %.63s CASCADE", tdb_schemas[i]);
        tdb_pg_exec(sql);
    }
}

#endif
