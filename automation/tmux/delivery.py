"""Delivery straight into tmux panes: no display, no clipboard, no global input lock.

For ``delivery = "tmux"`` agents (and desktop agents with a ``tmux`` pane when there is no
display). One delivery at a time per pane (an ``asyncio.Lock`` each), different panes in
parallel; every tmux call runs in a worker thread. A delivery:

1. reads the pane (gone: failed for good) and classifies it with the agent's rule file
   (``cli``; else every rule file): a dialog on screen gets nothing (failed, retried);
2. an input line that holds text (or that no rule finds) is cleared with the agent's
   ``clear`` keys when they are all editing keys (``SAFE_CLEAR_KEYS``: never a key that
   interrupts, quits or switches a mode), pass after pass until it stops changing; with
   other clear keys nothing is pressed and a delivery into text is refused;
3. ``load-buffer`` (the text on stdin) into a buffer named for this delivery, then
   ``paste-buffer -p -d`` (a bracketed paste when the program asked for one; the buffer is
   deleted after, also when the paste fails);
4. waits until the paste has landed (the input changed, then stayed still; ``settle_s`` at
   least), presses the submit key and confirms: the agent works, or the input changed
   again and no longer holds the text (its last line, or the CLI's ``[Pasted text ...]``).

A retry never pastes twice: text still in the input gets the submit key only; text gone
from the input after this deliverer's own submit, or shown in the transcript above an input
line a rule found, counts as delivered (without such a line, text on screen may be sitting
unsubmitted in an input box swarm cannot see: it is pasted again, never counted).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from automation.failures import Failure
from automation.pane_input import PaneInput, pane_of, sample_of
from automation.tmux.interrupt import (
    SHOWN_S,
    Interrupted,
    Keys,
    Outcome,
    PaneKeys,
    interrupt,
)
from core.agents import RuleSet
from core.clis import AgentCli, by_name
from core.delivery import KillSwitch
from core.formats.text import control_chars, escape_controls, shorten
from core.keys import TEXT_STEP, KeyComboError, parse_combo
from core.models import Agent, Receipt
from core.protocols import Parcel
from core.tmux import PaneRef, PaneText, SharedReads

log = logging.getLogger(__name__)
T = TypeVar("T")

METHOD = "tmux"
WORKERS = 64  # panes served at once (threads; each waits on tmux most of the time: with 16,
# a broadcast to 32 agents went in two waves)
# Editing keys only: they move in or delete from the input and mean nothing else in Claude
# Code, Codex, Gemini CLI, Aider or opencode (Escape interrupts a turn, Ctrl+C interrupts
# or quits, Ctrl+D quits, Tab and Shift+Tab switch modes, Enter submits).
SAFE_CLEAR_KEYS = frozenset(
    {("ctrl", "a"), ("ctrl", "e"), ("ctrl", "u"), ("ctrl", "k"), ("home",), ("end",),
     ("left",), ("right",), ("backspace",), ("delete",)}
)  # fmt: skip
_TMUX_NAMES = {
    "enter": "Enter", "tab": "Tab", "space": "Space", "backspace": "BSpace", "delete": "DC",
    "escape": "Escape", "insert": "IC", "home": "Home", "end": "End", "pageup": "PPage",
    "pagedown": "NPage", "up": "Up", "down": "Down", "left": "Left", "right": "Right",
} | {f"f{n}": f"F{n}" for n in range(1, 13)}  # fmt: skip
_TMUX_MODIFIERS = {"ctrl": "C-", "alt": "M-", "shift": "S-"}


@dataclass(frozen=True)
class TmuxOptions:
    """The waits of one tmux delivery (seconds)."""

    land_timeout_s: float = 10.0  # the paste must show in the input within this
    settle_s: float = 0.2  # from the paste to the submit key at least (Gemini: an Enter
    # within ~30 ms of the previous key is a newline)
    quiet_s: float = 0.2  # the input unchanged this long: a paste or a clear is done
    confirm_timeout_s: float = 10.0  # the submit must show within this
    poll_s: float = 0.05
    key_gap_s: float = 0.1  # between two keys pressed (an option key, then Enter)
    clear_passes: int = 30  # the clear keys, pressed again while the input still changes
    command_timeout_s: float = 10.0  # one tmux command

    @property
    def time_limit_s(self) -> float:
        """The longest one delivery takes (reading and clearing, paste, submit)."""
        return self.land_timeout_s + self.confirm_timeout_s + self.settle_s + 10.0


class _Stop(Exception):
    """The delivery ends here with this receipt."""

    def __init__(self, receipt: Receipt) -> None:
        super().__init__(receipt.reason)
        self.receipt = receipt


@dataclass
class _Pending:
    """An attempt not confirmed yet: its delivery and whether its submit key was pressed."""

    delivery_id: int
    submitted: bool = False


def tmux_key(combo: str) -> str:
    """``"ctrl+u"`` -> ``"C-u"``, ``"enter"`` -> ``"Enter"`` (tmux ``send-keys`` names);
    KeyComboError when tmux has no name for it."""
    *mods, key = parse_combo(combo)
    if mods == ["shift"] and key == "tab":
        return "BTab"
    name = _TMUX_NAMES.get(key, key)
    if len(key) > 1 and key not in _TMUX_NAMES:
        raise KeyComboError(f"tmux has no key {key!r} ({combo!r})")
    prefix = ""
    for mod in mods:
        base = mod.removesuffix("left").removesuffix("right")
        if base not in _TMUX_MODIFIERS:
            raise KeyComboError(f"tmux cannot press {mod!r} ({combo!r})")
        prefix += _TMUX_MODIFIERS[base]
    if name == ";":
        name = "\\;"  # a lone ";" ends a tmux command
    return prefix + name


def paste_text(text: str) -> tuple[str, int]:
    """``text`` as it is pasted: line ends as ``\\n``, and without control characters (an
    escape sequence in it could end the bracketed paste and type keys); how many went."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = set(control_chars(text, "\n\t"))
    if not bad:
        return text, 0
    kept = "".join(char for char in text if char not in bad)
    return kept, len(text) - len(kept)


class TmuxDeliverer:
    """A Deliverer (and KeyPresser) that types into each agent's tmux pane."""

    def __init__(
        self,
        home: Path | None,
        kill_switch: KillSwitch,
        options: TmuxOptions | None = None,
        rule_sets: Sequence[RuleSet] | None = None,
    ) -> None:
        self.options = options or TmuxOptions()
        self._kill = kill_switch
        self.panes = PaneInput(home, rule_sets)
        self._executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="swarm-tmux")
        self.reads = SharedReads(self.options.command_timeout_s)  # polls of panes at once
        self._locks: dict[PaneRef, asyncio.Lock] = {}
        self._pending: dict[str, _Pending] = {}  # agent -> its attempt not confirmed

    @property
    def time_limit_s(self) -> float:
        """The longest one ``deliver`` call takes (the scheduler waits a little longer)."""
        return self.options.time_limit_s

    @property
    def rule_sets(self) -> tuple[RuleSet, ...]:
        """The agent rule files (bundled, and the home's own), read at first use."""
        return self.panes.rule_sets

    def parallel(self, agent: Agent) -> bool:
        """Every pane takes its deliveries beside the others'."""
        return True

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Deliver once into the agent's pane (after the pane's earlier deliveries)."""
        ref = pane_of(parcel.agent)
        if ref is None:
            return _failed('no tmux pane: set tmux = "session:window"', retryable=False)
        deadline = time.monotonic() + self.options.time_limit_s
        return await self._in_pane(ref, self.deliver_blocking, parcel, ref, deadline)

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Press ``keys`` (a decided prompt's answer: ``1``, then ``enter``) into the pane."""
        ref = pane_of(agent)
        if ref is None:
            return _failed('no tmux pane: set tmux = "session:window"', retryable=False)
        return await self._in_pane(ref, self.press_blocking, agent, ref, tuple(keys))

    async def interrupt(self, agent: Agent, cli: AgentCli) -> Interrupted:
        """Stop the running turn in the agent's pane with its CLI's interrupt keys, after
        the pane's earlier deliveries (``interrupt.interrupt``). OSError: no pane, the pane
        gone, a key that is none, or one tmux refused."""
        ref = pane_of(agent)
        if ref is None:
            raise OSError('no tmux pane: set tmux = "session:window"')
        keys = _keys_of(cli)
        return await self._in_pane(ref, self._interrupt, agent, ref, keys)

    def _interrupt(self, agent: Agent, ref: PaneRef, keys: Keys) -> Interrupted:
        """``interrupt.interrupt`` in the pane (blocking)."""
        return interrupt(self._pane_keys(), self.panes, agent, ref, keys, self.options.poll_s)

    def _pane_keys(self) -> PaneKeys:
        return PaneKeys(self.reads, self.options.command_timeout_s)

    async def _in_pane(self, ref: PaneRef, work: Callable[..., T], *args: object) -> T:
        """Run ``work(*args)`` in a worker thread while holding the pane's lock; the lock is
        held until the thread ends, even when the caller stops waiting."""
        lock = self._locks.setdefault(ref, asyncio.Lock())
        await lock.acquire()
        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        except BaseException:
            lock.release()
            raise
        future.add_done_callback(lambda _done: lock.release())
        return await asyncio.shield(future)

    def close(self) -> None:
        """Wait for the deliveries in flight, cancel queued ones."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    # -- a delivery (blocking, in a worker thread) --------------------------------------

    def deliver_blocking(self, parcel: Parcel, ref: PaneRef, deadline: float) -> Receipt:
        """Deliver once from the calling thread; never raises."""
        started = time.perf_counter()
        try:
            receipt = self._deliver(parcel, ref, deadline)
        except _Stop as stop:
            receipt = stop.receipt
        except Exception:
            log.exception("delivery %s to %s: error", parcel.delivery_id, parcel.agent.id)
            receipt = _failed(Failure.DRIVER_ERROR)
        ms = (time.perf_counter() - started) * 1000
        what = f"delivery {parcel.delivery_id} to {parcel.agent.id} (tmux {ref.target})"
        if receipt.ok:
            log.info("%s: done in %.0f ms", what, ms)
        else:
            log.warning("%s: failed (%s) after %.0f ms", what, receipt.reason, ms)
        return receipt

    def _deliver(self, parcel: Parcel, ref: PaneRef, deadline: float) -> Receipt:
        agent = parcel.agent
        self._check_paused(deadline)
        pane = self._read(ref)
        blocked = self.panes.blocker(agent, pane)
        if blocked is not None:  # a dialog, or a CLI starting: nothing typed, no try used
            return _failed(blocked.reason, deferred=blocked.deferred)
        if parcel.reset:
            return self._reset(parcel, ref, pane, deadline)
        if parcel.withdraw and (self.panes.working(agent, pane) or self._just_taken(ref)):
            pane = self._stop_turn(agent, ref)
        if parcel.withdraw and _stops_turns(agent) and self.panes.idle(agent, pane):
            return Receipt.stopped(METHOD, idle_seen=True)  # the notice: on the next message
        text, removed = paste_text(parcel.text)
        if removed:
            log.warning("delivery %s: %d control characters removed", parcel.delivery_id, removed)
        sample = sample_of(text)
        if parcel.is_retry:
            # judged on a still pane: mid-redraw, the CLI's echo of the text just taken can
            # be the lowest input line for a moment (it read as the text still unsent)
            pane = self._quiet(ref, self.panes.area(agent, pane), deadline, agent)
            earlier = self._earlier(parcel, pane, sample)
            if earlier == "delivered":
                self._pending.pop(agent.id, None)
                self._pane_keys().note(ref, "taken")
                return Receipt.delivered(METHOD)
            if earlier == "submit":
                landed = self._quiet(ref, self.panes.area(agent, pane), deadline, agent)
                return self._submit(parcel, ref, landed, sample, deadline)
        self._clear(agent, ref, pane, deadline)
        before = self._read(ref)
        self._pending[agent.id] = _Pending(parcel.delivery_id)
        pasted_at = time.monotonic()
        self._paste(ref, text, f"swarm-d{parcel.delivery_id}-{uuid.uuid4().hex[:8]}")
        landed = self._landed(agent, ref, before, deadline)
        time.sleep(max(0.0, pasted_at + self.options.settle_s - time.monotonic()))
        return self._submit(parcel, ref, landed, sample, deadline)

    def _stop_turn(self, agent: Agent, ref: PaneRef) -> PaneText:
        """A withdrawal's agent at work: its turn stopped by its CLI's interrupt keys; the
        pane after. A turn that still runs fails the delivery (retried: stopped again), so
        the withdrawal is never done while the work it takes back goes on."""
        cli = by_name(agent.cli)
        if cli is not None:
            try:
                done = self._interrupt(agent, ref, _keys_of(cli))
            except OSError as exc:
                raise _Stop(_failed(f"its turn not stopped: {exc}")) from None
            said = (agent.id, " ".join(cli.interrupt), done.outcome.value, done.after_s)
            log.info("withdrawal to %s: its turn stopped (%s): %s after %.1f s", *said)
            if done.outcome is Outcome.STILL_WORKING:
                keys_said = " ".join(cli.interrupt)
                raise _Stop(_failed(f"its turn not stopped: still at work after {keys_said}"))
        return self._read(ref)

    def _just_taken(self, ref: PaneRef) -> bool:
        """Whether a prompt was taken in the pane so lately that its turn may not show yet
        (``interrupt.SHOWN_S``)."""
        taken = self._pane_keys().lately(ref).taken
        return taken is not None and time.time() < taken + SHOWN_S

    def _earlier(self, parcel: Parcel, pane: PaneText, sample: str) -> str | None:
        """On a retry: ``"submit"`` (the text is still in the input), ``"delivered"`` (it
        left the input after this deliverer's submit, or the transcript shows it), or None
        (paste it)."""
        agent = parcel.agent
        seen = self.panes.earlier(agent, pane, sample)
        if seen == "input":
            return "submit"
        pending = self._pending.get(agent.id)
        if pending is not None and pending.delivery_id == parcel.delivery_id and pending.submitted:
            log.info("delivery %s: its text left the input after the last try's submit",
                     parcel.delivery_id)  # fmt: skip
            return "delivered"
        if seen == "transcript":
            log.info("delivery %s: the transcript shows it already", parcel.delivery_id)
            return "delivered"
        return None

    def _submit(
        self, parcel: Parcel, ref: PaneRef, landed: PaneText, sample: str, deadline: float
    ) -> Receipt:
        """Press the submit key, then wait for the agent to take the text. Not when a dialog
        opened since the paste (the turn under way called a tool): the key would take its
        highlighted option for the person; the text stays in the input for the retry."""
        agent = parcel.agent
        self._check_paused(deadline)
        opened = self.panes.dialog_since_paste(agent, self._read(ref), parcel.text)
        if opened is not None:
            return _failed(opened)
        busy = self.panes.working(agent, landed)  # a turn still runs: its work is no sign
        self._keys(ref, (agent.submit,))
        pending = self._pending.setdefault(agent.id, _Pending(parcel.delivery_id))
        pending.submitted = True
        before = self.panes.area(agent, landed)
        until = min(deadline, time.monotonic() + self.options.confirm_timeout_s)
        while True:
            pane = self._read(ref)
            if self.panes.took(agent, pane, before, sample, busy):
                self._pending.pop(agent.id, None)
                self._pane_keys().note(ref, "taken")
                return Receipt.delivered(METHOD)
            if busy and self._turn_left_it(agent, ref, pane, sample):
                busy, before = False, self.panes.area(agent, pane)  # submitted again
            elif time.monotonic() >= until:
                return _not_taken(busy)
            time.sleep(self.options.poll_s)

    def _turn_left_it(self, agent: Agent, ref: PaneRef, pane: PaneText, sample: str) -> bool:
        """The turn that ran as the text was submitted has ended with the text still in the
        input (its CLI ignored the key): the key again once its rules read it at its input
        (not at work, no dialog, no screen they do not know); True when pressed."""
        if not self.panes.idle(agent, pane) or not self.panes.holds(agent, pane, sample):
            return False  # still at work, a dialog open, or the text gone
        log.info("%s: its turn ended with the text in its input: submitted again", agent.id)
        self._keys(ref, (agent.submit,))
        return True

    def _landed(self, agent: Agent, ref: PaneRef, before: PaneText, deadline: float) -> PaneText:
        """The pane once the paste shows in the input and the input stays still."""
        start = self.panes.area(agent, before)
        until = min(deadline, time.monotonic() + self.options.land_timeout_s)
        while True:
            pane = self._read(ref)
            area = self.panes.area(agent, pane)
            if area != start:
                return self._quiet(ref, area, until, agent)
            if time.monotonic() >= until:
                raise _Stop(_failed(Failure.PASTE_NOT_SEEN))
            time.sleep(self.options.poll_s)

    def _quiet(
        self, ref: PaneRef, area: tuple[str, ...], until: float, agent: Agent | None = None
    ) -> PaneText:
        """The pane once its input has not changed for ``quiet_s`` (or at ``until``)."""
        still_since = time.monotonic()
        while True:
            pane = self._read(ref)
            now = self.panes.area(agent, pane) if agent is not None else area
            if now != area:
                area, still_since = now, time.monotonic()
            if time.monotonic() - still_since >= self.options.quiet_s or time.monotonic() >= until:
                return pane
            time.sleep(self.options.poll_s)

    def _clear(self, agent: Agent, ref: PaneRef, pane: PaneText, deadline: float) -> None:
        """Empty an input that holds text (or that no rule finds) with the agent's clear keys,
        if safe; refuse when it holds text that cannot be cleared safely."""
        words = self.panes.typed(agent, pane)
        if self.panes.input_line(agent, pane) is not None and not words:
            return  # the input line is empty (or shows its placeholder): nothing to clear
        unsafe = [combo for combo in agent.clear if not _safe_clear(combo)]
        if unsafe or not agent.clear:
            if words:
                keys = ", ".join(unsafe) or "none"
                raise _Stop(_failed(
                    f"{Failure.INPUT_NOT_EMPTY} ({shorten(words, 40)!r}): the clear keys "
                    f"({keys}) are not safe for {agent.cli or 'its CLI'}; use editing keys "
                    'like clear = ["ctrl+e", "ctrl+u"]'
                ))  # fmt: skip
            return
        area = self.panes.area(agent, pane)
        for _ in range(self.options.clear_passes):
            self._check_paused(deadline)
            self._keys(ref, agent.clear, gap=0.0)
            now = self.panes.area(agent, self._quiet(ref, area, deadline, agent))
            if now == area:
                return
            area = now
        words = self.panes.typed(agent, self._read(ref))
        if words:
            raise _Stop(_failed(f"{Failure.INPUT_NOT_EMPTY} ({shorten(words, 40)!r})"))

    def _reset(self, parcel: Parcel, ref: PaneRef, pane: PaneText, deadline: float) -> Receipt:
        """The agent's reset action: the clear, then each step (keys, or ``text:...``
        typed); not confirmed on screen (what a reset shows differs by CLI)."""
        self._clear(parcel.agent, ref, pane, deadline)
        after_text = False
        for step in parcel.reset:
            self._check_paused(deadline)
            if step.startswith(TEXT_STEP):
                self._type(ref, step[len(TEXT_STEP) :], parcel.delivery_id)
                after_text = True
                continue
            if after_text:
                time.sleep(self.options.settle_s)
            self._keys(ref, (step,))
            after_text = False
        return Receipt.delivered(METHOD)

    def _type(self, ref: PaneRef, text: str, delivery_id: int) -> None:
        """A reset's text (``/clear``): typed as keys when it is one plain line, else
        pasted like a prompt."""
        clean, _ = paste_text(text)
        if "\n" in clean or ";" in clean:
            self._paste(ref, clean, f"swarm-r{delivery_id}-{uuid.uuid4().hex[:8]}")
        else:
            self._tmux(ref, "send-keys", "-t", ref.target, "-l", "--", clean)

    # -- keys ------------------------------------------------------------------------

    def press_blocking(self, agent: Agent, ref: PaneRef, keys: tuple[str, ...]) -> Receipt:
        """Press ``keys`` into the pane; ok once pressed (with a note when the pane did not
        change). Never raises."""
        try:
            if self._kill.engaged:
                return _failed(Failure.PAUSED, deferred=True)
            before = self._read(ref)
            self._keys(ref, keys)
            until = time.monotonic() + self.options.confirm_timeout_s
            while self._read(ref).lines == before.lines and time.monotonic() < until:
                time.sleep(self.options.poll_s)
            changed = self._read(ref).lines != before.lines
        except _Stop as stop:
            receipt = stop.receipt
        except Exception:
            log.exception("keys %s for %s: error", "+".join(keys), agent.id)
            receipt = _failed(Failure.DRIVER_ERROR)
        else:
            note = None if changed else "no change was seen in the pane after the keys"
            receipt = Receipt(True, note, METHOD, retryable=False)
        log.info("keys %s for %s (tmux %s): %s", "+".join(keys), agent.id, ref.target,
                 receipt.reason or "pressed")  # fmt: skip
        return receipt

    def _keys(self, ref: PaneRef, combos: Sequence[str], gap: float | None = None) -> None:
        """Press each key combination, ``key_gap_s`` apart (one tmux call when no gap)."""
        try:
            names = [tmux_key(combo) for combo in combos]
        except KeyComboError as exc:
            log.warning("%s", exc)
            raise _Stop(_failed(f"{Failure.BAD_KEY}: {exc}", retryable=False)) from None
        gap = self.options.key_gap_s if gap is None else gap
        if not gap:
            self._tmux(ref, "send-keys", "-t", ref.target, *names)
            return
        for index, name in enumerate(names):
            if index:
                time.sleep(gap)
            self._tmux(ref, "send-keys", "-t", ref.target, name)

    # -- the pane ---------------------------------------------------------------------

    def _paste(self, ref: PaneRef, text: str, buffer: str) -> None:
        """``text`` into tmux buffer ``buffer``, pasted into the pane (bracketed when the
        program asked for it) and deleted; deleted also when the paste fails."""
        self._tmux(ref, "load-buffer", "-b", buffer, "-", stdin=text.encode("utf-8"))
        try:
            self._tmux(ref, "paste-buffer", "-p", "-d", "-b", buffer, "-t", ref.target)
        except _Stop:
            subprocess.run(ref.command("delete-buffer", "-b", buffer), capture_output=True,
                           timeout=self.options.command_timeout_s, check=False)  # fmt: skip
            raise

    def _tmux(self, ref: PaneRef, *args: str, stdin: bytes | None = None) -> None:
        """One tmux command; a failure (the pane gone, no server) stops the delivery."""
        try:
            done = subprocess.run(
                ref.command(*args),
                input=stdin if stdin is not None else b"",
                capture_output=True,
                timeout=self.options.command_timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise _Stop(_failed(f"tmux {args[0]} failed: {exc}")) from None
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = escape_controls(why[-1]) if why else f"exit status {done.returncode}"
            gone = self._read(ref)
            if not gone.ok:
                raise _Stop(_failed(gone.gone or reason, gone=True))
            raise _Stop(_failed(f"tmux {args[0]} on {ref.target} failed: {reason}"))

    def _read(self, ref: PaneRef) -> PaneText:
        """The pane's text; its being gone stops the delivery for good."""
        pane = self.reads.capture(ref)
        if not pane.ok:
            raise _Stop(_failed(pane.gone or f"tmux pane {ref.target} is gone", gone=True))
        return pane

    def _check_paused(self, deadline: float) -> None:
        if self._kill.engaged:
            raise _Stop(_failed(Failure.PAUSED, deferred=True))
        if time.monotonic() >= deadline:
            raise _Stop(_failed(Failure.DEADLINE_PASSED))


def _stops_turns(agent: Agent) -> bool:
    """Whether swarm knows the keys that stop a turn of ``agent``'s CLI: a withdrawal is
    then that stop, and once the pane reads idle its notice is not typed as a turn of its
    own (a paid request that would show the agent at work again); for a CLI swarm does not
    know, or a pane its rules do not read idle (a screen no rule knows: a turn may run), it
    is typed, as the one word the agent is sure to get."""
    cli = by_name(agent.cli)
    return cli is not None and bool(cli.interrupt)


def _keys_of(cli: AgentCli) -> Keys:
    """``cli``'s interrupt as the pane takes it. OSError: a key that is none."""
    try:
        names = tuple(tmux_key(combo) for combo in cli.interrupt)
    except KeyComboError as exc:
        raise OSError(str(exc)) from None
    return Keys(names, cli.interrupt_armed, cli.interrupt_quits_s)


def _safe_clear(combo: str) -> bool:
    try:
        return parse_combo(combo) in SAFE_CLEAR_KEYS
    except KeyComboError:
        return False


def _not_taken(busy: bool) -> Receipt:
    """The submit key not taken: the text still in the input. Put off without using a try
    when a turn ran all along (the text waits for the turn's end), else a failed try."""
    if busy:
        return _failed(f"{Failure.SUBMIT_NOT_SEEN}: its turn still runs", deferred=True)
    return _failed(f"{Failure.SUBMIT_NOT_SEEN}: the input still holds the text")


def _failed(
    reason: str, retryable: bool = True, deferred: bool = False, gone: bool = False
) -> Receipt:
    return Receipt.failed(reason, METHOD, retryable=retryable, deferred=deferred, gone=gone)
