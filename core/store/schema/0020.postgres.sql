-- the events outbox without a global write lock (issue 25): on PostgreSQL each event
-- carries the id of the transaction that wrote it (its default is set with the schema,
-- core/store/postgres/store.py: pg_current_xact_id()) and consumers read in (txid, id) order
-- below the oldest running transaction; on SQLite it stays 0 (one writer: id order)
-- step
ALTER TABLE events ADD COLUMN txid BIGINT NOT NULL DEFAULT 0
-- step
CREATE INDEX events_txid ON events (txid, id)
