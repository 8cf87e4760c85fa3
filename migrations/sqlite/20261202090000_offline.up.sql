-- Offline copies (issue 13); see the PostgreSQL migration of the same version.
CREATE TABLE offline_checkouts (
    id           BLOB PRIMARY KEY,
    agent_id     INTEGER NOT NULL REFERENCES agents (id),
    created_by   INTEGER REFERENCES agents (id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL CHECK (expires_at > created_at),
    floor        TEXT,
    closed_at    TEXT,
    last_sync_at TEXT,
    last_report  TEXT
);
CREATE INDEX offline_checkouts_agent_idx ON offline_checkouts (agent_id) WHERE closed_at IS NULL;
-- A copy's own checkout (the one naming its floor), read by every can-call in a copy.
CREATE INDEX offline_checkouts_own_idx ON offline_checkouts (floor) WHERE floor IS NOT NULL;

-- No REFERENCES clause: SQLite could not drop the column again on the way down.
ALTER TABLE lead_assignments ADD COLUMN checkout_id BLOB;
CREATE INDEX lead_assignments_checkout_idx ON lead_assignments (checkout_id) WHERE checkout_id IS NOT NULL;

CREATE TABLE offline_applied (
    checkout_id BLOB NOT NULL REFERENCES offline_checkouts (id),
    op          TEXT NOT NULL,
    applied_at  TEXT NOT NULL,
    PRIMARY KEY (checkout_id, op)
);

CREATE TABLE offline_base (
    checkout_id BLOB NOT NULL,
    item        TEXT NOT NULL,
    body        TEXT,
    PRIMARY KEY (checkout_id, item)
);
