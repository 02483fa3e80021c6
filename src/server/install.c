/*
 * install.c — the install/run split (issue 14, item 1).
 *
 * PostgreSQL applies row-level security policies only to roles that neither
 * own the table (nor inherit from its owner) nor are superuser or BYPASSRLS
 * (PostgreSQL 15 documentation, section 5.8 "Row Security Policies", and
 * CREATE POLICY).  So the server must not connect as the owner:
 *
 *   harmonic server install --db OWNER_URL --app-role NAME     (the owner)
 *       migrations (hm_db_open), the audit and lock triggers, the policies,
 *       then GRANTs to NAME on every table of the schema by its kind;
 *   harmonic serve with "install = off", db = a URL as NAME
 *       no DDL at all; hm_server_check_installed refuses to start unless the
 *       schema is at this build's migration and the connection is not the owner.
 *
 * The grants are generic (every table in the schema, by the rule below), so
 * tables added by later migrations are covered by re-running install:
 *   schema_version             SELECT
 *   audit_log                  SELECT, INSERT (the chain is append-only: no
 *                              UPDATE or DELETE, so the server cannot rewrite it)
 *   dictionary tables, import_log, data_query, record_lock
 *                              SELECT, INSERT, UPDATE (records: never deleted)
 *   every other table          SELECT, INSERT, UPDATE, DELETE (server state
 *                              and scratch: audit_pending, sessions, jobs...)
 *   every sequence             USAGE
 */
#include "srv_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The highest NNN of data/schema/NNN_*.sql: the version this build migrates
 * to (the same files and rule as the migration runner, schema.c). */
static int latest_migration(int *version, hm_error *err)
{
    char dir[1024];
    int rc = hm_data_path("schema", dir, sizeof dir, err);
    if (rc)
        return rc;
    DIR *d = opendir(dir);
    if (!d)
        return hm_error_set(err, HM_EIO, dir, 0, NULL, "cannot list migrations");
    int best = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 8 && !strcmp(e->d_name + len - 4, ".sql") && e->d_name[0] >= '0' &&
            e->d_name[0] <= '9' && atoi(e->d_name) > best)
            best = atoi(e->d_name);
    }
    closedir(d);
    *version = best;
    return HM_OK;
}

/* One integer from a query with at most one text parameter. */
static int query_int(hm_db *db, const char *sql, const char *param, long *out, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    if (rc)
        return rc;
    if (param)
        hm_stmt_bind_text(st, 1, param);
    rc = hm_stmt_step(st, err);
    *out = rc == 1 ? (long)hm_stmt_column_int64(st, 0) : 0;
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

/* The triggers and policies the install makes, counted as install makes
 * them: one lock trigger per submitted table, one policy per table with a
 * centre_code plus data_query and record_lock. */
static void expected(hm_db *db, long *locks, long *policies)
{
    const hm_dict *d = hm_db_dict(db);
    *locks = 0;
    *policies = 2;
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        const hm_dict_table *t = hm_dict_table_at(d, i);
        if (hm_dict_field_index(t, "centre_code") < 0)
            continue;
        (*policies)++;
        if (!t->computed)
            (*locks)++;
    }
}

/* A role name we put into GRANT statements: a plain identifier only, so it
 * needs no quoting rules (and nothing else reaches the SQL). */
static int plain_role(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 63 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int check_role(hm_db *db, const char *role, hm_error *err)
{
    if (!plain_role(role))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "app-role",
                            "expected a lower-case role name ([a-z_][a-z0-9_]*, at most 63), "
                            "found '%s'", role ? role : "");
    long n = 0;
    int rc = query_int(db, "SELECT COUNT(*) FROM pg_roles WHERE rolname = ?", role, &n, err);
    if (rc == HM_OK && n == 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "app-role",
                            "no role '%s': create it first, e.g. CREATE ROLE %s LOGIN PASSWORD "
                            "'...' NOSUPERUSER NOBYPASSRLS", role, role);
    if (rc == HM_OK)
        rc = query_int(db, "SELECT COUNT(*) FROM pg_roles WHERE rolname = ? AND "
                           "(rolsuper OR rolbypassrls)", role, &n, err);
    if (rc == HM_OK && n)
        return hm_error_set(err, HM_EPERM, NULL, 0, "app-role",
                            "role '%s' is superuser or BYPASSRLS: row-level security would not "
                            "bind the server; ALTER ROLE %s NOSUPERUSER NOBYPASSRLS or give "
                            "another role", role, role);
    if (rc == HM_OK)
        rc = query_int(db, "SELECT COUNT(*) FROM pg_class c JOIN pg_roles r ON r.oid = "
                           "c.relowner WHERE r.rolname = ?", role, &n, err);
    if (rc == HM_OK && n)
        return hm_error_set(err, HM_EPERM, NULL, 0, "app-role",
                            "role '%s' owns %ld tables or other relations: the owner is not "
                            "bound by row-level security; give a role that owns nothing",
                            role, n);
    /* A member of the owner's role has the owner's rights (RLS included). */
    if (rc == HM_OK)
        rc = query_int(db, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = "
                           "current_schema() AND pg_has_role(?, tableowner, 'USAGE')", role,
                       &n, err);
    if (rc == HM_OK && n)
        return hm_error_set(err, HM_EPERM, NULL, 0, "app-role",
                            "role '%s' is (a member of) the owner of the registry's tables: "
                            "row-level security would not bind it; give a role that is not "
                            "the owner nor a member of it", role);
    return rc;
}

/* The privileges of one table by its kind (header comment). */
static const char *privileges(const hm_dict *d, const char *table)
{
    if (!strcmp(table, "schema_version"))
        return "SELECT";
    if (!strcmp(table, "audit_log"))
        return "SELECT, INSERT";
    if (hm_dict_find_table(d, table) || !strcmp(table, "import_log") ||
        !strcmp(table, "data_query") || !strcmp(table, "record_lock"))
        return "SELECT, INSERT, UPDATE";
    return "SELECT, INSERT, UPDATE, DELETE";
}

static int grant(hm_db *db, const char *role, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT quote_ident(current_schema()), tablename FROM pg_tables "
                               "WHERE schemaname = current_schema() ORDER BY tablename", &st,
                           err);
    if (rc)
        return rc;
    char sql[1024], schema[256] = "";
    /* Collected first: statements are not run while the result is open. */
    char (*tables)[128] = NULL;
    size_t n = 0, cap = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        snprintf(schema, sizeof schema, "%s", hm_stmt_column_text(st, 0));
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            void *p = realloc(tables, cap * sizeof *tables);
            if (!p) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            tables = p;
        }
        snprintf(tables[n++], sizeof *tables, "%s", hm_stmt_column_text(st, 1));
    }
    hm_stmt_finalize(st);
    if (rc < 0) {
        free(tables);
        return rc;
    }
    /* Re-running install lowers as well as raises: everything is revoked,
     * then granted again, in one transaction. */
    rc = hm_db_begin(db, err);
    if (rc == HM_OK) {
        snprintf(sql, sizeof sql, "GRANT USAGE ON SCHEMA %s TO %s", schema, role);
        rc = hm_db_exec(db, sql, err);
    }
    if (rc == HM_OK) {
        snprintf(sql, sizeof sql, "REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM %s", schema, role);
        rc = hm_db_exec(db, sql, err);
    }
    for (size_t i = 0; rc == HM_OK && i < n; i++) {
        snprintf(sql, sizeof sql, "GRANT %s ON %s.\"%s\" TO %s",
                 privileges(hm_db_dict(db), tables[i]), schema, tables[i], role);
        rc = hm_db_exec(db, sql, err);
    }
    if (rc == HM_OK) {
        snprintf(sql, sizeof sql, "GRANT USAGE ON ALL SEQUENCES IN SCHEMA %s TO %s", schema,
                 role);
        rc = hm_db_exec(db, sql, err);
    }
    free(tables);
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    return rc;
}

int srv_install_ddl(hm_db *db, hm_error *err)
{
    int rc = hm_audit_install(db, err);
    if (rc == HM_OK)
        rc = srv_lock_install(db, err);
    if (rc == HM_OK)
        rc = hm_server_rls_install(db, err);
    return rc;
}

int hm_server_install(hm_db *db, const char *app_role, hm_error *err)
{
    int rc = HM_OK;
    /* The role first: a refused role leaves the database as it was. */
    if (hm_db_kind(db) == HM_DB_POSTGRES)
        rc = check_role(db, app_role, err);
    if (rc == HM_OK)
        rc = srv_install_ddl(db, err);
    if (rc == HM_OK && hm_db_kind(db) == HM_DB_POSTGRES)
        rc = grant(db, app_role, err);
    return rc;
}

#define RUN_INSTALL "run `harmonic server install --db OWNER_URL --app-role ROLE` as the owner"

int hm_server_check_installed(hm_db *db, hm_error *err)
{
    int want = 0, have = 0;
    int rc = latest_migration(&want, err);
    if (rc == HM_OK && (rc = hm_db_schema_version(db, &have, err)) != HM_OK) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return hm_error_set(err, HM_EINVAL, NULL, 0, "install",
                            "install = off but the schema cannot be read: " RUN_INSTALL
                            " (%s)", why);
    }
    if (rc)
        return rc;
    if (have != want)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "install",
                            "install = off but the schema is at version %d and this harmonic's "
                            "migrations go to %d: " RUN_INSTALL, have, want);
    long locks, policies, n = 0;
    expected(db, &locks, &policies);
    int pg = hm_db_kind(db) == HM_DB_POSTGRES;
    if (pg) {
        rc = query_int(db, "SELECT COUNT(*) FROM pg_roles WHERE rolname = current_user AND "
                           "(rolsuper OR rolbypassrls)", NULL, &n, err);
        if (rc == HM_OK && n)
            return hm_error_set(err, HM_EPERM, NULL, 0, "db",
                                "install = off: connected as a superuser or BYPASSRLS role, "
                                "which row-level security does not bind; connect as the app "
                                "role given to `harmonic server install --app-role`");
        if (rc == HM_OK)
            rc = query_int(db, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = "
                               "current_schema() AND pg_has_role(current_user, tableowner, "
                               "'USAGE')", NULL, &n, err);
        if (rc == HM_OK && n)
            return hm_error_set(err, HM_EPERM, NULL, 0, "db",
                                "install = off: connected as the owner of the registry's tables "
                                "(or a member of it), which row-level security does not bind; "
                                "connect as the app role given to `harmonic server install "
                                "--app-role`");
    }
    long got = 0;
    if (rc == HM_OK)
        rc = query_int(db, pg ? "SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE 'hm\\_lock\\_%'"
                                " AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = "
                                "current_schema()::regnamespace) AND NOT tgisinternal"
                              : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND "
                                "name LIKE 'hm\\_lock\\_%' ESCAPE '\\'", NULL, &got, err);
    if (rc == HM_OK)
        rc = query_int(db, pg ? "SELECT COUNT(*) FROM pg_trigger WHERE tgname = "
                                "'hm_audit_submission' AND tgrelid = 'import_log'::regclass"
                              : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND "
                                "name = 'hm_audit_submission'", NULL, &n, err);
    if (rc == HM_OK && (n != 1 || got < locks))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "install",
                            "install = off but the audit trigger (%ld of 1) or the lock "
                            "triggers (%ld of %ld) are missing: " RUN_INSTALL, n, got, locks);
    if (rc == HM_OK && pg) {
        rc = query_int(db, "SELECT COUNT(*) FROM pg_policies WHERE schemaname = "
                           "current_schema() AND policyname = 'hm_centre'", NULL, &n, err);
        if (rc == HM_OK && n < policies)
            return hm_error_set(err, HM_EINVAL, NULL, 0, "install",
                                "install = off but %ld of the %ld row-level security policies "
                                "are in place: " RUN_INSTALL, n, policies);
    }
    return rc;
}

int srv_install_start(hm_db *db, int install, hm_error *err)
{
    if (!install)
        return hm_server_check_installed(db, err);
    int rc = srv_install_ddl(db, err);
    if (rc == HM_OK && hm_db_kind(db) == HM_DB_POSTGRES)
        srv_log_event("warning", "install = on: connected as the tables' owner, which "
                                 "row-level security does not bind; for a deployment run "
                                 "`harmonic server install` and serve as the app role with "
                                 "install = off");
    return rc;
}
