CREATE INDEX leads_queue_idx ON leads (priority_rank DESC, lead_score DESC, next_call_at, id)
    WHERE deleted_at IS NULL AND do_not_call = 0 AND status NOT IN ('closed_won', 'closed_lost');
DROP TRIGGER settings_queue_update;
DROP TRIGGER settings_queue_insert;
DROP TRIGGER lead_assignments_queue_update;
DROP TRIGGER lead_assignments_queue_insert;
DROP TRIGGER active_calls_queue_delete;
DROP TRIGGER active_calls_queue_insert;
DROP TRIGGER leads_queue_delete;
DROP TRIGGER leads_queue_update;
DROP TRIGGER leads_queue_insert;
DROP TABLE lead_queue;
