/*
 * server_api.c — registry functions for the server (hm_registry_server.h),
 * kept apart from the command-line paths.
 */
#include "hm_registry_server.h"
#include "registry_int.h"

void hm_db_release(hm_db *db)
{
    if (!db || db->kind != HM_DB_SQLITE || db->in_tx)
        return;
    /* Every statement of the connection, whichever file cached it. */
    for (sqlite3_stmt *s = sqlite3_next_stmt(db->sq, NULL); s; s = sqlite3_next_stmt(db->sq, s))
        sqlite3_reset(s);
}
