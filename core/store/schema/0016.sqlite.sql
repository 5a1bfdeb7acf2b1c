-- review comments on a task's diff (the dashboard's review, /task review, swarm task
-- review): pending (sent_at NULL, editable) until sent to the agent as one prompt
-- step
CREATE TABLE review_comments (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL,
        path TEXT,
        line INTEGER,
        line_text TEXT,
        body TEXT NOT NULL,
        author TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        sent_at REAL,
        message_id INTEGER
)
-- step
CREATE INDEX review_comments_task ON review_comments (task_id, sent_at)
