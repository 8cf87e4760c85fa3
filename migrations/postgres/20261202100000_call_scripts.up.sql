-- Call scripts (issue 14): what agents read during a call. `default` is read on every call; a
-- script named after a disposition code is the follow-up read on the next call to a lead whose
-- last call ended with that outcome.
CREATE TABLE call_scripts (
    name       TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    body       TEXT NOT NULL CHECK (octet_length(body) <= 32768),
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by BIGINT REFERENCES agents (id)
);
