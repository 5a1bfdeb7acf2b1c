"""The moves of issue 42's regroup: old path -> new path (files and folders)."""

MOVES: list[tuple[str, str]] = [
    # foundations: text formats, logging, privacy
    ("core/logs.py", "core/logs/setup.py"),
    ("core/logfold.py", "core/logs/fold.py"),
    ("core/private.py", "core/privacy/files.py"),
    ("core/redact.py", "core/privacy/redact.py"),
    ("core/text.py", "core/formats/text.py"),
    ("core/timetext.py", "core/formats/timetext.py"),
    ("core/tomltext.py", "core/formats/tomltext.py"),
    ("core/jsonshape.py", "core/formats/jsonshape.py"),
    # agents: state, signals, judge, stalls, screens, panes, hooks and MCP files, keys
    ("core/tasks/agent_judge.py", "core/agents/judge.py"),
    ("core/tasks/hook_events.py", "core/agents/hook_events.py"),
    ("core/store/agent_signals.py", "core/agents/signals.py"),
    ("core/store/alerts.py", "core/agents/alerts.py"),
    ("core/watch/rules.py", "core/watch/stalls.py"),
    ("core/watch/frames.py", "core/agents/frames.py"),
    ("core/watch/screen_judge.py", "core/agents/screen_judge.py"),
    ("core/watch/text_rules.py", "core/agents/text_rules.py"),
    ("core/watch/agent_rules", "core/agents/agent_rules"),
    ("core/workspaces/agent_hooks.py", "core/agents/hook_files.py"),
    ("core/workspaces/agent_mcp.py", "core/agents/mcp_files.py"),
    # dialogs: permission prompts a person answers
    ("core/tasks/prompts.py", "core/dialogs/permissions.py"),
    ("core/tasks/prompt_typing.py", "core/dialogs/answer_keys.py"),
    ("core/watch/dialogs.py", "core/dialogs/pane.py"),
    ("core/watch/hook_prompts.py", "core/watch/dead_hooks.py"),
    # questions
    ("core/tasks/questions.py", "core/questions/asking.py"),
    ("core/service/questions.py", "core/questions/service.py"),
    # reviews
    ("core/tasks/review.py", "core/reviews/sendback.py"),
    ("core/store/reviews.py", "core/reviews/queries.py"),
    ("core/service/review.py", "core/reviews/service.py"),
    # reservations
    ("core/tasks/reservations.py", "core/reservations/patterns.py"),
    ("core/tasks/reserving.py", "core/reservations/reserving.py"),
    ("core/store/reservations.py", "core/reservations/queries.py"),
    ("core/service/reservations.py", "core/reservations/service.py"),
    # posts: the front ends' live posts and cursor
    ("core/store/posts.py", "core/posts/queries.py"),
    ("core/service/posts.py", "core/posts/service.py"),
    # inbox: what needs a person
    ("core/service/inbox.py", "core/inbox/queue.py"),
    # history: the event log, its queries and retention
    ("core/store/event_query.py", "core/history/events.py"),
    ("core/store/retention.py", "core/history/retention.py"),
    # access: tokens of the dashboard, REST API and MCP
    ("core/store/web_tokens.py", "core/access/tokens.py"),
    # reports
    ("core/store/dashboard.py", "core/reports/dashboard.py"),
    # delivery
    ("core/killswitch.py", "core/delivery/killswitch.py"),
    # schedules and the coordinator's periodic jobs
    ("core/watch/schedules.py", "core/schedules/recurring.py"),
    ("core/watch/timing.py", "core/schedules/timing.py"),
    ("core/watch/jobs.py", "core/coordinator/jobs.py"),
    # store: drivers, connections, migrations
    ("core/store/database.py", "core/store/sqlite.py"),
    ("core/store/postgres.py", "core/store/postgres/store.py"),
    ("core/store/postgres_failover.py", "core/store/postgres/failover.py"),
    ("core/store/postgres_listen.py", "core/store/postgres/listen.py"),
    ("core/store/postgres_net.py", "core/store/postgres/net.py"),
    # github: the integration's domain logic and SQL, out of bot/
    ("bot/github", "core/github"),
    # automation: agents' message files (delivery = "inbox"), not the needs-you inbox
    ("automation/inbox.py", "automation/message_files.py"),
]


# Docstrings of the packages the moves create (the package's one-line purpose).
PACKAGES: dict[str, str] = {
    "core/formats": "Text formats every feature shares: text, times, TOML, the JSON output shape.",
    "core/logs": "Logging for every entry point: set-up, redaction and the folding of repeats.",
    "core/privacy": "Swarm's state is its owner's alone: private files and credentials redacted.",
    "core/agents": (
        "What each agent is doing and why: its signals, the judge, alerts, screens and pane text,\n"
        "and what swarm installs for each agent CLI (hooks, MCP files, text rules with real panes)."
    ),
    "core/dialogs": "Permission prompts a person answers: requests, dialogs in a pane, keys typed.",
    "core/questions": "Agents ask about their task and people answer.",
    "core/reviews": "Reviews of a task's work: comments on its diff, sent back as one prompt.",
    "core/reservations": "File reservations: patterns, rows, reserving and releasing, the service.",
    "core/posts": "The front ends' live posts (one message per task) and their cursor.",
    "core/inbox": 'What needs a person, in one queue ("Needs you").',
    "core/history": "The event log: queries over it, and retention to a compressed archive.",
    "core/access": "Who may act: bearer tokens of the dashboard, the REST API and MCP.",
    "core/schedules": "Recurring work on a cron expression or an interval: prompts, summaries.",
    "core/store/postgres": "The store over PostgreSQL: connections, LISTEN, failover, dead peers.",
}
