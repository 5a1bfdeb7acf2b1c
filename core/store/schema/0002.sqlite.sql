-- step
CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        sender TEXT NOT NULL,
        target TEXT NOT NULL,
        text TEXT NOT NULL,
        task_id INTEGER REFERENCES tasks(id),
        priority INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL
)
-- step
CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages(id),
        agent_id TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        reason TEXT,
        method TEXT,
        not_before REAL NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
)
-- step
CREATE INDEX deliveries_by_state ON deliveries(state, not_before, id)
-- step
CREATE INDEX deliveries_by_message ON deliveries(message_id)
-- step
CREATE TABLE agent_state (
        id TEXT PRIMARY KEY,
        paused INTEGER NOT NULL DEFAULT 0,
        score REAL NOT NULL DEFAULT 1.0,
        done_count INTEGER NOT NULL DEFAULT 0,
        fail_count INTEGER NOT NULL DEFAULT 0,
        last_report_at REAL,
        last_assigned_at REAL,
        idle_since REAL NOT NULL DEFAULT 0
)
-- step
CREATE TABLE event_cursors (
        consumer TEXT PRIMARY KEY,
        last_id INTEGER NOT NULL
)
