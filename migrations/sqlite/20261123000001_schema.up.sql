-- coldcall schema, SQLite.
-- Timestamps are RFC 3339 UTC text written by the app (never SQLite's own clock in rules);
-- UUIDs are 16-byte blobs; booleans are 0/1.

CREATE TABLE agents (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 50),
    email       TEXT UNIQUE,
    role        TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor', 'admin')),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

INSERT INTO settings (key, value) VALUES
    ('min_gap_seconds', '300'),
    ('calling_hours', '08:00-21:00'),
    ('default_timezone', 'America/New_York'),
    ('max_attempts', '6'),
    ('lock_ttl_seconds', '60'),
    ('claim_ttl_seconds', '900');

CREATE TABLE leads (
    -- integer key for the full-text index; the public id is the UUID
    seq                     INTEGER PRIMARY KEY,
    id                      BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    first_name              TEXT NOT NULL CHECK (length(first_name) BETWEEN 1 AND 50),
    last_name               TEXT NOT NULL CHECK (length(last_name) BETWEEN 1 AND 50),
    email                   TEXT CHECK (email = lower(email)),
    phone                   TEXT NOT NULL CHECK (phone GLOB '+[1-9]*' AND substr(phone, 2) NOT GLOB '*[^0-9]*'
                                                 AND length(phone) BETWEEN 8 AND 16),
    company                 TEXT NOT NULL CHECK (length(company) BETWEEN 1 AND 100),
    title                   TEXT,
    timezone                TEXT,
    status                  TEXT NOT NULL DEFAULT 'new' CHECK (status IN
                              ('new', 'contacted', 'qualified', 'proposal', 'negotiation',
                               'closed_won', 'closed_lost', 'nurturing')),
    priority                TEXT NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    -- the queue sorts by rank; derived so it can never disagree with priority
    priority_rank           INTEGER GENERATED ALWAYS AS (CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2
                              WHEN 'medium' THEN 1 ELSE 0 END) STORED,
    lead_score              INTEGER NOT NULL DEFAULT 0 CHECK (lead_score BETWEEN 0 AND 100),
    conversion_probability  REAL NOT NULL DEFAULT 0 CHECK (conversion_probability BETWEEN 0 AND 1),
    source                  TEXT,
    notes                   TEXT,
    consent_given           INTEGER NOT NULL DEFAULT 0 CHECK (consent_given IN (0, 1)),
    consent_date            TEXT,
    do_not_call             INTEGER NOT NULL DEFAULT 0 CHECK (do_not_call IN (0, 1)),
    do_not_email            INTEGER NOT NULL DEFAULT 0 CHECK (do_not_email IN (0, 1)),
    call_attempts           INTEGER NOT NULL DEFAULT 0 CHECK (call_attempts >= 0),
    last_call_at            TEXT,
    next_call_at            TEXT,
    data_quality            INTEGER NOT NULL DEFAULT 0 CHECK (data_quality BETWEEN 0 AND 100),
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    updated_by              INTEGER REFERENCES agents (id),
    -- why the latest status change happened; the status trigger copies it into lead_status_log
    status_reason           TEXT,
    deleted_at              TEXT
);

-- a soft-deleted lead keeps its number: restoring it must not collide with a newer copy
CREATE UNIQUE INDEX leads_phone_key ON leads (phone);
CREATE UNIQUE INDEX leads_email_key ON leads (email) WHERE email IS NOT NULL;
CREATE INDEX leads_list_idx ON leads (priority_rank DESC, lead_score DESC, id DESC) WHERE deleted_at IS NULL;
-- the claim queue: walked in order, so claiming never sorts the whole table
CREATE INDEX leads_queue_idx ON leads (priority_rank DESC, lead_score DESC, next_call_at, id)
    WHERE deleted_at IS NULL AND do_not_call = 0 AND status NOT IN ('closed_won', 'closed_lost');
CREATE INDEX leads_status_idx ON leads (status) WHERE deleted_at IS NULL;
CREATE INDEX leads_next_call_idx ON leads (next_call_at) WHERE deleted_at IS NULL;

-- search: words (prefix queries) and phone/email fragments (trigram), kept in sync by triggers
CREATE VIRTUAL TABLE leads_fts USING fts5(
    first_name, last_name, company, email, title, notes,
    content = 'leads', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE leads_trgm USING fts5(
    phone, email, content = 'leads', content_rowid = 'seq', tokenize = 'trigram'
);

CREATE TABLE contacts (
    id          BLOB PRIMARY KEY,
    lead_id     BLOB NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('phone', 'email', 'address', 'social')),
    value       TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 500),
    label       TEXT,
    is_primary  INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    is_verified INTEGER NOT NULL DEFAULT 0 CHECK (is_verified IN (0, 1)),
    created_at  TEXT NOT NULL,
    UNIQUE (lead_id, kind, value)
);
CREATE UNIQUE INDEX contacts_one_primary ON contacts (lead_id, kind) WHERE is_primary = 1;

CREATE TABLE dispositions (
    code            TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 32 AND code NOT GLOB '*[^a-z0-9_]*'),
    label           TEXT NOT NULL,
    hotkey          TEXT UNIQUE CHECK (length(hotkey) = 1),
    is_contact      INTEGER NOT NULL DEFAULT 0 CHECK (is_contact IN (0, 1)),
    is_sale         INTEGER NOT NULL DEFAULT 0 CHECK (is_sale IN (0, 1)),
    is_dnc          INTEGER NOT NULL DEFAULT 0 CHECK (is_dnc IN (0, 1)),
    is_callback     INTEGER NOT NULL DEFAULT 0 CHECK (is_callback IN (0, 1)),
    is_final        INTEGER NOT NULL DEFAULT 0 CHECK (is_final IN (0, 1)),
    next_status     TEXT CHECK (next_status IN ('new', 'contacted', 'qualified', 'proposal', 'negotiation',
                                                'closed_won', 'closed_lost', 'nurturing')),
    recycle_after_s INTEGER CHECK (recycle_after_s >= 120),
    max_attempts    INTEGER CHECK (max_attempts > 0),
    sort_order      INTEGER NOT NULL DEFAULT 0,
    CHECK (NOT is_dnc OR is_final)
);

CREATE TABLE call_logs (
    id              BLOB PRIMARY KEY,
    lead_id         BLOB NOT NULL REFERENCES leads (id),
    agent_id        INTEGER NOT NULL REFERENCES agents (id),
    phone_number    TEXT NOT NULL,
    from_number     TEXT,
    direction       TEXT NOT NULL DEFAULT 'outbound' CHECK (direction IN ('inbound', 'outbound')),
    status          TEXT NOT NULL DEFAULT 'initiated' CHECK (status IN
                      ('initiated', 'ringing', 'answered', 'busy', 'failed', 'voicemail', 'completed', 'abandoned')),
    disposition     TEXT REFERENCES dispositions (code),
    duration_s      INTEGER CHECK (duration_s >= 0),
    notes           TEXT,
    recording_url   TEXT,
    started_at      TEXT NOT NULL,
    answered_at     TEXT,
    ended_at        TEXT,
    ended_by        INTEGER REFERENCES agents (id)
);
CREATE INDEX call_logs_lead_idx ON call_logs (lead_id, started_at DESC);
CREATE INDEX call_logs_agent_idx ON call_logs (agent_id, started_at DESC);

-- the lock: at most one active call per lead, enforced by the primary key
CREATE TABLE active_calls (
    lead_id         BLOB PRIMARY KEY REFERENCES leads (id),
    call_log_id     BLOB NOT NULL UNIQUE REFERENCES call_logs (id),
    agent_id        INTEGER NOT NULL REFERENCES agents (id),
    phone_number    TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    heartbeat_at    TEXT NOT NULL
);
CREATE INDEX active_calls_agent_idx ON active_calls (agent_id);

CREATE TABLE lead_status_log (
    id          INTEGER PRIMARY KEY,
    lead_id     BLOB NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    old_status  TEXT,
    new_status  TEXT NOT NULL,
    changed_by  INTEGER REFERENCES agents (id),
    reason      TEXT,
    changed_at  TEXT NOT NULL
);
CREATE INDEX lead_status_log_lead_idx ON lead_status_log (lead_id, id);

CREATE TABLE lead_assignments (
    id          BLOB PRIMARY KEY,
    lead_id     BLOB NOT NULL REFERENCES leads (id),
    agent_id    INTEGER NOT NULL REFERENCES agents (id),
    assigned_by INTEGER REFERENCES agents (id),
    assigned_at TEXT NOT NULL,
    expires_at  TEXT,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE UNIQUE INDEX lead_assignments_one_active ON lead_assignments (lead_id) WHERE active = 1;
CREATE INDEX lead_assignments_agent_idx ON lead_assignments (agent_id) WHERE active = 1;

CREATE TABLE callbacks (
    id          BLOB PRIMARY KEY,
    lead_id     BLOB NOT NULL REFERENCES leads (id),
    agent_id    INTEGER NOT NULL REFERENCES agents (id),
    due_at      TEXT NOT NULL,
    note        TEXT,
    created_at  TEXT NOT NULL,
    done_at     TEXT
);
CREATE INDEX callbacks_due_idx ON callbacks (agent_id, due_at) WHERE done_at IS NULL;
CREATE INDEX callbacks_lead_idx ON callbacks (lead_id) WHERE done_at IS NULL;

CREATE TABLE dnc_numbers (
    number      TEXT PRIMARY KEY CHECK (number GLOB '+[1-9]*' AND substr(number, 2) NOT GLOB '*[^0-9]*'),
    reason      TEXT,
    added_by    INTEGER REFERENCES agents (id),
    added_at    TEXT NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    agent_id    INTEGER REFERENCES agents (id),
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, id);

-- The change feed. SQLite serialises writers, so ids are in commit order; AUTOINCREMENT keeps
-- them from being reused after old rows are pruned.
CREATE TABLE changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    lead_id     BLOB NOT NULL,
    op          TEXT NOT NULL,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- ---------------------------------------------------------------- triggers

-- the app sets updated_at from its clock; any other writer still gets a fresh one
CREATE TRIGGER leads_touch AFTER UPDATE ON leads
WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE leads SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE seq = NEW.seq;
END;

CREATE TRIGGER leads_status_insert AFTER INSERT ON leads
BEGIN
    INSERT INTO lead_status_log (lead_id, old_status, new_status, changed_by, reason, changed_at)
    VALUES (NEW.id, NULL, NEW.status, NEW.updated_by, NEW.status_reason, NEW.updated_at);
END;

CREATE TRIGGER leads_status_update AFTER UPDATE OF status ON leads
WHEN NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO lead_status_log (lead_id, old_status, new_status, changed_by, reason, changed_at)
    VALUES (NEW.id, OLD.status, NEW.status, NEW.updated_by, NEW.status_reason, NEW.updated_at);
END;

CREATE TRIGGER leads_search_insert AFTER INSERT ON leads
BEGIN
    INSERT INTO leads_fts (rowid, first_name, last_name, company, email, title, notes)
    VALUES (NEW.seq, NEW.first_name, NEW.last_name, NEW.company, NEW.email, NEW.title, NEW.notes);
    INSERT INTO leads_trgm (rowid, phone, email) VALUES (NEW.seq, NEW.phone, NEW.email);
END;

CREATE TRIGGER leads_search_delete AFTER DELETE ON leads
BEGIN
    INSERT INTO leads_fts (leads_fts, rowid, first_name, last_name, company, email, title, notes)
    VALUES ('delete', OLD.seq, OLD.first_name, OLD.last_name, OLD.company, OLD.email, OLD.title, OLD.notes);
    INSERT INTO leads_trgm (leads_trgm, rowid, phone, email) VALUES ('delete', OLD.seq, OLD.phone, OLD.email);
END;

CREATE TRIGGER leads_search_update AFTER UPDATE OF first_name, last_name, company, email, phone, title, notes ON leads
BEGIN
    INSERT INTO leads_fts (leads_fts, rowid, first_name, last_name, company, email, title, notes)
    VALUES ('delete', OLD.seq, OLD.first_name, OLD.last_name, OLD.company, OLD.email, OLD.title, OLD.notes);
    INSERT INTO leads_trgm (leads_trgm, rowid, phone, email) VALUES ('delete', OLD.seq, OLD.phone, OLD.email);
    INSERT INTO leads_fts (rowid, first_name, last_name, company, email, title, notes)
    VALUES (NEW.seq, NEW.first_name, NEW.last_name, NEW.company, NEW.email, NEW.title, NEW.notes);
    INSERT INTO leads_trgm (rowid, phone, email) VALUES (NEW.seq, NEW.phone, NEW.email);
END;

-- change feed: one row per changed lead aspect (kind), keyed by the lead
CREATE TRIGGER leads_feed_insert AFTER INSERT ON leads
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('lead', NEW.id, 'insert'); END;
CREATE TRIGGER leads_feed_update AFTER UPDATE ON leads WHEN NEW.updated_at IS NOT OLD.updated_at
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('lead', NEW.id, 'update'); END;
CREATE TRIGGER leads_feed_delete AFTER DELETE ON leads
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('lead', OLD.id, 'delete'); END;

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

CREATE TRIGGER callbacks_feed_insert AFTER INSERT ON callbacks
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('callback', NEW.lead_id, 'insert'); END;
CREATE TRIGGER callbacks_feed_update AFTER UPDATE ON callbacks
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('callback', NEW.lead_id, 'update'); END;
CREATE TRIGGER callbacks_feed_delete AFTER DELETE ON callbacks
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('callback', OLD.lead_id, 'delete'); END;

CREATE TRIGGER lead_assignments_feed_insert AFTER INSERT ON lead_assignments
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('assignment', NEW.lead_id, 'insert'); END;
CREATE TRIGGER lead_assignments_feed_update AFTER UPDATE ON lead_assignments
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('assignment', NEW.lead_id, 'update'); END;

CREATE TRIGGER contacts_feed_insert AFTER INSERT ON contacts
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('lead', NEW.lead_id, 'insert'); END;
CREATE TRIGGER contacts_feed_update AFTER UPDATE ON contacts
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('lead', NEW.lead_id, 'update'); END;
CREATE TRIGGER contacts_feed_delete AFTER DELETE ON contacts
BEGIN INSERT INTO changes (kind, lead_id, op) VALUES ('lead', OLD.lead_id, 'delete'); END;
