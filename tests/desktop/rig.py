"""A swarm home whose agents ``swarm desktop up`` opens on a given X server, for the tests and
``bench/desktop_up.py``: an agents file with a ``[desktop]`` section, ``claude`` on PATH
being :mod:`tests.apps.agent_cli`, the home's own tmux server (``rig.tmux``) and a private
default one for the person (``TMUX_TMPDIR``: ``rig.default_tmux``), and the real ``swarm``
command line run as a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from automation import tmux_sessions
from automation.desktop.virtual_desktop import XServer
from tests import cli_zygote
from tests.apps.desktop import read_records

REPO = Path(__file__).resolve().parents[2]


class DesktopRig:
    """Everything ``swarm desktop up`` needs, in ``workdir`` (``server`` None: no display at
    all, for ``--headless``)."""

    def __init__(
        self,
        server: XServer | None,
        workdir: Path,
        agents: int = 4,
        terminal: str = "xterm",
        layout: str = "4x2",
        with_workspaces: int = 2,
    ) -> None:
        self._server = server
        self.workdir = workdir
        self.names = [f"Agent-{i + 1}" for i in range(agents)]
        self.home = workdir / "home"
        self.records = workdir / "records"
        self.config = self.home / "agents.toml"
        self.workspaces = {name: workdir / "ws" / name for name in self.names[:with_workspaces]}
        folders = (self.home, self.records, workdir / "bin", workdir / "user")
        for folder in (*folders, *self.workspaces.values()):
            folder.mkdir(parents=True, exist_ok=True)
        claude = workdir / "bin" / "claude"
        claude.write_text(f'#!/bin/sh\nexec {sys.executable} -m tests.apps.agent_cli "$@"\n')
        claude.chmod(0o755)
        self.env = {
            **(server.env if server is not None else {}),
            "PATH": f"{workdir / 'bin'}:{os.environ['PATH']}",
            "HOME": str(workdir / "user"),
            "XDG_CONFIG_HOME": str(workdir / "user" / "config"),
            "TMUX_TMPDIR": str(workdir),
            "SWARM_HOME": str(self.home),
            "SWARM_CONFIG": str(self.config),
            "AGENT_CLI_DIR": str(self.records),
            "PYTHONPATH": str(REPO),
            "LANG": "C.UTF-8",
            "SWARM_WEB_PORT": "0",
        }
        self.env.pop("TMUX", None)
        self.config.write_text(self.agents_toml(terminal, layout), encoding="utf-8")

    @property
    def server(self) -> XServer:
        """The rig's X server (a headless rig has none: asking for it is a test's mistake)."""
        if self._server is None:
            raise AssertionError("this rig has no display (it is for --headless)")
        return self._server

    def agents_toml(self, terminal: str, layout: str) -> str:
        """The agents file: a comment, an unrelated key and workspaces a user would keep."""
        lines = [
            "# the team (a comment swarm desktop up keeps)",
            "[desktop]",
            'command = "claude"',
            f'terminal = "{terminal}"',
            f'layout = "{layout}"',
            "",
        ]
        for name in self.names:
            lines += [
                "[[agent]]",
                f'id = "{name}"',
                'role = "coder"  # keep me',
                'capabilities = ["python"]',
            ]
            if name in self.workspaces:
                lines.append(f'workspace = "{self.workspaces[name]}"')
            lines.append("")
        return "\n".join(lines)

    def swarm(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run the real ``swarm`` command line (forked from a CLI zygote: its process and
        exit are its own, its start-up imports are not repeated)."""
        return cli_zygote.run(list(args), self.env, self.workdir, timeout)

    def up(self, *args: str) -> list[dict[str, Any]]:
        """``swarm desktop up --json``: one row per agent; AssertionError with the output."""
        done = self.swarm("desktop", "up", "--json", *args)
        assert done.returncode == 0, done.stdout + done.stderr
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    def status(self) -> list[dict[str, Any]]:
        """``swarm desktop status --json``."""
        done = self.swarm("desktop", "status", "--json")
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    def texts(self, agent: str) -> list[str]:
        """What ``agent``'s program has received (across its restarts)."""
        return read_records(self.records / f"{agent}.jsonl")

    def starts(self, agent: str) -> list[dict[str, Any]]:
        """How ``agent``'s program was started, once per start."""
        path = self.records / f"{agent}.starts.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def wait_ready(
        self, agents: list[str] | None = None, timeout: float = 30.0, starts: int = 1
    ) -> None:
        """Until each agent's program has been started ``starts`` times and its latest start
        has drawn its prompt (bracketed paste on): an earlier start's ready file must not
        stand for a restart that has not happened yet."""
        deadline = time.monotonic() + timeout
        for agent in agents or self.names:
            while not self._ready(agent, starts):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{agent} not ready: {self.status()}")
                time.sleep(0.02)

    def _ready(self, agent: str, count: int) -> bool:
        starts = self.starts(agent)
        try:
            pid = (self.records / f"{agent}.ready").read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        return len(starts) >= count and pid == str(starts[-1]["pid"])

    def wait_for(self, agent: str, count: int, timeout: float = 10.0) -> list[str]:
        """``agent``'s texts once it has ``count`` (or at the timeout)."""
        deadline = time.monotonic() + timeout
        while len(texts := self.texts(agent)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return texts

    @property
    def socket(self) -> str:
        """The home's own tmux server's socket, where ``desktop up`` starts the sessions."""
        return tmux_sessions.home_socket(self.home, self.env)

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run tmux on the home's own server (swarm's sessions)."""
        return self.default_tmux("-S", self.socket, *args)

    def default_tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run tmux on the person's default server (the rig's ``TMUX_TMPDIR``)."""
        return subprocess.run(
            ["tmux", *args], env=self.env, capture_output=True, text=True, timeout=10
        )

    def stop(self) -> None:
        """Close swarm's windows and end the tmux server (whatever a test left)."""
        try:
            self.swarm("desktop", "down", timeout=60)
        finally:
            self.tmux("kill-server")
            self.default_tmux("kill-server")
            for pid in _processes_with(f"TMUX_TMPDIR={self.workdir}"):
                _kill(pid)


def _processes_with(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (the rig's terminals and programs)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def own_args(argv: list[str]) -> list[str]:
    """A started program's arguments but swarm's allow rules for the agent's reports (the
    ``--allowedTools`` it ends Claude Code's command with: ``core.clis.with_report_args``)."""
    return argv[: argv.index("--allowedTools")] if "--allowedTools" in argv else argv
