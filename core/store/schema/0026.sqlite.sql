-- a decided prompt's key about to be typed (issue 40): recorded before the key is
-- sent, so a coordinator killed in between never types it a second time
-- step
ALTER TABLE agent_prompts ADD COLUMN typing_at REAL
