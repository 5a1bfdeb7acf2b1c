-- issue 52: a post's ids are the front end's strings (Discord's snowflakes in decimal; a
-- Slack ts, a Matrix event id), no longer Discord's integers: each id kept as its decimal text
-- step
ALTER TABLE posts ALTER COLUMN message_id TYPE TEXT USING message_id::text
-- step
ALTER TABLE posts ALTER COLUMN thread_id TYPE TEXT USING thread_id::text
-- step
ALTER TABLE posts ALTER COLUMN channel_id TYPE TEXT USING channel_id::text
