-- issue 40: what came from outside held for a person before it reaches an agent (an
-- outsider's review of a PR, an issue an outsider edited after a writer labelled it:
-- core/tasks/held.py), the branch a task works on of its own (a GitHub task's
-- swarm/T-12-title: core/workspaces/work.py), and the GitHub webhook deliveries of
-- the last days by id and body digest (a replay is refused: core/github/webhook.py)
-- step
CREATE TABLE held_items (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        held_key TEXT NOT NULL,
        text TEXT NOT NULL,
        task_id INTEGER,
        agent_id TEXT,
        data TEXT NOT NULL DEFAULT '{}',
        opened_at REAL NOT NULL,
        decision TEXT,
        decided_by TEXT,
        decided_at REAL,
        applied_at REAL,
        result TEXT
)
-- step
CREATE UNIQUE INDEX held_items_key ON held_items (held_key)
-- step
CREATE INDEX held_items_waiting ON held_items (decision, applied_at)
-- step
CREATE TABLE task_branches (
        task_id INTEGER PRIMARY KEY,
        branch TEXT NOT NULL,
        created_at REAL NOT NULL
)
-- step
CREATE TABLE github_deliveries (
        delivery TEXT NOT NULL,
        digest TEXT NOT NULL,
        received_at REAL NOT NULL
)
-- step
CREATE UNIQUE INDEX github_deliveries_id ON github_deliveries (delivery)
-- step
CREATE UNIQUE INDEX github_deliveries_digest ON github_deliveries (digest)
-- step
CREATE INDEX github_deliveries_at ON github_deliveries (received_at)
