DROP TABLE offline_base;
DROP TABLE offline_applied;
DROP INDEX lead_assignments_checkout_idx;
ALTER TABLE lead_assignments DROP COLUMN checkout_id;
DROP TABLE offline_checkouts;
