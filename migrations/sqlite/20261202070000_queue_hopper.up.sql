-- The claim queue's hopper: a narrow table with one row per lead that may ever be called again
-- (live, not flagged do-not-call, not in a final status). A claim walks only the rows that are
-- ready (`state = 1`, a partial index in claim order), so leads that are claimed, on a call,
-- recently called or not yet due are out of its path however long the day has been.
--
-- Triggers keep each row in step with its lead, its lock and its claim (no code path can
-- forget): any change puts the row back to waiting (`state = 0`) with `due_hint` (unix seconds),
-- the earliest time it may be offered, or straight to ready when nothing holds it back in time
-- (never called, no recycle time, no claim). Claims feed the waiting rows whose time has come by
-- the floor's clock into ready as they go; the database's clock is never used. Rows whose attempts are used
-- up are parked (`state = 2`) until the lead changes. The hint is only a hint: the claim still
-- filters the mirrored columns with the floor's settings and re-checks can-call on the lead.
CREATE TABLE lead_queue (
    lead_id        BLOB PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
    priority_rank  INTEGER NOT NULL,
    lead_score     INTEGER NOT NULL,
    timezone       TEXT,
    phone          TEXT NOT NULL,
    call_attempts  INTEGER NOT NULL,
    last_call_at   TEXT,
    next_call_at   TEXT,
    state          INTEGER NOT NULL CHECK (state IN (0, 1, 2)),
    due_hint       INTEGER NOT NULL
) WITHOUT ROWID;
-- the claim's path: ready rows in claim order (the claim's ORDER BY is exactly this)
CREATE INDEX lead_queue_ready_idx ON lead_queue (priority_rank DESC, lead_score DESC, lead_id) WHERE state = 1;
-- the feed's path: waiting rows by the time they come due
CREATE INDEX lead_queue_waiting_idx ON lead_queue (due_hint) WHERE state = 0;

CREATE TRIGGER leads_queue_insert AFTER INSERT ON leads
BEGIN
    DELETE FROM lead_queue WHERE lead_id = NEW.id;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at,
           l.next_call_at,
           CASE WHEN l.call_attempts >= s.max_attempts THEN 2
                WHEN h.hint = 0 THEN 1 ELSE 0 END,
           h.hint
      FROM leads l,
           (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0) AS gap,
                   coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647)
                   AS max_attempts) s,
           (SELECT CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = NEW.id) THEN 9223372036854775807
                        ELSE max(coalesce(CAST(strftime('%s', l2.next_call_at) AS INTEGER), 0),
                                 coalesce(CAST(strftime('%s', l2.last_call_at) AS INTEGER)
                                          + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings
                                                               WHERE key = 'min_gap_seconds'), 0)), 0),
                                 coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                             FROM lead_assignments a
                                            WHERE a.lead_id = NEW.id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
                   END AS hint
              FROM leads l2 WHERE l2.id = NEW.id) h
     WHERE l.id = NEW.id AND l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost');
END;
CREATE TRIGGER leads_queue_update AFTER UPDATE OF deleted_at, do_not_call, status, priority, lead_score, timezone,
    phone, call_attempts, last_call_at, next_call_at ON leads
BEGIN
    DELETE FROM lead_queue WHERE lead_id = NEW.id;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at,
           l.next_call_at,
           CASE WHEN l.call_attempts >= s.max_attempts THEN 2
                WHEN h.hint = 0 THEN 1 ELSE 0 END,
           h.hint
      FROM leads l,
           (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0) AS gap,
                   coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647)
                   AS max_attempts) s,
           (SELECT CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = NEW.id) THEN 9223372036854775807
                        ELSE max(coalesce(CAST(strftime('%s', l2.next_call_at) AS INTEGER), 0),
                                 coalesce(CAST(strftime('%s', l2.last_call_at) AS INTEGER)
                                          + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings
                                                               WHERE key = 'min_gap_seconds'), 0)), 0),
                                 coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                             FROM lead_assignments a
                                            WHERE a.lead_id = NEW.id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
                   END AS hint
              FROM leads l2 WHERE l2.id = NEW.id) h
     WHERE l.id = NEW.id AND l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost');
END;
CREATE TRIGGER leads_queue_delete AFTER DELETE ON leads
BEGIN
    DELETE FROM lead_queue WHERE lead_id = OLD.id;
END;
CREATE TRIGGER active_calls_queue_insert AFTER INSERT ON active_calls
BEGIN
    DELETE FROM lead_queue WHERE lead_id = NEW.lead_id;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at,
           l.next_call_at,
           CASE WHEN l.call_attempts >= s.max_attempts THEN 2
                WHEN h.hint = 0 THEN 1 ELSE 0 END,
           h.hint
      FROM leads l,
           (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0) AS gap,
                   coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647)
                   AS max_attempts) s,
           (SELECT CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = NEW.lead_id) THEN 9223372036854775807
                        ELSE max(coalesce(CAST(strftime('%s', l2.next_call_at) AS INTEGER), 0),
                                 coalesce(CAST(strftime('%s', l2.last_call_at) AS INTEGER)
                                          + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings
                                                               WHERE key = 'min_gap_seconds'), 0)), 0),
                                 coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                             FROM lead_assignments a
                                            WHERE a.lead_id = NEW.lead_id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
                   END AS hint
              FROM leads l2 WHERE l2.id = NEW.lead_id) h
     WHERE l.id = NEW.lead_id AND l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost');
END;
CREATE TRIGGER active_calls_queue_delete AFTER DELETE ON active_calls
BEGIN
    DELETE FROM lead_queue WHERE lead_id = OLD.lead_id;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at,
           l.next_call_at,
           CASE WHEN l.call_attempts >= s.max_attempts THEN 2
                WHEN h.hint = 0 THEN 1 ELSE 0 END,
           h.hint
      FROM leads l,
           (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0) AS gap,
                   coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647)
                   AS max_attempts) s,
           (SELECT CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = OLD.lead_id) THEN 9223372036854775807
                        ELSE max(coalesce(CAST(strftime('%s', l2.next_call_at) AS INTEGER), 0),
                                 coalesce(CAST(strftime('%s', l2.last_call_at) AS INTEGER)
                                          + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings
                                                               WHERE key = 'min_gap_seconds'), 0)), 0),
                                 coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                             FROM lead_assignments a
                                            WHERE a.lead_id = OLD.lead_id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
                   END AS hint
              FROM leads l2 WHERE l2.id = OLD.lead_id) h
     WHERE l.id = OLD.lead_id AND l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost');
END;
CREATE TRIGGER lead_assignments_queue_insert AFTER INSERT ON lead_assignments
BEGIN
    DELETE FROM lead_queue WHERE lead_id = NEW.lead_id;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at,
           l.next_call_at,
           CASE WHEN l.call_attempts >= s.max_attempts THEN 2
                WHEN h.hint = 0 THEN 1 ELSE 0 END,
           h.hint
      FROM leads l,
           (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0) AS gap,
                   coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647)
                   AS max_attempts) s,
           (SELECT CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = NEW.lead_id) THEN 9223372036854775807
                        ELSE max(coalesce(CAST(strftime('%s', l2.next_call_at) AS INTEGER), 0),
                                 coalesce(CAST(strftime('%s', l2.last_call_at) AS INTEGER)
                                          + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings
                                                               WHERE key = 'min_gap_seconds'), 0)), 0),
                                 coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                             FROM lead_assignments a
                                            WHERE a.lead_id = NEW.lead_id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
                   END AS hint
              FROM leads l2 WHERE l2.id = NEW.lead_id) h
     WHERE l.id = NEW.lead_id AND l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost');
END;
CREATE TRIGGER lead_assignments_queue_update AFTER UPDATE OF active, expires_at ON lead_assignments
BEGIN
    DELETE FROM lead_queue WHERE lead_id = NEW.lead_id;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at,
           l.next_call_at,
           CASE WHEN l.call_attempts >= s.max_attempts THEN 2
                WHEN h.hint = 0 THEN 1 ELSE 0 END,
           h.hint
      FROM leads l,
           (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0) AS gap,
                   coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647)
                   AS max_attempts) s,
           (SELECT CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = NEW.lead_id) THEN 9223372036854775807
                        ELSE max(coalesce(CAST(strftime('%s', l2.next_call_at) AS INTEGER), 0),
                                 coalesce(CAST(strftime('%s', l2.last_call_at) AS INTEGER)
                                          + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings
                                                               WHERE key = 'min_gap_seconds'), 0)), 0),
                                 coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                             FROM lead_assignments a
                                            WHERE a.lead_id = NEW.lead_id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
                   END AS hint
              FROM leads l2 WHERE l2.id = NEW.lead_id) h
     WHERE l.id = NEW.lead_id AND l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost');
END;

-- Every lead there is today, as the triggers would write it.
INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                        next_call_at, state, due_hint)
WITH s AS (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0) AS gap,
                  coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647)
                  AS max_attempts),
     h AS (SELECT l.id,
                  CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = l.id) THEN 9223372036854775807
                       ELSE max(coalesce(CAST(strftime('%s', l.next_call_at) AS INTEGER), 0),
                                coalesce(CAST(strftime('%s', l.last_call_at) AS INTEGER) + (SELECT gap FROM s), 0),
                                coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                            FROM lead_assignments a
                                           WHERE a.lead_id = l.id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
                  END AS hint
             FROM leads l)
SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at, l.next_call_at,
       CASE WHEN l.call_attempts >= s.max_attempts THEN 2
            WHEN h.hint = 0 THEN 1 ELSE 0 END,
       h.hint
  FROM leads l JOIN h ON h.id = l.id, s
 WHERE l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost');


-- When a setting the rows depend on changes (the gap, the attempts), every row is rewritten.
CREATE TRIGGER settings_queue_insert AFTER INSERT ON settings WHEN NEW.key IN ('min_gap_seconds', 'max_attempts')
BEGIN
    DELETE FROM lead_queue;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at,
           l.next_call_at,
           CASE WHEN l.call_attempts >= (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647)) THEN 2
                WHEN CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = l.id) THEN 9223372036854775807
                    ELSE max(coalesce(CAST(strftime('%s', l.next_call_at) AS INTEGER), 0),
                             coalesce(CAST(strftime('%s', l.last_call_at) AS INTEGER) + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0)), 0),
                             coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                         FROM lead_assignments a
                                        WHERE a.lead_id = l.id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
               END = 0 THEN 1 ELSE 0 END,
           CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = l.id) THEN 9223372036854775807
                    ELSE max(coalesce(CAST(strftime('%s', l.next_call_at) AS INTEGER), 0),
                             coalesce(CAST(strftime('%s', l.last_call_at) AS INTEGER) + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0)), 0),
                             coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                         FROM lead_assignments a
                                        WHERE a.lead_id = l.id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
               END
      FROM leads l
     WHERE l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost');
END;
CREATE TRIGGER settings_queue_update AFTER UPDATE ON settings WHEN NEW.key IN ('min_gap_seconds', 'max_attempts')
BEGIN
    DELETE FROM lead_queue;
    INSERT INTO lead_queue (lead_id, priority_rank, lead_score, timezone, phone, call_attempts, last_call_at,
                            next_call_at, state, due_hint)
    SELECT l.id, l.priority_rank, l.lead_score, l.timezone, l.phone, l.call_attempts, l.last_call_at,
           l.next_call_at,
           CASE WHEN l.call_attempts >= (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'max_attempts'), 2147483647)) THEN 2
                WHEN CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = l.id) THEN 9223372036854775807
                    ELSE max(coalesce(CAST(strftime('%s', l.next_call_at) AS INTEGER), 0),
                             coalesce(CAST(strftime('%s', l.last_call_at) AS INTEGER) + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0)), 0),
                             coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                         FROM lead_assignments a
                                        WHERE a.lead_id = l.id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
               END = 0 THEN 1 ELSE 0 END,
           CASE WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = l.id) THEN 9223372036854775807
                    ELSE max(coalesce(CAST(strftime('%s', l.next_call_at) AS INTEGER), 0),
                             coalesce(CAST(strftime('%s', l.last_call_at) AS INTEGER) + (SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'min_gap_seconds'), 0)), 0),
                             coalesce((SELECT max(CAST(strftime('%s', a.expires_at) AS INTEGER))
                                         FROM lead_assignments a
                                        WHERE a.lead_id = l.id AND a.active = 1 AND a.assigned_by = a.agent_id), 0))
               END
      FROM leads l
     WHERE l.deleted_at IS NULL AND l.do_not_call = 0 AND l.status NOT IN ('closed_won', 'closed_lost');
END;

DROP INDEX leads_queue_idx;
