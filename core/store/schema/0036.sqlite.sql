-- issue 52: a post's ids are the front end's strings (Discord's snowflakes in decimal; a
-- Slack ts, a Matrix event id), no longer Discord's integers. SQLite changes a column's type
-- by building the table anew: the rows are copied, each id as its decimal text
-- step
CREATE TABLE posts_text (
        key TEXT PRIMARY KEY,
        message_id TEXT NOT NULL,
        thread_id TEXT,
        note TEXT,
        shown TEXT,
        channel_id TEXT
) WITHOUT ROWID
-- step
INSERT INTO posts_text (key, message_id, thread_id, note, shown, channel_id)
SELECT key, CAST(message_id AS TEXT), CAST(thread_id AS TEXT), note, shown,
        CAST(channel_id AS TEXT)
FROM posts
-- step
DROP TABLE posts
-- step
ALTER TABLE posts_text RENAME TO posts
