"""``swarm run`` killed (kill -9) while it types a decided prompt's key (issue 40, item 13):
the typing is recorded before the key is sent, and after a restart swarm never types it a
second time; a dialog still at the input is asked anew. Real parts: the real ``swarm run``
in a child process, its desktop driver on Xvfb typing into an xterm that runs tmux, whose
pane shows Claude Code's dialog (a shell script that records every key it gets)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.apps import launchers
from tests.apps.tmux_xterm import columns, tmux_xterm
from tests.helpers import ROOT, cli_env, run_cli
from tests.run_child import Lines, end
from tests.tmux_server import Tmux
from tests.watch.dialog_panes import box

NAME = "Agent-8"
# the agent's dialog; each key it gets is recorded; with a pid in the pid file, the first key
# kills that process (swarm, in the seconds after it typed) and the agent asks the same again
ASK = """
while :; do
  clear; cat "$1"
  IFS= read -rsn1 key; printf '%s\\n' "$key" >> "$2"
  if [ -s "$3" ] && [ ! -e "$2.killed" ]; then : > "$2.killed"; kill -9 "$(cat "$3")"; continue; fi
  break
done
clear; echo "answered $key"; sleep 600
"""


@dataclass
class Rig:
    """The agent's xterm, the files its script uses, swarm's home and agents file."""

    home: Path
    agents: Path
    keys: Path  # every key the agent got, one a line
    pidfile: Path  # a pid here is killed by the agent's first key
    env: dict[str, str]

    def received(self) -> list[str]:
        """The keys the agent got."""
        return self.keys.read_text(encoding="utf-8").splitlines() if self.keys.exists() else []

    def start(self) -> tuple[subprocess.Popen[str], Lines]:
        """``swarm run --no-discord`` in a child process, once it started."""
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "run", "--no-discord"],
                                env=self.env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        out = Lines(proc)
        out.until("  Ctrl+C stops")
        return proc, out

    def prompts(self) -> list[dict[str, Any]]:
        """The agent's prompts, as rows (read through their own connection)."""
        with sqlite3.connect(self.home / "swarm.db") as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute("SELECT * FROM agent_prompts ORDER BY id")]

    def approve(self, ref: str) -> None:
        """A person approves ``ref`` (``swarm approve``)."""
        done = run_cli(self.home, "approve", ref, config=self.agents)
        assert done.code == 0, done.err


def until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """``check()`` once truthy; fails naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.1)
    return value


@pytest.fixture
def rig(shared_xvfb: Any, tmux: Tmux, tmp_path: Path) -> Iterator[Rig]:
    """The agent's dialog in tmux in an xterm; swarm's environment on that display."""
    if launchers.missing_programs():
        pytest.skip(f"missing: {', '.join(launchers.missing_programs())}")
    rows = ["Bash command", "", "  rm -rf build", "", "Do you want to proceed?", "❯ 1. Yes",
            "  2. Yes, and don't ask again for rm", "  3. No, and tell Claude (esc)"]  # fmt: skip
    dialog = tmp_path / "dialog.txt"
    dialog.write_text("\n".join(box(*rows, width=columns() - 2)) + "\n", encoding="utf-8")
    script, keys, pidfile = tmp_path / "ask.sh", tmp_path / "keys", tmp_path / "swarm.pid"
    script.write_text(ASK, encoding="utf-8")
    program = f"bash {script} {dialog} {keys} {pidfile}"
    shown = lambda: "Do you want to proceed?" in tmux_text(tmux)  # noqa: E731
    with tmux_xterm(shared_xvfb, tmux, tmp_path, NAME, program, shown) as agents:
        home = tmp_path / "home"
        env = cli_env(home, agents) | shared_xvfb.env | {
            "SWARM_LOG_FILE": str(tmp_path / "swarm.log"),
            "SWARM_WEB": "off",
            "SWARM_WATCH_INTERVAL": "0.2",
            "SWARM_HUMAN_IDLE": "0.05",
            "SWARM_HUMAN_WAIT": "300",  # a moving pointer holds the driver for the whole test
        }  # fmt: skip
        yield Rig(home, agents, keys, pidfile, env)


def tmux_text(tmux: Tmux) -> str:
    """The agent pane's text now."""
    done = subprocess.run(["tmux", "-S", str(tmux.socket), "capture-pane", "-p", "-t",
                           "swarm:agent"], capture_output=True, text=True, timeout=10)  # fmt: skip
    return done.stdout


@pytest.fixture
def moving_pointer(shared_xvfb: Any) -> Iterator[threading.Event]:
    """A person moves the mouse until the event is set: the desktop driver waits."""
    done = threading.Event()

    def move() -> None:
        step = 0
        while not done.is_set():
            step += 1
            shared_xvfb.xdotool("mousemove", str(900 + step % 50), "700")
            time.sleep(0.05)

    mover = threading.Thread(target=move, daemon=True)
    mover.start()
    yield done
    done.set()
    mover.join(10)


def settled(rig: Rig, prompt_id: int) -> dict[str, Any] | None:
    """Prompt ``prompt_id``'s row once its typing was settled."""
    row = next(r for r in rig.prompts() if r["id"] == prompt_id)
    return row if row["typed_at"] is not None else None


ASKED_AGAIN = (
    "the typing of '1' began and was never settled (swarm stopped in between); the dialog is "
    "still at the input: it is asked again, never typed twice"
)


@pytest.mark.timeout(180)
def test_a_kill_just_after_the_key_never_types_it_twice(rig: Rig) -> None:
    proc, out = rig.start()
    try:
        until(rig.prompts, "the prompt opened")
        rig.pidfile.write_text(str(proc.pid))  # the agent's script kills swarm at the key
        rig.approve("R-1")
        assert proc.wait(60) == -signal.SIGKILL
    finally:
        end(proc, out)
    assert rig.received() == ["1"]  # the agent took the key, then asked the same again
    rig.pidfile.unlink()
    proc, out = rig.start()
    try:
        row = until(lambda: settled(rig, 1), "prompt 1 settled after the restart")
        assert rig.received() == ["1"]  # not typed a second time
        assert (row["typed_keys"], row["typed_result"]) == (None, ASKED_AGAIN)
        assert row["typing_at"] is not None and row["typing_at"] < row["typed_at"]
        again = until(lambda: [r for r in rig.prompts() if r["id"] == 2], "asked anew")
        assert again[0]["text"] == next(r for r in rig.prompts() if r["id"] == 1)["text"]
        rig.approve("R-2")  # a new decision is typed, once
        until(lambda: settled(rig, 2), "prompt 2 typed")
        assert rig.received() == ["1", "1"]
    finally:
        end(proc, out)


@pytest.mark.timeout(180)
def test_a_kill_between_the_record_and_the_key(rig: Rig, moving_pointer: threading.Event) -> None:
    proc, out = rig.start()
    try:
        until(rig.prompts, "the prompt opened")
        rig.approve("R-1")
        # the driver waits for the mouse to rest: the typing is recorded, no key is sent yet
        until(lambda: rig.prompts()[0]["typing_at"] is not None, "the typing recorded")
        assert rig.received() == []
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        end(proc, out)
    moving_pointer.set()
    proc, out = rig.start()
    try:
        row = until(lambda: settled(rig, 1), "prompt 1 settled after the restart")
        assert (row["typed_keys"], row["typed_result"]) == (None, ASKED_AGAIN)
        until(lambda: len(rig.prompts()) == 2, "asked anew")
        assert rig.received() == []  # not typed after the restart either
        rig.approve("R-2")
        until(lambda: settled(rig, 2), "prompt 2 typed")
        assert rig.received() == ["1"]
    finally:
        end(proc, out)
