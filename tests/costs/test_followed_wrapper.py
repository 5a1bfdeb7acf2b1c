"""Issue 79, item 8: a wrapper script's HOME followed to its CLI's usage. A Claude Code agent
whose command is a wrapper (``cli_dir = ""``) has its CLI's process found under its root, that
process's environment read and the folder it names read for its turns; what the agent wrote
in its environment is data: a folder of another user, under ``/proc``, reached by a link out
of the user's folders, or not absolute is refused, and its usage stays unknown.

Real processes: a wrapper shell that sets HOME and starts a program named ``claude`` (a shell
that sleeps under that name), whose ``/proc`` entries are read as a real CLI's are."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agents._identity import register_roots, unregister_roots
from core.clis import by_name
from core.clis.claude_code.transcript import transcript_dir
from core.costs import followed
from core.models import Agent, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.watch.usage_files import UsageFiles
from tests.costs.test_claude_transcript import FILES_DAY, FIXTURE

pytestmark = pytest.mark.both_databases
CLAUDE = by_name("claude-code")
NOBODY = 65534


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FILES_DAY)


class Wrapped:
    """``wrapper.sh`` (``HOME=... claude``, not exec'd: the CLI its child) as a process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        claude = self.bin / "claude"
        claude.write_text('#!/bin/bash\nexec -a "$0" sleep 120\n')  # a process named claude
        claude.chmod(0o755)
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, env_line: str, program: str = "claude") -> int:
        """The wrapper started with ``env_line`` before the CLI (``program`` of ``bin``);
        its pid, once the CLI runs."""
        wrapper = self.root / f"wrapper-{len(self.procs)}.sh"
        wrapper.write_text(f"#!/bin/sh\n{env_line} {self.bin / program} --model x\n")
        wrapper.chmod(0o755)
        proc = subprocess.Popen([str(wrapper)], stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(Path(w).name == program for p in _children(proc.pid) for w in _argv(p)[:1]):
                return proc.pid
            time.sleep(0.02)
        raise AssertionError(f"the wrapper's {program} did not start")

    def stop(self) -> None:
        for proc in self.procs:
            for pid in _children(proc.pid):
                _kill(pid)
            proc.kill()
            proc.wait(timeout=10)


def _children(pid: int) -> list[int]:
    from core.processes import descendants

    return descendants([pid])[1:]


def _argv(pid: int) -> list[str]:
    from core.processes import command_line

    return command_line(pid)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 9)


@pytest.fixture
def wrapped(tmp_path: Path) -> Iterator[Wrapped]:
    made = Wrapped(tmp_path / "wrap")
    try:
        yield made
    finally:
        made.stop()


def _home(root: Path) -> Path:
    (root / ".claude").mkdir(parents=True)
    return root


def test_the_wrappers_claude_is_followed_to_its_homes_folder(
    wrapped: Wrapped, tmp_path: Path
) -> None:
    home = _home(tmp_path / "its-home")
    pid = wrapped.start(f"HOME={home}")
    assert CLAUDE is not None
    found = followed.follow(CLAUDE, [pid])
    assert isinstance(found, followed.Followed), found
    assert (found.folder, found.via) == (str((home / ".claude").resolve()), "HOME")
    assert found.running() and found.pid != pid  # the CLI's own process, the wrapper's child


def test_its_own_variable_names_the_folder_before_home(wrapped: Wrapped, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    pid = wrapped.start(f"HOME={_home(tmp_path / 'h')} CLAUDE_CONFIG_DIR={config}")
    assert CLAUDE is not None
    found = followed.follow(CLAUDE, [pid])
    assert isinstance(found, followed.Followed), found
    assert (found.folder, found.via) == (str(config.resolve()), "CLAUDE_CONFIG_DIR")


@pytest.mark.parametrize(
    ("plant", "said"),
    [
        ("relative", "is no absolute path"),
        ("dots", "is no absolute path"),
        ("proc", "is under proc"),
        ("missing", "is no folder here"),
        ("file", "is no folder"),
        ("other-user", "is not a folder of the user swarm runs as"),
        ("link-to-other-user", "is not a folder of the user swarm runs as"),
        ("no-home", "it has no HOME"),
        ("newline", "names a folder with control characters"),
    ],
)
def test_a_folder_the_agent_names_that_is_not_the_users_is_refused(
    wrapped: Wrapped, tmp_path: Path, plant: str, said: str
) -> None:
    """What the agent's environment names is data: refused, said why, never read."""
    theirs = tmp_path / "theirs"
    (theirs / ".claude").mkdir(parents=True)
    (tmp_path / "afile").write_text("x")
    if os.getuid() == 0:
        os.chown(theirs / ".claude", NOBODY, NOBODY)
    elif plant in ("other-user", "link-to-other-user"):
        pytest.skip("a folder of another user is made as root")
    (tmp_path / "link").symlink_to(theirs)
    (tmp_path / "two\nlines" / ".claude").mkdir(parents=True)
    line = {
        "relative": "HOME=its/home",
        "dots": f"HOME={tmp_path}/x/..",
        "proc": "CLAUDE_CONFIG_DIR=/proc/self",
        "missing": f"HOME={tmp_path}/nowhere",
        "file": f"CLAUDE_CONFIG_DIR={tmp_path}/afile",
        "other-user": f"HOME={theirs}",
        "link-to-other-user": f"HOME={tmp_path}/link",
        "no-home": "env -u HOME",
        "newline": f"HOME='{tmp_path}/two\nlines'",
    }[plant]
    pid = wrapped.start(line)
    assert CLAUDE is not None
    found = followed.follow(CLAUDE, [pid])
    assert isinstance(found, str) and said in found, found
    assert "\n" not in found


def test_no_claude_under_the_root_and_two_that_disagree_are_not_followed(
    wrapped: Wrapped, tmp_path: Path
) -> None:
    assert CLAUDE is not None
    assert "no Claude Code process" in str(followed.follow(CLAUDE, [os.getpid()]))
    one = wrapped.start(f"HOME={_home(tmp_path / 'one')}")
    two = wrapped.start(f"HOME={_home(tmp_path / 'two')}")
    found = followed.follow(CLAUDE, [one, two])
    assert isinstance(found, str) and "2 Claude Code processes name different folders" in found


def test_a_record_is_believed_only_while_its_process_runs(wrapped: Wrapped, tmp_path: Path) -> None:
    pid = wrapped.start(f"HOME={_home(tmp_path / 'h')}")
    assert CLAUDE is not None
    found = followed.follow(CLAUDE, [pid])
    assert isinstance(found, followed.Followed)
    home = tmp_path / "swarm"
    followed.record(home, "T", found)
    assert followed.running(home, "T") == found
    assert oct(followed.record_path(home, "T").stat().st_mode & 0o777) == "0o600"
    _kill(found.pid)
    deadline = time.monotonic() + 10
    while followed.running(home, "T") is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert followed.running(home, "T") is None
    assert followed.why_not(home, "T") == f"its CLI's process (pid {found.pid}) has ended"
    followed.record_path(home, "T").write_text('{"folder": 3}')
    assert followed.recorded(home, "T") is None  # a bad record is none


async def test_a_wrapped_tmux_agent_books_its_turns_and_its_budget_lets_it_work(
    service: SwarmService, wrapped: Wrapped, tmp_path: Path
) -> None:
    """Agent T in tmux behind a wrapper (``cli_dir = ""``) with a daily budget: the watch
    follows its CLI's HOME, so explain names the folder, no hold is opened, and a turn in
    its transcript there is booked; its process planted out (the wrapper now names a folder
    of another user), the usage is unknown again and the budget holds it, one item."""
    work = str(tmp_path / "work")
    home = _home(tmp_path / "h")
    agent = Agent("T", "dev", cli="claude-code", delivery="tmux", cli_dir="", workspace=work,
                  daily_budget=100.0)  # fmt: skip
    await service.replace_agents([agent], tmp_path / "agents.toml")
    service.store.settings = dataclasses.replace(service.settings, cli_dirs={})
    roots: dict[str, list[int]] = {"T": [wrapped.start(f"HOME={home}")]}
    register_roots("test-wrapper", lambda _agents: roots)
    try:
        task = await service.tasks.create(TaskSpec("work", agent="T"), "test")
        await service.queue.assign_batch()
        usage = UsageFiles(service.store)
        folder = transcript_dir(home / ".claude", work)
        folder.mkdir(parents=True)
        assert await usage.tick() == 0  # first seen
        said = (await service.explain_agent("T"))["usage"]
        assert said.startswith(f"from Claude Code's session files in {(home / '.claude')}"), said
        assert "followed from its CLI's process (pid" in said and "its HOME" in said
        (folder / "34633c89-6b08-4037-982f-ba228daa7ea0.jsonl").write_bytes(FIXTURE.read_bytes())
        assert await usage.tick() == 2
        spend = await service.costs.of_task(task.id)
        assert (spend["cost"].input, spend["cost"].output, spend["cost"].unknown) == (9321, 100, 0)
        assert spend["usage_unknown"] is None
        assert [n for n in await service.inbox.needs() if n.kind == "budget"] == []

        if os.getuid() == 0:
            os.chown(home / ".claude", NOBODY, NOBODY)  # planted: no longer the user's
        else:
            (home / ".claude").rename(home / ".gone")
        for proc in list(wrapped.procs):
            for pid in _children(proc.pid):
                _kill(pid)
        roots["T"] = [wrapped.start(f"HOME={home}")]
        deadline = time.monotonic() + 10  # until the roots are looked up again (each second)
        while "names no folder" not in (followed.why_not(service.settings.home, "T") or ""):
            assert time.monotonic() < deadline, followed.why_not(service.settings.home, "T")
            await usage.tick()
            await asyncio.sleep(0.1)
        said = (await service.explain_agent("T"))["usage"]
        assert said.startswith("unknown: Claude Code's turns are not read"), said
        assert "its process could not be followed (Claude Code's process (pid" in said
        (item,) = [n for n in await service.inbox.needs() if n.kind == "budget"]
        assert "T's today's budget cannot be kept" in item.text, item.text
    finally:
        unregister_roots("test-wrapper")


def test_a_wrapper_that_names_the_cli_in_its_arguments_is_not_the_cli(
    wrapped: Wrapped, tmp_path: Path
) -> None:
    """``sh run-claude.sh claude``: the shell names Claude Code among its words, with the
    HOME it was started with (a decoy); only the CLI's own process is read."""
    if os.getuid() != 0:
        pytest.skip("a folder of another user is made as root")
    home = _home(tmp_path / "h")
    os.chown(home / ".claude", NOBODY, NOBODY)
    script = tmp_path / "run-claude.sh"
    script.write_text(f'#!/bin/sh\nHOME={home}\nexport HOME\n"$@"\n')
    line = f"HOME={tmp_path}/decoy /bin/sh {script}"
    pid = wrapped.start(line)  # its claude: run-claude.sh's child, its HOME another user's
    assert CLAUDE is not None
    found = followed.follow(CLAUDE, [pid])
    assert isinstance(found, str) and "is not a folder of the user swarm runs as" in found, found
    assert "decoy" not in found


async def test_a_wrapped_protocol_agents_cli_is_followed_under_its_host(
    service: SwarmService, wrapped: Wrapped, tmp_path: Path
) -> None:
    """Codex on the protocol route behind a wrapper (``cli_dir = ""``): its usage is read
    from its session files, so the folder its process names under its host (its
    ``CODEX_HOME``) is followed, and explain names it."""
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir()
    codex = wrapped.bin / "codex"
    codex.write_text('#!/bin/bash\nexec -a "$0" sleep 120\n')
    codex.chmod(0o755)
    agent = Agent("P", "dev", cli="codex", delivery="protocol", cli_dir="",
                  workspace=str(tmp_path / "work"))  # fmt: skip
    await service.replace_agents([agent], tmp_path / "agents.toml")
    said = (await service.explain_agent("P"))["usage"]
    assert said.startswith("unknown: Codex CLI says no turn usage over its protocol"), said
    host = wrapped.start(f"CODEX_HOME={codex_home}", "codex")  # the host's child
    register_roots("test-host", lambda _agents: {"P": [host]})
    try:
        deadline = time.monotonic() + 10
        while True:
            await UsageFiles(service.store).tick()
            said = (await service.explain_agent("P"))["usage"]
            if said.startswith("from ") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert said == (
            f"from Codex CLI's session files in {codex_home.resolve()} (followed from its "
            f"CLI's process (pid {_children(host)[0]}, its CODEX_HOME))"
        ), said
    finally:
        unregister_roots("test-host")
