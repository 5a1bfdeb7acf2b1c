-- A hook's permission prompt names the process waiting for it (issue 40): its host,
-- pid, start time and pid namespace, so the coordinator closes the prompt when that
-- process is gone; and the end of its wait, after which it closes it anyway. The
-- open prompts get an index of their own: the watch tick reads them every look.
-- step
ALTER TABLE agent_prompts ADD COLUMN hook_host TEXT
-- step
ALTER TABLE agent_prompts ADD COLUMN hook_pid BIGINT
-- step
ALTER TABLE agent_prompts ADD COLUMN hook_start TEXT
-- step
ALTER TABLE agent_prompts ADD COLUMN hook_pidns TEXT
-- step
ALTER TABLE agent_prompts ADD COLUMN expires_at DOUBLE PRECISION
-- step
CREATE INDEX agent_prompts_open ON agent_prompts (opened_at, id) WHERE decided_at IS NULL AND closed_at IS NULL
