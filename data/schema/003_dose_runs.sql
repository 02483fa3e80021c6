-- harmonic schema version 3: the registry side of whole-cohort organ doses (issue 11).
-- Devices and their corrections (imported per centre), the device a procedure used,
-- what a dose run computed (per event, per procedure, realizations packed per
-- procedure and organ) and the bookkeeping that lets a killed run resume.
-- Types as in 001; BYTEA is PostgreSQL's bytes type.  In SQLite it gets NUMERIC
-- affinity (rule 5 of "Determination Of Column Affinity"), which converts only TEXT
-- values: the bound BLOBs are stored unchanged, so one script serves both.

CREATE TABLE device (
    centre_code TEXT NOT NULL,
    device_id TEXT NOT NULL,
    manufacturer TEXT,
    model TEXT,
    serial TEXT,
    kap_calibration DOUBLE PRECISION,
    kap_calibration_gsd DOUBLE PRECISION,
    inherent_filter_al_mm DOUBLE PRECISION,
    source_isocentre_mm DOUBLE PRECISION,
    source_detector_mm DOUBLE PRECISION,
    isocentre_to_reference_point_mm DOUBLE PRECISION,
    table_transmission_60kv DOUBLE PRECISION,
    table_transmission_80kv DOUBLE PRECISION,
    table_transmission_100kv DOUBLE PRECISION,
    table_transmission_120kv DOUBLE PRECISION,
    table_lateral_sign BIGINT,
    table_longitudinal_sign BIGINT,
    table_height_sign BIGINT,
    notes TEXT,
    PRIMARY KEY (centre_code, device_id)
);

ALTER TABLE procedure ADD COLUMN device_id TEXT;
ALTER TABLE procedure ADD COLUMN device_serial TEXT;

CREATE TABLE dose_event (
    centre_code TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    event_uid TEXT NOT NULL,
    run_id TEXT NOT NULL,
    imputed TEXT,
    method TEXT NOT NULL,
    effective_dose_msv DOUBLE PRECISION,
    kap_used_gy_cm2 DOUBLE PRECISION,
    PRIMARY KEY (centre_code, procedure_id, event_uid)
);

CREATE TABLE dose_procedure (
    centre_code TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    tier_used BIGINT NOT NULL,
    effective_dose_msv DOUBLE PRECISION,
    peak_skin_dose_mgy DOUBLE PRECISION,
    skin_map BYTEA,
    PRIMARY KEY (centre_code, procedure_id)
);

-- One row per (procedure or course, organ, method): n_real float32 values, so the
-- 100,000-patient cohort is 1.5 million rows, not 300 million.  The key starts with
-- the organ: the analysis reads one organ for every source in (centre, source) order.
CREATE TABLE organ_dose_real (
    centre_code TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source_id TEXT NOT NULL,
    organ TEXT NOT NULL,
    method TEXT NOT NULL,
    run_id TEXT NOT NULL,
    n_real BIGINT NOT NULL,
    dose_mgy BYTEA NOT NULL,
    PRIMARY KEY (organ, centre_code, source_id, source_type, method)
);

-- Dose runs (parameters as the runner's JSON) and the procedures each finished:
-- a procedure's doses and its dose_run_done row are committed together.
CREATE TABLE dose_run (
    run_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    params TEXT,
    engine_version TEXT,
    library_id TEXT,
    PRIMARY KEY (run_id)
);

CREATE TABLE dose_run_done (
    run_id TEXT NOT NULL,
    centre_code TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    PRIMARY KEY (run_id, centre_code, procedure_id)
);
