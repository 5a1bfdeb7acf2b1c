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
    ("core/workspaces/agent_hooks.py", "core/clis/hook_files.py"),
    ("core/workspaces/agent_mcp.py", "core/clis/mcp_files.py"),
    # dialogs: permission prompts a person answers
    ("core/tasks/prompts.py", "core/dialogs/permissions.py"),
    ("core/tasks/prompt_typing.py", "core/dialogs/answer_keys.py"),
    ("core/watch/dialogs.py", "core/dialogs/pane.py"),
    ("core/watch/hook_prompts.py", "core/dialogs/dead_hooks.py"),
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

# The flat tests/test_*.py beside their feature (issue 42, item 7).
TEST_MOVES: list[tuple[str, str]] = [
    ("tests/test_agent_hooks.py", "tests/agents/test_agent_hooks.py"),
    ("tests/test_agent_state_rows.py", "tests/agents/test_agent_state_rows.py"),
    ("tests/test_agent_state_views.py", "tests/agents/test_agent_state_views.py"),
    ("tests/test_hook_prompts.py", "tests/dialogs/test_hook_prompts.py"),
    ("tests/test_prompt_text.py", "tests/dialogs/test_prompt_text.py"),
    ("tests/test_agent_messages.py", "tests/delivery/test_agent_messages.py"),
    ("tests/test_prompt_failures.py", "tests/delivery/test_prompt_failures.py"),
    ("tests/test_state_events.py", "tests/delivery/test_state_events.py"),
    ("tests/test_state_columns.py", "tests/delivery/test_state_columns.py"),
    ("tests/test_withdrawal.py", "tests/delivery/test_withdrawal.py"),
    ("tests/test_tasks.py", "tests/tasks/test_tasks.py"),
    ("tests/test_task_actions.py", "tests/tasks/test_task_actions.py"),
    ("tests/test_task_edit.py", "tests/tasks/test_task_edit.py"),
    ("tests/test_invisible_text.py", "tests/tasks/test_invisible_text.py"),
    ("tests/test_reports_and_text.py", "tests/tasks/test_reports_and_text.py"),
    ("tests/test_hot_path.py", "tests/tasks/test_hot_path.py"),
    ("tests/test_scheduler.py", "tests/coordinator/test_scheduler.py"),
    ("tests/test_scheduler_properties.py", "tests/coordinator/test_scheduler_properties.py"),
    ("tests/test_runtime.py", "tests/coordinator/test_runtime.py"),
    ("tests/test_timer_loop.py", "tests/coordinator/test_timer_loop.py"),
    ("tests/test_agents_reload.py", "tests/coordinator/test_agents_reload.py"),
    ("tests/test_pg_failover_release.py", "tests/coordinator/test_pg_failover_release.py"),
    ("tests/test_run_stop.py", "tests/coordinator/test_run_stop.py"),
    ("tests/test_store.py", "tests/store/test_store.py"),
    ("tests/test_store_errors.py", "tests/store/test_store_errors.py"),
    ("tests/test_store_protocol.py", "tests/store/test_store_protocol.py"),
    ("tests/test_db_driver.py", "tests/store/test_db_driver.py"),
    ("tests/test_write_races.py", "tests/store/test_write_races.py"),
    ("tests/test_concurrency.py", "tests/store/test_concurrency.py"),
    ("tests/test_full_disk.py", "tests/store/test_full_disk.py"),
    ("tests/test_retention.py", "tests/history/test_retention.py"),
    ("tests/test_events_filter.py", "tests/history/test_events_filter.py"),
    ("tests/test_cli.py", "tests/cli/test_cli.py"),
    ("tests/test_cli_completion.py", "tests/cli/test_cli_completion.py"),
    ("tests/test_cli_daily.py", "tests/cli/test_cli_daily.py"),
    ("tests/test_cli_errors.py", "tests/cli/test_cli_errors.py"),
    ("tests/test_cli_fuzz.py", "tests/cli/test_cli_fuzz.py"),
    ("tests/test_cli_json.py", "tests/cli/test_cli_json.py"),
    ("tests/test_cli_style.py", "tests/cli/test_cli_style.py"),
    ("tests/test_doctor.py", "tests/cli/test_doctor.py"),
    ("tests/test_demo.py", "tests/cli/test_demo.py"),
    ("tests/test_inbox_cli.py", "tests/cli/test_inbox_cli.py"),
    ("tests/test_review_cli.py", "tests/cli/test_review_cli.py"),
    ("tests/test_trust.py", "tests/cli/test_trust.py"),
    ("tests/test_inbox.py", "tests/inbox/test_inbox.py"),
    ("tests/test_questions.py", "tests/questions/test_questions.py"),
    ("tests/test_config.py", "tests/config/test_config.py"),
    ("tests/test_config_file.py", "tests/config/test_config_file.py"),
    ("tests/test_config_root.py", "tests/config/test_config_root.py"),
    ("tests/test_toml_files.py", "tests/config/test_toml_files.py"),
    ("tests/test_timetext.py", "tests/foundations/test_timetext.py"),
    ("tests/test_logfold.py", "tests/foundations/test_logfold.py"),
    ("tests/test_redact.py", "tests/foundations/test_redact.py"),
    ("tests/test_waits.py", "tests/foundations/test_waits.py"),
    ("tests/test_permissions.py", "tests/foundations/test_permissions.py"),
    ("tests/test_chart_style.py", "tests/reports/test_chart_style.py"),
    ("tests/test_structure.py", "tests/project/test_structure.py"),
    ("tests/test_packaging.py", "tests/project/test_packaging.py"),
]

MOVES += TEST_MOVES


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
    "tests/agents": (
        "Tests of agent state and the agent CLIs: hooks, rows, views, and the real CLIs live."
    ),
    "tests/dialogs": (
        "Tests of permission prompts: what they show, and hooks that can no longer answer."
    ),
    "tests/delivery": (
        "Tests of deliveries: messages, failures, state events and columns, withdrawals."
    ),
    "tests/tasks": (
        "Tests of the task graph: lifecycle, actions, edits, text taken in, the hot path."
    ),
    "tests/coordinator": (
        "Tests of the running coordinator: the scheduler, its loop, reloads, stop, failover."
    ),
    "tests/store": (
        "Tests of the databases: set-up, errors, the protocol, races, concurrency, a full disk."
    ),
    "tests/history": ("Tests of the event log: filters and retention."),
    "tests/cli": ("Tests of the ``swarm`` command line, in real child processes."),
    "tests/inbox": ("Tests of the needs-you queue."),
    "tests/questions": ("Tests of agents' questions and people's answers."),
    "tests/config": (
        "Tests of configuration: the agents file, the user config, the composition root, TOML."
    ),
    "tests/foundations": (
        "Tests of the foundations: time text, log folding, redaction, waits, file modes."
    ),
    "tests/reports": ("Tests of reports: charts and stats."),
    "tests/project": ("Tests of the project's shape: import structure and packaging."),
}
