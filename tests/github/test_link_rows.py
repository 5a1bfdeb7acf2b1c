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
