-- a decided terminal-text or screen prompt: when its option's key was typed, what, how
-- step
ALTER TABLE agent_prompts ADD COLUMN typed_at DOUBLE PRECISION
-- step
ALTER TABLE agent_prompts ADD COLUMN typed_keys TEXT
-- step
ALTER TABLE agent_prompts ADD COLUMN typed_result TEXT
