/*
 * hm_registry_server.h — what a long-lived front end (the server, which
 * keeps a pool of connections) needs from the registry beyond hm_registry.h
 * (server_api.c).
 */
#ifndef HM_REGISTRY_SERVER_H
#define HM_REGISTRY_SERVER_H

#include "hm_registry.h"

/* Ends every read the registry's cached prepared statements keep open on
 * db (look-ups stepped to their row and left there).  On SQLite such a
 * statement holds a read snapshot: a later write on the connection, after
 * another connection committed, fails at once with SQLITE_BUSY_SNAPSHOT
 * ("database is locked") instead of waiting, and the WAL cannot be
 * checkpointed past it.  A command that opens one connection per process
 * never meets this; a server lending connections between requests calls it
 * after each request.  PostgreSQL needs nothing (no snapshot outlives a
 * statement outside a transaction). */
void hm_db_release(hm_db *db);

#endif
