-- harmonic schema version 10: browser sessions, sign-in throttling, token revocation and
-- removed accounts (issue 14 item 2, docs/server.md "Sessions").  System tables, not in
-- data/dictionary.csv.  New tables rather than new columns (no ALTER TABLE), so that the
-- migration stays IF NOT EXISTS and re-applies cleanly.  Times are UTC
-- "YYYY-MM-DDThh:mm:ssZ" (fixed width: text order is time order on both back ends).
--
-- server_session: one signed-in browser.  session_sha256 is the SHA-256 (hex) of the
-- cookie value; the cookie itself is never stored, so a copy of the database gives no
-- working session.  csrf_token is stored as issued: it is useless without the cookie
-- (every cookie request needs both), and GET /api/v1/session must be able to hand it
-- again to a reloaded page.  ended_at is '' while the session is live.
CREATE TABLE IF NOT EXISTS server_session (
    session_sha256 TEXT NOT NULL PRIMARY KEY,
    user_name TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    remote_addr TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS server_session_user ON server_session (user_name, ended_at);

-- signin_failure: failed password checks, counted per user name over a window to
-- throttle guessing (src/server/session.c); the rows of a name go at its next sign-in.
CREATE TABLE IF NOT EXISTS signin_failure (
    user_name TEXT NOT NULL,
    at TEXT NOT NULL,
    remote_addr TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS signin_failure_user ON signin_failure (user_name, at);

-- token_revocation: a revoked API token (by its SHA-256), refused from then on.
CREATE TABLE IF NOT EXISTS token_revocation (
    token_sha256 TEXT NOT NULL PRIMARY KEY,
    revoked_at TEXT NOT NULL,
    revoked_by TEXT NOT NULL
);

-- user_removed: a disabled account.  Its server_user, api_token and session rows are
-- kept (the audit log names them); its tokens and sessions stop working.
CREATE TABLE IF NOT EXISTS user_removed (
    user_name TEXT NOT NULL PRIMARY KEY,
    removed_at TEXT NOT NULL,
    removed_by TEXT NOT NULL
);
