-- The statuses this migration added read as failed, as manual dialling records them.
UPDATE call_logs SET status = 'failed' WHERE status IN ('no_answer', 'declined');
ALTER TABLE call_logs DROP CONSTRAINT call_logs_status_check;
ALTER TABLE call_logs ADD CONSTRAINT call_logs_status_check CHECK (status IN
    ('initiated', 'ringing', 'answered', 'busy', 'failed', 'voicemail', 'completed', 'abandoned'));
ALTER TABLE call_logs DROP COLUMN ringing_at;
