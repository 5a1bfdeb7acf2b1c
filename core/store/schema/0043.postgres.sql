-- issue 79: a usage comparison that holds a turn a person stopped is no alert. When each
-- agent's gateway count and its CLI's report were last compared (``compared_at``), so that a
-- stop recorded since tells the turns compared now hold a stopped one
-- step
ALTER TABLE wire_reads ADD COLUMN compared_at DOUBLE PRECISION NOT NULL DEFAULT 0
