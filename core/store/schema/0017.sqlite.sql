-- file reservations: an agent's path or glob, exclusive or shared, for its task (held
-- while the agent holds the task) or until expires_at (a TTL), whichever ends first
-- step
CREATE TABLE reservations (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        task_id INTEGER,
        pattern TEXT NOT NULL,
        exclusive INTEGER NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL
)
-- step
CREATE UNIQUE INDEX reservations_agent ON reservations (agent, pattern)
-- step
CREATE INDEX reservations_task ON reservations (task_id)
