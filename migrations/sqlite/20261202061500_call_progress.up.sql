-- What the softphone says about a call: when the far end rang (ringing_at), and the end
-- statuses SIP tells apart (no_answer, declined) next to busy, failed and completed.
-- SQLite cannot alter a CHECK constraint, and sqlx runs each migration inside a transaction,
-- where foreign keys cannot be switched off. So call_logs is rebuilt the way that keeps every
-- reference valid throughout: the old table is renamed (SQLite points active_calls at it), the
-- new one is filled, active_calls is rebuilt to point at the new one, then the old one goes.
ALTER TABLE call_logs RENAME TO call_logs_old;
DROP INDEX call_logs_lead_idx;
DROP INDEX call_logs_agent_idx;
CREATE TABLE call_logs (
    id              BLOB PRIMARY KEY,
    lead_id         BLOB NOT NULL REFERENCES leads (id),
    agent_id        INTEGER NOT NULL REFERENCES agents (id),
    phone_number    TEXT NOT NULL,
    from_number     TEXT,
    direction       TEXT NOT NULL DEFAULT 'outbound' CHECK (direction IN ('inbound', 'outbound')),
    status          TEXT NOT NULL DEFAULT 'initiated' CHECK (status IN
                      ('initiated', 'ringing', 'answered', 'busy', 'failed', 'voicemail', 'completed', 'abandoned',
                       'no_answer', 'declined')),
    disposition     TEXT REFERENCES dispositions (code),
    duration_s      INTEGER CHECK (duration_s >= 0),
    notes           TEXT,
    recording_url   TEXT,
    started_at      TEXT NOT NULL,
    answered_at     TEXT,
    ended_at        TEXT,
    ended_by        INTEGER REFERENCES agents (id),
    ringing_at      TEXT
);
INSERT INTO call_logs (id, lead_id, agent_id, phone_number, from_number, direction, status, disposition,
                       duration_s, notes, recording_url, started_at, answered_at, ended_at, ended_by)
SELECT id, lead_id, agent_id, phone_number, from_number, direction, status, disposition,
       duration_s, notes, recording_url, started_at, answered_at, ended_at, ended_by
FROM call_logs_old;
CREATE INDEX call_logs_lead_idx ON call_logs (lead_id, started_at DESC);
CREATE INDEX call_logs_agent_idx ON call_logs (agent_id, started_at DESC);

CREATE TABLE active_calls_new (
    lead_id         BLOB PRIMARY KEY REFERENCES leads (id),
    call_log_id     BLOB NOT NULL UNIQUE REFERENCES call_logs (id),
    agent_id        INTEGER NOT NULL REFERENCES agents (id),
    phone_number    TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    heartbeat_at    TEXT NOT NULL
);
INSERT INTO active_calls_new (lead_id, call_log_id, agent_id, phone_number, started_at, heartbeat_at)
SELECT lead_id, call_log_id, agent_id, phone_number, started_at, heartbeat_at FROM active_calls;
DROP TABLE active_calls;
ALTER TABLE active_calls_new RENAME TO active_calls;
CREATE INDEX active_calls_agent_idx ON active_calls (agent_id);
DROP TABLE call_logs_old;

-- the change feed's triggers went with the old tables
CREATE TRIGGER active_calls_feed_insert AFTER INSERT ON active_calls
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('active_call', NEW.lead_id, 'insert'); END;
CREATE TRIGGER active_calls_feed_update AFTER UPDATE OF agent_id, call_log_id ON active_calls
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('active_call', NEW.lead_id, 'update'); END;
CREATE TRIGGER active_calls_feed_delete AFTER DELETE ON active_calls
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('active_call', OLD.lead_id, 'delete'); END;
CREATE TRIGGER call_logs_feed_insert AFTER INSERT ON call_logs
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('call', NEW.lead_id, 'insert'); END;
CREATE TRIGGER call_logs_feed_update AFTER UPDATE ON call_logs
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('call', NEW.lead_id, 'update'); END;
