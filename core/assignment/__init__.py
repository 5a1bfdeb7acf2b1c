"""Which agent does which task, and what a task's life does to the other features: the
tasks' orchestration above their owner (core.tasks, which imports no other feature).

``_passes`` (the scheduling decisions: ready tasks to the best free agent, their prompts
queued by core.delivery), ``_agent_queries`` (a pass's read of the agents, with the tasks'
load), ``_lifecycle`` (start, note, done, fail, cancel, pin, requeue, release, withdraw: the
holder credited, its report signal stored, its reservations released, its messages queued
and dropped), ``_leases`` (an expired lease requeues or fails its task, with backoff; an
agent's tasks handed back; ``OnFailedPrompt``, what a task prompt that could not be
delivered does to its task), ``_queries`` (the statements that span features, each composed
of its owners' fragments: no table is named here), ``_scheduling`` (``QueueBook``:
``service.queue``, the delivery queue with the assignment passes and leases), ``_roster``
(``RosterBook``: each agent's row with the tasks it holds, its pause), ``_holders`` (the
agent working on a task, as its card shows it), ``_waiting`` (why a ready task waits on an
account's breaker), ``_service`` (``TaskBook``: ``service.tasks``).

The package's face: what other packages use is named here (``__all__``); its modules are
its own (``lifecycle`` exported whole, as callers call its operations by its name).
"""

from __future__ import annotations

from core.assignment import _lifecycle as lifecycle
from core.assignment._leases import OnFailedPrompt
from core.assignment._passes import BATCH, Assignment, assign_batch, assign_next, ensure_agents
from core.assignment._roster import STOPPED_IDLE, RosterBook
from core.assignment._scheduling import QueueBook
from core.assignment._service import TaskBook
from core.assignment._waiting import takers, takers_text, waiting_by_account, why_waiting

__all__ = [
    "BATCH",
    "STOPPED_IDLE",
    "Assignment",
    "OnFailedPrompt",
    "QueueBook",
    "RosterBook",
    "TaskBook",
    "assign_batch",
    "assign_next",
    "ensure_agents",
    "lifecycle",
    "takers",
    "takers_text",
    "waiting_by_account",
    "why_waiting",
]
