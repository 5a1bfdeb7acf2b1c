-- The Discord notifier's failures, per loop (issue 40): tried again (Discord down, a
-- lost connection), skipped (refused for good), posted anew (its live message gone),
-- and the last one, for swarm status, /metrics and the dashboard.
-- step
ALTER TABLE event_cursors ADD COLUMN retried INTEGER NOT NULL DEFAULT 0
-- step
ALTER TABLE event_cursors ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0
-- step
ALTER TABLE event_cursors ADD COLUMN reposted INTEGER NOT NULL DEFAULT 0
-- step
ALTER TABLE event_cursors ADD COLUMN last_error TEXT
-- step
ALTER TABLE event_cursors ADD COLUMN last_error_at REAL
