"""A list is one named parameter (``core.store.conn.each``, ``listed``): a JSON array the
database reads as a table, so the statement's text is the same for any number of items. Each
statement reads every item, none, and hostile text (quotes, ``%``, JSON's own characters) alike
on both databases, and still finds its rows through the index."""

from __future__ import annotations

import pytest

from core.agents import _alert_queries as alert_queries
from core.models import TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.store.conn import Conn, Pair, Sql, in_list, listed, sql_pair
from core.tasks import _graph_queries as graph_queries
from core.tasks import _read_queries as read_queries
from tests.helpers import query_plan

pytestmark = pytest.mark.both_databases

HOSTILE = ("it's", 'say "hi"', "100%", "a\\b", "[1, 2]", '{"k": ",}"', "é ✓", "")


def _alerts(conn: Conn, kinds: tuple[str, ...]) -> list[str]:
    for kind in HOSTILE:
        alert_queries.insert_open(conn, "A", kind, "text", 1.0)
    alert_queries.insert_open(conn, "B", "it's", "text", 1.0)
    return sorted(a.kind for a in alert_queries.open_of(conn, "A", kinds))


@pytest.mark.parametrize(
    "kinds", [(), ("it's",), HOSTILE[:4], HOSTILE], ids=["none", "one", "several", "all"]
)
async def test_open_alerts_of_several_kinds(service: SwarmService, kinds: tuple[str, ...]) -> None:
    assert await service.store.update(_alerts, kinds) == sorted(kinds)


OTHER_KINDS = sql_pair(
    "SELECT kind FROM alerts WHERE kind {kinds} ORDER BY kind",
    kinds=in_list("kinds", negated=True),
)


def _other_kinds(conn: Conn, kinds: tuple[str, ...]) -> list[str]:
    for kind in HOSTILE:
        alert_queries.insert_open(conn, "A", kind, "text", 1.0)
    found = conn.execute(OTHER_KINDS.on(conn), {"kinds": listed(kinds)})
    return sorted(r["kind"] for r in found)


@pytest.mark.parametrize("kinds", [(), HOSTILE[:4], HOSTILE], ids=["none", "several", "all"])
async def test_not_in_a_list_keeps_every_other_item(
    service: SwarmService, kinds: tuple[str, ...]
) -> None:
    others = await service.store.update(_other_kinds, kinds)
    assert others == sorted(set(HOSTILE) - set(kinds))


async def test_statuses_of_several_tasks_and_of_none(service: SwarmService) -> None:
    ids = [(await service.tasks.create(TaskSpec(f"t{i}"), "cli")).id for i in range(5)]
    several = await service.store.read(graph_queries.statuses, [*ids[1:4], 999_999])
    assert several == [(i, "ready") for i in ids[1:4]]
    assert await service.store.read(graph_queries.statuses, []) == []


def _plan(conn: Conn, statement: Pair[Sql], params: dict[str, str]) -> str:
    chosen = statement.on(conn)
    return query_plan(conn, chosen.text, *chosen.bind(params))


_COLUMNS = ", ".join(graph_queries.TASK_COLUMNS)
# 2,000 copies of the first task, so the planner weighs a scan against the index
_COPIES = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
    f"INSERT INTO tasks ({_COLUMNS}) SELECT {_COLUMNS} FROM tasks CROSS JOIN n"
)


def _copy_tasks(conn: Conn) -> None:
    conn.execute(_COPIES)
    conn.execute("ANALYZE tasks")


async def test_a_listed_id_is_found_through_the_primary_key(service: SwarmService) -> None:
    await service.tasks.create(TaskSpec("first"), "cli")
    await service.store.update(_copy_tasks)
    plan = await service.store.read(_plan, graph_queries.STATUSES, {"ids": listed([1, 2])})
    assert "SCAN tasks" not in plan and "Seq Scan on tasks" not in plan, plan


async def test_a_search_keeps_to_the_statuses_asked_for(service: SwarmService) -> None:
    ids = [(await service.tasks.create(TaskSpec(f"fix {t}"), "cli")).id for t in HOSTILE[:4]]
    await service.tasks.cancel(ids[0], "cli")
    found = {
        name: [t.id for t in await service.tasks.find("fix", statuses)]
        for name, statuses in {
            "any": None,
            "none": [],
            "ready": [TaskStatus.ready],
            "both": [TaskStatus.ready, TaskStatus.cancelled],
        }.items()
    }
    newest_first = ids[::-1]
    assert found == {
        "any": newest_first,
        "none": newest_first,
        "ready": newest_first[:3],
        "both": newest_first,
    }
    assert [t.id for t in await service.tasks.find("100%", None)] == [ids[2]]


async def test_the_dependencies_of_several_tasks(service: SwarmService) -> None:
    first, second = [(await service.tasks.create(TaskSpec(t), "cli")).id for t in "ab"]
    third = (await service.tasks.create(TaskSpec("c", after=(first, second)), "cli")).id
    deps = await service.store.read(read_queries.deps_of, [first, third])
    assert deps == {first: [], third: [first, second]}
    assert await service.store.read(read_queries.deps_of, []) == {}
