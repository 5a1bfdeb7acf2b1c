"""What is said to agents and how it reaches them: messages, their deliveries, and the
decisions between a queued prompt and a prompt on a screen.

The package's face: what other packages use is named here; its modules are its own.
``_messages`` (messages with one delivery row per recipient: queue, claim, finish, recover),
``_receipts`` (a delivery's outcome stored; a task prompt that could not be delivered handed
back to the task's lifecycle through ``TaskOnFailedPrompt``, which the composition root
fills: core.assignment imports this feature; the task's attempts are core.tasks'),
``_prompt`` (the parcels of one delivery: a reset when due, the onboarding on a first task,
the envelope), ``_envelope`` (the text an agent sees), ``_onboarding`` (role templates),
``_node_claims`` (a delivery node's claims and fenced receipts), ``_queue``
(``DeliveryBook``: what the loops call to claim and store receipts), ``_killswitch`` (the
flag that stops all desktop input), ``_undelivered`` (deliveries that failed for good, shown
to a person), ``_service`` (``MessageBook``, what the front ends call to message agents:
``service.messages``). The statements on deliveries and messages, this feature's tables:
``_message_queries`` (with the fragments a scheduling pass of core.assignment composes to
queue its prompts), ``_claim_queries`` (a claim and what its prompt needs),
``_undelivered_queries``, ``_retention_queries`` (old messages); ``_queries`` (the delivery
nodes). The loops live in ``core.coordinator``.
"""

from __future__ import annotations

from core.delivery import _claim_queries as claim_queries
from core.delivery import _message_queries as message_queries
from core.delivery import _messages as messages
from core.delivery import _node_claims as node_claims
from core.delivery import _prompt as prompt
from core.delivery import _queries as queries
from core.delivery import _retention_queries as retention_queries
from core.delivery import _undelivered as undelivered
from core.delivery._killswitch import KillSwitch
from core.delivery._message_queries import (
    QUEUE_PROMPTS_OF_TAKEN,
    QUEUED_DUE,
    not_mid_turn,
    task_of_delivery,
)
from core.delivery._onboarding import captain_of
from core.delivery._queue import RECEIPT_RETRY_FIRST_S, RECEIPT_RETRY_MAX_S, DeliveryBook
from core.delivery._service import MessageBook

__all__ = [
    "QUEUED_DUE",
    "QUEUE_PROMPTS_OF_TAKEN",
    "RECEIPT_RETRY_FIRST_S",
    "RECEIPT_RETRY_MAX_S",
    "DeliveryBook",
    "KillSwitch",
    "MessageBook",
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
