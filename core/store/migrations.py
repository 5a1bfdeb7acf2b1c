"""The numbered schema migrations, one list for SQLite and PostgreSQL (whose DDL
``core.store.postgres_dialect`` translates)."""

from __future__ import annotations

# Each migration is a tuple of statements, applied in one transaction. Never edit a
# released migration: add a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '',
            priority INTEGER NOT NULL,
            role TEXT,
            capabilities TEXT NOT NULL DEFAULT '[]',
            pinned_agent TEXT,
            assignee TEXT,
            prev_agent TEXT,
            status TEXT NOT NULL,
            reason TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 3,
            created_by TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            assigned_at REAL,
            started_at REAL,
            finished_at REAL,
            lease_expires_at REAL,
            not_before REAL NOT NULL DEFAULT 0,
            result_note TEXT,
            plan_id TEXT
        )""",
        "CREATE INDEX tasks_by_status ON tasks(status, priority DESC, id)",
        "CREATE INDEX tasks_by_assignee ON tasks(assignee, status)",
        "CREATE INDEX tasks_by_lease ON tasks(lease_expires_at) WHERE lease_expires_at IS NOT NULL",
        """CREATE TABLE task_deps (
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            dep_id INTEGER NOT NULL REFERENCES tasks(id),
            PRIMARY KEY (task_id, dep_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX task_deps_by_dep ON task_deps(dep_id, task_id)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            task_id INTEGER,
            agent_id TEXT,
            actor TEXT,
            data TEXT
        )""",
        "CREATE INDEX events_by_task ON events(task_id) WHERE task_id IS NOT NULL",
    ),
    (
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            sender TEXT NOT NULL,
            target TEXT NOT NULL,
            text TEXT NOT NULL,
            task_id INTEGER REFERENCES tasks(id),
            priority INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            agent_id TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            method TEXT,
            not_before REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX deliveries_by_state ON deliveries(state, not_before, id)",
        "CREATE INDEX deliveries_by_message ON deliveries(message_id)",
        """CREATE TABLE agent_state (
            id TEXT PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0,
            score REAL NOT NULL DEFAULT 1.0,
            done_count INTEGER NOT NULL DEFAULT 0,
            fail_count INTEGER NOT NULL DEFAULT 0,
            last_report_at REAL,
            last_assigned_at REAL,
            idle_since REAL NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE event_cursors (
            consumer TEXT PRIMARY KEY,
            last_id INTEGER NOT NULL
        )""",
    ),
    (
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            user_id TEXT NOT NULL,
            user_name TEXT NOT NULL,
            command TEXT NOT NULL,
            allowed INTEGER NOT NULL,
            outcome TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX audit_by_ts ON audit(ts)",
    ),
    (
        """CREATE TABLE plans (
            id INTEGER PRIMARY KEY,
            goal TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            plan TEXT NOT NULL,
            model TEXT,
            notes TEXT NOT NULL DEFAULT '[]',
            task_ids TEXT NOT NULL DEFAULT '[]',
            created_by TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            decided_by TEXT,
            decided_at REAL
        )""",
        "CREATE INDEX plans_by_status ON plans(status, id)",
        "CREATE INDEX tasks_by_plan ON tasks(plan_id) WHERE plan_id IS NOT NULL",
        """CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            purpose TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cost REAL,
            latency_s REAL NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 1,
            ok INTEGER NOT NULL,
            error TEXT,
            actor TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX usage_by_ts ON usage(ts)",
    ),
    (  # watching the swarm: screen activity, nudges, alerts, schedules
        """CREATE TABLE agent_watch (
            agent_id TEXT PRIMARY KEY,
            screen_active_at REAL,
            watched_tasks TEXT,
            nudges INTEGER NOT NULL DEFAULT 0,
            last_nudge_at REAL
        )""",
        """CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            agent_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            opened_at REAL NOT NULL,
            cleared_at REAL,
            cleared_text TEXT
        )""",
        "CREATE UNIQUE INDEX alerts_open ON alerts(agent_id, kind) WHERE cleared_at IS NULL",
        """CREATE TABLE schedules (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT,
            text TEXT NOT NULL DEFAULT '',
            period TEXT,
            cron TEXT,
            every_s REAL,
            next_run_at REAL,
            last_run_at REAL,
            runs INTEGER NOT NULL DEFAULT 0,
            enabled INTEGER NOT NULL DEFAULT 1,
            builtin TEXT UNIQUE,
            created_by TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            removed_at REAL
        )""",
        "CREATE INDEX deliveries_by_agent ON deliveries(agent_id, id)",
    ),
    (  # workflows and campaigns
        """CREATE TABLE campaigns (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            workflow TEXT,
            vars TEXT,
            status TEXT NOT NULL DEFAULT 'open',
            created_by TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            cancelled_at REAL,
            finished_at REAL
        )""",
        "ALTER TABLE tasks ADD COLUMN campaign_id INTEGER REFERENCES campaigns(id)",
        "ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'work'",
        "CREATE INDEX tasks_by_campaign ON tasks(campaign_id) WHERE campaign_id IS NOT NULL",
        """CREATE TABLE task_triggers (
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            dep_id INTEGER NOT NULL REFERENCES tasks(id),
            PRIMARY KEY (task_id, dep_id)
        ) WITHOUT ROWID""",
    ),
    (  # workspaces (task heads and commits), onboarding
        """CREATE TABLE task_work (
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            agent_id TEXT NOT NULL,
            path TEXT NOT NULL,
            branch TEXT,
            base TEXT,
            start_sha TEXT,
            end_sha TEXT,
            started_at REAL NOT NULL,
            finished_at REAL,
            PRIMARY KEY (task_id, agent_id)
        )""",
        "ALTER TABLE agent_state ADD COLUMN onboarded_at REAL",
    ),
    (  # the live message (and thread) of each task or message; agents' questions
        """CREATE TABLE posts (
            key TEXT PRIMARY KEY,
            message_id INTEGER NOT NULL,
            thread_id INTEGER,
            note TEXT,
            shown TEXT
        ) WITHOUT ROWID""",
        """CREATE TABLE questions (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id),
            agent_id TEXT,
            text TEXT NOT NULL,
            asked_by TEXT NOT NULL,
            asked_at REAL NOT NULL,
            answer TEXT,
            answered_by TEXT,
            answered_at REAL
        )""",
        "CREATE INDEX questions_open ON questions(task_id, id) WHERE answered_at IS NULL",
    ),
    (  # the dashboard's bearer tokens: only a hash is kept
        """CREATE TABLE web_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL,
            expires_at REAL,
            revoked_at REAL
        )""",
    ),
    (  # delivery nodes (PostgreSQL): who claimed a delivery and until when; heartbeats
        "ALTER TABLE deliveries ADD COLUMN node TEXT",
        "ALTER TABLE deliveries ADD COLUMN claim_until REAL",
        """CREATE TABLE nodes (
            name TEXT PRIMARY KEY,
            agents TEXT NOT NULL DEFAULT '[]',
            host TEXT NOT NULL DEFAULT '',
            pid INTEGER,
            started_at REAL NOT NULL,
            heartbeat_at REAL NOT NULL
        )""",
    ),
    (  # a live post outside the notifier's channel (a campaign's, where it was asked for)
        "ALTER TABLE posts ADD COLUMN channel_id INTEGER",
    ),
    (  # the screen watch of a node's agents: when its node first captured the screen
        "ALTER TABLE agent_watch ADD COLUMN screen_seen_at REAL",
    ),
    (  # agent state: each signal's latest observation, the combined state, permission prompts
        """CREATE TABLE agent_signals (
            agent TEXT NOT NULL,
            signal TEXT NOT NULL,
            state TEXT NOT NULL,
            at REAL NOT NULL,
            evidence TEXT NOT NULL,
            until REAL,
            detail TEXT,
            PRIMARY KEY (agent, signal)
        )""",
        "ALTER TABLE agent_state ADD COLUMN state TEXT NOT NULL DEFAULT 'unknown'",
        "ALTER TABLE agent_state ADD COLUMN state_since REAL",
        "ALTER TABLE agent_state ADD COLUMN state_signal TEXT",
        "ALTER TABLE agent_state ADD COLUMN state_evidence TEXT",
        """CREATE TABLE agent_prompts (
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
        )""",
        "CREATE INDEX agent_prompts_agent ON agent_prompts (agent, decided_at, closed_at)",
    ),
    (  # a decided terminal-text or screen prompt: when its option's key was typed, what, how
        "ALTER TABLE agent_prompts ADD COLUMN typed_at REAL",
        "ALTER TABLE agent_prompts ADD COLUMN typed_keys TEXT",
        "ALTER TABLE agent_prompts ADD COLUMN typed_result TEXT",
    ),
    (  # agent state's judgement: when each signal last saw work (the stall clock's evidence),
        # the stall clock kept across a restart (when watching an agent began, the last tick
        # that judged it, when its last waiting or limited spell ended), and when a decided
        # usage limit ends (it holds even when the limit's message is no longer seen)
        "ALTER TABLE agent_signals ADD COLUMN active_at REAL",
        "ALTER TABLE agent_watch ADD COLUMN watch_since REAL",
        "ALTER TABLE agent_watch ADD COLUMN ticked_at REAL",
        "ALTER TABLE agent_watch ADD COLUMN resumed_at REAL",
        "ALTER TABLE agent_state ADD COLUMN state_until REAL",
    ),
    (  # review comments on a task's diff (the dashboard's review, /task review, swarm task
        # review): pending (sent_at NULL, editable) until sent to the agent as one prompt
        """CREATE TABLE review_comments (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL,
            path TEXT,
            line INTEGER,
            line_text TEXT,
            body TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            sent_at REAL,
            message_id INTEGER
        )""",
        "CREATE INDEX review_comments_task ON review_comments (task_id, sent_at)",
    ),
    (  # file reservations: an agent's path or glob, exclusive or shared, for its task (held
        # while the agent holds the task) or until expires_at (a TTL), whichever ends first
        """CREATE TABLE reservations (
            id INTEGER PRIMARY KEY,
            agent TEXT NOT NULL,
            task_id INTEGER,
            pattern TEXT NOT NULL,
            exclusive INTEGER NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL
        )""",
        "CREATE UNIQUE INDEX reservations_agent ON reservations (agent, pattern)",
        "CREATE INDEX reservations_task ON reservations (task_id)",
    ),
    (  # an agent's bearer token (swarm web token create --agent A): the agent it acts as on
        # the MCP endpoint (NULL for the dashboard's viewer and admin tokens)
        "ALTER TABLE web_tokens ADD COLUMN agent TEXT",
    ),
    (  # GitHub in the loop (bot/github/links.py): one row per imported issue, naming the task
        # working on it now (the first, or the follow-up a CI failure or a review made), its
        # progress comment, the status label shown, its PR and what swarm last saw of it
        """CREATE TABLE github_issues (
            id INTEGER PRIMARY KEY,
            repo TEXT NOT NULL,
            issue INTEGER NOT NULL,
            first_task INTEGER NOT NULL,
            task_id INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'open',
            comment_id INTEGER,
            shown TEXT,
            history TEXT NOT NULL DEFAULT '[]',
            pr INTEGER,
            branch TEXT,
            head_sha TEXT,
            ci TEXT,
            ci_retries INTEGER NOT NULL DEFAULT 0,
            review_id INTEGER NOT NULL DEFAULT 0,
            issue_url TEXT,
            pr_url TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE UNIQUE INDEX github_issues_issue ON github_issues (repo, issue)",
        "CREATE INDEX github_issues_task ON github_issues (task_id)",
    ),
    (  # the events outbox without a global write lock (issue 25): on PostgreSQL each event
        # carries the id of the transaction that wrote it (its default is set with the schema,
        # core/store/postgres.py: pg_current_xact_id()) and consumers read in (txid, id) order
        # below the oldest running transaction; on SQLite it stays 0 (one writer: id order)
        "ALTER TABLE events ADD COLUMN txid INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX events_txid ON events (txid, id)",
    ),
)

LATEST = len(MIGRATIONS)
