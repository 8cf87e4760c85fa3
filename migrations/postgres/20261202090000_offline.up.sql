-- Offline copies (issue 13). On the floor: each checkout, the leads it reserves (an assignment
-- carrying its checkout id, which even its own agent cannot call from the floor while it
-- lives), and the operations a sync has already applied, so a second sync changes nothing.
-- In a copy: its own identity (one row, `floor` naming where it came from) and the state at
-- checkout each later sync compares against.
CREATE TABLE offline_checkouts (
    id           UUID PRIMARY KEY,
    agent_id     BIGINT NOT NULL REFERENCES agents (id),
    created_by   BIGINT REFERENCES agents (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL CHECK (expires_at > created_at),
    floor        TEXT,
    closed_at    TIMESTAMPTZ,
    last_sync_at TIMESTAMPTZ,
    last_report  TEXT
);
CREATE INDEX offline_checkouts_agent_idx ON offline_checkouts (agent_id) WHERE closed_at IS NULL;
-- A copy's own checkout (the one naming its floor), read by every can-call in a copy.
CREATE INDEX offline_checkouts_own_idx ON offline_checkouts (floor) WHERE floor IS NOT NULL;

ALTER TABLE lead_assignments ADD COLUMN checkout_id UUID REFERENCES offline_checkouts (id);
CREATE INDEX lead_assignments_checkout_idx ON lead_assignments (checkout_id) WHERE checkout_id IS NOT NULL;

CREATE TABLE offline_applied (
    checkout_id UUID NOT NULL REFERENCES offline_checkouts (id),
    op          TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (checkout_id, op)
);

CREATE TABLE offline_base (
    checkout_id UUID NOT NULL,
    item        TEXT NOT NULL,
    body        TEXT,
    PRIMARY KEY (checkout_id, item)
);
