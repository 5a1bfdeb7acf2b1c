"""A reservation call's overlap work is bounded and done outside the write transaction, on
both databases: globs made to be slow to compare (many ``*``, within the documented limits)
neither hold the store's writer nor run without end, and the transaction re-checks only what
changed since the check (issue 40, item 7)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import ReservationConflict, TooComplex
from core.models import TaskSpec
from core.reservations import _reserving as reserving
from core.reservations._patterns import MAX_PATTERN, matches, normalise
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import ROOT, cli_env, query, run_cli

pytestmark = pytest.mark.both_databases


@pytest.fixture(autouse=True)
def _no_approvals(service: SwarmService) -> None:
    """The overlap rules alone: reservations with no task are made at once here (a wide or
    task-less one waiting for a person is tests/reservations/test_approval.py's)."""
    service.reservations.hold = None


# one segment of 146 wildcards against two segments of 140: no common path, and each pair
# takes the breadth-first search through ~40,000 pairs of states (~84,000 steps)
MINE = ["*" + "a*" * 146 + f"{n:03d}*" for n in range(200)]
HELD = ["*" + "b*" * 140 + f"/x{n}" for n in range(10)]


def test_the_globs_are_within_the_documented_limits() -> None:
    assert len(MINE) == reserving.MAX_PATTERNS
    assert all(len(p) <= MAX_PATTERN and normalise(p) == p for p in MINE + HELD)


async def test_other_writes_go_on_while_a_heavy_reserve_is_checked(
    service: SwarmService,
) -> None:
    """One pattern against 8 held (~670,000 steps, accepted): the service's own writes (a
    coordinator's hooks and tasks) go through while the check runs."""
    await service.reservations.reserve("Agent-2", HELD[:8], exclusive=False)
    heavy = asyncio.create_task(service.reservations.reserve("Agent-1", MINE[:1]))
    started = time.monotonic()
    made_meanwhile = 0
    while not heavy.done():
        await service.tasks.create(TaskSpec(f"Beside the check {made_meanwhile}"), "boss")
        made_meanwhile += heavy.done() is False
    took = time.monotonic() - started
    assert [r.pattern for r in heavy.result()] == MINE[:1]
    assert made_meanwhile >= 3, f"{made_meanwhile} tasks made during a {took:.2f} s reserve"


async def test_a_check_beyond_the_budget_is_refused_in_one_line(service: SwarmService) -> None:
    await service.reservations.reserve("Agent-2", HELD, exclusive=False)
    started = time.monotonic()
    with pytest.raises(TooComplex) as err:
        await service.reservations.reserve("Agent-1", MINE)
    said = str(err.value)
    assert "more than 1,000,000 steps" in said and "nothing reserved" in said, said
    assert "\n" not in said
    assert time.monotonic() - started < 30  # before: 111 s (200 x 10 pairs, all decided)
    assert query(
        service.settings, "SELECT count(*) FROM reservations WHERE agent = $1", ("Agent-1",)
    ) == [(0,)]
    with pytest.raises(TooComplex, match="ask about fewer or plainer patterns"):
        await service.reservations.conflicts(MINE)
    # plain patterns still go through beside them
    await service.reservations.reserve("Agent-1", ["src/api/**", "docs/*.md"])


async def test_the_transaction_checks_only_what_changed_since_the_check(
    service: SwarmService,
) -> None:
    await service.reservations.reserve("Agent-2", HELD[:3], exclusive=False)
    await service.reservations.reserve("Agent-3", ["src/api/**"])
    now = service.clock.now()
    others = await service.store.read(reserving.others_live, now, "Agent-1")
    wanted = [MINE[0]]
    # what changed is too much to decide inside the transaction: check again outside it
    with pytest.raises(reserving.Stale):
        await service.store.write("Agent-1", reserving.reserve, "Agent-1", wanted, True, None, [])
    # a reservation made since the check is decided in the transaction
    checked = [r for r in others if r.agent == "Agent-2"]
    with pytest.raises(ReservationConflict, match="Agent-3's exclusive reservation src/api/"):
        await service.store.write(
            "Agent-1", reserving.reserve, "Agent-1", ["src/**"], True, None, checked
        )
    assert query(
        service.settings, "SELECT count(*) FROM reservations WHERE agent = $1", ("Agent-1",)
    ) == [(0,)]
    # what was checked outside is not checked again: the heavy pairs cost nothing here
    made = await service.store.write(
        "Agent-1", reserving.reserve, "Agent-1", wanted, True, None, others
    )
    assert [r.pattern for r in made] == wanted


def test_a_heavy_reserve_in_its_own_process_leaves_task_add_working(
    settings: Settings, cli_home: Path
) -> None:
    """The attack as tried: 10 held, 200 new in one ``swarm reserve``; ``swarm task add``
    beside it (a busy timeout of 10 s) succeeds each time while the reserve runs (before:
    the reserve held SQLite's write lock for 111 s and ``task add`` failed at its busy
    timeout)."""
    home = cli_home
    assert run_cli(home, "reserve", "--shared", *HELD, agent="Agent-2").code == 0
    env = cli_env(home, agent="Agent-1", env={"SWARM_BUSY_TIMEOUT": "10"})
    heavy = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "reserve", *MINE],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    added = 0
    try:
        while heavy.poll() is None:
            done = run_cli(home, "task", "add", f"Beside {added}", env={"SWARM_BUSY_TIMEOUT": "10"})
            assert done.code == 0, done.err
            added += 1
        out, err = heavy.communicate(timeout=30)
    finally:
        heavy.kill()
        heavy.wait()
    assert added >= 1
    assert heavy.returncode == 2 and out == "" and err.count("\n") == 1, err
    assert "takes more than 1,000,000 steps" in err


@pytest.mark.parametrize(
    ("pattern", "near", "path"),
    [
        ("*" + "a*" * 12 + "b", "a" * 40, "a" * 40 + "b"),  # before: 155 s
        ("/".join(["**", "a"] * 30) + "/b", "/".join(["a"] * 60), "/".join(["a"] * 60 + ["b"])),
        ("*" + "a*" * 140 + "b", "a" * 4000, "a" * 4000 + "b"),
    ],
    ids=["stars", "double-stars", "long-path"],
)
def test_matching_a_path_never_backtracks_without_end(pattern: str, near: str, path: str) -> None:
    """What the pre-commit hook and ``task merge`` run against every exclusive reservation
    (``files_touching``): a path that almost matches a pattern of many wildcards."""
    started = time.monotonic()
    assert not matches(normalise(pattern), near)
    assert matches(normalise(pattern), path)
    assert time.monotonic() - started < 2
