-- An answer waits a few seconds before it goes to the agent only when the agent waits for it
-- in its terminal or MCP call (``swarm ask --wait``, ``ask_human`` with ``wait_s``), which
-- prints it instead: ``waited`` says the question was asked so; the others' answers go at once
-- step
ALTER TABLE questions ADD COLUMN waited BIGINT NOT NULL DEFAULT 0
