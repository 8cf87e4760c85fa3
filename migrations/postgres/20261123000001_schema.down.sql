DROP TABLE IF EXISTS changes, audit_log, dnc_numbers, callbacks, lead_assignments, lead_status_log,
    active_calls, call_logs, dispositions, contacts, leads, settings, agents CASCADE;
DROP FUNCTION IF EXISTS coldcall_feed() CASCADE;
DROP FUNCTION IF EXISTS coldcall_lead_status_log() CASCADE;
DROP FUNCTION IF EXISTS coldcall_lead_before() CASCADE;
