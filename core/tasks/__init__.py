"""The task graph and what is said to agents.

``creation`` (batches with refs, cycle check), ``dependencies`` (readiness: settle a task
and its dependents, add dependencies), ``lifecycle`` (start, done, fail, cancel, retry, pin,
reopen, release, withdraw), ``rules`` (when a task not yet started may run, per kind),
``leases`` (an expired lease requeues or fails its task, with backoff; an agent's tasks
handed back), ``actions``, ``edit``, ``person``, ``held`` (what came from outside and waits
for a person),
``messages`` (messages with one delivery row per recipient: claim, finish, recover),
``campaign_end``; ``queries`` and ``graph_queries`` (the lifecycle's statements, one named
operation each, with what it holds and why; the dialect chosen there where the databases
differ); ``service``: ``TaskBook``, the task operations the front ends call
(``service.tasks``).
"""
