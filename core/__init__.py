"""swarm's domain: no Discord, no screen, no web framework (checked by import-linter).

One package per feature, in six tiers, highest first; a package imports its own tier's and
the tiers below it (the contracts in ``pyproject.toml``; docs/architecture.md has the map):

- loops: ``coordinator`` (the scheduler and its periodic jobs, a delivery node, the
  PostgreSQL change listener, the one-coordinator-per-home lock, the notifier), ``github``
  (GitHub in the loop), ``schedules`` (recurring prompts and summary posts), ``watch``
  (stalls and nudges, each tmux pane's text, hooks gone dead).
- service: ``service`` (``SwarmService``, the API every front end calls; ``AIBook``).
- read models: ``inbox`` (what needs a person, in one queue), ``reports`` (stats,
  summaries, exports, the dashboard's reads).
- features: ``tasks``, ``delivery``, ``agents``, ``workflows``, ``reviews``, ``planning``,
  ``questions``, ``posts``, ``workspaces``, ``costs``, ``access``, ``accounts``, ``ai``,
  ``database``, ``dialogs``, ``history``, ``reservations``: each imports another only along
  the arrows listed in ``pyproject.toml`` (an independence contract).
- store: ``store`` (SQLite, PostgreSQL: connections, migrations, the shared rows).
- foundations: ``models``, ``errors``, ``settings``, ``protocols``, ``context``,
  ``event_kinds`` (every event kind and what it means for display), ``agents_file``,
  ``agent_state``, ``keys``, ``tmux``, ``version``, ``waits``, and the packages ``clis``
  (each agent CLI's folder), ``hosts`` (the protocol agents' host processes), ``formats``,
  ``logs``, ``privacy``.
"""
