-- The sessions an agent's own hooks named (``session_id``, Codex's ``thread-id``): on the tmux
-- and desktop routes the turns of its CLI's session files are charged to the agent only from
-- those sessions once its hooks named any (core.watch.usage_files); ``seen_at`` when a hook
-- named it first
-- step
CREATE TABLE cli_sessions (
        agent_id TEXT NOT NULL,
        session TEXT NOT NULL,
        seen_at REAL NOT NULL,
        PRIMARY KEY (agent_id, session)
) WITHOUT ROWID
