"""The task graph, and which ready task goes to which agent.

``creation`` (batches with refs, cycle check), ``dependencies`` (readiness: settle a task
and its dependents, add dependencies), ``lifecycle`` (start, done, fail, cancel, retry, pin,
reopen, release, withdraw; its messages queued and dropped through ``core.delivery``),
``rules`` (when a task not yet started may run, per kind), ``leases`` (an expired lease
requeues or fails its task, with backoff; an agent's tasks handed back; ``OnFailedPrompt``,
what a task prompt that could not be delivered does to its task), ``assignment`` (the
scheduling decisions: ready tasks to the best free agent, their prompts queued by
core.delivery), ``scheduling`` (``QueueBook``: ``service.queue``, the delivery queue with the
assignment passes and leases), ``roster`` (``RosterBook``: each agent's row with the tasks it
holds, its pause), ``actions``, ``edit``, ``person``, ``held`` (what came from outside and
waits for a person), ``campaign_end``; ``queries`` and ``graph_queries`` (the lifecycle's
statements, one named operation each, with what it holds and why; the dialect chosen there
where the databases differ); ``service``: ``TaskBook``, the task operations the front ends
call (``service.tasks``).
"""
