-- harmonic schema version 7: the biobank (issue 13, docs/biobank.md).
-- bio_event is append-only: every step of a sample's or aliquot's life is one row, and the
-- current state (status, storage position, consent, deviation flags, SPREC code) is derived
-- by replaying the rows in event_seq order (src/biobank); no row is ever updated or deleted.
-- event_seq is one sequence over all centres, so a replay sees the events in the order they
-- were accepted.  bio_protocol keeps the text of every protocol version in force, so a
-- replay checks each sample against the protocol it was collected under.
-- Types as in 001.

CREATE TABLE bio_event (
    centre_code TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    event_time TEXT NOT NULL,
    user_id TEXT NOT NULL,
    site TEXT NOT NULL,
    pseudonym TEXT,
    sample_id TEXT,
    aliquot_id TEXT,
    protocol_id TEXT,
    timepoint TEXT,
    sample_type TEXT,
    location TEXT,
    metric TEXT,
    value DOUBLE PRECISION,
    detail TEXT,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (centre_code, event_seq)
);

CREATE UNIQUE INDEX bio_event_seq ON bio_event (event_seq);

CREATE TABLE bio_protocol (
    centre_code TEXT NOT NULL,
    protocol_id TEXT NOT NULL,
    arm TEXT NOT NULL,
    version BIGINT NOT NULL,
    content TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (centre_code, protocol_id)
);
