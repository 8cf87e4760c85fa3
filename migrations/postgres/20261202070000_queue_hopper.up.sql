-- The claim queue's hopper: a narrow table with one row per lead that may ever be called again
-- (live, not flagged do-not-call, not in a final status). A claim walks only the rows that are
-- ready (`state = 1`, a partial index in claim order), so leads that are claimed, on a call,
-- recently called or not yet due are out of its path however long the day has been.
--
-- Triggers keep each row in step with its lead, its lock and its claim (no code path can
-- forget): any change puts the row back to waiting (`state = 0`) with `due_hint`, the earliest
-- time it may be offered, or straight to ready when nothing holds it back in time (never called,
-- no recycle time, no claim). Claims feed the waiting rows whose time has come by the floor's
-- clock (`due_hint <= now`) into ready as they go, VICIdial's hopper without the cron job; the
-- database's own clock is never used, so a console's clock and the queue always agree. Rows whose attempts are used up are parked (`state = 2`) until the lead
-- changes. The hint is only a hint: the claim still filters the mirrored columns with the
-- floor's settings and re-checks can-call on the locked lead.
CREATE TABLE lead_queue (
    lead_id        UUID PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
    priority_rank  SMALLINT NOT NULL,
    lead_score     SMALLINT NOT NULL,
    timezone       TEXT,
    phone          TEXT NOT NULL,
    call_attempts  INTEGER NOT NULL,
    last_call_at   TIMESTAMPTZ,
    next_call_at   TIMESTAMPTZ,
    state          SMALLINT NOT NULL CHECK (state IN (0, 1, 2)),
    due_hint       TIMESTAMPTZ NOT NULL
);
-- the claim's path: ready rows in claim order (the claim's ORDER BY is exactly this)
CREATE INDEX lead_queue_ready_idx ON lead_queue (priority_rank DESC, lead_score DESC, lead_id) WHERE state = 1;
-- the feed's path: waiting rows by the time they come due
CREATE INDEX lead_queue_waiting_idx ON lead_queue (due_hint) WHERE state = 0;

-- Recomputes the hopper row of one lead from the lead, its lock and its own claim.
CREATE FUNCTION coldcall_queue_sync(lead UUID) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    l RECORD;
    gap INTERVAL;
    max_attempts INTEGER;
    hint TIMESTAMPTZ;
    st SMALLINT;
BEGIN
    SELECT id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at, next_call_at
      INTO l FROM leads
     WHERE id = lead AND deleted_at IS NULL AND NOT do_not_call AND status NOT IN ('closed_won', 'closed_lost');
    IF NOT FOUND THEN
        DELETE FROM lead_queue WHERE lead_id = lead;
        RETURN;
    END IF;
    SELECT coalesce((SELECT value::int FROM settings WHERE key = 'min_gap_seconds'), 0) * INTERVAL '1 second'
      INTO gap;
    SELECT coalesce((SELECT value::int FROM settings WHERE key = 'max_attempts'), 2147483647) INTO max_attempts;
    IF EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = lead) THEN
        hint := 'infinity';
    ELSE
        hint := greatest(coalesce(l.next_call_at, '-infinity'), coalesce(l.last_call_at + gap, '-infinity'),
                         coalesce((SELECT max(a.expires_at) FROM lead_assignments a
                                    WHERE a.lead_id = lead AND a.active AND a.assigned_by = a.agent_id),
                                  '-infinity'));
    END IF;
    IF l.call_attempts >= max_attempts THEN
        st := 2;
    ELSIF hint = '-infinity' THEN
        st := 1;
    ELSE
        st := 0;
    END IF;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    VALUES (l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at,
            l.next_call_at, st, hint)
    ON CONFLICT (lead_id) DO UPDATE SET priority_rank = EXCLUDED.priority_rank, lead_score = EXCLUDED.lead_score,
        timezone = EXCLUDED.timezone, phone = EXCLUDED.phone, call_attempts = EXCLUDED.call_attempts,
        last_call_at = EXCLUDED.last_call_at, next_call_at = EXCLUDED.next_call_at, state = EXCLUDED.state,
        due_hint = EXCLUDED.due_hint;
END $$;

-- New leads arrive by the thousand on import: one set-based statement per INSERT statement.
CREATE FUNCTION coldcall_queue_leads_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gap INTERVAL;
    max_attempts INTEGER;
BEGIN
    SELECT coalesce((SELECT value::int FROM settings WHERE key = 'min_gap_seconds'), 0) * INTERVAL '1 second'
      INTO gap;
    SELECT coalesce((SELECT value::int FROM settings WHERE key = 'max_attempts'), 2147483647) INTO max_attempts;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    SELECT n.id, n.priority_rank, n.lead_score, n.timezone, n.phone, n.call_attempts, n.last_call_at,
           n.next_call_at,
           CASE WHEN n.call_attempts >= max_attempts THEN 2
                WHEN greatest(coalesce(n.next_call_at, '-infinity'), coalesce(n.last_call_at + gap, '-infinity'))
                     = '-infinity' THEN 1 ELSE 0 END,
           greatest(coalesce(n.next_call_at, '-infinity'), coalesce(n.last_call_at + gap, '-infinity'))
      FROM new_leads n
     WHERE n.deleted_at IS NULL AND NOT n.do_not_call AND n.status NOT IN ('closed_won', 'closed_lost')
    ON CONFLICT (lead_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER leads_queue_insert AFTER INSERT ON leads REFERENCING NEW TABLE AS new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION coldcall_queue_leads_inserted();

CREATE FUNCTION coldcall_queue_lead_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coldcall_queue_sync(NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER leads_queue_update AFTER UPDATE OF deleted_at, do_not_call, status, priority, lead_score, timezone,
    phone, call_attempts, last_call_at, next_call_at ON leads
    FOR EACH ROW EXECUTE FUNCTION coldcall_queue_lead_changed();

CREATE FUNCTION coldcall_queue_other_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM coldcall_queue_sync(OLD.lead_id);
    ELSE
        PERFORM coldcall_queue_sync(NEW.lead_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER active_calls_queue AFTER INSERT OR DELETE ON active_calls
    FOR EACH ROW EXECUTE FUNCTION coldcall_queue_other_changed();
CREATE TRIGGER lead_assignments_queue AFTER INSERT OR UPDATE OF active, expires_at ON lead_assignments
    FOR EACH ROW EXECUTE FUNCTION coldcall_queue_other_changed();

-- Every lead's row at once, as coldcall_queue_sync would write it, in one statement: when the
-- queue is created, and when a setting the rows depend on changes (the gap, the attempts).
CREATE FUNCTION coldcall_queue_rebuild() RETURNS void LANGUAGE sql AS $$
DELETE FROM lead_queue;
INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                        next_call_at, state, due_hint)
SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at, l.next_call_at,
       CASE WHEN l.call_attempts >= s.max_attempts THEN 2 WHEN h.hint = '-infinity' THEN 1 ELSE 0 END, h.hint
  FROM leads l
 CROSS JOIN (SELECT coalesce((SELECT value::int FROM settings WHERE key = 'min_gap_seconds'), 0)
                    * INTERVAL '1 second' AS gap,
                    coalesce((SELECT value::int FROM settings WHERE key = 'max_attempts'), 2147483647)
                    AS max_attempts) s
 CROSS JOIN LATERAL (SELECT CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = l.id)
                                 THEN 'infinity'::timestamptz
                                 ELSE greatest(coalesce(l.next_call_at, '-infinity'),
                                               coalesce(l.last_call_at + s.gap, '-infinity'),
                                               coalesce((SELECT max(a.expires_at) FROM lead_assignments a
                                                          WHERE a.lead_id = l.id AND a.active
                                                            AND a.assigned_by = a.agent_id), '-infinity'))
                            END AS hint) h
 WHERE l.deleted_at IS NULL AND NOT l.do_not_call AND l.status NOT IN ('closed_won', 'closed_lost');
$$;
SELECT coldcall_queue_rebuild();

CREATE FUNCTION coldcall_queue_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coldcall_queue_rebuild();
    RETURN NULL;
END $$;
CREATE TRIGGER settings_queue AFTER INSERT OR UPDATE ON settings
    FOR EACH ROW WHEN (NEW.key IN ('min_gap_seconds', 'max_attempts'))
    EXECUTE FUNCTION coldcall_queue_settings_changed();

-- The claim no longer walks leads itself; the list index serves the lead list.
DROP INDEX leads_queue_idx;
