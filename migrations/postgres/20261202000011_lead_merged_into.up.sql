-- A lead merged into another (`lead merge KEEP OTHER`) is soft-deleted and points at the lead kept.
-- Checked at commit: a restore writes leads in id order, and the kept lead may come later.
ALTER TABLE leads ADD COLUMN merged_into UUID REFERENCES leads (id) DEFERRABLE INITIALLY DEFERRED;
