-- harmonic schema version 1: one table per data-dictionary table (data/dictionary.csv).
-- Portable SQL accepted by SQLite (>= 3.24) and PostgreSQL (>= 10). Types: TEXT for
-- text, codes, UIDs, pseudonyms and ISO dates; BIGINT for int/bool; DOUBLE PRECISION
-- for reals. The natural key (dictionary column key=1) is the primary key, the
-- target of the import upsert (INSERT ... ON CONFLICT DO UPDATE).

CREATE TABLE centre (
    centre_code TEXT NOT NULL,
    country TEXT NOT NULL,
    name TEXT NOT NULL,
    cohort TEXT NOT NULL,
    PRIMARY KEY (centre_code)
);

CREATE TABLE patient (
    centre_code TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    key_version BIGINT NOT NULL,
    cohort TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_year BIGINT NOT NULL,
    birth_date TEXT,
    syndrome TEXT NOT NULL,
    transplant_date TEXT,
    transplant_day BIGINT,
    immunosuppression BIGINT,
    consent TEXT NOT NULL,
    PRIMARY KEY (centre_code, pseudonym)
);

CREATE TABLE procedure (
    centre_code TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    proc_date TEXT,
    proc_day BIGINT,
    age_days BIGINT,
    weight_kg DOUBLE PRECISION,
    height_cm DOUBLE PRECISION,
    exam_type TEXT NOT NULL,
    category TEXT NOT NULL,
    kap_total_gy_cm2 DOUBLE PRECISION,
    fluoro_time_s DOUBLE PRECISION,
    cine_frames BIGINT,
    air_kerma_rp_mgy DOUBLE PRECISION,
    dose_tier TEXT NOT NULL,
    study_uid TEXT,
    device_manufacturer TEXT,
    device_model TEXT,
    PRIMARY KEY (centre_code, procedure_id)
);

CREATE TABLE irradiation_event (
    centre_code TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    event_uid TEXT NOT NULL,
    plane TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_datetime TEXT,
    event_day BIGINT,
    event_time_s DOUBLE PRECISION,
    protocol TEXT,
    kvp DOUBLE PRECISION,
    tube_current_ma DOUBLE PRECISION,
    pulse_width_ms DOUBLE PRECISION,
    pulse_rate_per_s DOUBLE PRECISION,
    n_pulses BIGINT,
    irradiation_duration_s DOUBLE PRECISION,
    filter_cu_mm DOUBLE PRECISION,
    filter_al_mm DOUBLE PRECISION,
    filter_other TEXT,
    field_width_mm DOUBLE PRECISION,
    field_height_mm DOUBLE PRECISION,
    field_area_cm2 DOUBLE PRECISION,
    primary_angle_deg DOUBLE PRECISION,
    secondary_angle_deg DOUBLE PRECISION,
    source_isocentre_mm DOUBLE PRECISION,
    source_detector_mm DOUBLE PRECISION,
    table_long_mm DOUBLE PRECISION,
    table_lat_mm DOUBLE PRECISION,
    table_height_mm DOUBLE PRECISION,
    kap_gy_cm2 DOUBLE PRECISION,
    air_kerma_rp_mgy DOUBLE PRECISION,
    patient_orientation TEXT,
    units_note TEXT,
    PRIMARY KEY (centre_code, procedure_id, event_uid)
);

CREATE TABLE rt_course (
    centre_code TEXT NOT NULL,
    course_id TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    diag_topography TEXT NOT NULL,
    diag_morphology TEXT NOT NULL,
    diag_date TEXT,
    diag_day BIGINT,
    technique TEXT NOT NULL,
    particle TEXT NOT NULL,
    beam_energy TEXT,
    prescription_gy DOUBLE PRECISION NOT NULL,
    fractions BIGINT NOT NULL,
    start_date TEXT,
    start_day BIGINT,
    end_date TEXT,
    end_day BIGINT,
    rtplan_uid TEXT,
    rtdose_uid TEXT,
    rtstruct_uid TEXT,
    ct_series_uid TEXT,
    PRIMARY KEY (centre_code, course_id)
);

CREATE TABLE organ_dose (
    centre_code TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source_id TEXT NOT NULL,
    organ TEXT NOT NULL,
    method TEXT NOT NULL,
    realization BIGINT NOT NULL,
    dose_mgy DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (centre_code, source_type, source_id, organ, method, realization)
);

CREATE TABLE outcome (
    centre_code TEXT NOT NULL,
    outcome_id TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    kind TEXT NOT NULL,
    icdo3_topography TEXT,
    icdo3_morphology TEXT,
    icd10 TEXT,
    event_date TEXT,
    event_day BIGINT,
    PRIMARY KEY (centre_code, outcome_id)
);

CREATE TABLE followup (
    centre_code TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    vital_status TEXT NOT NULL,
    end_date TEXT,
    end_day BIGINT,
    end_reason TEXT NOT NULL,
    PRIMARY KEY (centre_code, pseudonym)
);

CREATE TABLE biosample (
    centre_code TEXT NOT NULL,
    sample_id TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    sample_type TEXT NOT NULL,
    timepoint TEXT NOT NULL,
    collected_date TEXT,
    collected_day BIGINT,
    processing_delay_h DOUBLE PRECISION,
    storage_temp_c DOUBLE PRECISION,
    a260_280 DOUBLE PRECISION,
    rin DOUBLE PRECISION,
    PRIMARY KEY (centre_code, sample_id)
);

CREATE TABLE qol_score (
    centre_code TEXT NOT NULL,
    assessment_id TEXT NOT NULL,
    scale TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    instrument TEXT NOT NULL,
    respondent TEXT NOT NULL,
    assessment_date TEXT,
    assessment_day BIGINT,
    score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (centre_code, assessment_id, scale)
);

-- References are checked by the importer (with file:line messages); these indexes
-- serve the per-patient look-ups of the analysis.
CREATE INDEX procedure_patient ON procedure (centre_code, pseudonym);
CREATE INDEX rt_course_patient ON rt_course (centre_code, pseudonym);
CREATE INDEX outcome_patient ON outcome (centre_code, pseudonym);

-- Audit trail: one row per successful import or RDSR store.
CREATE TABLE import_log (
    centre_code TEXT NOT NULL,
    table_name TEXT NOT NULL,
    source TEXT NOT NULL,
    rows_stored BIGINT NOT NULL,
    imported_at TEXT NOT NULL
);
