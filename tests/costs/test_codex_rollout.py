"""Issue 51, item 4: Codex's own session rollout read for each turn's usage (the tmux and
desktop routes). The file is a real one: Codex 0.169.0 in tmux (tests/agents/launch.py's
setup) answering two prompts against localmodel scripted to report 4321 input and 87 output
tokens, then 5000 and 13 (written under /tmp/h51/codex/root, its workspace ``WORK``)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from core.clis.codex.rollout import RolloutReader, session_cwd, sessions_dir
from core.models import Agent, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.watch.usage_files import UsageFiles

pytestmark = pytest.mark.both_databases
FILES_DAY = 1_795_651_200.0  # 2026-11-26 00:00 UTC, before every turn of the files here


@pytest.fixture
def clock() -> ManualClock:
    """The day the files were written, before their turns began: a turn is on the task
    its agent held when it began."""
    return ManualClock(FILES_DAY)


FIXTURE = Path(__file__).parent / "data" / "codex-0.169.0-rollout.jsonl"
WORK = "/tmp/h51/codex/root/work"
SESSION = "01a2174c-ad5f-7242-868b-b3a5a57107b1"
NAME = f"rollout-2026-11-26T10-00-30-{SESSION}.jsonl"


def usage(inp: int, out: int) -> dict[str, int]:
    return {"input_tokens": inp, "output_tokens": out, "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0}  # fmt: skip


def test_each_turn_is_what_the_sessions_running_total_grew_by() -> None:
    reader = RolloutReader(FIXTURE)
    first, second = reader.read()
    assert (first.usage, second.usage) == (usage(4321, 87), usage(5000, 13))
    assert first.model == second.model == "local-model"
    assert first.cost_usd is None and second.cost_usd is None  # Codex writes no cost
    assert first.session == second.session == SESSION
    assert first.ref == f"rollout:{SESSION}:01a2174c-ae23-7562-bad5-019956766f5f"
    assert first.ref != second.ref
    assert reader.read() == []  # nothing new


def test_a_line_being_written_waits_and_a_file_read_in_pieces_gives_the_same_turns(
    tmp_path: Path,
) -> None:
    data = FIXTURE.read_bytes()
    path = tmp_path / NAME
    reader = RolloutReader(path)
    assert reader.read() == []  # no file yet
    found = []
    for cut in range(0, len(data), 3001):
        with path.open("ab") as handle:
            handle.write(data[cut : cut + 3001])
        found += reader.read()
    assert found == RolloutReader(FIXTURE).read()


def test_a_cached_input_is_its_own_kind_and_a_repeated_count_adds_nothing(
    tmp_path: Path,
) -> None:
    """OpenAI's input counts its cached part: the ledger's input is the rest. A
    ``token_count`` said again (the same running total) is no new usage."""
    total = {"input_tokens": 1000, "cached_input_tokens": 600, "output_tokens": 5}
    count = {"type": "event_msg", "payload": {"type": "token_count",
                                              "info": {"total_token_usage": total}}}  # fmt: skip
    end = {"type": "event_msg", "payload": {"type": "task_complete", "turn_id": "t1"}}
    path = tmp_path / NAME
    path.write_text("".join(json.dumps(x) + "\n" for x in (count, count, end, end)))
    (turn,) = RolloutReader(path).read()
    assert turn.usage == {**usage(400, 5), "cache_read_input_tokens": 600}
    assert turn.session == SESSION  # from the file's name when no session_meta says it


@pytest.mark.parametrize(
    "first",
    [b"", b'{"type":"session_meta","payload":{"cwd":"/w"', b"[1]\n", b'{"type":"x"}\n',
     b'{"type":"session_meta","payload":{"cwd":7}}\n'],
)  # fmt: skip
def test_a_file_that_says_no_cwd_is_no_workspaces(tmp_path: Path, first: bytes) -> None:
    path = tmp_path / NAME
    path.write_bytes(first)
    assert session_cwd(path) is None
    assert session_cwd(FIXTURE) == WORK


def copy_as(day: Path, prefix: str, cwd: str) -> None:
    """The fixture as another session (its id begun with ``prefix``) run in ``cwd``."""
    session = SESSION.replace("01a2174c", prefix)
    data = FIXTURE.read_bytes().replace(SESSION.encode(), session.encode())
    (day / NAME.replace(SESSION, session)).write_bytes(data.replace(WORK.encode(), cwd.encode()))


async def test_the_watch_reads_only_its_workspaces_sessions_and_a_new_one_from_its_start(
    service: SwarmService, tmp_path: Path
) -> None:
    """Codex's one sessions folder for every workspace: agent T's turns are those of the
    rollouts whose cwd is T's workspace. At the first look the file there (a session begun
    days ago, in its day's folder) is past (not counted) and its next turn is; a session
    started after that (in the folder of the day) is counted from its start; another
    workspace's session is not T's. After the first look only the day's folders and the
    sessions followed are listed: a file put in an old day's folder later is not seen (Codex
    writes none there: its folders keep every session it ever ran)."""
    agent = Agent("T", "dev", cli="codex", delivery="tmux", tmux="s:1", workspace=WORK + "/")
    await service.replace_agents([agent], tmp_path / "agents.toml")
    home = tmp_path / "codex"
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"codex": home})
    old = sessions_dir(home, WORK) / "2026" / "11" / "20"
    today = time.strftime("%Y/%m/%d", time.localtime(service.clock.now()))
    day = sessions_dir(home, WORK) / today
    old.mkdir(parents=True)
    day.mkdir(parents=True)
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    first_end = next(i for i, line in enumerate(lines) if b'"task_complete"' in line) + 1
    session = old / NAME
    session.write_bytes(b"".join(lines[:first_end]))
    task = await service.tasks.create(TaskSpec("and again", agent="T"), "test")
    await service.queue.assign_batch()
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0  # first look: its past is not counted
    with session.open("ab") as handle:
        handle.write(b"".join(lines[first_end:]))
    assert await watch.tick() == 1
    copy_as(day, "0b0b0b0b", "/srv/other")  # another workspace's session, begun later
    copy_as(day, "0c0c0c0c", WORK)
    assert await watch.tick() == 2  # a session begun after the first look: both its turns
    assert await watch.tick() == 0
    copy_as(old, "0d0d0d0d", WORK)  # not in a folder of the day: not listed
    assert await watch.tick() == 0
    spend = await service.costs.of_task(task.id)
    assert (spend["cost"].input, spend["cost"].output) == (5000 + 9321, 13 + 100)
    assert [t["source"] for t in spend["turns"]] == ["transcript"] * 3


@pytest.mark.parametrize(
    ("env", "found"),
    [
        ({"HOME": "/home/u", "CODEX_HOME": "/etc/codex"}, Path("/etc/codex")),
        ({"HOME": "/home/u"}, Path("/home/u/.codex")),
        ({}, None),
    ],
)
def test_codexs_folder_is_codex_home_else_its_folder_in_home(
    env: dict[str, str], found: Path | None
) -> None:
    from core.settings import cli_dirs

    assert cli_dirs(env).get("codex") == found


def test_a_turn_began_at_its_task_started_line() -> None:
    assert [turn.at for turn in RolloutReader(FIXTURE).read()] == [
        1795687231.048, 1795687235.859
    ]  # fmt: skip


INTERRUPTED = Path(__file__).parent / "data" / "codex-0.169.0-rollout-interrupted.jsonl"
INTERRUPTED_WORK = "/tmp/explore-codex/work"
INTERRUPTED_NAME = "rollout-2026-11-29T20-33-17-01a22903-1676-7503-b08c-6a4922d3faba.jsonl"


def test_a_turn_a_stop_cut_is_of_unknown_usage_never_unbooked() -> None:
    """Issue 79 (a real rollout: Codex 0.169.0 in tmux said hello, then was stopped by
    Escape mid-answer against localmodel): the cut turn ends ``turn_aborted`` (reason
    ``interrupted``) and the running total stays at the first turn's, though its request
    was asked. Before, no turn was given for it (nothing grew): booked nowhere."""
    first, cut = RolloutReader(INTERRUPTED).read()
    assert first.usage == usage(4321, 87)
    assert cut.usage == {} and cut.cost_usd is None
    assert cut.ref.endswith(":01a22903-38c8-7a30-bf71-9979f22ee330")
    assert cut.at is not None and first.at is not None and cut.at > first.at


async def test_the_watch_books_a_cut_turn_of_unknown_usage(
    service: SwarmService, tmp_path: Path
) -> None:
    agent = Agent("T", "dev", cli="codex", delivery="tmux", tmux="s:1",
                  workspace=INTERRUPTED_WORK + "/")  # fmt: skip
    await service.replace_agents([agent], tmp_path / "agents.toml")
    home = tmp_path / "codex"
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"codex": home})
    today = time.strftime("%Y/%m/%d", time.localtime(service.clock.now()))
    day = sessions_dir(home, INTERRUPTED_WORK) / today
    day.mkdir(parents=True)
    task = await service.tasks.create(TaskSpec("hello, then a stop", agent="T"), "test")
    await service.queue.assign_batch()
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0
    (day / INTERRUPTED_NAME).write_bytes(INTERRUPTED.read_bytes())
    assert await watch.tick() == 2
    spent = (await service.costs.of_task(task.id))["cost"]
    assert (spent.turns, spent.unknown, spent.input, spent.output) == (2, 1, 4321, 87)
    assert spent.count_text(spent.input) == "4321+"
