-- What the softphone says about a call: when the far end rang, and the end statuses SIP tells
-- apart (no answer, declined) next to busy, failed and completed.
ALTER TABLE call_logs ADD COLUMN ringing_at TIMESTAMPTZ;
ALTER TABLE call_logs DROP CONSTRAINT call_logs_status_check;
ALTER TABLE call_logs ADD CONSTRAINT call_logs_status_check CHECK (status IN
    ('initiated', 'ringing', 'answered', 'busy', 'failed', 'voicemail', 'completed', 'abandoned',
     'no_answer', 'declined'));
