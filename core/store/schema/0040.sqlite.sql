-- Usage from the wire (issue 78): an agent whose model answers pass through swarm's gateway
-- has its turns booked from the gateway's records (``turn_usage``, source ``wire``);
-- ``reported_usage`` keeps what its CLI reported beside them (core.costs.wire), not summed;
-- ``wire_reads``: per agent, how far its records file was read (``file`` its device and
-- inode, ``read_to`` the byte after the last whole line booked), the last rows of each side
-- compared, and the UTC day a difference was last said
-- step
CREATE TABLE reported_usage (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        ref TEXT NOT NULL,
        task_id INTEGER,
        agent TEXT NOT NULL,
        model TEXT,
        source TEXT NOT NULL,
        known INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL
)
-- step
CREATE UNIQUE INDEX reported_usage_ref ON reported_usage (ref)
-- step
CREATE INDEX reported_usage_agent ON reported_usage (agent, id)
-- step
CREATE INDEX turn_usage_agent_source ON turn_usage (agent, source, id)
-- step
CREATE TABLE wire_reads (
        agent TEXT PRIMARY KEY,
        file TEXT NOT NULL,
        read_to INTEGER NOT NULL,
        wire_compared INTEGER NOT NULL DEFAULT 0,
        said_compared INTEGER NOT NULL DEFAULT 0,
        differed_day TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
) WITHOUT ROWID
