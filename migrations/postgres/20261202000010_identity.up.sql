-- The floor server's identity: one credential per agent (an argon2id password hash, or a
-- one-time enrolment code's SHA-256 until the agent sets a password) and the login sessions.
-- Session tokens are stored only as SHA-256 hashes; whoever reads this table cannot log in.
CREATE TABLE agent_credentials (
    agent_id          BIGINT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    password_hash     TEXT,
    enrol_hash        TEXT,
    enrol_expires_at  TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE agent_sessions (
    token_hash    TEXT PRIMARY KEY,
    agent_id      BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ,
    peer          TEXT
);
CREATE INDEX agent_sessions_agent_idx ON agent_sessions (agent_id) WHERE ended_at IS NULL;
