"""The task graph, the owner of the ``tasks`` table: every statement on it is here, and this
feature imports no other (the features that read or change tasks ask it).

``_creation`` (batches with refs, cycle check), ``_dependencies`` (readiness: settle a task
and its dependents, add dependencies), ``_reopening`` (a retry, a reopen), ``_rules`` (when
a task not yet started may run, per kind), ``_actions``, ``_edit``, ``_person``, ``_held``
(what came from outside and waits for a person), ``_campaign_end``, ``_takers`` (who may
take a task); the statements: ``_queries`` and ``_graph_queries`` (the lifecycle's and the
graph's, one named operation each, with what it holds and why), ``_assign_queries`` (a
scheduling pass's), ``_read_queries`` (the rows read), ``_campaign_queries``, and
``_shared_queries``: the operations and fragments other features ask for, where their own
statements read their rows beside the tasks'. What crosses features (an active task's
life, assignment, leases, the roster, ``service.tasks``) is ``core.assignment``, which
imports this one (``tests/project/test_named_queries.py``: no statement names ``tasks``
elsewhere).

The package's face: what other packages use is named here (``__all__``); its modules
are its own. Where callers still call a group of operations through a module's name,
that module is exported whole under its old name (``tests/project/test_package_faces.py``:
``NAMESPACES``, a list that only shrinks).
"""

from __future__ import annotations

from core.tasks import _campaign_end as campaign_end
from core.tasks import _campaign_queries as campaign_queries
from core.tasks import _creation as creation
from core.tasks import _dependencies as dependencies
from core.tasks import _held as held
from core.tasks import _person as person
from core.tasks import _queries as queries
from core.tasks import _read_queries as read_queries
from core.tasks._actions import TaskAction, allowed, require
from core.tasks._assign_queries import (
    DEADLINE_COLUMNS,
    TAKE_READY_PG,
    ReadyTask,
    TaskAttempts,
    attempts_of,
    picked,
    ready_page,
    take_ready,
)
from core.tasks._dependencies import settle_dependents
from core.tasks._edit import TaskEdit
from core.tasks._edit import edit as edit_task
from core.tasks._queries import (
    DONE_RETURNING,
    LEASES_RUN_OUT,
    SHOWN,
    Holder,
    first_held,
    held_at,
)
from core.tasks._read_queries import (
    ACTIVE_TASK_IDS,
    TASK_COLUMNS,
    deps_of,
    get_task,
    held_task,
    list_tasks,
    row_to_task,
)
from core.tasks._refs import newest_refs
from core.tasks._reopening import reopen, retry
from core.tasks._shared_queries import (
    ACTIVE_HOLDS,
    ANY_LEASE_RUN_OUT,
    CAMPAIGN_OF_TASK,
    CAMPAIGN_TASKS,
    DONE_IDS,
    FINISHED_BEFORE,
    HELD_COUNT,
    HOLDER_OF_TASK,
    HOLDS,
    IN_PROGRESS_HOLDS,
    RENEW_LEASES_OF,
    TASKS_OF_CAMPAIGN,
    Head,
    head,
    holder,
    restart_lease,
    working_on,
)
from core.tasks._takers import nobody_takes, only_limited, wanted

__all__ = [
    "ACTIVE_HOLDS",
    "ACTIVE_TASK_IDS",
    "ANY_LEASE_RUN_OUT",
    "CAMPAIGN_OF_TASK",
    "CAMPAIGN_TASKS",
    "DEADLINE_COLUMNS",
    "DONE_IDS",
    "DONE_RETURNING",
    "FINISHED_BEFORE",
    "HELD_COUNT",
    "HOLDER_OF_TASK",
    "HOLDS",
    "IN_PROGRESS_HOLDS",
    "LEASES_RUN_OUT",
    "RENEW_LEASES_OF",
    "SHOWN",
    "TAKE_READY_PG",
    "TASKS_OF_CAMPAIGN",
    "TASK_COLUMNS",
    "Head",
    "Holder",
    "ReadyTask",
    "TaskAction",
    "TaskAttempts",
    "TaskEdit",
    "allowed",
    "attempts_of",
    "campaign_end",
    "campaign_queries",
    "creation",
    "dependencies",
    "deps_of",
    "edit_task",
    "first_held",
    "get_task",
    "head",
    "held",
    "held_at",
    "held_task",
    "holder",
    "list_tasks",
    "newest_refs",
    "nobody_takes",
    "only_limited",
    "person",
    "picked",
    "queries",
    "read_queries",
    "ready_page",
    "reopen",
    "require",
    "restart_lease",
    "retry",
    "row_to_task",
    "settle_dependents",
    "take_ready",
    "wanted",
    "working_on",
]
