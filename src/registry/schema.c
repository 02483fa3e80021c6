/*
 * schema.c — versioned migrations.  data/schema/NNN_name.sql are applied in
 * order, each once, each in its own transaction together with its row in
 * schema_version, so a database is never left half-migrated.  The SQL is
 * plain portable DDL; statements are split on ';' at the end of a line
 * (no procedural code, no ';' inside literals at line ends).
 */
#include "registry_int.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MIGRATIONS 256

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path, hm_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        hm_error_set(err, HM_EIO, path, 0, NULL, "cannot read migration");
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        fclose(fp);
        hm_error_set(err, HM_EIO, path, 0, NULL, "cannot read migration");
        return NULL;
    }
    buf[n] = 0;
    fclose(fp);
    return buf;
}

/* Executes each ';'-terminated statement of sql, skipping "--" comment lines. */
static int run_script(hm_db *db, const char *path, char *sql, hm_error *err)
{
    char *stmt = sql, *p = sql;
    long line = 1, stmt_line = 1;
    while (*p) {
        if (p[0] == '-' && p[1] == '-') {          /* comment to end of line */
            while (*p && *p != '\n')
                *p++ = ' ';
            continue;
        }
        if (*p == '\n')
            line++;
        if (*p == ';') {
            *p = 0;
            if (strspn(stmt, " \t\r\n") != strlen(stmt)) {
                int rc = hm_db_exec(db, stmt, err);
                if (rc) {
                    if (err) {
                        err->line = stmt_line;
                        snprintf(err->file, sizeof err->file, "%.255s", path);
                    }
                    return rc;
                }
            }
            stmt = p + 1;
            stmt_line = line;
        }
        p++;
    }
    if (strspn(stmt, " \t\r\n") != strlen(stmt))
        return hm_error_set(err, HM_EPARSE, path, stmt_line, NULL,
                            "statement not terminated by ';'");
    return HM_OK;
}

static int apply(hm_db *db, const char *dir, const char *name, int version, hm_error *err)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *sql = slurp(path, err);
    if (!sql)
        return HM_EIO;
    int rc = hm_db_begin(db, err);
    if (rc == HM_OK)
        rc = run_script(db, path, sql, err);
    free(sql);
    if (rc == HM_OK) {
        hm_stmt *st;
        rc = hm_db_prepare(db, "INSERT INTO schema_version (version, name, applied_at) "
                               "VALUES (?, ?, ?)", &st, err);
        if (rc == HM_OK) {
            char when[32];
            hm__utc_stamp(when);
            hm_stmt_bind_int64(st, 1, version);
            hm_stmt_bind_text(st, 2, name);
            hm_stmt_bind_text(st, 3, when);
            rc = hm_stmt_step(st, err) < 0 ? HM_EDB : HM_OK;
            hm_stmt_finalize(st);
        }
    }
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    return rc;
}

int hm__schema_migrate(hm_db *db, hm_error *err)
{
    /* The version first: a database already at the latest migration is then
     * opened without any DDL, so a role that may not run DDL (the server as a
     * non-owner PostgreSQL role, its job workers) can open it. */
    int current = 0, rc = HM_OK;
    hm_error first;
    if (hm_db_schema_version(db, &current, &first) != HM_OK) {
        rc = hm_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
                            "version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
                            "applied_at TEXT NOT NULL)", err);
        if (rc == HM_OK)
            rc = hm_db_schema_version(db, &current, err);
    }
    char dir[1024];
    if (rc == HM_OK)
        rc = hm_data_path("schema", dir, sizeof dir, err);
    if (rc)
        return rc;
    DIR *d = opendir(dir);
    if (!d)
        return hm_error_set(err, HM_EIO, dir, 0, NULL, "cannot list migrations");
    char *names[MAX_MIGRATIONS];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_MIGRATIONS) {
        size_t len = strlen(e->d_name);
        if (len > 8 && !strcmp(e->d_name + len - 4, ".sql") &&
            e->d_name[0] >= '0' && e->d_name[0] <= '9')
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == HM_OK; i++) {
        int version = atoi(names[i]);
        if (version > current)
            rc = apply(db, dir, names[i], version, err);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return rc;
}
