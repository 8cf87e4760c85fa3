-- Call scripts (issue 14); see the PostgreSQL migration of the same version.
CREATE TABLE call_scripts (
    name       TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    body       TEXT NOT NULL CHECK (length(CAST(body AS BLOB)) <= 32768),
    updated_at TEXT NOT NULL,
    updated_by INTEGER REFERENCES agents (id)
);
