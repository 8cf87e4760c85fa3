-- How long a due callback waits for the agent who owns it before any agent may take the lead.
INSERT INTO settings (key, value) VALUES ('callback_grace_seconds', '900') ON CONFLICT (key) DO NOTHING;
