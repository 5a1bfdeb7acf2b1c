-- issue 52: posts for any front end. A post belongs to the front end that made it
-- (``front_end``, the name its notifier loops are kept under: the rows of before are
-- Discord's), and its ids are that front end's strings (Discord's snowflakes in decimal; a
-- Slack ts, a Matrix event id), no longer Discord's integers: each id kept as its text
-- step
ALTER TABLE posts ALTER COLUMN message_id TYPE TEXT USING message_id::text
-- step
ALTER TABLE posts ALTER COLUMN thread_id TYPE TEXT USING thread_id::text
-- step
ALTER TABLE posts ALTER COLUMN channel_id TYPE TEXT USING channel_id::text
-- step
ALTER TABLE posts ADD COLUMN front_end TEXT NOT NULL DEFAULT 'discord'
-- step
ALTER TABLE posts ALTER COLUMN front_end DROP DEFAULT
-- step
ALTER TABLE posts DROP CONSTRAINT posts_pkey
-- step
ALTER TABLE posts ADD PRIMARY KEY (front_end, key)
