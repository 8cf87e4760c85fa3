-- What each agent's console says it is doing, refreshed by a heartbeat. A console that stops
-- refreshing shows as offline once its heartbeat is older than the lock TTL.
CREATE TABLE agent_presence (
    agent_id     BIGINT PRIMARY KEY REFERENCES agents (id),
    state        TEXT NOT NULL CHECK (state IN ('ready', 'on_call', 'wrap_up', 'paused', 'offline')),
    reason       TEXT,
    since        TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL
);
