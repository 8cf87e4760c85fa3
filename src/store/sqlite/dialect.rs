//! The SQLite text of the statements written once in `store::portable` whose SQL differs between
//! the dialects (booleans, casts, `GREATEST` against `max`, newlines in text, `ANY` against
//! `json_each`, …): the Rust around each is shared, its SQL is here.

/// `audit`.
pub(super) const AUDIT: &str = "INSERT INTO audit_log (at, agent_id, action, entity, entity_id, old_value, new_value) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// `clear_primary_contact`.
pub(super) const CLEAR_PRIMARY_CONTACT: &str =
    "UPDATE contacts SET is_primary = 0 WHERE lead_id = $1 AND kind = $2 AND is_primary \
             AND ($3 IS NULL OR id <> $3)";

/// `close_call`.
pub(super) const CLOSE_CALL: &str = "UPDATE call_logs SET status = $2, disposition = $3, duration_s = $4, notes = CASE WHEN $5 IS NULL THEN notes WHEN notes IS NULL THEN $5 ELSE notes || char(10) || $5 END, recording_url = $6, \
             ended_at = $7, ended_by = $8, answered_at = $9, ringing_at = $10 WHERE id = $1";

/// `abandon_call`.
pub(super) const ABANDON_CALL: &str = "UPDATE call_logs SET status = 'abandoned', ended_at = $2, ended_by = $3, \
             notes = coalesce(notes || char(10), '') || $4 WHERE id = $1 RETURNING started_at";

/// `count_abandoned_attempt`.
pub(super) const COUNT_ABANDONED_ATTEMPT: &str = "UPDATE leads SET call_attempts = call_attempts + 1, \
             last_call_at = max(coalesce(last_call_at, $2), $2), updated_at = $3 WHERE id = $1";

/// `flag_leads_dnc`.
pub(super) const FLAG_LEADS_DNC: &str =
    "UPDATE leads SET do_not_call = 1, updated_at = $2, updated_by = $3 WHERE phone = $1 AND do_not_call = 0";

/// `queue_why`.
pub(super) const QUEUE_WHY: &str = "SELECT reason, count(*) AS n FROM (SELECT CASE \
             WHEN l.do_not_call = 1 THEN 'do_not_call' \
             WHEN EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.number = l.phone) THEN 'number_on_dnc_list' \
             WHEN l.status IN ('closed_won', 'closed_lost') THEN 'final_status' \
             WHEN EXISTS (SELECT 1 FROM active_calls ac WHERE ac.lead_id = l.id) THEN 'on_a_call' \
             WHEN l.last_call_at > $3 THEN 'called_too_recently' \
             WHEN NOT coalesce(l.timezone IN (SELECT value FROM json_each($5)) OR (l.timezone IS NULL AND $6), FALSE) THEN 'outside_calling_hours' \
             WHEN l.call_attempts >= $4 THEN 'attempts_exhausted' \
             WHEN EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = l.id AND a.active = 1 AND a.checkout_id IS NOT NULL \
                          AND (a.expires_at IS NULL OR a.expires_at > $2)) THEN 'checked_out_offline' \
             WHEN EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = l.id AND a.active = 1 AND a.agent_id <> $1 \
                          AND a.assigned_by = a.agent_id AND (a.expires_at IS NULL OR a.expires_at > $2)) \
                  THEN 'claimed_by_another_agent' \
             WHEN EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = l.id AND a.active = 1 AND a.agent_id <> $1 \
                          AND (a.expires_at IS NULL OR a.expires_at > $2)) THEN 'assigned_to_another_agent' \
             WHEN EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = l.id AND c.done_at IS NULL AND c.agent_id <> $1 \
                          AND c.due_at > $7) THEN 'callback_of_another_agent' \
             WHEN l.next_call_at > $2 THEN 'not_due_yet' \
             ELSE 'callable' END AS reason FROM leads l WHERE l.deleted_at IS NULL) r GROUP BY reason ORDER BY reason";

/// `end_assignments`.
pub(super) const END_ASSIGNMENTS: &str = "UPDATE lead_assignments SET active = 0 WHERE active AND lead_id = $1 \
             AND ($2 IS NULL OR agent_id <> $2)";

/// `end_own_claims_elsewhere`.
pub(super) const END_OWN_CLAIMS_ELSEWHERE: &str = "UPDATE lead_assignments SET active = 0 \
             WHERE active AND agent_id = $1 AND assigned_by = $1 AND checkout_id IS NULL AND lead_id <> $2";

/// `insert_claim`.
pub(super) const INSERT_CLAIM: &str =
    "INSERT INTO lead_assignments (id, lead_id, agent_id, assigned_by, assigned_at, expires_at, active) \
             VALUES ($1, $2, $3, $3, $4, $5, 1) \
             ON CONFLICT (lead_id) WHERE active = 1 DO UPDATE \
             SET expires_at = CASE WHEN lead_assignments.expires_at IS NULL THEN NULL ELSE EXCLUDED.expires_at END";

/// `insert_assignment`.
pub(super) const INSERT_ASSIGNMENT: &str =
    "INSERT INTO lead_assignments (id, lead_id, agent_id, assigned_by, assigned_at, expires_at, active) \
             VALUES ($1, $2, $3, $4, $5, $6, 1)";

/// `note_call`.
pub(super) const NOTE_CALL: &str = "UPDATE call_logs SET notes = coalesce(notes || char(10), '') || $2 WHERE id = $1";

/// `unassign`.
pub(super) const UNASSIGN: &str = "UPDATE lead_assignments SET active = 0 WHERE lead_id = $1 AND active = 1";

/// `expire_assignments`.
pub(super) const EXPIRE_ASSIGNMENTS: &str =
    "UPDATE lead_assignments SET active = 0 WHERE active = 1 AND expires_at <= $1";

/// `due_callbacks`.
pub(super) const DUE_CALLBACKS: &str =
    "SELECT c.id, c.lead_id, c.agent_id, a.name AS agent_name, l.first_name || ' ' || l.last_name AS lead_name, \
             c.due_at, c.note, c.created_at, c.done_at FROM callbacks c JOIN agents a ON a.id = c.agent_id \
             JOIN leads l ON l.id = c.lead_id \
             WHERE c.done_at IS NULL AND c.due_at <= $1 AND ($2 IS NULL OR c.agent_id = $2) \
               AND l.deleted_at IS NULL ORDER BY c.due_at LIMIT 1000";

/// `open_checkouts`.
pub(super) const OPEN_CHECKOUTS: &str = "SELECT o.id, a.name AS agent_name, o.expires_at, o.last_sync_at, \
             (SELECT count(*) FROM lead_assignments la WHERE la.checkout_id = o.id AND la.active = 1 \
              AND la.expires_at > $1) AS leads \
             FROM offline_checkouts o JOIN agents a ON a.id = o.agent_id \
             WHERE o.floor IS NULL AND o.closed_at IS NULL AND o.expires_at > $1 ORDER BY o.expires_at, o.id";

/// `reserve`.
pub(super) const RESERVE: &str =
    "INSERT INTO lead_assignments (id, lead_id, agent_id, assigned_by, assigned_at, expires_at, active, checkout_id) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7)";

/// `reserved_leads`.
pub(super) const RESERVED_LEADS: &str =
    "SELECT lead_id FROM lead_assignments WHERE checkout_id = $1 AND active = 1 AND expires_at > $2 ORDER BY lead_id";

/// `add_offline_calls`.
pub(super) const ADD_OFFLINE_CALLS: &str = "UPDATE leads SET call_attempts = call_attempts + $2, \
             last_call_at = max(coalesce(last_call_at, $3), coalesce($3, last_call_at)), \
             next_call_at = CASE WHEN $4 IS NULL THEN next_call_at \
                                 ELSE max(coalesce(next_call_at, $4), $4) END \
             WHERE id = $1";

/// `set_password_hash`.
pub(super) const SET_PASSWORD_HASH: &str = "UPDATE agent_credentials SET password_hash = $2, \
                 enrol_hash = CASE WHEN $3 IS NULL THEN enrol_hash ELSE NULL END, \
                 enrol_expires_at = CASE WHEN $3 IS NULL THEN enrol_expires_at ELSE NULL END, updated_at = $4 \
             WHERE agent_id = $1 AND ($3 IS NULL OR enrol_hash = $3)";

/// `audit_identity`.
pub(super) const AUDIT_IDENTITY: &str =
    "INSERT INTO audit_log (at, agent_id, action, entity, entity_id, old_value, new_value) \
             VALUES ($1, $2, $3, 'agent', $4, NULL, $5)";

/// `move_contacts`.
pub(super) const MOVE_CONTACTS: &str = "UPDATE contacts SET lead_id = $2, is_primary = 0 WHERE lead_id = $1";
