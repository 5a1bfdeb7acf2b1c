"""swarm's domain: no Discord, no screen, no web framework (checked by import-linter).

Layers, highest first; a package imports only from the layers below it:

- ``coordinator``: the long-running loops (the scheduler, a delivery node, the PostgreSQL
  change listener) and the one-coordinator-per-home lock.
- ``watch``: screen activity, stalls, nudges, alerts, the periodic jobs and stored schedules.
- ``service``: ``SwarmService``, the API every front end calls, and ``AIService``.
- ``workflows``, ``planning``, ``reports``: workflows and campaigns, AI plans, summaries,
  stats and exports.
- ``ai``: the model client (settings, retries, budget, usage rows).
- ``delivery``: what to send to whom: assignment, the prompt of one delivery (envelope,
  onboarding, reset), node claims.
- ``workspaces``: git worktrees per agent and the task work recorded in them.
- ``tasks``: the task graph and what is said to agents: lifecycle, readiness rules,
  messages with their delivery rows, questions, a campaign's end.
- ``store``: the databases (SQLite, PostgreSQL) and their row-level reads and writes,
  events, posts, retention, ``StoreAccess``.
- the foundations, modules at this level: ``models``, ``errors``, ``settings``,
  ``protocols`` (Deliverer, Clock, Timer, Observer), ``context`` (Ctx), ``agents_file``,
  ``keys``, ``text``, ``redact``, ``jsonshape``, ``waits``, ``logs``, ``killswitch``.
"""
