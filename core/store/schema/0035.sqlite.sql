-- issue 51: limits and cost by account. ``account_breakers``: one row per account whose
-- usage limit was seen (core/accounts/breaker.py): open until the reset, then one agent's
-- next task probes it; ``turn_usage``: the tokens and cost of each agent turn, from the best
-- source of its route (core/costs/ledger.py), ``ref`` once per turn, ``day`` its UTC date; ``budgets``: a task's
-- budget in dollars; ``budget_marks``: the 80 % and 100 % crossings said once each
-- step
CREATE TABLE account_breakers (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        opened_at REAL NOT NULL,
        until REAL NOT NULL,
        failures INTEGER NOT NULL DEFAULT 0,
        agent TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '',
        probe_agent TEXT,
        probe_task INTEGER,
        probe_at REAL,
        moved INTEGER NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL
)
-- step
CREATE TABLE turn_usage (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        day TEXT NOT NULL,
        ref TEXT NOT NULL,
        task_id INTEGER,
        agent TEXT NOT NULL,
        account TEXT NOT NULL,
        cli TEXT,
        model TEXT,
        source TEXT NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL,
        cost_from TEXT
)
-- step
CREATE UNIQUE INDEX turn_usage_ref ON turn_usage (ref)
-- step
CREATE INDEX turn_usage_task ON turn_usage (task_id) WHERE task_id IS NOT NULL
-- step
CREATE INDEX turn_usage_agent_day ON turn_usage (agent, day)
-- step
CREATE TABLE budgets (
        scope TEXT NOT NULL,
        subject TEXT NOT NULL,
        dollars REAL NOT NULL,
        set_at REAL NOT NULL,
        set_by TEXT NOT NULL,
        PRIMARY KEY (scope, subject)
)
-- step
CREATE TABLE budget_marks (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        subject TEXT NOT NULL,
        period TEXT NOT NULL,
        level INTEGER NOT NULL,
        at REAL NOT NULL,
        UNIQUE (scope, subject, period, level)
)
