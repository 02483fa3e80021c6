-- harmonic schema version 8: the multi-centre server (issue 14, docs/server.md).
-- System tables, not in data/dictionary.csv (like import_log and dose_run): they are
-- never imported from centre files nor exported for analysis.  IF NOT EXISTS so that a
-- database whose schema_version rows were removed (the migration tests) re-applies it.
--
-- server_user: one account; password_hash is libsodium's crypto_pwhash_str (Argon2id,
-- moderate limits), never the password.  centre_code is empty for roles that are not
-- bound to one centre (analyst, auditor, admin).
CREATE TABLE IF NOT EXISTS server_user (
    user_name TEXT NOT NULL PRIMARY KEY,
    role TEXT NOT NULL,
    centre_code TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- api_token: only the SHA-256 (hex) of the token is kept; the token is shown once.
CREATE TABLE IF NOT EXISTS api_token (
    token_sha256 TEXT NOT NULL PRIMARY KEY,
    user_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- audit_log: the hash chain.  entry_hash = SHA-256(prev_hash || canonical entry)
-- (src/server/audit.c); UNIQUE prev_hash means two writers racing to append after the
-- same entry cannot both commit, so the chain stays a line.
CREATE TABLE IF NOT EXISTS audit_log (
    seq BIGINT NOT NULL PRIMARY KEY,
    at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    action TEXT NOT NULL,
    centre_code TEXT NOT NULL,
    table_name TEXT NOT NULL,
    record TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    digest TEXT NOT NULL,
    reason TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS audit_log_prev ON audit_log (prev_hash);

-- audit_pending: the audit entry of an upload being imported, keyed by the upload's
-- temporary file (import_log.source).  A trigger the server installs on import_log moves
-- it into audit_log inside the import's own transaction, so a submission and its audit
-- entry commit together or not at all.  Rows left by a killed server are scratch.
CREATE TABLE IF NOT EXISTS audit_pending (
    upload_path TEXT NOT NULL PRIMARY KEY,
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    action TEXT NOT NULL,
    centre_code TEXT NOT NULL,
    table_name TEXT NOT NULL,
    record TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    digest TEXT NOT NULL,
    reason TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
