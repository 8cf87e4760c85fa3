-- On PostgreSQL this version turns the row triggers that fire by the thousand on an import
-- (status log, change feed, the queue's sync) into statement triggers. SQLite has no statement
-- triggers, and its row triggers are plain statements run inside the writer's own process, not
-- a procedural call per row, so its schema does not change. The file keeps both backends at one
-- schema version, which backups carry and restores check.
SELECT 1;
