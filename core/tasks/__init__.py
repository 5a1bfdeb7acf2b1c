"""The task graph, and which ready task goes to which agent.

``_creation`` (batches with refs, cycle check), ``_dependencies`` (readiness: settle a task
and its dependents, add dependencies), ``_lifecycle`` (start, done, fail, cancel, retry, pin,
reopen, release, withdraw; its messages queued and dropped through ``core.delivery``),
``_rules`` (when a task not yet started may run, per kind), ``_leases`` (an expired lease
requeues or fails its task, with backoff; an agent's tasks handed back; ``OnFailedPrompt``,
what a task prompt that could not be delivered does to its task), ``_assignment`` (the
scheduling decisions: ready tasks to the best free agent, their prompts queued by
core.delivery), ``_scheduling`` (``QueueBook``: ``service.queue``, the delivery queue with the
assignment passes and leases), ``_roster`` (``RosterBook``: each agent's row with the tasks it
holds, its pause), ``_actions``, ``_edit``, ``_person``, ``_held`` (what came from outside and
waits for a person), ``_campaign_end``; ``_queries`` and ``_graph_queries`` (the lifecycle's
statements, one named operation each, with what it holds and why; the dialect chosen there
where the databases differ); ``_service``: ``TaskBook``, the task operations the front ends
call (``service.tasks``).
``_assign_queries`` (a scheduling pass's statements), ``_read_queries`` (the rows read;
who may take a task) and ``_waiting`` (why a ready task waits on an account's breaker):
the statements on ``tasks`` belong here (those still elsewhere are counted, a list that
only shrinks: ``tests/project/test_named_queries.py``).

The package's face: what other packages use is named here (``__all__``); its modules
are its own. Where callers still call a group of operations through a module's name,
that module is exported whole under its old name (``tests/project/test_package_faces.py``:
``NAMESPACES``, a list that only shrinks).
"""

from __future__ import annotations

from core.tasks import _assignment as assignment
from core.tasks import _campaign_end as campaign_end
from core.tasks import _campaign_queries as campaign_queries
from core.tasks import _creation as creation
from core.tasks import _dependencies as dependencies
from core.tasks import _held as held
from core.tasks import _lifecycle as lifecycle
from core.tasks import _person as person
from core.tasks import _queries as queries
from core.tasks import _read_queries as read_queries
from core.tasks._actions import TaskAction, allowed
from core.tasks._edit import TaskEdit
from core.tasks._leases import OnFailedPrompt
from core.tasks._queries import held_at
from core.tasks._read_queries import (
    ACTIVE_TASK_IDS,
    TASK_COLUMNS,
    deps_of,
    get_task,
    list_tasks,
    row_to_task,
)
from core.tasks._roster import RosterBook
from core.tasks._scheduling import QueueBook
from core.tasks._service import TaskBook
from core.tasks._takers import nobody_takes, only_limited, wanted
from core.tasks._waiting import takers, takers_text, waiting_by_account, why_waiting

__all__ = [
    "ACTIVE_TASK_IDS",
    "TASK_COLUMNS",
    "OnFailedPrompt",
    "QueueBook",
    "RosterBook",
    "TaskAction",
    "TaskBook",
    "TaskEdit",
    "allowed",
    "assignment",
    "campaign_end",
    "campaign_queries",
    "creation",
    "dependencies",
    "deps_of",
    "get_task",
    "held",
    "held_at",
    "lifecycle",
    "list_tasks",
    "nobody_takes",
    "only_limited",
    "person",
    "queries",
    "read_queries",
    "row_to_task",
    "takers",
    "takers_text",
    "waiting_by_account",
    "wanted",
    "why_waiting",
]
