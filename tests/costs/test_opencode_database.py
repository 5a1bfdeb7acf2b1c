"""Issue 51, item 4: opencode's own database read for each turn's usage and cost (the tmux
and desktop routes). The file is a real one: opencode 1.18.33 in tmux (tests/agents/launch.py's
setup) answering two prompts against localmodel scripted to report 4321 input and 87 output
tokens, then 5000 and 13 (its workspace ``WORK``, under /tmp/h51/opencode/root where it ran;
the database as opencode left it, its write-ahead log checkpointed into it). Always read from
a copy: a reader's read-only open makes the database's -shm and -wal files next to it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from core.clis.opencode import database
from core.clis.opencode.database import DatabaseReader, data_dir
from core.models import Agent, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.watch import usage_files
from core.watch.usage_files import UsageFiles

pytestmark = pytest.mark.both_databases
FILES_DAY = 1_795_651_200.0  # 2026-11-26 00:00 UTC, before every turn of the files here


@pytest.fixture
def clock() -> ManualClock:
    """The day the files were written, before their turns began: a turn is on the task
    its agent held when it began."""
    return ManualClock(FILES_DAY)


FIXTURE = Path(__file__).parent / "data" / "opencode-1.18.33.db"
WORK = "/tmp/h51/opencode/root/work"
SESSION = "ses_de8a4334cffepe54PftScAHGgP"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    copy = tmp_path / "opencode" / "opencode.db"
    copy.parent.mkdir()
    shutil.copy(FIXTURE, copy)
    return copy


def usage(inp: int, out: int) -> dict[str, int]:
    return {"input_tokens": inp, "output_tokens": out, "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0}  # fmt: skip


def answer(db: Path, prompt: str, n: int, finish: str, cost: float, **tokens: Any) -> None:
    """An answer to ``prompt`` added as opencode writes one (its row's shape in 1.18.33)."""
    data = {"parentID": prompt, "role": "assistant", "cost": cost, "modelID": "local-model",
            "tokens": {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0},
                       **tokens},
            "time": {"created": 1795688300000 + n, "completed": 1795688300000 + n},
            "finish": finish}  # fmt: skip
    _insert(db, n, data)


def stopped(db: Path, prompt: str, n: int) -> None:
    """The answer to ``prompt`` a stop ended, as 1.18.33 writes it (Escape twice in tmux):
    no ``finish``, an aborted error, every token 0."""
    data = {"parentID": prompt, "role": "assistant", "cost": 0, "modelID": "local-model",
            "tokens": {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}},
            "time": {"created": 1795688300000 + n, "completed": 1795688300000 + n},
            "error": {"name": "MessageAbortedError", "data": {"message": "Aborted"}}}  # fmt: skip
    _insert(db, n, data)


def _insert(db: Path, n: int, data: dict[str, Any]) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(
            "INSERT INTO message (id, session_id, time_created, time_updated, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (f"msg_test{n}", SESSION, 1795688300000 + n, 1795688300000 + n, json.dumps(data)),
        )


def test_each_turn_is_its_prompts_answers_and_opencodes_zero_cost_is_unknown(db: Path) -> None:
    reader = DatabaseReader(db, WORK)
    first, second = reader.read()
    assert (first.usage, second.usage) == (usage(4321, 87), usage(5000, 13))
    assert first.model == second.model == "local-model"
    assert first.cost_usd is None and second.cost_usd is None  # it said 0: no price known
    assert first.session == second.session == SESSION
    assert first.ref == f"opencode:{SESSION}:msg_2175bcf15001pLYi5SMT2gChKV"
    assert first.ref != second.ref
    assert reader.read() == []  # nothing new
    assert DatabaseReader(db, "/srv/other").read() == []  # another workspace's sessions


def test_a_turn_with_tool_calls_ends_at_its_last_answer(db: Path) -> None:
    """A prompt's answers (one per model call) are one turn, which ends at the answer that
    is no tool call; its cost is theirs, unknown when one of them said none."""
    reader = DatabaseReader(db, WORK)
    reader.read()
    answer(db, "msg_p1", 1, "tool-calls", 0.5, input=100, output=10, reasoning=2)
    assert reader.read() == []
    answer(db, "msg_p1", 2, "stop", 0.25, input=200, output=20, cache={"read": 50, "write": 7})
    (turn,) = reader.read()
    assert turn.usage == {**usage(300, 32), "cache_read_input_tokens": 50,
                          "cache_creation_input_tokens": 7}  # fmt: skip
    assert turn.cost_usd == pytest.approx(0.75)
    answer(db, "msg_p2", 3, "tool-calls", 0.5, input=1)
    answer(db, "msg_p2", 4, "stop", 0, input=1, output=True)  # no count: left out
    (turn,) = reader.read()
    assert turn.cost_usd is None and turn.usage["output_tokens"] == 0
    assert reader.read() == []


@pytest.mark.parametrize("content", [b"", b"not a database", None])
def test_a_database_that_cannot_be_read_gives_no_turn(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "opencode.db"
    if content is not None:
        path.write_bytes(content)
    assert DatabaseReader(path, WORK).read() == []


async def test_the_watch_records_the_turns_that_end_after_its_first_look(
    service: SwarmService, tmp_path: Path, db: Path
) -> None:
    agent = Agent("T", "dev", cli="opencode", delivery="tmux", tmux="s:1", workspace=WORK)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"opencode": tmp_path})
    assert data_dir(tmp_path, WORK) == db.parent
    task = await service.tasks.create(TaskSpec("count", agent="T"), "test")
    await service.queue.assign_batch()
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0  # first look: the database's past is not counted
    answer(db, "msg_p1", 1, "stop", 0.01, input=4321, output=87)
    assert await watch.tick() == 1
    assert await watch.tick() == 0
    spend = await service.costs.of_task(task.id)
    assert (spend["cost"].input, spend["cost"].output) == (4321, 87)
    assert spend["cost"].cost_usd == pytest.approx(0.01)


async def test_a_stopped_turn_is_booked_of_unknown_usage_never_short(
    service: SwarmService, tmp_path: Path, db: Path
) -> None:
    """Issue 79: a turn a stop ended (its answer aborted: its usage never came, though the
    model was asked) is a turn of unknown usage and cost, not its other answers' sum; the
    turn after it is known, and the task's tokens read as more than counted."""
    agent = Agent("T", "dev", cli="opencode", delivery="tmux", tmux="s:1", workspace=WORK)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"opencode": tmp_path})
    task = await service.tasks.create(TaskSpec("count", agent="T"), "test")
    await service.queue.assign_batch()
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0
    answer(db, "msg_p1", 1, "tool-calls", 0.0, input=2398, output=13)
    stopped(db, "msg_p1", 2)
    assert await watch.tick() == 1
    answer(db, "msg_p2", 3, "stop", 0.0, input=2412, output=5)
    assert await watch.tick() == 1
    spent = (await service.costs.of_task(task.id))["cost"]
    assert (spent.turns, spent.no_usage, spent.unknown, spent.input) == (2, 1, 1, 2412)
    assert spent.count_text(spent.input) == "2412+"


@pytest.mark.parametrize(
    ("env", "found"),
    [
        ({"HOME": "/home/u", "XDG_DATA_HOME": "/data"}, Path("/data")),
        ({"HOME": "/home/u"}, Path("/home/u/.local/share")),
        ({}, None),
    ],
)
def test_opencodes_folder_is_xdg_data_home_else_its_folder_in_home(
    env: dict[str, str], found: Path | None
) -> None:
    from core.settings import cli_dirs

    assert cli_dirs(env).get("opencode") == found


def test_a_turn_began_at_its_first_answers_creation(db: Path) -> None:
    assert [turn.at for turn in DatabaseReader(db, WORK).read()] == [
        1795688225.294, 1795688259.517
    ]  # fmt: skip


def test_a_turn_cut_short_by_the_next_prompt_ends_when_that_ones_answer_comes(db: Path) -> None:
    """Measured in a day of 1.18.33 (bench/day_real.py --usage): a prompt typed while the
    model's tool call (swarm's report) ran is answered next, the tool's result with it: the
    earlier prompt's turn has its tool call's answer only and no answer that ends it. It is
    over once an answer to the later prompt comes (before, it was never recorded: T-4's
    2980 input and 11 output tokens missing from the ledger)."""
    reader = DatabaseReader(db, WORK)
    reader.read()  # the file's own two turns
    answer(db, "msg_p1", 1, "tool-calls", 0.0, input=2980, output=11)
    assert reader.read() == []  # its turn still open
    answer(db, "msg_p2", 2, "tool-calls", 0.0, input=3123, output=11)
    answer(db, "msg_p2", 3, "stop", 0.0, input=3131, output=2)
    cut, later = reader.read()
    assert (cut.usage, cut.ref) == (usage(2980, 11), f"opencode:{SESSION}:msg_p1")
    assert later.usage == usage(3123 + 3131, 13)
    assert reader.read() == []


@pytest.mark.timeout(30, method="thread")  # SQLite retries an interrupted open: no signal ends it
def test_a_database_its_agent_planted_is_not_read_and_holds_nothing(
    db: Path, tmp_path: Path
) -> None:
    """The database is in the agent's CLI state (a sandboxed agent's own copy): before, a
    FIFO there, or a ``message`` view over an endless recursive query, held the usage
    tick for good (every agent's). Now such a file gives no turn, at once: a link, a FIFO,
    a view, or tables whose read runs past its bound (before: 2000 turns of 9 million rows
    sorted, ~2 s here, its rows' count the agent's choice); a real database reads as
    before."""
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "fifo.db").parent.mkdir(exist_ok=True)
    os.mkfifo(planted / "fifo.db")
    (planted / "link.db").symlink_to(db)
    with closing(sqlite3.connect(planted / "view.db")) as conn:
        conn.executescript(
            "CREATE TABLE session(id TEXT, directory TEXT);"
            "CREATE VIEW message AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
            "FROM c) SELECT 'i' AS id, 's' AS session_id, x AS time_updated, 'd' AS data "
            "FROM c WHERE x < 0;"
        )
    slow = planted / "slow.db"  # plain tables, answers, and a read of 9 million rows
    shutil.copy(db, slow)
    done = {
        "role": "assistant",
        "cost": 0,
        "modelID": "m",
        "finish": "stop",  # an answer
        "tokens": {"input": 1, "output": 1},
        "time": {"created": 1, "completed": 2},
    }
    with closing(sqlite3.connect(slow)) as conn, conn:
        conn.executemany(
            "INSERT INTO message (id, session_id, time_created, time_updated, data) "
            "VALUES (?, 's', 0, 0, ?)",
            [(f"m{i}", json.dumps({**done, "parentID": f"p{i}"})) for i in range(3000)],
        )  # fmt: skip
        conn.execute("DROP TABLE session")
        conn.execute(
            "CREATE TABLE session AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
            "FROM c WHERE x < 3000) SELECT 's' AS id, ? AS directory FROM c",
            (WORK,),
        )  # 3000 sessions of one id: each answer joined 3000 times, sorted
    for name in ("fifo.db", "link.db", "view.db", "slow.db"):
        assert DatabaseReader(planted / name, WORK).read() == [], name
    assert len(DatabaseReader(db, WORK).read()) == 2  # the real one, as before


@pytest.mark.timeout(60)
async def test_a_fifo_swapped_in_after_the_check_holds_no_tick(
    service: SwarmService,
    tmp_path: Path,
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The check that the database is a regular file and SQLite's own open are two opens
    of one path: an agent that swaps a FIFO in between wins the race (here, at once). The
    read then blocks until the agent lets it go; the tick waits for it ``READ_S`` at most,
    says so once and goes on, later ticks skip the agent while that read runs, and the
    turn it missed is read once the agent lets go (before, the tick, and every agent's
    usage with it, waited for good)."""
    agent = Agent("T", "dev", cli="opencode", delivery="tmux", tmux="s:1", workspace=WORK)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"opencode": tmp_path})
    await service.tasks.create(TaskSpec("count", agent="T"), "test")
    await service.queue.assign_batch()
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0
    answer(db, "msg_p1", 1, "stop", 0.01, input=4321, output=87)
    monkeypatch.setattr(usage_files, "READ_S", 0.5, raising=False)
    real, checked = db.with_name("real.db"), database._require_regular
    swapped: list[Path] = []

    def raced(path: Path) -> None:  # the agent's swap, once, just after the check passed
        checked(path)
        if not swapped:
            swapped.append(path)
            os.rename(db, real)
            os.mkfifo(db)

    monkeypatch.setattr(database, "_require_regular", raced)
    assert await watch.tick() == 0  # the tick went on
    assert caplog.text.count("T: its CLI's files took over 0.5 s to read") == 1
    assert await watch.tick() == 0 and not watch.reading["T"].done()  # skipped meanwhile
    os.close(os.open(db, os.O_WRONLY | os.O_NONBLOCK))  # the agent lets it go (at EOF)
    await asyncio.wait([watch.reading["T"]])
    os.replace(real, db)
    assert await watch.tick() == 0  # the read that ended: it found nothing
    assert await watch.tick() == 1  # the turn, read afresh
    assert caplog.text.count("took over") == 1
    said = [e for e in await service.history.events(limit=50) if e.kind == "usage.overran"]
    assert len(said) == 1 and said[0].text.startswith("T's CLI files took over 0.5 s")


async def test_a_refused_database_is_said_once_as_an_event_until_it_reads_again(
    service: SwarmService, tmp_path: Path, db: Path
) -> None:
    """The database its agent made a view (or a link, a FIFO) gives no turn: before, only
    the log said so, and the person saw an agent whose usage was never counted. Now it is a
    ``usage.refused`` event (Discord, ``swarm events``, the dashboard), once until a read of
    it works again, and said again if it is refused again."""
    agent = Agent("T", "dev", cli="opencode", delivery="tmux", tmux="s:1", workspace=WORK)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"opencode": tmp_path})
    watch = UsageFiles(service.store)

    async def said() -> list[str]:
        events = await service.history.events(limit=50)
        return [e.text for e in events if e.kind == "usage.refused"]

    real = db.with_name("real.db")
    os.rename(db, real)
    os.symlink(real, db)  # the agent's link in its CLI's state
    assert await watch.tick() == 0
    assert await watch.tick() == 0
    assert await said() == [
        f"T's usage is not counted while its CLI's file is refused: {db} is a symbolic link"
    ]
    os.unlink(db)
    os.rename(real, db)
    await watch.tick()  # read again (its turns, as the reader first sees them)
    assert len(await said()) == 1  # nothing more to say
    os.rename(db, real)
    os.symlink(real, db)
    assert await watch.tick() == 0 and len(await said()) == 2  # refused anew: said anew
