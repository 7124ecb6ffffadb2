-- Admin events are deleted by age (event-retention) across realms: index their time.
CREATE INDEX admin_events_time ON admin_events (time);
