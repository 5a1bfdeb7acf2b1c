-- issue 50: what a protocol agent said, as people read it (core/agents/transcript.py): the
-- prompts it took, its answers (message chunks joined), each tool call (one row per call,
-- its status updated), plans, permission requests with their answer, each turn's end. A
-- row changed gets the agent's next rev, so a page that showed rev n asks for those after
-- it; each agent keeps its last rows only (transcript.KEEP)
-- step
CREATE TABLE agent_transcript (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        rev INTEGER NOT NULL,
        task_id INTEGER,
        delivery_id INTEGER,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        call TEXT,
        status TEXT,
        text TEXT NOT NULL DEFAULT ''
)
-- step
CREATE UNIQUE INDEX agent_transcript_rev ON agent_transcript (agent, rev)
-- step
CREATE INDEX agent_transcript_task ON agent_transcript (task_id, id) WHERE task_id IS NOT NULL
-- step
CREATE INDEX agent_transcript_call ON agent_transcript (agent, call) WHERE call IS NOT NULL
