"""swarm's domain: no Discord, no screen, no web framework (checked by import-linter).

One package per feature; a feature imports only the features below it (the layers in
``pyproject.toml``, highest first; docs/architecture.md has the map):

- ``coordinator``: the long-running loops (the scheduler and its periodic jobs, a delivery
  node, the PostgreSQL change listener) and the one-coordinator-per-home lock.
- ``watch``: the watchers: stalls and nudges, each tmux pane's text, hooks gone dead.
- ``github``: GitHub in the loop (issues to tasks, pull requests, CI, reviews).
- ``schedules``: recurring prompts and summary posts.
- ``service``: ``SwarmService``, the API every front end calls, and ``AIService``.
- ``inbox``: what needs a person, in one queue.
- ``reviews``, ``workflows``, ``questions``, ``planning``: features on top of tasks.
- ``delivery``: what to send to whom: assignment, the prompt of one delivery, node claims,
  the kill switch.
- ``tasks``, ``posts``: the task graph and its messages; the front ends' live posts.
- ``agents``: what each agent is doing (signals, judge, alerts, screens, text rules with real
  panes) and the files swarm installs for each agent CLI (hooks, MCP).
- ``workspaces``, ``reports``: git worktrees per agent; stats, summaries, exports, dashboard reads.
- ``dialogs``, ``reservations``, ``history``, ``access``, ``ai``: permission prompts, file
  reservations, the event log and its retention, tokens, the model client.
- ``store``: the databases (SQLite, PostgreSQL): connections, migrations, the shared rows.
- the foundations: ``models``, ``errors``, ``settings``, ``protocols``, ``context``,
  ``event_kinds`` (every event kind and what it means for display), ``agents_file``,
  ``agent_state``, ``keys``, ``tmux``, ``version``, ``waits``, and the packages
  ``formats``, ``logs``, ``privacy``.
"""
