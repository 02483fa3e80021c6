-- harmonic schema version 9: data queries and record locks (issue 14 item 5,
-- docs/server.md).  REDCap's data-resolution workflow: an analyst opens a query on one
-- field of one record, the centre answers (optionally correcting the value, with a
-- reason), the analyst closes it; a record cleaned and locked refuses corrections.
-- System tables, not in data/dictionary.csv.  record_key is the record's natural key
-- without centre_code as compact JSON in dictionary order (src/server/queries.c).
-- status: open, answered or closed.  Times are UTC "YYYY-MM-DDThh:mm:ssZ".
CREATE TABLE IF NOT EXISTS data_query (
    query_id BIGINT NOT NULL PRIMARY KEY,
    centre_code TEXT NOT NULL,
    table_name TEXT NOT NULL,
    record_key TEXT NOT NULL,
    field_name TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    query_text TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    answered_by TEXT,
    answered_at TEXT,
    closed_by TEXT,
    closed_at TEXT
);

CREATE INDEX IF NOT EXISTS data_query_centre ON data_query (centre_code, status);

CREATE TABLE IF NOT EXISTS record_lock (
    centre_code TEXT NOT NULL,
    table_name TEXT NOT NULL,
    record_key TEXT NOT NULL,
    locked_by TEXT NOT NULL,
    locked_at TEXT NOT NULL,
    PRIMARY KEY (centre_code, table_name, record_key)
);
