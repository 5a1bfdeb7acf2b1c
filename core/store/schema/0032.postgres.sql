-- when the stall rules last took a stalled agent's tasks back: it gets no new task while
-- its state is still working or stalled and no signal has seen it work since
-- step
ALTER TABLE agent_watch ADD COLUMN taken_back_at DOUBLE PRECISION
