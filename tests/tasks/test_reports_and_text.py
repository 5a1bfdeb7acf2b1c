"""Who may report on a task, and control characters in what people type."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.context import check_chars
from core.errors import InvalidInput, InvalidState
from core.formats import text as text_module
from core.formats.text import escape_controls
from core.models import TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from tests.helpers import run_cli

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]


async def _held(service: SwarmService, title: str = "job") -> tuple[str, str]:
    task = await service.tasks.create(TaskSpec(title), "cli")
    assignment = await service.queue.assign_next()
    assert assignment is not None and assignment.task_id == task.id
    return task.ref, assignment.agent


@pytest.mark.parametrize("action", ["start", "done", "fail"])
async def test_another_agent_is_refused_naming_the_holder(
    service: SwarmService, action: str
) -> None:
    ref, holder = await _held(service)
    other = "Agent-5" if holder != "Agent-5" else "Agent-6"
    calls = {
        "start": lambda: service.tasks.start(ref, other, "on it"),
        "done": lambda: service.tasks.complete(ref, other, "did it"),
        "fail": lambda: service.tasks.fail(ref, other, "cannot"),
    }
    with pytest.raises(InvalidState, match=f"{ref} is held by {holder}, not {other}"):
        await calls[action]()
    task = await service.tasks.get(ref)
    assert task.status is TaskStatus.assigned and task.agent == holder
    assert [e.kind for e in await service.history.events(task=ref)][-1] == "task.assigned"


async def test_forced_report_is_recorded_with_the_real_actor(service: SwarmService) -> None:
    ref, holder = await _held(service)
    other = "Agent-5" if holder != "Agent-5" else "Agent-6"
    await service.tasks.complete(ref, other.lower(), "took over", force=True)  # case-insensitive
    last = (await service.history.events(task=ref))[-1]
    assert last.kind == "task.done" and last.actor == other.lower()
    assert last.text == f"{ref} done by {holder} (forced by {other}; held by {holder}): took over"
    assert last.data == {
        "forced": True,
        "reported_by": other,
        "holder": holder,
        "note": "took over",
    }


async def test_a_person_may_report_and_is_named(service: SwarmService) -> None:
    ref, holder = await _held(service)
    await service.tasks.fail(ref, "cli", "no longer needed")
    last = (await service.history.events(task=ref))[-1]
    assert last.text == f"{ref} failed (reported by cli): no longer needed"
    assert last.agent == holder and last.actor == "cli"


async def test_the_holder_reports_as_before(service: SwarmService) -> None:
    ref, holder = await _held(service)
    await service.tasks.start(ref, holder)
    await service.tasks.complete(ref, holder, "ok")
    texts = [e.text for e in await service.history.events(task=ref)][-2:]
    assert texts == [f"{ref} started by {holder}", f"{ref} done by {holder}: ok"]


def test_cli_refuses_then_force_goes_through(home: Path) -> None:
    assert run_cli(home, "task", "add", "job").code == 0
    assert run_cli(home, "run", "--no-discord", "--burst").code == 0
    holder = run_cli(home, "task", "show", "T-1", "--json").out.split('"agent": "')[1][:7]
    other = "Agent-8" if holder != "Agent-8" else "Agent-7"
    refused = run_cli(home, "task", "done", "T-1", agent=other)
    assert refused.code == 2 and refused.out == ""
    assert refused.err == (
        f"swarm: error: T-1 is held by {holder}, not {other}: only its "
        "agent reports on it (--force reports anyway, and is recorded)\n"
    )
    forced = run_cli(home, "task", "done", "T-1", "--force", agent=other)
    assert forced.code == 0, forced.err
    history = run_cli(home, "task", "show", "T-1").out
    assert f"done by {holder} (forced by {other}; held by {holder})" in history


@pytest.mark.parametrize(
    "title",
    ["red \x1b[31m", "a\rb", "bell\x07", "nul\x00", "\x9bcsi", "rtl \u202e", "tab\tin title"],
)
async def test_control_characters_in_one_line_fields_are_refused(
    service: SwarmService, title: str
) -> None:
    with pytest.raises(InvalidInput, match="title must be one line without control characters"):
        await service.tasks.create(TaskSpec(title), "cli")
    assert await service.tasks.newest() == []


async def test_multi_line_text_keeps_newlines_and_tabs_refuses_the_rest(
    service: SwarmService,
) -> None:
    ref, holder = await _held(service, "other")
    task = await service.tasks.create(TaskSpec("ok", details="line 1\r\n\tline 2"), "cli")
    assert task.details == "line 1\n\tline 2"
    with pytest.raises(
        InvalidInput,
        match=r"details must be text without control characters "
        r"\(newlines and tabs are fine\), found \\x1b",
    ):
        await service.tasks.create(TaskSpec("ok", details="\x1b[2J wipe"), "cli")
    with pytest.raises(InvalidInput, match="reason must be one line"):
        await service.tasks.fail(ref, holder, "two\nlines")
    with pytest.raises(InvalidInput, match="note must be text without control characters"):
        await service.tasks.complete(ref, holder, "done\x1b[1A")
    with pytest.raises(InvalidInput, match="message must be text without control"):
        await service.messages.send("Agent-1", "hi\x08", "cli")


def test_printable_ascii_is_let_through_without_a_look_at_each_character(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Titles, notes and prompts are nearly always printable ASCII: they pass the control
    check at C speed; anything else is still looked at character by character."""
    looked: list[str] = []
    plain = text_module._is_control

    def counted(char: str, keep: str) -> bool:
        looked.append(char)
        return plain(char, keep)

    monkeypatch.setattr(text_module, "_is_control", counted)
    assert check_chars("T-12 done by Agent-3: fine", "note") == "T-12 done by Agent-3: fine"
    assert check_chars("line 1\n\tline 2", "details", one_line=False) == "line 1\n\tline 2"
    assert looked == []
    assert check_chars("naïve", "title") == "naïve"
    assert looked  # not ASCII: checked one by one
    with pytest.raises(InvalidInput, match="one line without control characters"):
        check_chars("a\x7fb", "title")  # DEL is ASCII but not printable
    with pytest.raises(InvalidInput, match="one line without control characters"):
        check_chars("two\nlines", "title")


def test_escape_on_output_anyway(home: Path) -> None:
    """Rows written before the check (or by another tool) still print escaped, one line each."""
    assert run_cli(home, "task", "add", "plain").code == 0
    with sqlite3.connect(home / "swarm.db") as conn:
        conn.execute("UPDATE tasks SET title = 'evil \x1b[2J\rgone'")
    listed = run_cli(home, "task", "list")
    assert listed.code == 0 and "\x1b" not in listed.out and "\r" not in listed.out
    assert "evil \\x1b[2J\\x0dgone" in listed.out
    shown = run_cli(home, "task", "show", "T-1").out
    assert "\x1b" not in shown and "evil \\x1b[2J\\x0dgone" in shown
    assert escape_controls("a\u202eb\ud800") == "a\\u202eb\\ud800"


def test_actor_with_control_characters_is_refused(home: Path) -> None:
    result = run_cli(home, "task", "add", "x", agent="Agent-1\x1b[31m")
    assert result.code == 2
    assert result.err == (
        "swarm: error: --as / SWARM_AGENT must be one line without control "
        "characters, found \\x1b\n"
    )
