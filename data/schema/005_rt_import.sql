-- harmonic schema version 5: radiotherapy courses imported from DICOM RT (issue 12,
-- `harmonic rt import`, docs/rt.md "Import").  A course (rt_course, 001) has one or
-- more versions: a revised plan adds a version, never a second course; the DVHs of
-- every version are kept, the course's organ_dose rows are those of the current one.
-- Types as in 001 and 003 (BYTEA: packed float32, see 003's note on SQLite affinity).

CREATE TABLE rt_course_version (
    centre_code TEXT NOT NULL,
    course_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    is_current BIGINT NOT NULL,
    plan_uid TEXT NOT NULL,
    dose_uid TEXT NOT NULL,
    struct_uid TEXT NOT NULL,
    ct_series_uid TEXT,
    study_uid TEXT,
    predecessor_uid TEXT,
    lineage_key TEXT NOT NULL,
    content_digest TEXT NOT NULL,
    technique TEXT NOT NULL,
    prescription_gy DOUBLE PRECISION NOT NULL,
    fractions BIGINT NOT NULL,
    target_organ TEXT,
    age_years DOUBLE PRECISION,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (centre_code, course_id, version)
);
-- The course of a plan (lineage look-up): by plan UID and by lineage key.
CREATE INDEX rt_course_version_plan ON rt_course_version (centre_code, plan_uid);
CREATE INDEX rt_course_version_lineage ON rt_course_version (centre_code, lineage_key);

CREATE TABLE rt_dvh (
    centre_code TEXT NOT NULL,
    course_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    roi_number BIGINT NOT NULL,
    roi_name TEXT NOT NULL,
    mapping TEXT NOT NULL,
    organ TEXT,
    tg263 TEXT,
    is_current BIGINT NOT NULL,
    volume_cc DOUBLE PRECISION NOT NULL,
    mean_gy DOUBLE PRECISION NOT NULL,
    min_gy DOUBLE PRECISION NOT NULL,
    max_gy DOUBLE PRECISION NOT NULL,
    d2_gy DOUBLE PRECISION NOT NULL,
    d50_gy DOUBLE PRECISION NOT NULL,
    d98_gy DOUBLE PRECISION NOT NULL,
    d0_03cc_gy DOUBLE PRECISION NOT NULL,
    v5gy DOUBLE PRECISION NOT NULL,
    v10gy DOUBLE PRECISION NOT NULL,
    v20gy DOUBLE PRECISION NOT NULL,
    v30gy DOUBLE PRECISION NOT NULL,
    outside_grid BIGINT NOT NULL,
    dvh_bin_gy DOUBLE PRECISION NOT NULL,
    n_bins BIGINT NOT NULL,
    cum_dvh_cc BYTEA NOT NULL,
    PRIMARY KEY (centre_code, course_id, version, roi_number)
);
