-- On PostgreSQL this version stores the search document with its lead (see there). SQLite's
-- search tables (leads_fts, leads_trgm) already hold their own index of the text, and the
-- search's speed on a million leads comes from how it reads them (store::sqlite's
-- search_leads), so its schema does not change. The file keeps both backends at one schema
-- version, which backups carry and restores check.
SELECT 1;
