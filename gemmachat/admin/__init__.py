"""Admin logic shared by the HTTP routes and the CLI: keys, credits,
vouchers, payment top-ups, allowances, usage history and the audit log."""
