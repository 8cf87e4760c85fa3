DROP TRIGGER IF EXISTS active_calls_notify ON active_calls;
DROP FUNCTION IF EXISTS coldcall_notify_lock();
