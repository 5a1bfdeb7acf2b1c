"""A sandboxed agent writes its CLI's session folder (its own copy: launch/sandbox/state.py),
and swarm reads it outside for each turn's usage. What the agent plants there instead of a
session file is not read: a link to the person's key, a FIFO that never answers (opened, it
would hold the watch), ``/dev/zero`` (read, it never ends), a folder made a link to another
agent's sessions. A real session file is read as before, in bounded pieces."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from core.clis.claude_code.transcript import transcript_dir
from core.clis.codex.rollout import configured_model
from core.clis.gemini.chats import chats_dir
from core.clis.logs import LogTail
from core.clis.session_lines import JsonLines, first_line
from core.history.event_queries import last_events
from core.models import Agent, Event, Sandbox
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.watch.usage_files import OUTSIDE, UsageFiles
from tests.costs.test_turn_tasks import CLAUDE_WORK, DATA, FILES_DAY


def test_links_fifos_and_devices_in_a_session_folder_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "id_ed25519"
    secret.write_text('{"key": "SECRET"}\n')
    folder = tmp_path / "projects"
    folder.mkdir()
    (folder / "linked.jsonl").symlink_to(secret)
    (folder / "zero.jsonl").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.jsonl")
    began = time.monotonic()
    for name in ("linked.jsonl", "zero.jsonl", "fifo.jsonl"):
        assert JsonLines(folder / name).read() == [], name
        assert first_line(folder / name) is None, name
    assert time.monotonic() - began < 5  # nothing waited on the FIFO or read /dev/zero
    real = folder / "real.jsonl"
    real.write_text(json.dumps({"type": "assistant", "n": 1}) + "\n" + '{"half": ')
    lines = JsonLines(real)
    assert lines.read() == [{"type": "assistant", "n": 1}]  # the whole line; the half waits
    with real.open("a") as more:
        more.write("2}\n")
    assert lines.read() == [{"half": 2}]
    assert first_line(real) == {"type": "assistant", "n": 1}


@pytest.mark.timeout(30)
def test_a_clis_log_projects_and_config_planted_by_its_agent_are_not_read(tmp_path: Path) -> None:
    """The other files swarm reads in an agent's CLI state: opencode's log (read on
    ``swarm run``'s event loop: a FIFO there held the loop, so every agent's watch and
    delivery), Gemini CLI's ``projects.json`` (the usage tick) and Codex's ``config.toml``
    (``desktop up``'s price notes). A FIFO, a link to the person's file or ``/dev/zero``
    in their place is not read, and a log swarm empties is never truncated through a link
    (before, each FIFO held its reader for good)."""
    secret = tmp_path / "person"
    secret.write_text('model = "secret-model"\n{"projects": {"/w": "w"}}\nx\n' * 100)
    kept = secret.read_text()
    for kind in ("fifo", "link", "zero"):
        state = tmp_path / kind
        for name in ("opencode.log", ".gemini/projects.json", ".codex/config.toml"):
            path = state / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "fifo":
                os.mkfifo(path)
            else:
                path.symlink_to(secret if kind == "link" else Path("/dev/zero"))
        tail = LogTail(state / "opencode.log", lambda lines: None, keep_bytes=1)
        assert tail.read() is None and tail.read() is None, kind
        tail._empty()  # as past keep_bytes: a link is not followed
        assert chats_dir(state, "/w") == state / ".gemini" / "tmp" / "-", kind
        assert configured_model(state / ".codex") is None, kind
    assert secret.read_text() == kept


@pytest.fixture
def clock() -> ManualClock:
    """The day the transcript was written, before its turns began."""
    return ManualClock(FILES_DAY)


@pytest.mark.parametrize("sandboxed", [True, False])
async def test_a_session_folder_linked_out_of_a_sandboxed_agents_copy_is_not_read(
    service: SwarmService, clock: ManualClock, tmp_path: Path, sandboxed: bool
) -> None:
    """Agent S's Claude Code state is its own copy (``cli_dir``), its to write. It makes its
    project's transcript folder a link to another's (Agent O's real transcript of two turns):
    swarm does not book O's turns on S, and says so once (``usage.refused``). An unsandboxed
    agent's folder is the person's: a link there is theirs, and is followed as before."""
    copy, other = tmp_path / "S-claude", tmp_path / "O-claude"
    theirs = transcript_dir(other, CLAUDE_WORK)
    theirs.mkdir(parents=True)
    mine = transcript_dir(copy, CLAUDE_WORK)
    mine.parent.mkdir(parents=True)
    mine.symlink_to(theirs, target_is_directory=True)
    agent = Agent("S", "dev", cli="claude-code", delivery="tmux", tmux="s:1",
                  workspace=CLAUDE_WORK, cli_dir=str(copy),
                  sandbox=Sandbox() if sandboxed else None)  # fmt: skip
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={})
    watch = UsageFiles(service.store)
    assert await watch.tick() == 0  # its first look: no session yet
    clock.advance(60.0)
    shutil.copy(DATA / "claude-code-2.1.328-tmux-transcript.jsonl", theirs / "o.jsonl")
    assert await watch.tick() == (0 if sandboxed else 2)
    assert await watch.tick() == 0
    said = [e.text for e in await service.store.read(_events) if e.kind == "usage.refused"]
    assert said == ([f"S's usage is not counted while its CLI's file is refused: "
                     f"{mine / 'o.jsonl'}: {OUTSIDE}"] if sandboxed else [])  # fmt: skip


def _events(conn: Conn) -> list[Event]:
    return last_events(conn, 100)
