-- the screen watch of a node's agents: when its node first captured the screen
-- step
ALTER TABLE agent_watch ADD COLUMN screen_seen_at REAL
