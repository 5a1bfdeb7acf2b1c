"""The agents file's tmux pane and reading a pane's text through a real tmux server."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agents_file import load_agents
from core.errors import ConfigError
from core.tmux import PaneRef, capture
from tests.helpers import run_cli, write_agents
from tests.test_toml_files import assert_one_line_error


class Tmux:
    """A private tmux server on a socket under the test's temporary folder."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def run(self, *args: str) -> None:
        """``tmux -S SOCKET ARGS``, checked."""
        subprocess.run(["tmux", "-S", str(self.socket), *args], check=True, timeout=10)

    def window(self, session: str, window: str, command: str, size: str = "100x30") -> None:
        """A detached window running ``command`` (a new session first, then new windows)."""
        width, height = size.split("x")
        has = subprocess.run(
            ["tmux", "-S", str(self.socket), "has-session", "-t", session],
            capture_output=True,
            timeout=10,
        )
        if has.returncode != 0:
            self.run("new-session", "-d", "-s", session, "-n", window, "-x", width, "-y", height,
                     command)  # fmt: skip
        else:
            self.run("new-window", "-d", "-t", f"{session}:", "-n", window, command)

    def ref(self, target: str) -> PaneRef:
        """The pane ``target`` of this server."""
        return PaneRef(target, str(self.socket))

    def stop(self) -> None:
        """Kill the server (and its panes)."""
        subprocess.run(["tmux", "-S", str(self.socket), "kill-server"], capture_output=True,
                       timeout=10, check=False)  # fmt: skip


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """A private tmux server (stopped at the end)."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    server = Tmux(tmp_path / "tmux.sock")
    try:
        yield server
    finally:
        server.stop()


def wait_text(ref: PaneRef, text: str, timeout: float = 10.0) -> list[str]:
    """The pane's lines once ``text`` shows in them (fails after ``timeout``)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        read = capture(ref)
        if read.ok and any(text in line for line in read.lines):
            return list(read.lines)
        assert time.monotonic() < deadline, f"{text!r} never showed: {read}"
        time.sleep(0.05)


# -- the agents file --------------------------------------------------------------------------


def test_tmux_pane_and_cli_keys_are_read(tmp_path: Path) -> None:
    path = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "A", "role": "dev", "tmux": "swarm:3", "cli": "claude-code"},
            {"id": "B", "role": "dev", "tmux": " swarm:agents.1 ", "tmux_socket": "~/t.sock"},
            {"id": "C", "role": "dev"},
        ],
    )
    a, b, c = load_agents(path)
    assert (a.tmux, a.tmux_socket, a.cli) == ("swarm:3", None, "claude-code")
    assert (b.tmux, b.tmux_socket) == ("swarm:agents.1", str(Path("~/t.sock").expanduser()))
    assert (c.tmux, c.cli) == (None, None)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"tmux": "swarm"}, 'agent A: tmux must be a tmux target "session:window"'),
        ({"tmux": "swarm:3.x"}, "agent A: tmux must be a tmux target"),
        ({"tmux": "a b:1"}, "agent A: tmux must be a tmux target"),
        ({"tmux": 3}, 'agent A: tmux must be a string like "swarm:3"'),
        ({"tmux_socket": "/tmp/s"}, "agent A: tmux_socket needs a tmux pane"),
        ({"tmux": "s:1", "tmux_socket": "rel/sock"}, "tmux_socket must be an absolute path"),
        ({"cli": "Claude Code"}, "agent A: cli must be the name of a rule file"),
    ],
)
def test_bad_tmux_keys_are_one_line_errors(tmp_path: Path, extra: dict[str, object],
                                           words: str) -> None:  # fmt: skip
    path = write_agents(tmp_path / "agents.toml", [{"id": "A", "role": "dev", **extra}])
    with pytest.raises(ConfigError) as caught:
        load_agents(path)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_swarm_agents_shows_the_pane(home: Path, tmp_path: Path) -> None:
    path = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev", "tmux": "swarm:3", "cli": "codex"}, {"id": "B", "role": "dev"}],
    )
    shown = run_cli(home, "agents", config=path)
    assert shown.code == 0, shown
    header, first, second = shown.out.splitlines()[:3]
    assert header.split()[-1] == "TMUX" and first.split()[-1] == "swarm:3"
    assert second.split()[-1] == "-"
    rows = json.loads(run_cli(home, "agents", "--json", config=path).out)
    assert [(r["tmux"], r["cli"]) for r in rows] == [("swarm:3", "codex"), (None, None)]
    bad = write_agents(tmp_path / "bad.toml", [{"id": "A", "role": "dev", "tmux": "swarm"}])
    assert_one_line_error(run_cli(home, "agents", config=bad), "agent A: tmux must be")


# -- reading a pane ---------------------------------------------------------------------------


def test_a_pane_is_read_and_a_gone_pane_is_evidence(tmux: Tmux) -> None:
    tmux.window("swarm", "one", "printf 'hello\\n\\033[31mred\\033[0m   \\n'; sleep 60")
    lines = wait_text(tmux.ref("swarm:one"), "red")
    assert lines == ["hello", "red"]  # no colours, no trailing blanks
    assert wait_text(tmux.ref("swarm:0"), "red") == lines  # the window's index works too
    missing = capture(tmux.ref("swarm:nine"))
    assert not missing.ok
    assert missing.gone == "tmux pane swarm:nine is gone: can't find window: nine"
    assert "can't find pane" in str(capture(tmux.ref("swarm:one.4")).gone)
    assert "can't find session" in str(capture(tmux.ref("other:1")).gone)
    tmux.stop()
    stopped = capture(tmux.ref("swarm:one"))
    assert stopped.gone is not None and stopped.gone.startswith("tmux pane swarm:one is gone: ")


def test_pane_text_is_escaped_for_showing(tmux: Tmux) -> None:
    tmux.window("swarm", "one", "printf 'a\\033]0;title\\007b\\n'; sleep 60")
    wait_text(tmux.ref("swarm:one"), "ab")
    read = capture(tmux.ref("swarm:one"))
    assert read.lines and all("\x1b" not in line and "\x07" not in line for line in read.last(5))
