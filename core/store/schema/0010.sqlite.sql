-- delivery nodes (PostgreSQL): who claimed a delivery and until when; heartbeats
-- step
ALTER TABLE deliveries ADD COLUMN node TEXT
-- step
ALTER TABLE deliveries ADD COLUMN claim_until REAL
-- step
CREATE TABLE nodes (
        name TEXT PRIMARY KEY,
        agents TEXT NOT NULL DEFAULT '[]',
        host TEXT NOT NULL DEFAULT '',
        pid INTEGER,
        started_at REAL NOT NULL,
        heartbeat_at REAL NOT NULL
)
