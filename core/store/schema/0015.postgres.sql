-- agent state's judgement: when each signal last saw work (the stall clock's evidence),
-- the stall clock kept across a restart (when watching an agent began, the last tick
-- that judged it, when its last waiting or limited spell ended), and when a decided
-- usage limit ends (it holds even when the limit's message is no longer seen)
-- step
ALTER TABLE agent_signals ADD COLUMN active_at DOUBLE PRECISION
-- step
ALTER TABLE agent_watch ADD COLUMN watch_since DOUBLE PRECISION
-- step
ALTER TABLE agent_watch ADD COLUMN ticked_at DOUBLE PRECISION
-- step
ALTER TABLE agent_watch ADD COLUMN resumed_at DOUBLE PRECISION
-- step
ALTER TABLE agent_state ADD COLUMN state_until DOUBLE PRECISION
