"""The task graph and what is said to agents.

``lifecycle`` (create, start, done, fail, cancel, retry, pin, release, readiness), ``rules``
(when a task not yet started may run, per kind), ``actions``, ``edit``, ``person``, ``held``
(what came from outside and waits for a person), ``messages`` (messages with one delivery row
per recipient: claim, finish, recover), ``campaign_end`` and ``queries`` (the lifecycle's
statements where the databases differ, one named operation each); ``service``: ``TaskBook``,
the task operations the front ends call (``service.tasks``).
"""
