-- watching the swarm: screen activity, nudges, alerts, schedules
-- step
CREATE TABLE agent_watch (
        agent_id TEXT PRIMARY KEY,
        screen_active_at REAL,
        watched_tasks TEXT,
        nudges INTEGER NOT NULL DEFAULT 0,
        last_nudge_at REAL
)
-- step
CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        agent_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        opened_at REAL NOT NULL,
        cleared_at REAL,
        cleared_text TEXT
)
-- step
CREATE UNIQUE INDEX alerts_open ON alerts(agent_id, kind) WHERE cleared_at IS NULL
-- step
CREATE TABLE schedules (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT,
        text TEXT NOT NULL DEFAULT '',
        period TEXT,
        cron TEXT,
        every_s REAL,
        next_run_at REAL,
        last_run_at REAL,
        runs INTEGER NOT NULL DEFAULT 0,
        enabled INTEGER NOT NULL DEFAULT 1,
        builtin TEXT UNIQUE,
        created_by TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        removed_at REAL
)
-- step
CREATE INDEX deliveries_by_agent ON deliveries(agent_id, id)
