-- The scheduler's next deadline asks for the earliest ready task held back until
-- later (a backoff): with no index of its own that read went through every ready task
-- (2,000 queued: 0.3 ms at each pass, on both databases). Only ready tasks are in it.
-- step
CREATE INDEX tasks_ready_by_not_before ON tasks (status, not_before) WHERE status = 'ready'
