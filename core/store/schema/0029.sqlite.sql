-- One dialog, one item (issue 38): when the pane showed a hook prompt's dialog, so
-- that its leaving the pane (answered in the terminal) closes the prompt.
-- step
ALTER TABLE agent_prompts ADD COLUMN pane_seen_at REAL
