-- workspaces (task heads and commits), onboarding
-- step
CREATE TABLE task_work (
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        agent_id TEXT NOT NULL,
        path TEXT NOT NULL,
        branch TEXT,
        base TEXT,
        start_sha TEXT,
        end_sha TEXT,
        started_at REAL NOT NULL,
        finished_at REAL,
        PRIMARY KEY (task_id, agent_id)
)
-- step
ALTER TABLE agent_state ADD COLUMN onboarded_at REAL
