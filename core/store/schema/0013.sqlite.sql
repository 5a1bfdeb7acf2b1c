-- agent state: each signal's latest observation, the combined state, permission prompts
-- step
CREATE TABLE agent_signals (
        agent TEXT NOT NULL,
        signal TEXT NOT NULL,
        state TEXT NOT NULL,
        at REAL NOT NULL,
        evidence TEXT NOT NULL,
        until REAL,
        detail TEXT,
        PRIMARY KEY (agent, signal)
)
-- step
ALTER TABLE agent_state ADD COLUMN state TEXT NOT NULL DEFAULT 'unknown'
-- step
ALTER TABLE agent_state ADD COLUMN state_since REAL
-- step
ALTER TABLE agent_state ADD COLUMN state_signal TEXT
-- step
ALTER TABLE agent_state ADD COLUMN state_evidence TEXT
-- step
CREATE TABLE agent_prompts (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        task_id INTEGER,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        options TEXT NOT NULL,
        session TEXT,
        opened_at REAL NOT NULL,
        decided_at REAL,
        decision TEXT,
        decided_by TEXT,
        closed_at REAL,
        closed_why TEXT
)
-- step
CREATE INDEX agent_prompts_agent ON agent_prompts (agent, decided_at, closed_at)
