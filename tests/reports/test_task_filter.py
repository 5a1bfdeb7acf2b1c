"""The dashboard's task filter (``TaskFilter``) is named constant statements whose unset
fields match any task: each field alone, several together, none, and hostile text return the
tasks a plain reading of the filter picks, on both databases, for the task list and the board,
and a board column stays on its status index."""

from __future__ import annotations

import pytest

from core.models import FINISHED, Priority, Task, TaskStatus
from core.reports import dashboard, queries
from core.service.swarm import SwarmService
from core.store.conn import Conn
from tests.helpers import query_plan

pytestmark = pytest.mark.both_databases

HOSTILE = ("it's", 'say "hi"', "100%", "a_b", "a\\b", "[1, 2]", '{"k": ",}"', "é ✓")
STATUSES = (TaskStatus.ready, TaskStatus.assigned, TaskStatus.done, TaskStatus.failed)


def _seed(conn: Conn) -> None:
    conn.execute("INSERT INTO campaigns (id, title, created_at, updated_at) VALUES (7, 'c', 1, 1)")
    for i in range(48):
        title = HOSTILE[i % len(HOSTILE)] + f" t{i}"
        conn.execute(
            "INSERT INTO tasks (title, details, priority, status, role, pinned_agent, assignee, "
            "campaign_id, created_by, created_at, updated_at, finished_at) VALUES "
            "($1, $2, $3, $4, $5, $6, $7, $8, 'test', 1, 1, $9)",
            (
                title,
                "DETAILS of " + HOSTILE[(i + 3) % len(HOSTILE)] if i % 3 else "",
                i % 4,
                STATUSES[i % 4].value,
                ("coder", "it's", None)[i % 3],
                ("A", "B", None, None, None)[i % 5],
                ("B", None, "A")[i % 3],
                7 if i % 2 else None,
                float(i) if STATUSES[i % 4] in FINISHED else None,
            ),
        )


def _matches(flt: dashboard.TaskFilter, task: Task) -> bool:
    """The filter read plainly: every field set narrows the tasks."""
    text = (flt.text or "").lower()
    digits = (flt.text or "").upper().removeprefix("T-")
    return (
        (flt.status is None or task.status == flt.status)
        and (flt.role is None or task.role == flt.role)
        and (flt.priority is None or task.priority == flt.priority)
        and (flt.campaign is None or _campaign(task) == flt.campaign)
        and (not flt.agent or flt.agent in (task.agent, task.pinned))
        and (
            not text
            or text in task.title.lower()
            or text in task.details.lower()
            or (digits.isdigit() and int(digits) == task.id)
        )
    )


def _campaign(task: Task) -> int | None:
    return 7 if task.title.endswith(tuple(f"t{i}" for i in range(1, 48, 2))) else None


FILTERS = {
    "none": dashboard.TaskFilter(),
    "status": dashboard.TaskFilter(status=TaskStatus.done),
    "agent": dashboard.TaskFilter(agent="A"),
    "role": dashboard.TaskFilter(role="it's"),
    "priority": dashboard.TaskFilter(priority=Priority.high),
    "campaign": dashboard.TaskFilter(campaign=7),
    "text": dashboard.TaskFilter(text="T1"),
    "number": dashboard.TaskFilter(text="T-12"),
    "several": dashboard.TaskFilter(agent="B", role="coder", campaign=7, text="t"),
    "all": dashboard.TaskFilter(TaskStatus.assigned, "B", "coder", Priority.normal, 7, "1"),
    **{f"hostile{i}": dashboard.TaskFilter(text=t) for i, t in enumerate(HOSTILE)},
    "hostile role": dashboard.TaskFilter(role='{"k": ",}"', agent="it's"),
    "like wildcards": dashboard.TaskFilter(text="%"),
}


def _listed(conn: Conn, flt: dashboard.TaskFilter) -> tuple[list[int], list[int], list[int]]:
    _seed(conn)
    every = dashboard.find_tasks(conn, dashboard.TaskFilter(), None, 500)
    wanted = [t.id for t in every if _matches(flt, t)]
    found = [t.id for t in dashboard.find_tasks(conn, flt, None, 500)]
    on_board = sorted(t.id for _, _, shown in dashboard.board(conn, flt, 500) for t in shown)
    return wanted, found, on_board


@pytest.mark.parametrize("name", FILTERS)
async def test_each_filter_lists_the_tasks_it_names(service: SwarmService, name: str) -> None:
    wanted, found, on_board = await service.store.update(_listed, FILTERS[name])
    assert found == wanted
    assert on_board == sorted(wanted)
    if name != "none":
        assert len(wanted) < 48


def _page_below(conn: Conn) -> list[int]:
    _seed(conn)
    flt = dashboard.TaskFilter(agent="A")
    first = dashboard.find_tasks(conn, flt, None, 3)
    return [t.id for t in first + dashboard.find_tasks(conn, flt, first[-1].id, 500)]


async def test_pages_below_an_id_add_up_to_the_list(service: SwarmService) -> None:
    ids = await service.store.update(_page_below)
    assert ids == sorted(set(ids), reverse=True)
    assert len(ids) == len([i for i in range(48) if i % 5 == 0 or i % 3 == 2])


def _column_plan(conn: Conn) -> str:
    _seed(conn)
    conn.execute(
        "INSERT INTO tasks (title, details, priority, status, created_by, created_at, "
        "updated_at, finished_at) SELECT title, details, priority, 'done', 'test', 1, 1, 1 "
        "FROM tasks, (SELECT 1 FROM tasks LIMIT 40) AS times"
    )
    conn.execute("ANALYZE")
    if conn.dialect == "postgres":  # the plan a prepared statement may run: the generic one
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    args = {**dashboard.TaskFilter(agent="A").match(), "status": "assigned", "limit": 5}
    del args["status_of"]
    return query_plan(conn, queries.OPEN_COLUMN.text, *queries.OPEN_COLUMN.bind(args))


async def test_a_board_column_reads_its_status_index(service: SwarmService) -> None:
    assert "tasks_by_status" in await service.store.update(_column_plan)
