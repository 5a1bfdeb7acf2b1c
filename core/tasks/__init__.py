"""The task graph and what is said to agents.

``lifecycle`` (create, start, done, fail, cancel, retry, pin, release, readiness), ``rules``
(when a task not yet started may run, per kind), ``messages`` (messages with one delivery row
per recipient: claim, finish, recover), ``questions`` (an agent's question and its answer),
``campaign_end``, ``reservations`` (file reservations' patterns and the exact glob overlap
decision, pure) and ``reserving`` (their transactions, and the release when a task leaves its
agent). Imports ``store`` and the foundations.
"""
