-- workflows and campaigns
-- step
CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        workflow TEXT,
        vars TEXT,
        status TEXT NOT NULL DEFAULT 'open',
        created_by TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        cancelled_at REAL,
        finished_at REAL
)
-- step
ALTER TABLE tasks ADD COLUMN campaign_id INTEGER REFERENCES campaigns(id)
-- step
ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'work'
-- step
CREATE INDEX tasks_by_campaign ON tasks(campaign_id) WHERE campaign_id IS NOT NULL
-- step
CREATE TABLE task_triggers (
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        dep_id INTEGER NOT NULL REFERENCES tasks(id),
        PRIMARY KEY (task_id, dep_id)
) WITHOUT ROWID
