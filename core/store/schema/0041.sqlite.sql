-- (0041: numbered after 0040, the wire usage tables, which landed first)
-- issue 79: an agent's own question (Claude Code's AskUserQuestion) is a question item: the
-- request it came as (``request``: its host's ``session#n``), the agent's choices as it gave
-- them (``choices``: JSON, each text capped), the answer as the request takes it (``reply``)
-- and when it went to the agent's host (``sent_at``; ``sent``: how that went)
-- step
ALTER TABLE questions ADD COLUMN request TEXT
-- step
ALTER TABLE questions ADD COLUMN choices TEXT
-- step
ALTER TABLE questions ADD COLUMN reply TEXT
-- step
ALTER TABLE questions ADD COLUMN sent_at REAL
-- step
ALTER TABLE questions ADD COLUMN sent TEXT
