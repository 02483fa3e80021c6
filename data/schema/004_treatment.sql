-- harmonic schema version 4: the rest of the treatment (issue 12 item 4): chemotherapy per
-- agent and course or patient, surgery, stem-cell transplant.  Layout fixed by
-- /work/briefs/treatment_tables.md, columns in the order of data/dictionary.csv; types as
-- in 001.  course_id refers to rt_course when given (checked by the importer, rules.c).
-- The per-patient exposures (CED, DIE) are derived on reading, not stored.

CREATE TABLE chemotherapy (
    centre_code TEXT NOT NULL,
    chemo_id TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    course_id TEXT,
    agent TEXT NOT NULL,
    cumulative_dose_mg_m2 DOUBLE PRECISION NOT NULL,
    route TEXT,
    start_date TEXT,
    start_day BIGINT,
    end_date TEXT,
    end_day BIGINT,
    PRIMARY KEY (centre_code, chemo_id)
);

CREATE TABLE surgery (
    centre_code TEXT NOT NULL,
    surgery_id TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    course_id TEXT,
    surgery_date TEXT,
    surgery_day BIGINT,
    kind TEXT NOT NULL,
    extent TEXT,
    site TEXT,
    PRIMARY KEY (centre_code, surgery_id)
);

CREATE TABLE stem_cell_transplant (
    centre_code TEXT NOT NULL,
    sct_id TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    course_id TEXT,
    sct_date TEXT,
    sct_day BIGINT,
    sct_type TEXT NOT NULL,
    tbi BIGINT,
    tbi_dose_gy DOUBLE PRECISION,
    PRIMARY KEY (centre_code, sct_id)
);

-- Per-patient look-ups of the exposures and the epi covariates.
CREATE INDEX chemotherapy_patient ON chemotherapy (centre_code, pseudonym);
CREATE INDEX surgery_patient ON surgery (centre_code, pseudonym);
CREATE INDEX stem_cell_transplant_patient ON stem_cell_transplant (centre_code, pseudonym);
