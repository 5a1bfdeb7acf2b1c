-- the live message (and thread) of each task or message; agents' questions
-- step
CREATE TABLE posts (
        key TEXT PRIMARY KEY,
        message_id INTEGER NOT NULL,
        thread_id INTEGER,
        note TEXT,
        shown TEXT
) WITHOUT ROWID
-- step
CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        agent_id TEXT,
        text TEXT NOT NULL,
        asked_by TEXT NOT NULL,
        asked_at REAL NOT NULL,
        answer TEXT,
        answered_by TEXT,
        answered_at REAL
)
-- step
CREATE INDEX questions_open ON questions(task_id, id) WHERE answered_at IS NULL
