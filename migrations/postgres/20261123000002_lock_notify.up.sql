-- Wake other consoles at once when a call lock is taken or released. The payload is empty and
-- PostgreSQL folds identical notifications of one transaction into one, so this costs at most
-- one NOTIFY per transaction, and only on lock changes; polling the feed stays the source of truth.
CREATE FUNCTION coldcall_notify_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coldcall_changes', '');
    RETURN NULL;
END $$;

CREATE TRIGGER active_calls_notify AFTER INSERT OR DELETE ON active_calls
    FOR EACH ROW EXECUTE FUNCTION coldcall_notify_lock();
