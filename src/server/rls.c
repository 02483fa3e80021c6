/*
 * rls.c — PostgreSQL row-level security per centre (issue 14, item 2).
 *
 * Every table with a centre_code column (the dictionary's tables, the data
 * queries and record locks) gets the policy hm_centre: a row is visible and
 * writable only when its centre_code equals the request's setting
 * harmonic.centre, or when the setting is '*' (analysts, admins).  Unset or
 * empty means no row: deny by default.  PostgreSQL applies policies to roles
 * that neither own the table nor are superusers or BYPASSRLS (PostgreSQL
 * documentation, "Row Security Policies", section 5.9), so the protection
 * binds a server connecting as such a role; the owner (migrations, the
 * command line) is not affected (ENABLE, not FORCE).  No-op on SQLite.
 */
#include "srv_int.h"

#include <stdio.h>
#include <string.h>

#define VISIBLE "centre_code = current_setting('harmonic.centre', true) OR " \
                "current_setting('harmonic.centre', true) = '*'"

static int protect(hm_db *db, const char *table, hm_error *err)
{
    char sql[512];
    snprintf(sql, sizeof sql, "ALTER TABLE %s ENABLE ROW LEVEL SECURITY", table);
    int rc = hm_db_exec(db, sql, err);
    if (rc == HM_OK) {
        snprintf(sql, sizeof sql, "DROP POLICY IF EXISTS hm_centre ON %s", table);
        rc = hm_db_exec(db, sql, err);
    }
    if (rc == HM_OK) {
        snprintf(sql, sizeof sql, "CREATE POLICY hm_centre ON %s USING (" VISIBLE ") "
                                  "WITH CHECK (" VISIBLE ")", table);
        rc = hm_db_exec(db, sql, err);
    }
    return rc;
}

int hm_server_rls_install(hm_db *db, hm_error *err)
{
    if (hm_db_kind(db) != HM_DB_POSTGRES)
        return HM_OK;
    const hm_dict *d = hm_db_dict(db);
    int rc = hm_db_begin(db, err);
    for (size_t i = 0; rc == HM_OK && i < hm_dict_ntables(d); i++) {
        const hm_dict_table *t = hm_dict_table_at(d, i);
        if (hm_dict_field_index(t, "centre_code") >= 0)
            rc = protect(db, t->name, err);
    }
    if (rc == HM_OK)
        rc = protect(db, "data_query", err);
    if (rc == HM_OK)
        rc = protect(db, "record_lock", err);
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    return rc;
}

int srv_rls_set(hm_db *db, const hm_user *u, hm_error *err)
{
    return srv_rls_set_on(db, NULL, u, err);
}

/* Session-level (false), not SET LOCAL: handlers open their own
 * transactions (or none, for reads), and a pooled connection serves one
 * request at a time, each of which sets it first.  With the connection's
 * statement cache it is one round trip (EXECUTE) instead of three (PREPARE,
 * EXECUTE, DEALLOCATE): on PostgreSQL a read was 4 round trips, now 2.
 *
 * And none when the connection already holds the value: the cache records
 * what was last set on it, and a request of the same centre (the common
 * case: a centre's pages, a bench's reads) skips the round trip, which was
 * half of a read's (docs/server.md).  The record is exact because nothing
 * else sets harmonic.centre on a pooled connection (the job workers set it
 * on their own connections, through libpq options), a setting made outside
 * a transaction is committed at once (srv_pool_put rolls back what a handler
 * left open, and the set below is never made inside one: a rollback would
 * undo it), and a failed set forgets the record, so the next request sets
 * it again. */
int srv_rls_set_on(hm_db *db, srv_stmt_cache *stmts, const hm_user *u, hm_error *err)
{
    if (hm_db_kind(db) != HM_DB_POSTGRES)
        return HM_OK;
    const char *centre = "";
    if (u && (u->role == HM_ROLE_ANALYST || u->role == HM_ROLE_ADMIN))
        centre = "*";
    else if (u && u->role == HM_ROLE_CENTRE_MANAGER)
        centre = u->centre;
    int in_tx = hm_db_in_transaction(db);
    const char *held = srv_stmt_centre(stmts);
    if (!in_tx && held && !strcmp(held, centre))
        return HM_OK;
    srv_stmt_set_centre(stmts, NULL);
    hm_stmt *st;
    int rc = srv_stmt_get(stmts, db, "rls:set", "SELECT set_config('harmonic.centre', ?, "
                          "false)", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, centre);
    rc = hm_stmt_step(st, err);
    srv_stmt_done(stmts, st, rc < 0);
    if (rc < 0)
        return rc;
    if (!in_tx)
        srv_stmt_set_centre(stmts, centre);
    return HM_OK;
}
