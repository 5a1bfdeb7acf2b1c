-- a live post outside the notifier's channel (a campaign's, where it was asked for)
-- step
ALTER TABLE posts ADD COLUMN channel_id INTEGER
