/*
 * audit.c — the audit trail as a hash chain.
 *
 * Entry n carries prev_hash = entry_hash of entry n-1 (64 zeros for the
 * first) and entry_hash = SHA-256(prev_hash || canonical(entry n)), the
 * construction of a Merkle-Damgard hash chain as in Haber & Stornetta, "How
 * to time-stamp a digital document", J. Cryptology 3 (1991) 99-111, and of
 * RFC 6962's log entries; SHA-256 is FIPS 180-4 (libsodium
 * crypto_hash_sha256).  Editing an entry changes its hash; deleting or
 * reordering entries breaks a prev_hash link or the seq sequence 1, 2, 3...
 * Removing the newest entries is only visible against a head hash kept
 * elsewhere (`harmonic audit verify` prints it).
 */
#include "srv_int.h"

#include <inttypes.h>
#include <sodium.h>
#include <string.h>

static const char ZERO_HASH[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static void put_field(crypto_hash_sha256_state *h, const char *s)
{
    if (!s)
        s = "";
    char len[32];
    int n = snprintf(len, sizeof len, "%zu:", strlen(s));
    crypto_hash_sha256_update(h, (const unsigned char *)len, (unsigned long long)n);
    crypto_hash_sha256_update(h, (const unsigned char *)s, strlen(s));
    crypto_hash_sha256_update(h, (const unsigned char *)"\n", 1);
}

void hm_audit_hash(const char *prev_hash, const hm_audit_entry *e, char out[65])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)prev_hash, strlen(prev_hash));
    char seq[32];
    snprintf(seq, sizeof seq, "%" PRId64, e->seq);
    const char *fields[] = { seq, e->at, e->user, e->remote_addr, e->action, e->centre,
                             e->table, e->record, e->old_value, e->new_value, e->digest,
                             e->reason };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        put_field(&h, fields[i]);
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&h, d);
    srv_hex(d, sizeof d, out);
}

/* seq and prev_hash of the next entry, from the last one stored. */
static int chain_next(hm_db *db, hm_audit_entry *e, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                           &st, err);
    if (rc)
        return rc;
    rc = hm_stmt_step(st, err);
    if (rc == 1) {
        e->seq = hm_stmt_column_int64(st, 0) + 1;
        snprintf(e->prev_hash, sizeof e->prev_hash, "%s", hm_stmt_column_text(st, 1));
    } else if (rc == 0) {
        e->seq = 1;
        memcpy(e->prev_hash, ZERO_HASH, sizeof ZERO_HASH);
    }
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    if (!e->at[0])
        srv_utc(e->at, 0);
    hm_audit_hash(e->prev_hash, e, e->entry_hash);
    return HM_OK;
}

#define COLS "seq, at, user_name, remote_addr, action, centre_code, table_name, record, " \
             "old_value, new_value, digest, reason, prev_hash, entry_hash"

static void bind_entry(hm_stmt *st, int first, const hm_audit_entry *e)
{
    hm_stmt_bind_int64(st, first, e->seq);
    const char *v[] = { e->at, e->user, e->remote_addr, e->action, e->centre, e->table,
                        e->record, e->old_value, e->new_value, e->digest, e->reason,
                        e->prev_hash, e->entry_hash };
    for (int i = 0; i < 13; i++)
        hm_stmt_bind_text(st, first + 1 + i, v[i] ? v[i] : "");
}

int hm_audit_append(hm_db *db, hm_audit_entry *e, hm_error *err)
{
    if (!hm_db_in_transaction(db))
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL,
                            "an audit entry is written in the transaction of its change");
    int rc = chain_next(db, e, err);
    hm_stmt *st;
    if (rc == HM_OK)
        rc = hm_db_prepare(db, "INSERT INTO audit_log (" COLS ") VALUES "
                               "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, err);
    if (rc)
        return rc;
    bind_entry(st, 1, e);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

int hm_audit_stage(hm_db *db, const char *upload_path, hm_audit_entry *e, hm_error *err)
{
    int rc = chain_next(db, e, err);
    hm_stmt *st;
    if (rc == HM_OK)
        rc = hm_db_prepare(db, "INSERT INTO audit_pending (upload_path, " COLS ") VALUES "
                               "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, upload_path);
    bind_entry(st, 2, e);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

int hm_audit_unstage(hm_db *db, const char *upload_path, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "DELETE FROM audit_pending WHERE upload_path = ?", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, upload_path);
    rc = hm_stmt_step(st, err);
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

/* The import writes one import_log row (source = the upload's file) just
 * before its COMMIT: the trigger moves the staged entry of that file into
 * the chain there, inside the same transaction.  Created by the server, not
 * by a migration, because the migration runner splits on every ';'. */
int hm_audit_install(hm_db *db, hm_error *err)
{
    static const char move[] =
        "INSERT INTO audit_log (" COLS ") SELECT " COLS " FROM audit_pending "
        "WHERE upload_path = NEW.source; "
        "DELETE FROM audit_pending WHERE upload_path = NEW.source; ";
    char sql[2048];
    if (hm_db_kind(db) == HM_DB_SQLITE) {
        snprintf(sql, sizeof sql, "CREATE TRIGGER IF NOT EXISTS hm_audit_submission AFTER "
                                  "INSERT ON import_log BEGIN %s END", move);
        return hm_db_exec(db, sql, err);
    }
    snprintf(sql, sizeof sql, "CREATE OR REPLACE FUNCTION hm_audit_submission() RETURNS "
                              "trigger LANGUAGE plpgsql AS $$BEGIN %s RETURN NEW; END$$", move);
    int rc = hm_db_exec(db, sql, err);
    if (rc == HM_OK)
        rc = hm_db_exec(db, "CREATE OR REPLACE TRIGGER hm_audit_submission AFTER INSERT ON "
                            "import_log FOR EACH ROW EXECUTE FUNCTION hm_audit_submission()",
                        err);
    return rc;
}

int hm_audit_verify(hm_db *db, long *n_entries, int64_t *bad_seq, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT " COLS " FROM audit_log ORDER BY seq", &st, err);
    if (rc)
        return rc;
    char prev[65];
    memcpy(prev, ZERO_HASH, sizeof ZERO_HASH);
    int64_t want = 1;
    long n = 0;
    *bad_seq = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        hm_audit_entry e = { 0 };
        e.seq = hm_stmt_column_int64(st, 0);
        snprintf(e.at, sizeof e.at, "%s", hm_stmt_column_text(st, 1));
        e.user = hm_stmt_column_text(st, 2);
        e.remote_addr = hm_stmt_column_text(st, 3);
        e.action = hm_stmt_column_text(st, 4);
        e.centre = hm_stmt_column_text(st, 5);
        e.table = hm_stmt_column_text(st, 6);
        e.record = hm_stmt_column_text(st, 7);
        e.old_value = hm_stmt_column_text(st, 8);
        e.new_value = hm_stmt_column_text(st, 9);
        e.digest = hm_stmt_column_text(st, 10);
        e.reason = hm_stmt_column_text(st, 11);
        const char *stored_prev = hm_stmt_column_text(st, 12);
        const char *stored_hash = hm_stmt_column_text(st, 13);
        char h[65];
        hm_audit_hash(stored_prev, &e, h);
        const char *what = NULL;
        if (e.seq != want)
            what = "sequence number out of order (an entry before it was deleted or moved)";
        else if (strcmp(stored_prev, prev))
            what = "prev_hash does not match the entry before it (deleted or reordered)";
        else if (strcmp(h, stored_hash))
            what = "entry_hash does not match its content (edited)";
        if (what) {
            *bad_seq = e.seq;
            rc = hm_error_set(err, HM_EVALIDATE, NULL, e.seq, "audit_log",
                              "entry %" PRId64 " (at position %" PRId64 "): %s", e.seq, want,
                              what);
            break;
        }
        snprintf(prev, sizeof prev, "%s", stored_hash);
        want++;
        n++;
    }
    hm_stmt_finalize(st);
    if (n_entries)
        *n_entries = n;
    return rc < 0 ? rc : HM_OK;
}
