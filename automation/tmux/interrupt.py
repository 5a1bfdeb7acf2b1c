"""A running turn stopped in a tmux pane by its CLI's own interrupt keys (``AgentCli.interrupt``:
Escape; opencode's Escape twice, the second within its window; Aider's one Ctrl+C, which
stops its answer, where a second within 2 s quits it), confirmed by the pane: its CLI's rules
read it at its input again, its process the one that ran the turn. A key after the first
waits for the pane to show the interrupt armed (``AgentCli.interrupt_armed``), so a busy CLI
never reads two keys at once. Where the CLI arms (opencode), what it shows leads: each of its
Escapes lapses 5 s later, so an earlier stop's lapse can undo the first of a new stop's keys
(seen live: the second only armed again); a key the CLI read (two frames drawn since) whose
arm is not shown, or an arm still shown after the stopping key, is pressed again. A pane
that reads idle gets nothing: a key at an idle input means something else (Aider's Ctrl+C
arms its quit); where a second key quits the CLI (Aider) and the first did not take, one
more after that bound. A prompt taken moments ago may not show its turn yet (seen live:
opencode read idle as the stop came with swarm's delivery, and the turn went on): until
``SHOWN_S`` after that take, an idle pane is read again until it shows the turn.
Blocking: run in the deliverer's worker thread, under the pane's lock."""

from __future__ import annotations

import enum
import math
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from automation.pane_input import PaneInput
from core.agent_state import AgentState
from core.agents import TextMatch
from core.models import Agent
from core.tmux import PaneRef, PaneText, SharedReads, pane_pid

KEY_GAP_S = 0.2  # between two interrupt keys where the CLI shows no arm: a terminal does
# not read two Escapes this far apart as one Alt+Escape (one that shows it: none after it)
CONFIRM_S = 5.0  # the pane read at its input again within this, after the keys
ARMED_WITHIN_S = 3.0  # a key after the first waits this long at most for the arm shown
# (opencode 1.18 shows it for 5 s): unseen, the next key is pressed all the same
READ_AFTER_S = 0.2  # a key is taken as read once this long after it and two frames drawn
STOPPING_S = 2.0  # after the stopping key, an unarmed pane at work this long: arm again
SHOWN_S = 5.0  # a prompt's turn shows in its pane within this of the prompt taken (a loaded
# machine: opencode showed it within 0.9 s idle)
QUITS_MARGIN_S = 0.3  # beyond a CLI's interrupt_quits_s: its clock read after the key's
# a CLI whose second interrupt quits it and still at work this long past that bound: its key
# did not take (Aider 0.86 went on waiting for its model after "^C again to exit", 2 runs
# in ~20 loaded ones), so it is pressed once more
AGAIN_AFTER_S = 1.5


class Outcome(enum.Enum):
    """What an interrupt came to."""

    IDLE = "idle"  # pressed; the CLI at its input again
    STILL_WORKING = "still working"  # pressed; not read at its input within CONFIRM_S
    EXITED = "exited"  # pressed; the pane's process ended or is another one
    UNREAD = "unread"  # pressed; its rules read neither work nor its input before: unconfirmed
    NOT_RUNNING = "not running"  # the pane reads idle: nothing pressed


@dataclass(frozen=True)
class Keys:
    """A CLI's interrupt keys as tmux names them; what its pane shows once the first armed
    the interrupt (``AgentCli.interrupt_armed``); how soon a second interrupt quits it
    (``AgentCli.interrupt_quits_s``)."""

    names: tuple[str, ...]
    armed: str = ""
    quits_s: float = 0.0


@dataclass(frozen=True)
class Lately:
    """What happened in a pane lately, as a swarm process noted it on the pane (any process:
    ``swarm run``'s delivery, a person's ``swarm agents stop``): when a prompt was last taken
    there and its interrupt keys last pressed (Unix seconds; None: not noted)."""

    taken: float | None = None
    pressed: float | None = None

    def shows_by(self) -> float:
        """Until when (monotonic) an idle pane may yet show the turn of the prompt taken."""
        left = 0.0 if self.taken is None else self.taken + SHOWN_S - time.time()
        return time.monotonic() + min(max(left, 0.0), SHOWN_S)

    def quits_wait_s(self, quits_s: float) -> float:
        """How long to wait before the keys where a second press within ``quits_s`` quits
        the CLI (bounded: a noted time is a pane option, never trusted past that)."""
        if self.pressed is None or not quits_s:
            return 0.0
        most = quits_s + QUITS_MARGIN_S
        return min(max(self.pressed + most - time.time(), 0.0), most)


def _epoch(text: str) -> float | None:
    """A noted time (Unix seconds), or None for anything else."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


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
            if not self.send(ref, name):
                return False
        return True

    def send(self, ref: PaneRef, name: str) -> bool:
        """One key (its tmux name); False when tmux refused it."""
        return self._run(ref, "send-keys", "-t", ref.target, name) is not None

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

    def lately(self, ref: PaneRef) -> Lately:
        """What the swarm processes noted on the pane (its options ``@swarm-taken`` and
        ``@swarm-pressed``); nothing noted, or the pane gone: an empty one."""
        said = self._run(ref, "display-message", "-p", "-t", ref.target,
                         "#{@swarm-taken} #{@swarm-pressed}")  # fmt: skip
        taken, _, pressed = (said or "").rstrip("\n").partition(" ")
        return Lately(_epoch(taken), _epoch(pressed))

    def note(self, ref: PaneRef, what: str) -> None:
        """Note on the pane that ``what`` (``taken``, ``pressed``) happened now, for every
        swarm process (best effort: a pane gone notes nothing)."""
        self._run(ref, "set-option", "-p", "-t", ref.target, f"@swarm-{what}", f"{time.time():.3f}")

    def process(self, ref: PaneRef) -> int | None:
        """The pane's process (its pid, None: dead or gone)."""
        return pane_pid(ref, self.timeout_s)

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
    keys: Keys,
    poll_s: float = 0.05,
) -> Interrupted:
    """Press ``keys`` (a key after the first once the pane shows it armed) into ``agent``'s
    pane unless it reads idle, then, where it read at work (or at a dialog), wait for it to
    read idle (``CONFIRM_S``). What the pane's notes say (``PaneKeys.lately``): a prompt
    taken moments ago may not show its turn yet (read again until ``SHOWN_S`` after it);
    keys pressed less than ``keys.quits_s`` ago are waited out first. The press is noted.
    OSError when the pane is gone or tmux refused the keys."""
    pane = _read(tmux, ref)
    before = panes.classify(agent, pane)
    lately = tmux.lately(ref)
    if before is not None and before.state is AgentState.IDLE and lately.taken is not None:
        pane, before = _turn_shown(tmux, panes, agent, ref, lately.shows_by(), poll_s)
    if before is not None and before.state is AgentState.IDLE:
        return Interrupted(Outcome.NOT_RUNNING, pane)
    time.sleep(lately.quits_wait_s(keys.quits_s))  # a second press that soon: it quits
    tmux.note(ref, "pressed")
    process = tmux.process(ref)
    at_work = before is not None and before.state in (AgentState.WORKING, AgentState.WAITING)
    names, armed = keys.names, keys.armed
    if at_work and armed and len(names) == 2:
        return _ArmedStop(tmux, panes, agent, ref, names, re.compile(armed), process).run(poll_s)
    if not tmux.press(ref, names, KEY_GAP_S, armed, poll_s):
        raise OSError(f"tmux did not take the keys into {ref.target}")
    pressed = time.monotonic()
    deadline, again_at = pressed + CONFIRM_S, pressed + keys.quits_s + AGAIN_AFTER_S
    while True:
        now = tmux.read(ref)
        if not now.ok or tmux.process(ref) != process:
            return Interrupted(Outcome.EXITED, now, time.monotonic() - pressed)
        if not at_work and now.lines != pane.lines:  # no turn seen: its keys seen, no more
            return Interrupted(Outcome.UNREAD, now, time.monotonic() - pressed)
        if at_work and panes.idle(agent, now):
            return Interrupted(Outcome.IDLE, now, time.monotonic() - pressed)
        if at_work and keys.quits_s and time.monotonic() >= again_at:  # the key did not take
            tmux.note(ref, "pressed")
            if not tmux.press(ref, names, KEY_GAP_S, armed, poll_s):
                raise OSError(f"tmux did not take the keys into {ref.target}")
            deadline, again_at = time.monotonic() + CONFIRM_S, float("inf")
        if time.monotonic() >= deadline:
            outcome = Outcome.STILL_WORKING if at_work else Outcome.UNREAD
            return Interrupted(outcome, now, time.monotonic() - pressed)
        time.sleep(poll_s)


def _turn_shown(
    tmux: PaneKeys, panes: PaneInput, agent: Agent, ref: PaneRef, until: float, poll_s: float
) -> tuple[PaneText, TextMatch | None]:
    """The pane read until its rules read it at work or at a dialog (the turn of a prompt
    just taken shown: a screen they do not know can come first, opencode's as it takes the
    prompt) or ``until`` (monotonic) passes; the last read and its reading."""
    while True:
        pane = _read(tmux, ref)
        reading = panes.classify(agent, pane)
        shown = reading is not None and reading.state is not AgentState.IDLE
        if shown or time.monotonic() >= until:
            return pane, reading
        time.sleep(poll_s)


class _ArmedStop:
    """A turn stopped by a CLI whose first key arms its interrupt and whose second stops it
    (``names``: the arming key, the stopping key), each press judged by what the pane shows
    once the CLI has read it: not armed, the arming key again; still armed after the stopping
    key, that key again; idle, done."""

    def __init__(
        self, tmux: PaneKeys, panes: PaneInput, agent: Agent, ref: PaneRef,
        names: Sequence[str], armed: re.Pattern[str], process: int | None,
    ) -> None:  # fmt: skip
        self.tmux, self.panes, self.agent, self.ref = tmux, panes, agent, ref
        self.arming, self.stopping = names
        self.armed, self.process = armed, process
        self.stopping_pressed = False  # the last key pressed: the stopping one
        self.pressed_at = 0.0
        self.frames = 0
        self.lines: tuple[str, ...] = ()

    def run(self, poll_s: float) -> Interrupted:
        started = time.monotonic()
        deadline = started + ARMED_WITHIN_S + CONFIRM_S
        self._press(False, self.tmux.read(self.ref))
        while True:
            now = self.tmux.read(self.ref)
            after_s = time.monotonic() - started
            if not now.ok or self.tmux.process(self.ref) != self.process:
                return Interrupted(Outcome.EXITED, now, after_s)
            if self.panes.idle(self.agent, now):
                return Interrupted(Outcome.IDLE, now, after_s)
            if time.monotonic() >= deadline:
                return Interrupted(Outcome.STILL_WORKING, now, after_s)
            self._next(now)
            time.sleep(poll_s)

    def _next(self, pane: PaneText) -> None:
        """The next key, if the pane says one is due."""
        if tuple(pane.lines) != self.lines:
            self.frames += 1
            self.lines = tuple(pane.lines)
        shown = any(self.armed.search(line) for line in pane.lines)
        since = time.monotonic() - self.pressed_at
        read = (self.frames >= 2 and since >= READ_AFTER_S) or since >= ARMED_WITHIN_S
        if not self.stopping_pressed and shown:
            self._press(True, pane)
        elif not self.stopping_pressed and read:
            self._press(False, pane)  # taken, then lapsed (or lost): arm again
        elif self.stopping_pressed and shown and read:
            self._press(True, pane)  # the lapse came first: it only armed again
        elif self.stopping_pressed and since >= STOPPING_S:
            self._press(False, pane)  # neither stopped nor armed: start over

    def _press(self, stopping: bool, pane: PaneText) -> None:
        """The stopping key (else the arming one), counted from ``pane``."""
        name = self.stopping if stopping else self.arming
        if not self.tmux.send(self.ref, name):
            raise OSError(f"tmux did not take the keys into {self.ref.target}")
        self.stopping_pressed, self.pressed_at = stopping, time.monotonic()
        self.frames, self.lines = 0, tuple(pane.lines)


def _read(tmux: PaneKeys, ref: PaneRef) -> PaneText:
    pane = tmux.read(ref)
    if not pane.ok:
        raise OSError(pane.gone or f"tmux pane {ref.target} is gone")
    return pane
