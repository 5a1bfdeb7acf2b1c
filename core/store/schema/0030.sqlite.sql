-- A delivery that failed for good waits in "Needs you" until a person retries or
-- dismisses it (issue 41): who dismissed it, and when; the open ones get an index.
-- step
ALTER TABLE deliveries ADD COLUMN dismissed_by TEXT
-- step
ALTER TABLE deliveries ADD COLUMN dismissed_at REAL
-- step
CREATE INDEX deliveries_failed_open ON deliveries (id) WHERE state = 'failed' AND dismissed_at IS NULL
