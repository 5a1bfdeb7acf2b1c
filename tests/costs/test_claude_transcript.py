"""Issue 51, item 4: Claude Code's own session transcript read for each turn's usage and cost
(the tmux and desktop routes). The file is a real one: Claude Code 2.1.328 run twice
(``claude -p``, then ``--resume``) against localmodel scripted to report 4321 input and 87
output tokens, then 5000 and 13; Claude Code priced them itself (its ``cost-state`` lines:
0.019024, then 0.039284 in all)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from core.clis.claude_code.transcript import TranscriptReader, transcript_dir
from core.costs import turns as turn_cost
from core.models import Agent, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import values

pytestmark = pytest.mark.both_databases
FILES_DAY = 1_795_651_200.0  # 2026-11-26 00:00 UTC, before every turn of the files here


@pytest.fixture
def clock() -> ManualClock:
    """The day the files were written, before their turns began: a turn is on the task
    its agent held when it began."""
    return ManualClock(FILES_DAY)


FIXTURE = Path(__file__).parent / "data" / "claude-code-2.1.328-transcript.jsonl"
# Claude Code 2.1.328 in tmux (tests/agents/launch.py's setup, in /tmp/h51/claude/root/work),
# the same two prompts in one session, then its tmux session ended
IN_TMUX = Path(__file__).parent / "data" / "claude-code-2.1.328-tmux-transcript.jsonl"


def test_each_turn_is_its_answers_usage_and_what_the_sessions_total_grew_by() -> None:
    reader = TranscriptReader(FIXTURE)
    first, second = reader.read()
    assert first.usage == {
        "input_tokens": 4321, "output_tokens": 87, "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }  # fmt: skip
    assert first.cost_usd == pytest.approx(0.019024) and first.model == "claude-opus-5-5"
    assert (second.usage["input_tokens"], second.usage["output_tokens"]) == (5000, 13)
    assert second.cost_usd == pytest.approx(0.039284 - 0.019024)
    assert first.session == second.session == "34633c89-6b08-4037-982f-ba228daa7ea0"
    assert first.ref != second.ref
    assert reader.read() == []  # nothing new


def test_in_its_terminal_a_turn_ends_at_its_turn_duration_line_with_no_cost() -> None:
    """In its terminal 2.1.328 writes no ``cost-state`` until the session ends: each turn
    ends at its ``turn_duration`` line, its cost unknown (the price table's); the session's
    total at its end (0.077332, its side requests with it) is no turn's."""
    reader = TranscriptReader(IN_TMUX)
    first, second = reader.read()
    assert (first.usage["input_tokens"], first.usage["output_tokens"]) == (4321, 87)
    assert (second.usage["input_tokens"], second.usage["output_tokens"]) == (5000, 13)
    assert first.cost_usd is None and second.cost_usd is None
    assert first.model == "claude-opus-5-5" and first.ref != second.ref
    assert reader.read() == []


def test_a_line_being_written_waits_and_a_file_read_in_pieces_gives_the_same_turns(
    tmp_path: Path,
) -> None:
    data = FIXTURE.read_bytes()
    path = tmp_path / "s.jsonl"
    reader = TranscriptReader(path)
    assert reader.read() == []  # no file yet
    found = []
    for cut in range(0, len(data), 7001):
        with path.open("ab") as handle:
            handle.write(data[cut : cut + 7001])
        found += reader.read()
    assert found == TranscriptReader(FIXTURE).read()


def test_the_folder_of_a_workspaces_sessions() -> None:
    assert transcript_dir(Path("/h/.claude"), "/tmp/claude-capture/work") == Path(
        "/h/.claude/projects/-tmp-claude-capture-work"
    )


async def test_the_turns_reach_the_ledger_once(service: SwarmService, tmp_path: Path) -> None:
    agent = Agent("T", "dev", cli="claude-code", account="team", delivery="inbox")
    await service.replace_agents([agent], tmp_path / "agents.toml")
    copy = tmp_path / "copy.jsonl"
    shutil.copy(FIXTURE, copy)
    for _ in range(2):  # read again from the start (a restart): nothing twice
        turns = TranscriptReader(copy).read()
        await service.store.write(
            "T", turn_cost.record_transcript_turns, "T", [(turn, None) for turn in turns]
        )

    def read(conn: Any) -> list[tuple[Any, ...]]:
        rows = conn.execute(
            "SELECT source, input_tokens, output_tokens, cost_usd, cost_from, model "
            "FROM turn_usage ORDER BY id"
        ).fetchall()
        return [values(r) for r in rows]

    found = await service.store.read(read)
    assert found == [
        ("transcript", 4321, 87, pytest.approx(0.019024), "cli", "claude-opus-5-5"),
        ("transcript", 5000, 13, pytest.approx(0.02026), "cli", "claude-opus-5-5"),
    ]


async def test_the_watch_records_the_turns_that_end_after_a_session_is_first_seen(
    service: SwarmService, tmp_path: Path
) -> None:
    """A tmux agent's transcript: its past turns (the first) are not counted, the turn that
    ends after it was first seen is, with the task the agent holds; read again, nothing."""
    import dataclasses

    from core.watch.usage_files import UsageFiles

    work = "/srv/agents/T/work"
    agent = Agent("T", "dev", cli="claude-code", delivery="tmux", tmux="s:1", workspace=work)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(
        service.settings, cli_dirs={"claude-code": tmp_path / "claude"}
    )
    folder = transcript_dir(tmp_path / "claude", work)
    folder.mkdir(parents=True)
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    first_end = next(i for i, line in enumerate(lines) if b'"cost-state"' in line) + 1
    session = folder / "34633c89-6b08-4037-982f-ba228daa7ea0.jsonl"
    session.write_bytes(b"".join(lines[:first_end]))
    task = await service.tasks.create(TaskSpec("and again", agent="T"), "test")
    await service.queue.assign_batch()
    usage = UsageFiles(service.store)
    assert await usage.tick() == 0  # first seen: its past is not counted
    with session.open("ab") as handle:
        handle.write(b"".join(lines[first_end:]))
    assert await usage.tick() == 1
    assert await usage.tick() == 0
    spend = await service.costs.of_task(task.id)
    assert (spend["cost"].input, spend["cost"].output) == (5000, 13)
    assert spend["cost"].cost_usd == pytest.approx(0.02026)
    assert spend["turns"][0]["source"] == "transcript"


@pytest.mark.parametrize(
    ("env", "found"),
    [
        ({"HOME": "/home/u", "CLAUDE_CONFIG_DIR": "/etc/claude"}, Path("/etc/claude")),
        ({"HOME": "/home/u", "CLAUDE_CONFIG_DIR": "  "}, Path("/home/u/.claude")),
        ({"HOME": "/home/u"}, Path("/home/u/.claude")),
        ({}, None),
    ],
)
def test_each_clis_folder_is_its_variable_else_its_folder_in_home(
    env: dict[str, str], found: Path | None
) -> None:
    """The folder whose session files are read, by CLI (Claude Code's ``sessions``):
    ``$CLAUDE_CONFIG_DIR``, else ``$HOME/.claude``; neither set: none is read."""
    from core.settings import cli_dirs

    assert cli_dirs(env).get("claude-code") == found


def test_a_turn_began_at_its_first_answers_time() -> None:
    """Each turn's time is its first answer's line's (10:30:18.493Z, 10:30:23.419Z): the
    task it was spent for is the one its agent held then."""
    assert [turn.at for turn in TranscriptReader(IN_TMUX).read()] == [
        1795689018.493, 1795689023.419
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("2026-11-26T10:30:18.216Z", 1795689018.216),
        ("2026-11-26T11:30:18.216+01:00", 1795689018.216),
        ("2026-11-26T10:30:18.216", None),  # no zone: not known to be UTC
        ("yesterday", None),
        (1795689018.216, None),  # not the file's kind of time
        ("9" * 100, None),
        (None, None),
    ],
)
def test_a_time_in_a_clis_file_is_read_only_as_written(written: Any, found: float | None) -> None:
    from core.clis.session_lines import line_time

    assert line_time(written) == found


OWN = "34633c89-6b08-4037-982f-ba228daa7ea0"  # FIXTURE's session: the agent's, its hooks say
OTHER = "fffd4a57-80e3-4238-9130-b5cbb8914bba"  # IN_TMUX's: a person's own run in the worktree


async def _two_sessions(service: SwarmService, tmp_path: Path) -> tuple[Any, Path]:
    """Agent T in tmux, its workspace's transcript folder empty at the watch's first look,
    then two sessions in it (each read from its start): its own (FIXTURE) and another's."""
    import dataclasses

    from core.watch.usage_files import UsageFiles

    work = "/srv/agents/T/work"
    agent = Agent("T", "dev", cli="claude-code", delivery="tmux", tmux="s:1", workspace=work)
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(
        service.settings, cli_dirs={"claude-code": tmp_path / "claude"}
    )
    folder = transcript_dir(tmp_path / "claude", work)
    folder.mkdir(parents=True)
    usage = UsageFiles(service.store)
    assert await usage.tick() == 0
    shutil.copy(FIXTURE, folder / f"{OWN}.jsonl")
    shutil.copy(IN_TMUX, folder / f"{OTHER}.jsonl")
    return usage, folder


async def _hook_names(service: SwarmService, session: str) -> None:
    """T's own hook (Claude Code's SessionStart, as its hooks send it) names ``session``."""
    import json

    from core.agents import _hook_events as hook_events
    from core.agents._judge import Freshness

    said = {
        "session_id": session,
        "transcript_path": f"/x/{session}.jsonl",
        "cwd": "/srv/agents/T/work",
        "hook_event_name": "SessionStart",
        "source": "startup",
    }
    event = hook_events.parse(json.dumps(said))
    await service.store.write("T", hook_events.record, "T", event, Freshness(), False)


async def _charged(service: SwarmService) -> list[tuple[Any, ...]]:
    def read(conn: Any) -> list[tuple[Any, ...]]:
        rows = conn.execute(
            "SELECT input_tokens, output_tokens FROM turn_usage WHERE agent = $1 ORDER BY id",
            ("T",),
        ).fetchall()
        return [values(r) for r in rows]

    return list(await service.store.read(read))


async def test_once_its_hooks_named_a_session_another_sessions_turns_are_not_its(
    service: SwarmService, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A tmux agent's hooks named its session: the turns of another session in its workspace
    (a person's own Claude Code run there) wait for a hook to name it, then are not charged
    to the agent, said in the log and as an event; its own session's turns are."""
    from core.history.events import EventFilter
    from core.watch.usage_files import NAMING_WAIT_S

    usage, _ = await _two_sessions(service, tmp_path)
    await _hook_names(service, OWN)
    assert await usage.tick() == 2
    clock.advance(NAMING_WAIT_S)
    with caplog.at_level("WARNING", logger="core.watch.usage_files"):
        assert await usage.tick() == 0
    assert await _charged(service) == [(4321, 87), (5000, 13)]
    assert f"of session {OTHER} in its workspace not charged to it" in caplog.text
    said = await service.history.find(EventFilter(kinds=("usage.not_charged",)))
    assert [e.text for e in said] == [
        f"2 turn(s) of session {OTHER} in T's workspace not charged to T: its hooks never "
        "named that session (another process's, e.g. a person's own CLI run there)"
    ]


async def test_a_turn_read_before_its_hook_named_its_session_is_charged_when_it_does(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """A hook may name a session after its turn's end was written (Codex's notify comes at
    the turn's end): the turn waits, and is charged once, when the session is named."""
    usage, _ = await _two_sessions(service, tmp_path)
    await _hook_names(service, OWN)
    assert await usage.tick() == 2
    clock.advance(60.0)
    await _hook_names(service, OTHER)
    assert await usage.tick() == 2
    assert await usage.tick() == 0
    assert len(await _charged(service)) == 4


async def test_while_its_hooks_named_no_session_its_workspaces_turns_are_its(
    service: SwarmService, tmp_path: Path
) -> None:
    """No hook of the agent named a session (its hooks not installed): every session in its
    workspace is read as its own, as before."""
    usage, _ = await _two_sessions(service, tmp_path)
    assert await usage.tick() == 4
