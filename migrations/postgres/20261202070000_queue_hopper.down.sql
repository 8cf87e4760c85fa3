CREATE INDEX leads_queue_idx ON leads (priority_rank DESC, lead_score DESC, next_call_at, id)
    WHERE deleted_at IS NULL AND NOT do_not_call AND status NOT IN ('closed_won', 'closed_lost');
DROP TRIGGER settings_queue ON settings;
DROP FUNCTION coldcall_queue_settings_changed();
DROP FUNCTION coldcall_queue_rebuild();
DROP TRIGGER lead_assignments_queue ON lead_assignments;
DROP TRIGGER active_calls_queue ON active_calls;
DROP TRIGGER leads_queue_update ON leads;
DROP TRIGGER leads_queue_insert ON leads;
DROP FUNCTION coldcall_queue_other_changed();
DROP FUNCTION coldcall_queue_lead_changed();
DROP FUNCTION coldcall_queue_leads_inserted();
DROP FUNCTION coldcall_queue_sync(UUID);
DROP TABLE lead_queue;
