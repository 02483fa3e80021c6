-- harmonic schema version 11: background analysis jobs of the server (issue 14 item 3,
-- docs/server.md "Background jobs").  One queue in the database, shared by every server
-- instance on it: a worker claims a queued job with one guarded UPDATE (status still
-- 'queued'), so two instances never run the same job; the instance's heartbeat thread
-- keeps heartbeat fresh while it runs, and a running job whose heartbeat is older than the
-- server's job_stale_s is put back in the queue by any instance (its runner was killed).
-- parameters and result are JSON text; status: queued, running, done, failed, cancelled;
-- progress 0..1; cancel_requested: 1 when a running job was asked to stop.  Times are UTC
-- "YYYY-MM-DDThh:mm:ssZ" (text order is time order).  System table, not in the dictionary.
CREATE TABLE IF NOT EXISTS server_job (
    job_id BIGINT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    parameters TEXT NOT NULL,
    status TEXT NOT NULL,
    progress DOUBLE PRECISION NOT NULL,
    message TEXT,
    result TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    claimed_by TEXT,
    heartbeat TEXT,
    attempts BIGINT NOT NULL,
    cancel_requested BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS server_job_status ON server_job (status, job_id);

CREATE INDEX IF NOT EXISTS server_job_owner ON server_job (created_by, job_id);
