-- step
CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '',
        priority INTEGER NOT NULL,
        role TEXT,
        capabilities TEXT NOT NULL DEFAULT '[]',
        pinned_agent TEXT,
        assignee TEXT,
        prev_agent TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL DEFAULT 3,
        created_by TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        assigned_at REAL,
        started_at REAL,
        finished_at REAL,
        lease_expires_at REAL,
        not_before REAL NOT NULL DEFAULT 0,
        result_note TEXT,
        plan_id TEXT
)
-- step
CREATE INDEX tasks_by_status ON tasks(status, priority DESC, id)
-- step
CREATE INDEX tasks_by_assignee ON tasks(assignee, status)
-- step
CREATE INDEX tasks_by_lease ON tasks(lease_expires_at) WHERE lease_expires_at IS NOT NULL
-- step
CREATE TABLE task_deps (
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        dep_id INTEGER NOT NULL REFERENCES tasks(id),
        PRIMARY KEY (task_id, dep_id)
) WITHOUT ROWID
-- step
CREATE INDEX task_deps_by_dep ON task_deps(dep_id, task_id)
-- step
CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        task_id INTEGER,
        agent_id TEXT,
        actor TEXT,
        data TEXT
)
-- step
CREATE INDEX events_by_task ON events(task_id) WHERE task_id IS NOT NULL
