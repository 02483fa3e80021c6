/*
 * accounts.c — token revocation, removing an account, listing accounts
 * (`harmonic user revoke|remove|list`, POST /api/v1/tokens/revoke).
 *
 * Nothing is deleted: a revoked token gets a token_revocation row, a removed
 * account a user_removed row (its sessions are ended), so every name and
 * token hash the audit log mentions stays in the database.  hm_token_check,
 * srv_session_check and the password check refuse them from the next
 * uncached look-up on (http.c caches a token's check for TOKEN_CACHE_S = 10 s).
 */
#include "srv_int.h"

#include <stdlib.h>
#include <string.h>

/* Does name have an account (removed or not)?  1, 0 or a negative status. */
static int account_exists(hm_db *db, const char *name, int *removed, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT (SELECT COUNT(*) FROM user_removed r WHERE "
                               "r.user_name = u.user_name) FROM server_user u WHERE "
                               "u.user_name = ?", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, name);
    rc = hm_stmt_step(st, err);
    if (rc == 1 && removed)
        *removed = hm_stmt_column_int64(st, 0) > 0;
    hm_stmt_finalize(st);
    return rc;
}

/* The SHA-256 of name's tokens not yet revoked (malloc'd, 65 bytes each). */
static int live_tokens(hm_db *db, const char *name, char (**out)[65], long *n, hm_error *err)
{
    hm_stmt *st;
    *out = NULL;
    *n = 0;
    int rc = hm_db_prepare(db, "SELECT token_sha256 FROM api_token t WHERE user_name = ? AND "
                               "NOT EXISTS (SELECT 1 FROM token_revocation r WHERE "
                               "r.token_sha256 = t.token_sha256) ORDER BY created_at", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, name);
    long cap = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            char (*p)[65] = realloc(*out, (size_t)cap * sizeof **out);
            if (!p) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            *out = p;
        }
        snprintf((*out)[*n], 65, "%s", hm_stmt_column_text(st, 0));
        (*n)++;
    }
    hm_stmt_finalize(st);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        return rc;
    }
    return HM_OK;
}

/* Inside the caller's transaction: the revocation rows and audit entries. */
static int revoke_in_tx(hm_db *db, const char *name, const char *centre, const char *prefix,
                        const char *by, const char *from, long *n_revoked, hm_error *err)
{
    char (*tok)[65];
    long n;
    *n_revoked = 0;
    int rc = live_tokens(db, name, &tok, &n, err);
    if (rc)
        return rc;
    char want[65] = "";
    if (prefix) {
        size_t len = strlen(prefix);
        if (len == 67 && !strncmp(prefix, "hm_", 3))
            srv_sha256_hex(prefix, len, want);          /* the token itself */
        else if (len >= 8 && len <= 64 && strspn(prefix, "0123456789abcdef") == len)
            snprintf(want, sizeof want, "%s", prefix);
        else
            rc = hm_error_set(err, HM_EINVAL, NULL, 0, "token",
                              "expected 8-64 lower-case hex digits of the token's SHA-256 "
                              "(as `harmonic user list` shows) or the token itself");
    }
    long matches = 0, which = -1;
    for (long i = 0; rc == HM_OK && prefix && i < n; i++)
        if (!strncmp(tok[i], want, strlen(want)))
            matches++, which = i;
    if (rc == HM_OK && prefix && matches == 0)
        rc = hm_error_set(err, HM_ENOTFOUND, NULL, 0, "token",
                          "no live token of '%s' starts with %s", name, want);
    if (rc == HM_OK && prefix && matches > 1)
        rc = hm_error_set(err, HM_EINVAL, NULL, 0, "token",
                          "%ld tokens of '%s' start with %s: give more digits", matches, name,
                          want);
    char now[32];
    srv_utc(now, 0);
    for (long i = prefix ? which : 0; rc == HM_OK && i < (prefix ? which + 1 : n); i++) {
        hm_stmt *st;
        rc = hm_db_prepare(db, "INSERT INTO token_revocation (token_sha256, revoked_at, "
                               "revoked_by) VALUES (?, ?, ?)", &st, err);
        if (rc)
            break;
        hm_stmt_bind_text(st, 1, tok[i]);
        hm_stmt_bind_text(st, 2, now);
        hm_stmt_bind_text(st, 3, by);
        rc = hm_stmt_step(st, err) < 0 ? HM_EDB : HM_OK;
        hm_stmt_finalize(st);
        char record[96];
        snprintf(record, sizeof record, "%s token %.12s", name, tok[i]);
        hm_audit_entry e = { .user = by, .remote_addr = from, .action = "token_revoke",
                             .centre = centre, .table = "api_token", .record = record,
                             .old_value = "", .new_value = "revoked", .digest = "",
                             .reason = "API token revoked" };
        if (rc == HM_OK)
            rc = hm_audit_append(db, &e, err);
        if (rc == HM_OK)
            (*n_revoked)++;
    }
    free(tok);
    return rc;
}

int hm_token_revoke(hm_db *db, const char *name, const char *prefix, const char *by,
                    const char *from, long *n_revoked, hm_error *err)
{
    int rc = account_exists(db, name, NULL, err);
    if (rc == 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "name", "no user '%s'", name);
    if (rc < 0)
        return rc;
    rc = hm_db_begin(db, err);
    if (rc == HM_OK)
        rc = revoke_in_tx(db, name, "", prefix, by, from, n_revoked, err);
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    *n_revoked = 0;
    return rc;
}

int hm_user_remove(hm_db *db, const char *name, const char *by, const char *from,
                   hm_error *err)
{
    int removed = 0;
    int rc = account_exists(db, name, &removed, err);
    if (rc == 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "name", "no user '%s'", name);
    if (rc < 0)
        return rc;
    if (removed)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "name", "user '%s' is already removed",
                            name);
    char now[32];
    srv_utc(now, 0);
    long tokens = 0;
    rc = hm_db_begin(db, err);
    hm_stmt *st;
    if (rc == HM_OK)
        rc = revoke_in_tx(db, name, "", NULL, by, from, &tokens, err);
    if (rc == HM_OK)
        rc = hm_db_prepare(db, "INSERT INTO user_removed (user_name, removed_at, removed_by) "
                               "VALUES (?, ?, ?)", &st, err);
    if (rc == HM_OK) {
        hm_stmt_bind_text(st, 1, name);
        hm_stmt_bind_text(st, 2, now);
        hm_stmt_bind_text(st, 3, by);
        rc = hm_stmt_step(st, err) < 0 ? HM_EDB : HM_OK;
        hm_stmt_finalize(st);
    }
    if (rc == HM_OK)
        rc = hm_db_prepare(db, "UPDATE server_session SET ended_at = ? WHERE user_name = ? AND "
                               "ended_at = ''", &st, err);
    if (rc == HM_OK) {
        hm_stmt_bind_text(st, 1, now);
        hm_stmt_bind_text(st, 2, name);
        rc = hm_stmt_step(st, err) < 0 ? HM_EDB : HM_OK;
        hm_stmt_finalize(st);
    }
    if (rc == HM_OK) {
        char value[96];
        snprintf(value, sizeof value, "removed; %ld tokens revoked, sessions ended", tokens);
        hm_audit_entry e = { .user = by, .remote_addr = from, .action = "user_remove",
                             .centre = "", .table = "server_user", .record = name,
                             .old_value = "active", .new_value = value, .digest = "",
                             .reason = "account removed" };
        rc = hm_audit_append(db, &e, err);
    }
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    return rc;
}

int hm_user_list(hm_db *db, FILE *out, hm_error *err)
{
    char now[32];
    srv_utc(now, 0);
    hm_stmt *st;
    int rc = hm_db_prepare(db,
        "SELECT u.user_name, u.role, u.centre_code, u.created_at, "
        "(SELECT COUNT(*) FROM user_removed r WHERE r.user_name = u.user_name), "
        "(SELECT COUNT(*) FROM server_session s WHERE s.user_name = u.user_name AND "
        "s.ended_at = '' AND s.expires_at > ?) FROM server_user u ORDER BY u.user_name",
        &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, now);
    fprintf(out, "%-20s %-15s %-8s %-21s %-8s %s\n", "user", "role", "centre", "created",
            "status", "live sessions");
    while ((rc = hm_stmt_step(st, err)) == 1)
        fprintf(out, "%-20s %-15s %-8s %-21s %-8s %lld\n", hm_stmt_column_text(st, 0),
                hm_stmt_column_text(st, 1), hm_stmt_column_text(st, 2)[0]
                    ? hm_stmt_column_text(st, 2) : "-", hm_stmt_column_text(st, 3),
                hm_stmt_column_int64(st, 4) ? "removed" : "active",
                (long long)hm_stmt_column_int64(st, 5));
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    rc = hm_db_prepare(db,
        "SELECT t.user_name, t.token_sha256, t.created_at, t.expires_at, "
        "(SELECT COUNT(*) FROM token_revocation r WHERE r.token_sha256 = t.token_sha256) "
        "FROM api_token t ORDER BY t.user_name, t.created_at", &st, err);
    if (rc)
        return rc;
    fprintf(out, "\n%-20s %-12s %-21s %-21s %s\n", "token of", "sha256", "created", "expires",
            "state");
    while ((rc = hm_stmt_step(st, err)) == 1) {
        const char *exp = hm_stmt_column_text(st, 3);
        fprintf(out, "%-20s %.12s %-21s %-21s %s\n", hm_stmt_column_text(st, 0),
                hm_stmt_column_text(st, 1), hm_stmt_column_text(st, 2), exp,
                hm_stmt_column_int64(st, 4) ? "revoked" : strcmp(exp, now) > 0 ? "live"
                                                                               : "expired");
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}
