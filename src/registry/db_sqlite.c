/*
 * db_sqlite.c — the embedded back end.  WAL journal: a crash or kill during
 * an import leaves the last committed state (the uncommitted frames are
 * ignored on recovery), and synchronous=NORMAL is safe in WAL mode against
 * corruption while sparing an fsync per transaction.
 */
#include "registry_int.h"

int hm__sq_open(hm_db *db, const char *path, hm_error *err)
{
    db->kind = HM_DB_SQLITE;
    int rc = sqlite3_open_v2(path, &db->sq, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK)
        return hm_error_set(err, HM_EDB, path, 0, NULL, "cannot open SQLite database: %s",
                            db->sq ? sqlite3_errmsg(db->sq) : sqlite3_errstr(rc));
    sqlite3_busy_timeout(db->sq, 10000);
    static const char *pragmas[] = {
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA temp_store=MEMORY",
        "PRAGMA cache_size=-16384",   /* 16 MiB page cache: bounds memory whatever the cohort size */
        NULL
    };
    for (int i = 0; pragmas[i]; i++) {
        /* journal_mode returns a row; sqlite3_exec copes with that. */
        char *msg = NULL;
        if (sqlite3_exec(db->sq, pragmas[i], NULL, NULL, &msg) != SQLITE_OK) {
            hm_error_set(err, HM_EDB, path, 0, NULL, "SQLite %s: %s", pragmas[i],
                         msg ? msg : "failed (is it an SQLite database?)");
            sqlite3_free(msg);
            return HM_EDB;
        }
    }
    return HM_OK;
}

int hm__sq_exec(hm_db *db, const char *sql, hm_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db->sq, sql, NULL, NULL, &msg) != SQLITE_OK) {
        hm_error_set(err, HM_EDB, NULL, 0, NULL, "SQLite: %s (in: %.120s)",
                     msg ? msg : sqlite3_errmsg(db->sq), sql);
        sqlite3_free(msg);
        return HM_EDB;
    }
    return HM_OK;
}
