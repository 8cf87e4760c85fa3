ALTER TABLE leads DROP COLUMN merged_into;
