"""What is said to agents and how it reaches them: messages, their deliveries, and the
decisions between a queued prompt and a prompt on a screen.

``messages`` (messages with one delivery row per recipient: queue, claim, finish, recover),
``receipts`` (a delivery's outcome stored; a task prompt that could not be delivered handed
back to the task's lifecycle through ``TaskOnFailedPrompt``, which the composition root
fills: core.delivery imports no core.tasks), ``prompt`` (the parcels of one delivery: a reset
when due, the onboarding on a first task, the envelope), ``envelope`` (the text an agent
sees), ``onboarding`` (role templates), ``node_claims`` (a delivery node's claims and fenced
receipts), ``queue`` (``DeliveryBook``: what the loops call to claim and store receipts),
``killswitch`` (the flag that stops all desktop input), ``undelivered`` (deliveries that
failed for good, shown to a person), ``service`` (``MessageBook``, what the front ends call
to message agents: ``service.messages``). The statements on deliveries and messages, this
feature's tables: ``message_queries``, ``claim_queries`` (a claim and what its prompt
needs), ``assign_queries`` (ready tasks taken and their prompts queued, in one statement on
PostgreSQL), ``undelivered_queries``, ``retention_queries`` (old messages); ``queries`` (the
delivery nodes). The loops live in ``core.coordinator``.
"""
