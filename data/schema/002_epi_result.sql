-- harmonic schema version 2: results of `harmonic epi` stored back into the registry
-- (person-year tables and fitted models, long format: one row per cell and quantity).
-- Same definition as src/epi creates on demand, so both orders of use agree.
CREATE TABLE IF NOT EXISTS epi_result (
    run_id TEXT NOT NULL,
    cell BIGINT NOT NULL,
    name TEXT NOT NULL,
    value DOUBLE PRECISION,
    label TEXT,
    PRIMARY KEY (run_id, cell, name)
);
