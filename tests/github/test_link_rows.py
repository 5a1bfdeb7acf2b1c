"""The issues' rows come back as ``Link`` alike on both databases: the newest of a repo, one
by its id, the newest of a task, each with its history read from its JSON."""

from __future__ import annotations

import pytest

from core.github import queries
from core.github.queries import Link
from core.service.swarm import SwarmService
from core.store.conn import Conn

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


def _imported(conn: Conn) -> None:
    queries.claim_issues(conn, "o/r", [7, 8], 1.0)
    queries.link_task(conn, "o/r", 7, 70, "https://example.test/o/r/issues/7")
    queries.link_task(conn, "o/r", 8, 80, None)
    first = queries.newest_rows(conn, "o/r", 5)[-1]
    queries.change(conn, first.id, 2.0, {"history": '["shown", "pr opened"]', "pr": 3})


def _read(conn: Conn) -> tuple[list[Link], Link | None, Link | None, Link | None]:
    newest = queries.newest_rows(conn, "o/r", 5)
    by_id = queries.row_by_id(conn, newest[-1].id)
    return newest, by_id, queries.row_by_id(conn, 999), queries.row_of_task(conn, 70)


async def test_links_read_by_repo_id_and_task(service: SwarmService) -> None:
    await service.store.update(_imported)
    newest, by_id, missing, of_task = await service.store.read(_read)
    assert [(link.issue, link.task_id) for link in newest] == [(8, 80), (7, 70)]
    assert by_id is not None and by_id == of_task
    assert (by_id.issue, by_id.history, by_id.pr, by_id.updated_at) == (
        7, ["shown", "pr opened"], 3, 2.0,
    )  # fmt: skip
    assert by_id.issue_url == "https://example.test/o/r/issues/7"
    assert newest[0].history == [] and newest[0].issue_url is None
    assert missing is None


HOSTILE = 'it\'s 100% \\ ["x"] {"a": 1} ünïcødé 🚀'


def _changed(conn: Conn) -> list[Link]:
    queries.claim_issues(conn, "o/c", [1, 2], 1.0)
    first, second = sorted(queries.newest_rows(conn, "o/c", 5), key=lambda link: link.issue)
    queries.change(conn, first.id, 2.0, {"branch": HOSTILE, "pr": 5, "ci": "pending"})
    queries.change(conn, first.id, 3.0, {"ci": None})  # a NULL set, the rest kept
    queries.change(conn, second.id, 4.0, {"shown": HOSTILE})
    queries.change(conn, second.id, 5.0, {})  # nothing but the stamp
    return sorted(queries.newest_rows(conn, "o/c", 5), key=lambda link: link.issue)


async def test_change_sets_the_columns_named_and_keeps_the_rest(service: SwarmService) -> None:
    first, second = await service.store.update(_changed)
    assert (first.branch, first.pr, first.ci, first.shown, first.updated_at) == (
        HOSTILE, 5, None, None, 3.0,
    )  # fmt: skip
    assert (second.branch, second.pr, second.ci, second.shown, second.updated_at) == (
        None, None, None, HOSTILE, 5.0,
    )  # fmt: skip
    assert (first.task_id, second.task_id, first.state) == (0, 0, "open")
