"""Issue 51, item 4: Gemini CLI's own saved chat read for each answer's usage (the tmux and
desktop routes). The files are real ones: Gemini CLI 0.61.0 in tmux (tests/agents/launch.py's
setup) answering two prompts against localmodel scripted to report 4321 input and 87 output
tokens, then 5000 and 13: its chat and its ``projects.json`` (its workspace ``WORK``, under
/tmp/h51/gemini/root where it ran)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from core.clis.gemini.chats import ChatReader, chats_dir
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


DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "gemini-0.61.0-chat.jsonl"
PROJECTS = DATA / "gemini-0.61.0-projects.json"
WORK = "/tmp/h51/gemini/root/work"
SESSION = "151590c2-0608-44ee-99a9-bf2e2882e298"


def usage(inp: int, out: int) -> dict[str, int]:
    return {"input_tokens": inp, "output_tokens": out, "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0}  # fmt: skip


def test_each_answer_is_a_turn_with_its_tokens() -> None:
    reader = ChatReader(FIXTURE)
    first, second = reader.read()
    assert (first.usage, second.usage) == (usage(4321, 87), usage(5000, 13))
    assert first.model == second.model == "gemini-3.8-flash"
    assert first.cost_usd is None  # Gemini CLI writes no cost
    assert first.session == second.session == SESSION
    assert first.ref == f"gemini:{SESSION}:92523a73-aad2-4c15-bd24-6821f41da15b"
    assert reader.read() == []


def test_a_rewrite_gives_no_answer_twice_and_the_cached_part_is_cache_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "session-x.jsonl"
    shutil.copy(FIXTURE, path)
    reader = ChatReader(path)
    assert len(reader.read()) == 2
    answers = [json.loads(x) for x in FIXTURE.read_text().splitlines() if '"gemini"' in x]
    new = {**answers[0], "id": "n1", "tokens": {"input": 900, "cached": 600, "output": 4,
                                                "thoughts": 3, "tool": 5}}  # fmt: skip
    with path.open("a") as handle:
        handle.write(json.dumps({"$set": {"messages": [*answers, new]}}) + "\n")
        handle.write('{"type": "gemini", "id": "n2", "tokens": "many"}\n[]\n')
    (turn,) = reader.read()
    assert turn.usage == {**usage(305, 7), "cache_read_input_tokens": 600}


def test_the_folder_of_a_workspaces_chats_is_named_in_projects_json(tmp_path: Path) -> None:
    assert chats_dir(tmp_path, WORK) == tmp_path / ".gemini" / "tmp" / "-"  # no file yet
    (tmp_path / ".gemini").mkdir()
    shutil.copy(PROJECTS, tmp_path / ".gemini" / "projects.json")
    assert chats_dir(tmp_path, WORK) == tmp_path / ".gemini" / "tmp" / "work" / "chats"
    assert chats_dir(tmp_path, "/srv/other") == tmp_path / ".gemini" / "tmp" / "-"
    for bad in ('{"projects": {"/w": "../x"}}', '{"projects": {"/w": 3}}', "[]", "{"):
        (tmp_path / ".gemini" / "projects.json").write_text(bad)
        assert chats_dir(tmp_path, "/w") == tmp_path / ".gemini" / "tmp" / "-"


async def test_the_watch_records_the_answers_written_after_its_first_look(
    service: SwarmService, tmp_path: Path
) -> None:
    agent = Agent("T", "dev", cli="gemini", delivery="tmux", tmux="s:1", workspace=WORK)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"gemini": tmp_path})
    (tmp_path / ".gemini").mkdir()
    shutil.copy(PROJECTS, tmp_path / ".gemini" / "projects.json")
    folder = chats_dir(tmp_path, WORK)
    folder.mkdir(parents=True)
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    first_end = next(i for i, line in enumerate(lines) if b'"type":"gemini"' in line) + 1
    chat = folder / "session-2026-11-26T10-26-151590c2.jsonl"
    chat.write_bytes(b"".join(lines[:first_end]))
    task = await service.tasks.create(TaskSpec("and again", agent="T"), "test")
    await service.queue.assign_batch()
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0  # first look: its past is not counted
    with chat.open("ab") as handle:
        handle.write(b"".join(lines[first_end:]))
    assert await watch.tick() == 1
    assert await watch.tick() == 0
    spend = await service.costs.of_task(task.id)
    assert (spend["cost"].input, spend["cost"].output) == (5000, 13)


@pytest.mark.parametrize(
    ("env", "found"),
    [
        ({"HOME": "/home/u", "GEMINI_CLI_HOME": "/g"}, Path("/g")),
        ({"HOME": "/home/u"}, Path("/home/u")),
        ({}, None),
    ],
)
def test_gemini_clis_home_is_gemini_cli_home_else_home(
    env: dict[str, str], found: Path | None
) -> None:
    from core.settings import cli_dirs

    assert cli_dirs(env).get("gemini") == found


async def test_a_workspace_gemini_cli_names_after_the_first_look_is_read_from_its_start(
    service: SwarmService, tmp_path: Path
) -> None:
    """Gemini CLI names a workspace in projects.json at its first start there: a chat in a
    folder named after swarm first looked is a session begun while it watched."""
    agent = Agent("T", "dev", cli="gemini", delivery="tmux", tmux="s:1", workspace=WORK)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={"gemini": tmp_path})
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0  # no projects.json yet
    (tmp_path / ".gemini").mkdir()
    shutil.copy(PROJECTS, tmp_path / ".gemini" / "projects.json")
    chats_dir(tmp_path, WORK).mkdir(parents=True)
    shutil.copy(FIXTURE, chats_dir(tmp_path, WORK) / "session-2026-11-26T10-26-151590c2.jsonl")
    assert await watch.tick() == 2


def test_an_answer_is_in_the_turn_of_the_prompt_before_it(tmp_path: Path) -> None:
    """Each answer's turn began at the last prompt before it (10:26:39.048Z, 10:26:43.852Z);
    a tool's answer given back is a ``user`` message too (of ``functionResponse`` parts, as
    0.61.0 writes a swarm report's): no prompt, so the answer after it (the turn's last,
    written after the report) is still in the turn the prompt began."""
    assert [turn.at for turn in ChatReader(FIXTURE).read()] == [1795688799.048, 1795688803.852]
    report = {
        "id": "u2",
        "timestamp": "2026-11-26T15:47:31.650Z",
        "type": "user",
        "content": [
            {
                "functionResponse": {
                    "id": "r1",
                    "name": "mcp_swarm_report",
                    "response": {"output": "T-3 done"},
                }
            }
        ],
    }
    lines = [
        {"id": "u1", "timestamp": "2026-11-26T15:47:26.326Z", "type": "user",
         "content": [{"text": "T-3: do it"}]},
        {"id": "g1", "timestamp": "2026-11-26T15:47:27.154Z", "type": "gemini",
         "tokens": {"input": 10, "output": 1}},
        report,
        {"id": "g2", "timestamp": "2026-11-26T15:47:32.126Z", "type": "gemini",
         "tokens": {"input": 12, "output": 2}},
        {"id": "g3", "timestamp": 7, "type": "gemini", "tokens": {"input": 1}},
    ]  # fmt: skip
    path = tmp_path / "session.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    began = 1795708046.326  # 15:47:26.326Z
    assert [turn.at for turn in ChatReader(path).read()] == [began, began, began]
