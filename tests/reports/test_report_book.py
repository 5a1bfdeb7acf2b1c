"""The books the dashboard is to call (``ReportBook``; ``GitHubBook.link_of_task``), on both
databases: the board, a period's counts and delivery latency, from a short history."""

from __future__ import annotations

import pytest

from core.models import TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.reports.dashboard import TaskFilter
from core.reports.service import ReportBook
from core.service.swarm import SwarmService

pytestmark = pytest.mark.both_databases


async def test_the_board_counts_and_latency_read_through_the_book(
    service: SwarmService, clock: ManualClock
) -> None:
    since = clock.now()
    first = await service.tasks.create(TaskSpec(title="first"), "tester")
    await service.tasks.create(TaskSpec(title="second"), "tester")
    await service.tasks.cancel(first.id, "tester")
    book = ReportBook(service.store)
    columns = {
        status: (n, [t.title for t in tasks])
        for status, n, tasks in await book.board(TaskFilter(), 10)
    }
    assert columns[TaskStatus.cancelled] == (1, ["first"])
    assert columns[TaskStatus.ready] == (1, ["second"])
    found = await book.counts(since, clock.now())
    assert (found.total["created"], found.total["cancelled"]) == (2, 1)
    assert await book.delivery_latency(since) == {}  # nothing was delivered
    assert [t.title for t in await book.find_tasks(TaskFilter(text="sec"), None, 5)] == ["second"]
    assert await service.github.link_of_task(first.id) is None  # not from an issue
