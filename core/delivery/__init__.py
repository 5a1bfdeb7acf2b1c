"""What to send to whom: the decisions between a ready task and a prompt on a screen.

``assignment`` (ready tasks to the best free agent, a receipt recorded), ``prompt`` (the
parcels of one delivery: a reset when due, the onboarding on a first task, the envelope),
``envelope`` (the text an agent sees), ``onboarding`` (role templates), ``node_claims``
(a delivery node's claims and fenced receipts), ``queue`` (what the loops call) and
``killswitch`` (the flag that stops all desktop input), ``undelivered`` (deliveries that
failed for good, shown to a person), ``service`` (``MessageBook``, what
the front ends call to message agents: ``service.messages``). The statements on deliveries
and messages: ``claim_queries`` (a claim and what its prompt needs), ``assign_queries``
(ready tasks taken and their prompts queued), ``undelivered_queries``,
``retention_queries`` (old messages); ``queries`` (the delivery nodes). The loops live in
``core.coordinator``.
"""
