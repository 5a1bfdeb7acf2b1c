-- step
CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        command TEXT NOT NULL,
        allowed INTEGER NOT NULL,
        outcome TEXT NOT NULL DEFAULT ''
)
-- step
CREATE INDEX audit_by_ts ON audit(ts)
