DELETE FROM settings WHERE key = 'callback_grace_seconds';
