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

from __future__ import annotations

from core.delivery import _assign_queries as assign_queries
from core.delivery import _claim_queries as claim_queries
from core.delivery import _message_queries as message_queries
from core.delivery import _messages as messages
from core.delivery import _node_claims as node_claims
from core.delivery import _prompt as prompt
from core.delivery import _queries as queries
from core.delivery import _retention_queries as retention_queries
from core.delivery import _undelivered as undelivered
from core.delivery._assign_queries import ReadyTask
from core.delivery._killswitch import KillSwitch
from core.delivery._message_queries import not_mid_turn, task_of_delivery
from core.delivery._onboarding import captain_of
from core.delivery._queue import RECEIPT_RETRY_FIRST_S, RECEIPT_RETRY_MAX_S, DeliveryBook
from core.delivery._service import MessageBook

__all__ = [
    "RECEIPT_RETRY_FIRST_S",
    "RECEIPT_RETRY_MAX_S",
    "DeliveryBook",
    "KillSwitch",
    "MessageBook",
    "ReadyTask",
    "assign_queries",
    "captain_of",
    "claim_queries",
    "message_queries",
    "messages",
    "node_claims",
    "not_mid_turn",
    "prompt",
    "queries",
    "retention_queries",
    "task_of_delivery",
    "undelivered",
]
