-- A lead merged into another (`lead merge KEEP OTHER`) is soft-deleted and points at the lead kept.
-- No REFERENCES clause: SQLite could not drop the column again on the way down.
ALTER TABLE leads ADD COLUMN merged_into BLOB;
