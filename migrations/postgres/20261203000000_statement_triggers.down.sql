-- Back to row triggers, as the schema, lock-notify and queue-hopper migrations made them.
ALTER TABLE lead_queue RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor);
DROP TRIGGER leads_queue_update ON leads;
DROP FUNCTION coldcall_queue_leads_updated();
DROP FUNCTION coldcall_queue_sync_many(UUID[]);
CREATE FUNCTION coldcall_queue_lead_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coldcall_queue_sync(NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER leads_queue_update AFTER UPDATE OF deleted_at, do_not_call, status, priority, lead_score, timezone,
    phone, call_attempts, last_call_at, next_call_at ON leads
    FOR EACH ROW EXECUTE FUNCTION coldcall_queue_lead_changed();

DROP TRIGGER leads_status_log_insert ON leads;
DROP TRIGGER leads_status_log_update ON leads;
DROP FUNCTION coldcall_lead_status_inserted();
DROP FUNCTION coldcall_lead_status_updated();
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

CREATE FUNCTION coldcall_feed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec RECORD;
BEGIN
    IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
    INSERT INTO changes (kind, lead_id, op)
    VALUES (TG_ARGV[0], (to_jsonb(rec) ->> TG_ARGV[1])::uuid, lower(TG_OP));
    RETURN NULL;
END $$;
DROP TRIGGER leads_feed_insert ON leads;
DROP TRIGGER leads_feed_update ON leads;
DROP TRIGGER leads_feed_delete ON leads;
DROP TRIGGER call_logs_feed_insert ON call_logs;
DROP TRIGGER call_logs_feed_update ON call_logs;
DROP TRIGGER active_calls_feed ON active_calls;
DROP TRIGGER callbacks_feed ON callbacks;
DROP TRIGGER lead_assignments_feed ON lead_assignments;
DROP TRIGGER contacts_feed ON contacts;
DROP FUNCTION coldcall_feed_leads();
DROP FUNCTION coldcall_feed_calls();
DROP FUNCTION coldcall_feed_lead_id();
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
