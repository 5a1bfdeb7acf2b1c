"""A running turn stopped in a tmux pane by its CLI's own interrupt keys (``AgentCli.interrupt``:
Escape; opencode's Escape twice, the second within its window; Aider's one Ctrl+C, which
stops its answer, where a second within 2 s quits it), confirmed by the pane: its CLI's rules
read it at its input again, its process the one that ran the turn. A key after the first
waits for the pane to show the interrupt armed (``AgentCli.interrupt_armed``), so a busy CLI
never reads two keys at once. A pane that reads idle
gets nothing: a key at an idle input means something else (Aider's Ctrl+C arms its quit).
Blocking: run in the deliverer's worker thread, under the pane's lock."""

from __future__ import annotations

import enum
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from automation.pane_input import PaneInput
from core.agent_state import AgentState
from core.models import Agent
from core.tmux import PaneRef, PaneText, SharedReads

KEY_GAP_S = 0.2  # between two interrupt keys where the CLI shows no arm: a terminal does
# not read two Escapes this far apart as one Alt+Escape (one that shows it: none after it)
CONFIRM_S = 5.0  # the pane read at its input again within this, after the keys
ARMED_WITHIN_S = 3.0  # a key after the first waits this long at most for the arm shown
# (opencode 1.18 shows it for 5 s): unseen, the next key is pressed all the same


class Outcome(enum.Enum):
    """What an interrupt came to."""

    IDLE = "idle"  # pressed; the CLI at its input again
    STILL_WORKING = "still working"  # pressed; not read at its input within CONFIRM_S
    EXITED = "exited"  # pressed; the pane's process ended or is another one
    UNREAD = "unread"  # pressed; its rules read neither work nor its input before: unconfirmed
    NOT_RUNNING = "not running"  # the pane reads idle: nothing pressed


@dataclass(frozen=True)
class Interrupted:
    """An interrupt's outcome, the pane as read last, and the seconds to it from the keys."""

    outcome: Outcome
    pane: PaneText
    after_s: float = 0.0

    @property
    def pressed(self) -> bool:
        """Whether the keys were pressed."""
        return self.outcome is not Outcome.NOT_RUNNING


@dataclass(frozen=True)
class PaneKeys:
    """The tmux calls an interrupt makes: reads through ``reads``, keys and the pane's
    process through ``tmux`` itself, each bounded by ``timeout_s``."""

    reads: SharedReads
    timeout_s: float

    def read(self, ref: PaneRef) -> PaneText:
        return self.reads.capture(ref)

    def press(
        self,
        ref: PaneRef,
        names: Sequence[str],
        gap_s: float,
        armed: str = "",
        poll_s: float = 0.05,
    ) -> bool:
        """Each key (tmux names): a key after the first once the pane shows ``armed`` (a
        regular expression), else ``gap_s`` after the last; False when tmux refused one."""
        for index, name in enumerate(names):
            if index and armed:
                self.until_shown(ref, re.compile(armed), ARMED_WITHIN_S, poll_s)
            elif index:
                time.sleep(gap_s)
            if self._run(ref, "send-keys", "-t", ref.target, name) is None:
                return False
        return True

    def until_shown(
        self, ref: PaneRef, shown: re.Pattern[str], within_s: float, poll_s: float
    ) -> bool:
        """Whether the pane shows ``shown`` within ``within_s``."""
        deadline = time.monotonic() + within_s
        while not any(shown.search(line) for line in self.read(ref).lines):
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)
        return True

    def process(self, ref: PaneRef) -> str | None:
        """The pane's process (its pid, None: dead or gone)."""
        said = self._run(ref, "display-message", "-p", "-t", ref.target,
                         "#{pane_pid} #{pane_dead}")  # fmt: skip
        pid, _, dead = (said or "").strip().partition(" ")
        return pid if pid and dead == "0" else None

    def _run(self, ref: PaneRef, *args: str) -> str | None:
        try:
            done = subprocess.run(
                ref.command(*args), capture_output=True, text=True, timeout=self.timeout_s,
                stdin=subprocess.DEVNULL, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None


def interrupt(
    tmux: PaneKeys,
    panes: PaneInput,
    agent: Agent,
    ref: PaneRef,
    names: Sequence[str],
    poll_s: float = 0.05,
    armed: str = "",
) -> Interrupted:
    """Press ``names`` (the CLI's interrupt keys, as tmux names them; a key after the first
    once the pane shows ``armed``) into ``agent``'s pane unless it reads idle, then, where it
    read at work (or at a dialog), wait for it to read idle (``CONFIRM_S``). OSError when the
    pane is gone or tmux refused the keys."""
    pane = _read(tmux, ref)
    before = panes.classify(agent, pane)
    if before is not None and before.state is AgentState.IDLE:
        return Interrupted(Outcome.NOT_RUNNING, pane)
    process = tmux.process(ref)
    if not tmux.press(ref, names, KEY_GAP_S, armed, poll_s):
        raise OSError(f"tmux did not take the keys into {ref.target}")
    at_work = before is not None and before.state in (AgentState.WORKING, AgentState.WAITING)
    pressed = time.monotonic()
    deadline = pressed + CONFIRM_S
    while True:
        now = tmux.read(ref)
        if not now.ok or tmux.process(ref) != process:
            return Interrupted(Outcome.EXITED, now, time.monotonic() - pressed)
        if not at_work and now.lines != pane.lines:  # no turn seen: its keys seen, no more
            return Interrupted(Outcome.UNREAD, now, time.monotonic() - pressed)
        if at_work and panes.idle(agent, now):
            return Interrupted(Outcome.IDLE, now, time.monotonic() - pressed)
        if time.monotonic() >= deadline:
            outcome = Outcome.STILL_WORKING if at_work else Outcome.UNREAD
            return Interrupted(outcome, now, time.monotonic() - pressed)
        time.sleep(poll_s)


def _read(tmux: PaneKeys, ref: PaneRef) -> PaneText:
    pane = tmux.read(ref)
    if not pane.ok:
        raise OSError(pane.gone or f"tmux pane {ref.target} is gone")
    return pane
