"""A tmux withdrawal carries its notice only once the pane reads idle (issue 79, item 2):
a pane of a CLI whose interrupt swarm knows, showing its real idle screen (saved from the
pinned CLI), is withdrawn from by the stop alone, nothing typed; a pane the stop's keys did
not bring to its input (a turn may run on) keeps the notice as a message of its own, never
"stopped, notice carried" while the agent may go on with the cancelled work."""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.tmux import interrupt
from automation.tmux.delivery import TmuxDeliverer, TmuxOptions
from core.clis import panes
from core.delivery._killswitch import KillSwitch
from core.models import Agent
from core.protocols import Parcel
from tests.tmux_server import Tmux, wait_text

NOTICE = "[swarm] WITHDRAWN T-3 is no longer yours"
OPTIONS = TmuxOptions(land_timeout_s=1.0, confirm_timeout_s=1.0)  # no echo comes: not waited on


@pytest.fixture
def deliverer(home: Path) -> Iterator[TmuxDeliverer]:
    made = TmuxDeliverer(home, KillSwitch(home), OPTIONS)
    yield made
    made.close()


def showing(tmux: Tmux, folder: Path, screen: str) -> tuple[Agent, Path]:
    """Claude Code's pane ``agents:cc`` showing ``screen``, every byte it gets recorded: the
    agent and the record's file."""
    shown, got = folder / "screen.txt", folder / "got.bin"
    shown.write_text(screen, encoding="utf-8")
    got.touch()
    command = f"cat {shlex.quote(str(shown))}; stty raw -echo; exec cat > {shlex.quote(str(got))}"
    tmux.window("agents", "cc", f"sh -c {shlex.quote(command)}", "130x45")
    agent = Agent(id="Agent-1", role="dev", delivery="tmux", app="terminal", cli="claude-code",
                  tmux="agents:cc", tmux_socket=str(tmux.socket))  # fmt: skip
    return agent, got


def withdrawal(agent: Agent) -> Parcel:
    return Parcel(9, agent, NOTICE, "swarm", task_id=3, withdraw=True)


@pytest.mark.timeout(60)
async def test_an_idle_pane_is_withdrawn_from_by_the_stop_alone(
    tmux: Tmux, tmp_path: Path, deliverer: TmuxDeliverer
) -> None:
    idle = (panes("claude-code") / "claude-code-2.1.328-idle-start.txt").read_text("utf-8")
    agent, got = showing(tmux, tmp_path, idle)
    wait_text(tmux.ref("agents:cc"), "? for shortcuts")
    receipt = await deliverer.deliver(withdrawal(agent))
    assert receipt.ok and receipt.carried and receipt.idle_seen, receipt
    await asyncio.sleep(0.3)
    assert got.read_bytes() == b""  # not a key, not a byte


@pytest.mark.timeout(120)
async def test_a_stop_not_seen_to_end_the_turn_keeps_the_notice_for_itself(
    tmux: Tmux, tmp_path: Path, deliverer: TmuxDeliverer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prompt just taken, its pane at its input box beside a line no rule reads as work or
    idle (an API error): the stop's key goes in, the pane still not read idle (the turn may
    run on), so the notice is not left for the next message: it is typed, as the one word
    the agent is sure to get. Before the mend: "stopped, notice carried" whatever the pane
    read after the stop."""
    idle = (panes("claude-code") / "claude-code-2.1.328-idle-start.txt").read_text("utf-8")
    lines = idle.splitlines()
    box = max(i for i, line in enumerate(lines) if line.startswith("❯"))
    lines.insert(box - 1, "● API Error: 500 Internal server error.")
    agent, got = showing(tmux, tmp_path, "\n".join(lines) + "\n")
    ref = tmux.ref("agents:cc")
    wait_text(ref, "API Error")
    # swarm's delivery, a moment ago (its turn's wait for the screen nearly over), and the
    # stop's wait for the pane at its input shortened: nothing here will read it so
    tmux.run("set-option", "-p", "-t", "agents:cc", "@swarm-taken", f"{time.time() - 4.5:.3f}")
    monkeypatch.setattr(interrupt, "CONFIRM_S", 0.5)
    receipt = await deliverer.deliver(withdrawal(agent))
    assert not receipt.carried and not receipt.idle_seen, receipt
    assert NOTICE.encode() in got.read_bytes()  # after the stop's key (a retry, if unseen)
