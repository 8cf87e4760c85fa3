-- Nothing to undo: this version changed only PostgreSQL (see the up migration).
SELECT 1;
