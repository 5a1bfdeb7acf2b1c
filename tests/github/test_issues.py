"""Labelled issues become tasks against a local GitHub (real HTTP, gidgethub, the store).

Importing and cancelling, and two writers importing the same issue at once, run on SQLite and
PostgreSQL; the HTTP behaviour (conditional requests, the rate limit) on SQLite."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from core.github import links
from core.github.links import NewIssue
from core.models import Priority, TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.github.conftest import REPO, World
from tests.helpers import query
from tests.store.test_write_races import Meet, _race


@pytest.mark.both_databases
async def test_labelled_issues_become_tasks_once_with_role_and_dependencies(
    world: World, service: SwarmService
) -> None:
    gh = world.gh
    gh.open_issue(
        REPO,
        "Build the API",
        "the body",
        labels=["swarm", "role:web", "priority:high"],
        labeled_by=world.maintainer,
    )
    gh.open_issue(
        REPO,
        "Test the API",
        "Blocked by #1",
        labels=["swarm", "role:qa"],
        labeled_by=world.maintainer,
    )
    gh.open_issue(REPO, "Not for swarm", "no label")
    gh.open_issue(REPO, "Sneaky", "do it", labels=["swarm"], user=world.outsider)
    gh.open_issue(REPO, "Ship it", "", labels=["swarm"], labeled_by=world.maintainer)
    gh.add_sub_issue(REPO, 5, 2)  # #2 is a sub-issue of #5: #5 waits for it
    first = await world.sync.run_pass()
    assert sorted(first.imported) == [1, 2, 5] and sorted(first.refused) == [4]
    tasks = {t.title: t for t in await service.tasks.newest()}
    api, tests = tasks["#1 Build the API"], tasks["#2 Test the API"]
    assert (api.role, api.priority) == ("web", Priority.high)
    assert tests.role == "qa" and tests.after == [api.id] and tests.status == TaskStatus.blocked
    assert "Quoted from GitHub issue #1" in api.details and "the body" in api.details
    assert tasks["#5 Ship it"].after == [tests.id]
    again = await world.sync.run_pass()
    assert again.imported == {} and len(await service.tasks.newest()) == 3


async def test_an_idle_repository_costs_conditional_requests_only(world: World) -> None:
    world.gh.open_issue(REPO, "One", "x", labels=["swarm"], labeled_by=world.maintainer)
    await world.sync.run_pass()
    await world.sync.run_pass()  # sees swarm's own comment and status label once
    before = len(world.gh.requests)
    await world.sync.run_pass()
    idle = world.gh.requests[before:]
    assert [(r.method, r.status) for r in idle] == [("GET", 304)]


@pytest.mark.both_databases
async def test_closing_or_unlabelling_cancels_the_task_with_a_note(
    world: World, service: SwarmService
) -> None:
    gh = world.gh
    gh.open_issue(REPO, "A", "a", labels=["swarm"], labeled_by=world.maintainer)
    gh.open_issue(REPO, "B", "b", labels=["swarm"], labeled_by=world.maintainer)
    await world.sync.run_pass()
    gh.close_issue(REPO, 1, actor=world.maintainer)
    gh.unlabel_issue(REPO, 2, "swarm", actor=world.maintainer)
    result = await world.sync.run_pass()
    assert sorted(result.cancelled) == [1, 2]
    assert {t.status for t in await service.tasks.newest()} == {TaskStatus.cancelled}
    notes = query(service.settings, "SELECT text FROM events WHERE kind = 'github.closed'")
    assert {n[0] for n in notes} == {
        "T-1 cancelled: GitHub issue #1 was closed",
        "T-2 cancelled: label 'swarm' was removed from GitHub issue #2",
    }


async def test_rate_limit_exhaustion_backs_off_with_one_line_and_loses_nothing(
    world: World, service: SwarmService, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    gh = world.gh
    gh.open_issue(REPO, "A", "a", labels=["swarm"], labeled_by=world.maintainer)
    gh.rate_limit(remaining=0, reset_in=3600)
    with caplog.at_level(logging.INFO, logger="core.github"):
        for _ in range(3):  # paused: the next two fires call nothing
            await world.sync.fire()
            clock.advance(120)
    lines = [r.getMessage() for r in caplog.records if "rate limit" in r.getMessage()]
    assert len(lines) == 1 and "nothing is lost" in lines[0]
    assert await service.tasks.newest() == []
    gh.rate_limit(remaining=5000, reset_in=3600)
    calls = len(gh.requests)
    await world.sync.fire()
    assert len(gh.requests) == calls  # still paused: not one call
    clock.advance(3600)  # the reset
    await world.sync.fire()
    assert [t.title for t in await service.tasks.newest()] == ["#1 A"]


async def test_a_rate_limit_reset_years_away_pauses_the_loop_for_an_hour_at_most(
    world: World, service: SwarmService, clock: ManualClock
) -> None:
    # a reset header from a server gone wrong (or a proxy) must not stop GitHub for years
    gh = world.gh
    gh.open_issue(REPO, "A", "a", labels=["swarm"], labeled_by=world.maintainer)
    gh.rate_limit(remaining=0, reset_in=10 * 365 * 86400)
    await world.sync.fire()
    assert await service.tasks.newest() == []
    gh.rate_limit(remaining=5000, reset_in=3600)
    clock.advance(3660)  # sync.PAUSE_MAX_S
    await world.sync.fire()
    assert [t.title for t in await service.tasks.newest()] == ["#1 A"]


@pytest.fixture
async def other(settings: Settings, clock: ManualClock) -> AsyncIterator[SwarmService]:
    """A second service on the same database (another node's GitHub loop, a webhook)."""
    svc = await SwarmService.open(settings, clock)
    yield svc
    await svc.close()


@pytest.mark.both_databases
async def test_two_writers_importing_the_same_issue_make_one_task(
    service: SwarmService, other: SwarmService, settings: Settings
) -> None:
    for issue in (7, 8, 9):
        new = [NewIssue(issue, TaskSpec(f"#{issue} Same issue"), ())]
        meet = Meet(settings.database_url)
        results = await _race(
            service.store.write("github", meet("a", links.import_issues), REPO, new),
            other.store.write("github", meet("b", links.import_issues), REPO, new),
        )
        made = [r for r in results if r]
        assert results.count({}) == 1 and len(made) == 1, results  # one imported, one skipped
        (task_id,) = made[0].values()
        titles = query(settings, "SELECT id FROM tasks WHERE title = $1", (f"#{issue} Same issue",))
        assert titles == [(task_id,)]
        rows = query(settings, "SELECT task_id FROM github_issues WHERE issue = $1", (issue,))
        assert rows == [(task_id,)]
        imported = query(
            settings,
            "SELECT count(*) FROM events WHERE kind = 'github.imported' AND task_id = $1",
            (task_id,),
        )
        assert imported == [(1,)]


async def test_a_failing_sync_is_an_alert_in_needs_you_until_a_poll_succeeds(
    world: World, service: SwarmService, clock: ManualClock
) -> None:
    """Issue 41, item 1: GitHub answering errors for two polls in a row is an alert (one is
    a blip); the next poll that succeeds clears it. A used-up rate limit is one at once."""
    gh = world.gh
    gh.fail("GET", f"/repos/{REPO}/issues*", status=502, after=False, times=2)
    await world.sync.fire()
    assert await service.inbox.needs() == []  # one failure: a blip
    clock.advance(60)
    await world.sync.fire()
    (need,) = await service.inbox.needs()
    assert (need.kind, need.agent, need.extra["alert"]) == ("alert", "github", "sync_failed")
    assert need.text.startswith("GitHub sync failing: ") and "502" in need.text
    clock.advance(60)
    await world.sync.fire()
    assert await service.inbox.needs() == []
    cleared = query(service.settings, "SELECT text FROM events WHERE kind = 'alert.cleared'")
    assert [c[0] for c in cleared] == ["GitHub sync works again"]

    gh.rate_limit(remaining=0, reset_in=600)
    clock.advance(60)
    await world.sync.fire()
    (need,) = await service.inbox.needs()
    assert need.text.startswith("GitHub rate limit used up: no GitHub call until ")
    gh.rate_limit(remaining=5000, reset_in=3600)
    clock.advance(660)  # the reset (and a second of rounding)
    await world.sync.fire()
    assert await service.inbox.needs() == []
