//! Column lists both dialects select alike (the model's `FromRow` order).

pub(crate) const LEAD_COLUMNS: &str =
    "id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
    lead_score, conversion_probability, source, notes, consent_given, consent_date, do_not_call, do_not_email, \
    call_attempts, last_call_at, next_call_at, data_quality, created_at, updated_at, updated_by, deleted_at";

pub(crate) const CALL_COLUMNS: &str =
    "c.id, c.lead_id, c.agent_id, a.name AS agent_name, c.phone_number, c.from_number, \
    c.direction, c.status, c.disposition, c.duration_s, c.notes, c.recording_url, c.started_at, c.answered_at, \
    c.ended_at, c.ended_by, c.ringing_at";

pub(crate) const CONTACT_COLUMNS: &str = "id, lead_id, kind, value, label, is_primary, is_verified, created_at";

pub(crate) const SCRIPT_COLUMNS: &str = "name, body, updated_at, updated_by";
