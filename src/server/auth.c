/*
 * auth.c — accounts and API tokens.
 *
 * Passwords: libsodium crypto_pwhash_str, Argon2id (RFC 9106) with
 * libsodium's "moderate" limits (3 passes, 256 MiB), the encoded string
 * carrying its own salt and parameters.  API tokens: 32 bytes from
 * randombytes_buf, shown once as "hm_" + hex; only their SHA-256 is stored,
 * so a copy of the database does not give working tokens.  A token is looked
 * up by its hash: a tampered token simply matches nothing.  Revoked tokens
 * (token_revocation) and removed accounts (user_removed) are refused here,
 * at every uncached check.
 */
#include "srv_int.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

static const char *const role_names[] = { "", "centre_manager", "analyst", "auditor", "admin" };

hm_role hm_role_parse(const char *name)
{
    for (int r = HM_ROLE_CENTRE_MANAGER; r <= HM_ROLE_ADMIN; r++)
        if (name && !strcmp(name, role_names[r]))
            return (hm_role)r;
    return HM_ROLE_NONE;
}

const char *hm_role_name(hm_role role)
{
    return role >= HM_ROLE_CENTRE_MANAGER && role <= HM_ROLE_ADMIN ? role_names[role] : "none";
}

static int plain_name(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int hm_user_add(hm_db *db, const char *name, hm_role role, const char *centre,
                const char *password, const char *by, const char *from, hm_error *err)
{
    if (sodium_init() < 0)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "libsodium failed to initialise");
    if (!name || !plain_name(name, 63))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "name",
                            "expected 1-63 letters, digits, '_', '-' or '.'");
    if (role == HM_ROLE_NONE)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "role",
                            "expected centre_manager, analyst, auditor or admin");
    if (!centre)
        centre = "";
    if (role == HM_ROLE_CENTRE_MANAGER && !plain_name(centre, 32))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "centre",
                            "a centre_manager needs --centre (the centre code)");
    if (role != HM_ROLE_CENTRE_MANAGER && centre[0])
        return hm_error_set(err, HM_EINVAL, NULL, 0, "centre",
                            "only a centre_manager is bound to a centre");
    if (!password || strlen(password) < 12)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "password",
                            "expected a password of at least 12 characters");
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_MODERATE,
                          crypto_pwhash_MEMLIMIT_MODERATE))
        return hm_error_set(err, HM_ENOMEM, NULL, 0, "password",
                            "Argon2id needs 256 MiB of memory: not available");
    char now[32];
    srv_utc(now, 0);
    hm_stmt *st;
    int rc = hm_db_begin(db, err);
    if (rc == HM_OK)
        rc = hm_db_prepare(db, "INSERT INTO server_user (user_name, role, centre_code, "
                               "password_hash, created_at) VALUES (?, ?, ?, ?, ?)", &st, err);
    if (rc == HM_OK) {
        hm_stmt_bind_text(st, 1, name);
        hm_stmt_bind_text(st, 2, hm_role_name(role));
        hm_stmt_bind_text(st, 3, centre);
        hm_stmt_bind_text(st, 4, hash);
        hm_stmt_bind_text(st, 5, now);
        rc = hm_stmt_step(st, err);
        hm_stmt_finalize(st);
        if (rc < 0)
            rc = hm_error_set(err, HM_EINVAL, NULL, 0, "name", "user '%s' exists already", name);
        else
            rc = HM_OK;
    }
    if (rc == HM_OK) {
        char value[160];
        snprintf(value, sizeof value, "role=%s centre=%s", hm_role_name(role), centre);
        hm_audit_entry e = { .user = by, .remote_addr = from, .action = "user_add",
                             .centre = centre, .table = "server_user", .record = name,
                             .old_value = "", .new_value = value, .digest = "",
                             .reason = "account created" };
        rc = hm_audit_append(db, &e, err);
    }
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    return rc;
}

/* The account, or HM_ENOTFOUND; a removed account (user_removed) is not
 * found either, so nothing signs in or authenticates as it. */
int srv_user_load(hm_db *db, const char *name, hm_user *user, char *hash, size_t hsize,
                  hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT role, centre_code, password_hash FROM server_user "
                               "WHERE user_name = ? AND NOT EXISTS (SELECT 1 FROM "
                               "user_removed r WHERE r.user_name = server_user.user_name)",
                           &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, name);
    rc = hm_stmt_step(st, err);
    if (rc == 1) {
        memset(user, 0, sizeof *user);
        snprintf(user->name, sizeof user->name, "%s", name);
        user->role = hm_role_parse(hm_stmt_column_text(st, 0));
        snprintf(user->centre, sizeof user->centre, "%s", hm_stmt_column_text(st, 1));
        if (hash)
            snprintf(hash, hsize, "%s", hm_stmt_column_text(st, 2));
        rc = HM_OK;
    } else if (rc == 0) {
        rc = hm_error_set(err, HM_ENOTFOUND, NULL, 0, "name", "no user '%s'", name);
    }
    hm_stmt_finalize(st);
    return rc;
}

/* A hash of a random password, verified against when the user does not
 * exist: an unknown name then costs the same Argon2id time as a wrong
 * password, so the answer's timing does not tell which names exist. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static void make_dummy(void)
{
    unsigned char pw[16];
    randombytes_buf(pw, sizeof pw);
    if (crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof pw,
                          crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE))
        dummy_hash[0] = 0;
}

int hm_user_check_password(hm_db *db, const char *name, const char *password, hm_user *user,
                           hm_error *err)
{
    char hash[crypto_pwhash_STRBYTES + 1];
    hm_user u;
    int rc = srv_user_load(db, name, &u, hash, sizeof hash, err);
    if (rc == HM_ENOTFOUND) {
        pthread_once(&dummy_once, make_dummy);
        if (dummy_hash[0] && crypto_pwhash_str_verify(dummy_hash, password, strlen(password)))
            hash[0] = 0;                  /* always: the dummy's password is unknown */
    }
    if (rc == HM_ENOTFOUND || (rc == HM_OK && crypto_pwhash_str_verify(hash, password,
                                                                       strlen(password))))
        return hm_error_set(err, HM_EPERM, NULL, 0, NULL, "wrong user name or password");
    if (rc == HM_OK && user)
        *user = u;
    return rc;
}

int hm_token_issue(hm_db *db, const char *name, double days, const char *by, const char *from,
                   char *token, size_t size, hm_error *err)
{
    if (sodium_init() < 0)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "libsodium failed to initialise");
    if (size < 68)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "token buffer too small");
    hm_user u;
    int rc = srv_user_load(db, name, &u, NULL, 0, err);
    if (rc)
        return rc;
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(token, "hm_", 3);
    srv_hex(raw, sizeof raw, token + 3);
    sodium_memzero(raw, sizeof raw);
    char digest[65], now[32], expires[32];
    srv_sha256_hex(token, strlen(token), digest);
    srv_utc(now, 0);
    srv_utc(expires, days * 86400.0);
    hm_stmt *st;
    rc = hm_db_begin(db, err);
    if (rc == HM_OK)
        rc = hm_db_prepare(db, "INSERT INTO api_token (token_sha256, user_name, created_at, "
                               "expires_at) VALUES (?, ?, ?, ?)", &st, err);
    if (rc == HM_OK) {
        hm_stmt_bind_text(st, 1, digest);
        hm_stmt_bind_text(st, 2, name);
        hm_stmt_bind_text(st, 3, now);
        hm_stmt_bind_text(st, 4, expires);
        rc = hm_stmt_step(st, err) < 0 ? HM_EDB : HM_OK;
        hm_stmt_finalize(st);
    }
    if (rc == HM_OK) {
        /* The audit entry names the token by the start of its hash only. */
        char record[96], value[64];
        snprintf(record, sizeof record, "%s token %.12s", name, digest);
        snprintf(value, sizeof value, "expires %s", expires);
        hm_audit_entry e = { .user = by, .remote_addr = from, .action = "token_issue",
                             .centre = u.centre, .table = "api_token", .record = record,
                             .old_value = "", .new_value = value, .digest = "",
                             .reason = "API token issued" };
        rc = hm_audit_append(db, &e, err);
    }
    if (rc == HM_OK)
        rc = hm_db_commit(db, err);
    else
        hm_db_rollback(db, NULL);
    if (rc)
        sodium_memzero(token, size);
    return rc;
}

int hm_token_check(hm_db *db, const char *token, hm_user *user, hm_error *err)
{
    /* Shape first: anything else is refused without a query. */
    if (!token || strlen(token) != 67 || strncmp(token, "hm_", 3))
        return hm_error_set(err, HM_EPERM, NULL, 0, "token", "malformed token");
    for (int i = 3; i < 67; i++)
        if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
            return hm_error_set(err, HM_EPERM, NULL, 0, "token", "malformed token");
    char digest[65], now[32], name[64], expires[32] = "";
    srv_sha256_hex(token, 67, digest);
    srv_utc(now, 0);
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT user_name, expires_at, (SELECT COUNT(*) FROM "
                               "token_revocation r WHERE r.token_sha256 = api_token.token_sha256) "
                               "FROM api_token WHERE token_sha256 = ?", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, digest);
    rc = hm_stmt_step(st, err);
    int ok = 0, revoked = 0;
    if (rc == 1) {
        revoked = hm_stmt_column_int64(st, 2) > 0;
        snprintf(name, sizeof name, "%s", hm_stmt_column_text(st, 0));
        snprintf(expires, sizeof expires, "%s", hm_stmt_column_text(st, 1));
        ok = strcmp(expires, now) > 0;
    }
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return hm_error_set(err, HM_EPERM, NULL, 0, "token", "unknown token");
    if (revoked)
        return hm_error_set(err, HM_EPERM, NULL, 0, "token", "revoked token");
    if (!ok)
        return hm_error_set(err, HM_EPERM, NULL, 0, "token", "expired token");
    rc = srv_user_load(db, name, user, NULL, 0, err);
    if (rc == HM_OK)
        memcpy(user->token_expires, expires, sizeof expires);
    return rc == HM_ENOTFOUND ? hm_error_set(err, HM_EPERM, NULL, 0, "token", "user removed") : rc;
}
