-- coldcall schema, PostgreSQL.
-- Timestamps are UTC (timestamptz); lead, call, contact, callback and assignment ids are UUID v7 made by the app.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE agents (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 50),
    email       TEXT UNIQUE,
    role        TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor', 'admin')),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO settings (key, value) VALUES
    ('min_gap_seconds', '300'),
    ('calling_hours', '08:00-21:00'),
    ('default_timezone', 'America/New_York'),
    ('max_attempts', '6'),
    ('lock_ttl_seconds', '60'),
    ('claim_ttl_seconds', '900');

CREATE TABLE leads (
    id                      UUID PRIMARY KEY,
    first_name              TEXT NOT NULL CHECK (length(first_name) BETWEEN 1 AND 50),
    last_name               TEXT NOT NULL CHECK (length(last_name) BETWEEN 1 AND 50),
    email                   TEXT CHECK (email = lower(email)),
    phone                   TEXT NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    company                 TEXT NOT NULL CHECK (length(company) BETWEEN 1 AND 100),
    title                   TEXT,
    timezone                TEXT,
    status                  TEXT NOT NULL DEFAULT 'new' CHECK (status IN
                              ('new', 'contacted', 'qualified', 'proposal', 'negotiation',
                               'closed_won', 'closed_lost', 'nurturing')),
    priority                TEXT NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    -- the queue sorts by rank; derived so it can never disagree with priority
    priority_rank           SMALLINT GENERATED ALWAYS AS (CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2
                              WHEN 'medium' THEN 1 ELSE 0 END) STORED,
    lead_score              SMALLINT NOT NULL DEFAULT 0 CHECK (lead_score BETWEEN 0 AND 100),
    conversion_probability  DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (conversion_probability BETWEEN 0 AND 1),
    source                  TEXT,
    notes                   TEXT,
    consent_given           BOOLEAN NOT NULL DEFAULT FALSE,
    consent_date            TIMESTAMPTZ,
    do_not_call             BOOLEAN NOT NULL DEFAULT FALSE,
    do_not_email            BOOLEAN NOT NULL DEFAULT FALSE,
    call_attempts           INTEGER NOT NULL DEFAULT 0 CHECK (call_attempts >= 0),
    last_call_at            TIMESTAMPTZ,
    next_call_at            TIMESTAMPTZ,
    data_quality            SMALLINT NOT NULL DEFAULT 0 CHECK (data_quality BETWEEN 0 AND 100),
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by              BIGINT REFERENCES agents (id),
    -- why the latest status change happened; the status trigger copies it into lead_status_log
    status_reason           TEXT,
    deleted_at              TIMESTAMPTZ
);

-- a soft-deleted lead keeps its number: restoring it must not collide with a newer copy
CREATE UNIQUE INDEX leads_phone_key ON leads (phone);
CREATE UNIQUE INDEX leads_email_key ON leads (email) WHERE email IS NOT NULL;
-- list order (priority, score, newest first) and the claim queue
CREATE INDEX leads_list_idx ON leads (priority_rank DESC, lead_score DESC, id DESC) WHERE deleted_at IS NULL;
-- the claim queue: walked in order, so claiming never sorts the whole table
CREATE INDEX leads_queue_idx ON leads (priority_rank DESC, lead_score DESC, next_call_at, id)
    WHERE deleted_at IS NULL AND NOT do_not_call AND status NOT IN ('closed_won', 'closed_lost');
CREATE INDEX leads_status_idx ON leads (status) WHERE deleted_at IS NULL;
CREATE INDEX leads_next_call_idx ON leads (next_call_at) WHERE deleted_at IS NULL;
-- search: words by full text, phone and email fragments by trigram
CREATE INDEX leads_search_idx ON leads USING GIN (to_tsvector('simple',
    first_name || ' ' || last_name || ' ' || company || ' ' || coalesce(email, '') || ' ' ||
    coalesce(title, '') || ' ' || coalesce(notes, '')));
CREATE INDEX leads_phone_trgm_idx ON leads USING GIN (phone gin_trgm_ops);
CREATE INDEX leads_email_trgm_idx ON leads USING GIN (email gin_trgm_ops);

CREATE TABLE contacts (
    id          UUID PRIMARY KEY,
    lead_id     UUID NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('phone', 'email', 'address', 'social')),
    value       TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 500),
    label       TEXT,
    is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
    is_verified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (lead_id, kind, value)
);
CREATE UNIQUE INDEX contacts_one_primary ON contacts (lead_id, kind) WHERE is_primary;

CREATE TABLE dispositions (
    code            TEXT PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    label           TEXT NOT NULL,
    hotkey          TEXT UNIQUE CHECK (length(hotkey) = 1),
    is_contact      BOOLEAN NOT NULL DEFAULT FALSE,
    is_sale         BOOLEAN NOT NULL DEFAULT FALSE,
    is_dnc          BOOLEAN NOT NULL DEFAULT FALSE,
    is_callback     BOOLEAN NOT NULL DEFAULT FALSE,
    is_final        BOOLEAN NOT NULL DEFAULT FALSE,
    next_status     TEXT CHECK (next_status IN ('new', 'contacted', 'qualified', 'proposal', 'negotiation',
                                                'closed_won', 'closed_lost', 'nurturing')),
    recycle_after_s INTEGER CHECK (recycle_after_s >= 120),
    max_attempts    INTEGER CHECK (max_attempts > 0),
    sort_order      INTEGER NOT NULL DEFAULT 0,
    CHECK (NOT is_dnc OR is_final)
);

CREATE TABLE call_logs (
    id              UUID PRIMARY KEY,
    lead_id         UUID NOT NULL REFERENCES leads (id),
    agent_id        BIGINT NOT NULL REFERENCES agents (id),
    phone_number    TEXT NOT NULL,
    from_number     TEXT,
    direction       TEXT NOT NULL DEFAULT 'outbound' CHECK (direction IN ('inbound', 'outbound')),
    status          TEXT NOT NULL DEFAULT 'initiated' CHECK (status IN
                      ('initiated', 'ringing', 'answered', 'busy', 'failed', 'voicemail', 'completed', 'abandoned')),
    disposition     TEXT REFERENCES dispositions (code),
    duration_s      INTEGER CHECK (duration_s >= 0),
    notes           TEXT,
    recording_url   TEXT,
    started_at      TIMESTAMPTZ NOT NULL,
    answered_at     TIMESTAMPTZ,
    ended_at        TIMESTAMPTZ,
    ended_by        BIGINT REFERENCES agents (id),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX call_logs_lead_idx ON call_logs (lead_id, started_at DESC);
CREATE INDEX call_logs_agent_idx ON call_logs (agent_id, started_at DESC);

-- the lock: at most one active call per lead, enforced by the primary key
CREATE TABLE active_calls (
    lead_id         UUID PRIMARY KEY REFERENCES leads (id),
    call_log_id     UUID NOT NULL UNIQUE REFERENCES call_logs (id),
    agent_id        BIGINT NOT NULL REFERENCES agents (id),
    phone_number    TEXT NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    heartbeat_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX active_calls_agent_idx ON active_calls (agent_id);

CREATE TABLE lead_status_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id     UUID NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    old_status  TEXT,
    new_status  TEXT NOT NULL,
    changed_by  BIGINT REFERENCES agents (id),
    reason      TEXT,
    changed_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX lead_status_log_lead_idx ON lead_status_log (lead_id, id);

CREATE TABLE lead_assignments (
    id          UUID PRIMARY KEY,
    lead_id     UUID NOT NULL REFERENCES leads (id),
    agent_id    BIGINT NOT NULL REFERENCES agents (id),
    assigned_by BIGINT REFERENCES agents (id),
    assigned_at TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ,
    active      BOOLEAN NOT NULL DEFAULT TRUE
);
-- one live assignment per lead: the last line of defence for claims
CREATE UNIQUE INDEX lead_assignments_one_active ON lead_assignments (lead_id) WHERE active;
CREATE INDEX lead_assignments_agent_idx ON lead_assignments (agent_id) WHERE active;

CREATE TABLE callbacks (
    id          UUID PRIMARY KEY,
    lead_id     UUID NOT NULL REFERENCES leads (id),
    agent_id    BIGINT NOT NULL REFERENCES agents (id),
    due_at      TIMESTAMPTZ NOT NULL,
    note        TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    done_at     TIMESTAMPTZ
);
CREATE INDEX callbacks_due_idx ON callbacks (agent_id, due_at) WHERE done_at IS NULL;
CREATE INDEX callbacks_lead_idx ON callbacks (lead_id) WHERE done_at IS NULL;

CREATE TABLE dnc_numbers (
    number      TEXT PRIMARY KEY CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
    reason      TEXT,
    added_by    BIGINT REFERENCES agents (id),
    added_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    agent_id    BIGINT REFERENCES agents (id),
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    old_value   JSONB,
    new_value   JSONB
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, id);

-- The change feed. Ids come from a sequence at insert time, so they can commit out of order;
-- readers therefore page by (tx, id) and only read rows whose transaction is below the oldest
-- one still running (see store::postgres::changes_since), which makes the order final.
CREATE TABLE changes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx          XID8 NOT NULL DEFAULT pg_current_xact_id(),
    kind        TEXT NOT NULL,
    lead_id     UUID NOT NULL,
    op          TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX changes_tx_idx ON changes (tx, id);

-- ---------------------------------------------------------------- triggers

CREATE FUNCTION coldcall_lead_before() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the app sets updated_at from its clock; any other writer still gets a fresh one
    IF TG_OP = 'UPDATE' AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER leads_before BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION coldcall_lead_before();

CREATE FUNCTION coldcall_lead_status_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO lead_status_log (lead_id, old_status, new_status, changed_by, reason, changed_at)
        VALUES (NEW.id, NULL, NEW.status, NEW.updated_by, NEW.status_reason, NEW.updated_at);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO lead_status_log (lead_id, old_status, new_status, changed_by, reason, changed_at)
        VALUES (NEW.id, OLD.status, NEW.status, NEW.updated_by, NEW.status_reason, NEW.updated_at);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER leads_status_log AFTER INSERT OR UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION coldcall_lead_status_log();

-- one feed row per changed lead aspect: kind says what changed, lead_id which lead;
-- the lead id column differs per table, so it is a trigger argument
CREATE FUNCTION coldcall_feed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec RECORD;
BEGIN
    IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
    INSERT INTO changes (kind, lead_id, op)
    VALUES (TG_ARGV[0], (to_jsonb(rec) ->> TG_ARGV[1])::uuid, lower(TG_OP));
    RETURN NULL;
END $$;
CREATE TRIGGER leads_feed AFTER INSERT OR UPDATE OR DELETE ON leads
    FOR EACH ROW EXECUTE FUNCTION coldcall_feed('lead', 'id');
CREATE TRIGGER active_calls_feed AFTER INSERT OR UPDATE OF agent_id, call_log_id OR DELETE ON active_calls
    FOR EACH ROW EXECUTE FUNCTION coldcall_feed('active_call', 'lead_id');
CREATE TRIGGER call_logs_feed AFTER INSERT OR UPDATE ON call_logs
    FOR EACH ROW EXECUTE FUNCTION coldcall_feed('call', 'lead_id');
CREATE TRIGGER callbacks_feed AFTER INSERT OR UPDATE OR DELETE ON callbacks
    FOR EACH ROW EXECUTE FUNCTION coldcall_feed('callback', 'lead_id');
CREATE TRIGGER lead_assignments_feed AFTER INSERT OR UPDATE ON lead_assignments
    FOR EACH ROW EXECUTE FUNCTION coldcall_feed('assignment', 'lead_id');
CREATE TRIGGER contacts_feed AFTER INSERT OR UPDATE OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION coldcall_feed('lead', 'lead_id');
