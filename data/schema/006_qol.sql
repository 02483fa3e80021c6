-- harmonic schema version 6: questionnaire item responses (issue 13, quality of life).
-- One row per answered (or NA) item of an assessment; `harmonic qol score` computes the
-- qol_score rows from them by the scoring rules of data/qol.  Columns as data/dictionary.csv.
CREATE TABLE qol_item (
    centre_code TEXT NOT NULL,
    assessment_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    instrument TEXT NOT NULL,
    form TEXT NOT NULL,
    respondent TEXT NOT NULL,
    assessment_date TEXT,
    assessment_day BIGINT,
    response BIGINT,
    PRIMARY KEY (centre_code, assessment_id, item_id)
);

CREATE INDEX qol_item_patient ON qol_item (centre_code, pseudonym);
