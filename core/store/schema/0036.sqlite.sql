-- issue 52: posts for any front end. A post belongs to the front end that made it
-- (``front_end``, the name its notifier loops are kept under: the rows of before are
-- Discord's), and its ids are that front end's strings (Discord's snowflakes in decimal; a
-- Slack ts, a Matrix event id), no longer Discord's integers. SQLite changes a column's type
-- and a primary key by building the table anew: the rows are copied, each id as its text
-- step
CREATE TABLE posts_of_front_ends (
        front_end TEXT NOT NULL,
        key TEXT NOT NULL,
        message_id TEXT NOT NULL,
        thread_id TEXT,
        note TEXT,
        shown TEXT,
        channel_id TEXT,
        PRIMARY KEY (front_end, key)
) WITHOUT ROWID
-- step
INSERT INTO posts_of_front_ends (front_end, key, message_id, thread_id, note, shown, channel_id)
SELECT 'discord', key, CAST(message_id AS TEXT), CAST(thread_id AS TEXT), note, shown,
        CAST(channel_id AS TEXT)
FROM posts
-- step
DROP TABLE posts
-- step
ALTER TABLE posts_of_front_ends RENAME TO posts
