-- step
CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        goal TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        plan TEXT NOT NULL,
        model TEXT,
        notes TEXT NOT NULL DEFAULT '[]',
        task_ids TEXT NOT NULL DEFAULT '[]',
        created_by TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        decided_by TEXT,
        decided_at REAL
)
-- step
CREATE INDEX plans_by_status ON plans(status, id)
-- step
CREATE INDEX tasks_by_plan ON tasks(plan_id) WHERE plan_id IS NOT NULL
-- step
CREATE TABLE usage (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        purpose TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        cost REAL,
        latency_s REAL NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 1,
        ok INTEGER NOT NULL,
        error TEXT,
        actor TEXT NOT NULL DEFAULT ''
)
-- step
CREATE INDEX usage_by_ts ON usage(ts)
