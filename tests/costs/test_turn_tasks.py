"""Issue 51: each turn's usage on the task it was spent for, not the task its agent holds when
swarm reads the turn. An agent that reports its task done inside a turn holds its next task
by the time the turn's end is read (day_real.py --usage found T-1's tokens on T-7): read from
a CLI's own files (the tmux and desktop routes), a turn goes on the task held when it began;
on the protocol route, on the task of the delivery that started it (real store, SQLite and
PostgreSQL; each CLI's real files of two turns, tests/costs/data)."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.clis.claude_code.transcript import transcript_dir
from core.clis.codex.rollout import sessions_dir
from core.clis.gemini.chats import chats_dir
from core.models import Agent, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.tasks._queries import held_at
from core.watch.usage_files import UsageFiles
from tests.costs import test_codex_rollout as codex
from tests.costs import test_gemini_chats as gemini
from tests.costs import test_opencode_database as opencode
from tests.costs.test_ledger import (
    CLAUDE,
    Journal,
    assigned,
    newest_delivery,
    rows,
    with_agents,
)

pytestmark = pytest.mark.both_databases
DATA = Path(__file__).parent / "data"
FILES_DAY = 1_795_651_200.0  # 2026-11-26 00:00 UTC, before every turn of the files here
CLAUDE_WORK = "/tmp/h51/claude/root/work"


@pytest.fixture
def clock() -> ManualClock:
    """The day the files were written, before their turns began."""
    return ManualClock(FILES_DAY)


def _claude(home: Path, now: float) -> None:
    folder = transcript_dir(home, CLAUDE_WORK)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "claude-code-2.1.328-tmux-transcript.jsonl", folder / "s.jsonl")


def _codex(home: Path, now: float) -> None:
    day = sessions_dir(home, codex.WORK) / time.strftime("%Y/%m/%d", time.localtime(now))
    day.mkdir(parents=True, exist_ok=True)
    shutil.copy(codex.FIXTURE, day / codex.NAME)


def _gemini(home: Path, now: float) -> None:
    (home / ".gemini").mkdir(exist_ok=True)
    shutil.copy(gemini.PROJECTS, home / ".gemini" / "projects.json")
    folder = chats_dir(home, gemini.WORK)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(gemini.FIXTURE, folder / "session-2026-11-26T10-26-151590c2.jsonl")


def _opencode(home: Path, now: float) -> None:
    (home / "opencode").mkdir(exist_ok=True)
    shutil.copy(opencode.FIXTURE, home / "opencode" / "opencode.db")


# each CLI: its workspace, how its session is written, and its first turn's first answer
# (its time in the file: the report of the test is made just after it, inside the turn)
CLIS: dict[str, tuple[str, Callable[[Path, float], None], float]] = {
    "claude-code": (CLAUDE_WORK, _claude, 1795689018.493),  # 10:30:18.493Z, ends 18.537
    "codex": (codex.WORK, _codex, 1795687231.048),  # task_started 10:00:31.048Z, ends 31.324
    "gemini": (gemini.WORK, _gemini, 1795688799.048),  # prompt 10:26:39.048Z, answer 39.166
    "opencode": (opencode.WORK, _opencode, 1795688225.294),  # answer begun 10:17:05.294
}


@pytest.mark.parametrize("cli", list(CLIS))
async def test_a_turn_whose_report_came_inside_it_is_on_its_own_task(
    service: SwarmService, clock: ManualClock, tmp_path: Path, cli: str
) -> None:
    """Agent T holds task A; inside its first turn it reports A done and is given B, and its
    second turn is B's. Both turns are read together after that (the watch's next tick):
    the first on A, the second on B (before: both on B, the task held when read)."""
    work, write_session, inside_first = CLIS[cli]
    agent = Agent("T", "dev", cli=cli, delivery="tmux", tmux="s:1", workspace=work)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    home = tmp_path / "cli-home"
    home.mkdir()
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={cli: home})
    first = await service.tasks.create(TaskSpec("first", agent="T"), "test")
    await service.queue.assign_batch()
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0  # its first look: no session yet
    clock.advance(inside_first + 0.01 - clock.now())  # inside the first turn
    await service.tasks.complete(first.id, "T")
    second = await service.tasks.create(TaskSpec("second", agent="T"), "test")
    await service.queue.assign_batch()
    clock.advance(60.0)  # both turns over, read at the next tick
    write_session(home, clock.now())
    assert await watch.tick() == 2
    spent_first = (await service.costs.of_task(first.id))["cost"]
    spent_second = (await service.costs.of_task(second.id))["cost"]
    assert (spent_first.turns, spent_first.input, spent_first.output) == (1, 4321, 87)
    assert (spent_second.turns, spent_second.input, spent_second.output) == (1, 5000, 13)


async def test_a_turn_begun_while_its_agent_held_no_task_is_on_none(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """A turn that began before the agent's task was given (its time in the file) is on no
    task, though the agent holds one when it is read: never guessed."""
    agent = Agent("T", "dev", cli="claude-code", delivery="tmux", tmux="s:1", workspace=CLAUDE_WORK)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    home = tmp_path / "cli-home"
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"claude-code": home})
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0
    clock.advance(1795689020.0 - clock.now())  # between the two turns
    task = await service.tasks.create(TaskSpec("later", agent="T"), "test")
    await service.queue.assign_batch()
    _claude(home, clock.now())
    assert await watch.tick() == 2
    spent = (await service.costs.of_task(task.id))["cost"]
    assert (spent.turns, spent.input) == (1, 5000)  # the second turn; the first on none
    found = await rows(service)
    assert [(r["task_id"], r["input_tokens"]) for r in found] == [(None, 4321), (task.id, 5000)]


async def test_the_task_held_at_a_time_follows_its_holders(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """``held_at``: the task an agent held at a time, through a requeue (given to another
    agent), a done and a reopen (the database's record of each change of holder)."""
    await with_agents(service, tmp_path)
    task_id = await assigned(service, "a", "P1")  # at FILES_DAY
    clock.advance(10)
    await service.tasks.requeue(task_id, "test")
    await service.tasks.assign(task_id, "P2", "test")
    await service.queue.assign_batch()  # P2's since FILES_DAY + 10
    clock.advance(10)
    await service.tasks.complete(task_id, "P2")  # done at FILES_DAY + 20

    found = await service.store.read(
        lambda conn: [
            (agent, at, held_at(conn, agent, FILES_DAY + at))
            for agent in ("P1", "P2")
            for at in (-1, 0, 5, 10, 15, 20, 25)
        ]
    )
    assert [(agent, at) for agent, at, task in found if task == task_id] == [
        ("P1", 0), ("P1", 5), ("P2", 10), ("P2", 15)
    ]  # fmt: skip


async def test_a_protocol_turn_is_on_the_task_of_the_delivery_that_started_it(
    service: SwarmService, tmp_path: Path
) -> None:
    """The host's journal names the delivery that started each turn: a turn whose task was
    reported done inside it, its end read once the agent holds its next task, is on its own
    task; a turn started by a message about no task is on none."""
    await with_agents(service, tmp_path)
    first = await assigned(service, "first", "P1")
    journal = Journal(service, "P1")
    delivery = await service.store.read(newest_of, "P1")
    await service.tasks.complete(first, "P1")  # reported inside the turn
    second = await assigned(service, "second", "P1")
    journal.seq += 1
    turn = {"seq": journal.seq, "type": "turn", "delivery": delivery}
    journal.seq += 1
    end = {"seq": journal.seq, "type": "turn_end", "delivery": delivery, "usage": CLAUDE,
           "cost_usd": 0.5}  # fmt: skip
    await journal.again([turn, end])
    await journal.turn(usage=CLAUDE, cost_usd=0.25)  # the second task's prompt
    await service.messages.send("P1", "please read the new guidelines", "person")
    await journal.turn(usage=CLAUDE, cost_usd=0.125)  # the message's turn: no task's
    found = [(r["task_id"], r["cost_usd"]) for r in await rows(service)]
    assert found == [(first, 0.5), (second, 0.25), (None, 0.125)]


def newest_of(conn: Any, agent: str) -> int:
    found = newest_delivery(conn, agent)
    assert found is not None
    return found
