"""The desktop driver: pastes prompts into the agents' chat inputs with PyAutoGUI.

One delivery at a time: a cross-process file lock owns mouse and keyboard, and a one-worker
thread pool keeps the blocking work off the event loop. Every step is checked on screen
(the paste must show before Enter, the input must change after Enter) and every wait is
bounded; failures come back as receipts with a short reason, never as exceptions.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from PIL import Image

from automation.desktop import terminal_modes, windows
from automation.desktop.agent_windows import AgentWindows
from automation.desktop.clipboard import Clipboard, ClipboardError, SavedSelections
from automation.desktop.focus import FocusDropped, FocusLost, XFocus
from automation.desktop.gui_options import GuiOptions
from automation.desktop.held_keys import click_at, press_combo, pyautogui_display, release_held
from automation.desktop.input_clearing import InputClearer
from automation.desktop.screen import (
    IS_X11,
    Grabber,
    NoDisplay,
    Rect,
    allow_missing_xauthority,
    point_problems,
    screen_of,
    x_display,
)
from automation.desktop.screen_waits import Abort, ScreenWaits, changed, changed_box
from automation.failures import Failure
from automation.pane_input import PaneInput, pane_of, sample_of
from core.delivery import KillSwitch
from core.keys import TEXT_STEP, KeyComboError, parse_combo
from core.models import Agent, Receipt
from core.privacy.files import make_dirs
from core.protocols import Parcel
from core.tmux import PaneRef, PaneText, capture

log = logging.getLogger(__name__)

METHOD = "gui"
LOCK_NAME = "input.lock"
POINTER_NAME = "input.pointer"
UNSENT_NAME = "input.unsent"  # the agents whose input may hold an unsent paste
# A terminal in canonical mode may only be busy (a prompt_toolkit agent between two prompts
# leaves raw mode while it works): wait this long for its prompt before refusing.
LINE_MODE_WAIT_S = 1.5
PANE_READ_S = 2.0  # one tmux capture of a terminal agent's pane
PANE_POLL_S = 0.02  # between two reads of the pane while confirming a submit
RESET_SETTLE_S = 0.3  # a reset key changed the input: it rests this long before the next step


@dataclass(frozen=True)
class AgentKeys:
    """One agent's key combinations, as PyAutoGUI key-name lists."""

    clear: tuple[tuple[str, ...], ...]
    paste: tuple[str, ...]
    submit: tuple[str, ...]


class _HumanMoved(Exception):
    """The pointer left the input point during the delivery."""


def load_pyautogui() -> Any:
    """Import PyAutoGUI with PAUSE 0 and the failsafe on; NoDisplay when it cannot start."""
    error, first = None, "pyautogui" not in sys.modules
    with warnings.catch_warnings():
        # pyscreeze and python-xlib leave pipes and sockets open while importing: collected
        # here, once, unwarned (a full collection of a large process costs tens of ms)
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            allow_missing_xauthority()
            import pyautogui
        except Exception as exc:  # KeyError 'DISPLAY', DisplayConnectionError, XauthError...
            error = f"PyAutoGUI cannot use the display: {type(exc).__name__}: {exc}"
        if first:
            gc.collect()
    if error is not None:
        raise NoDisplay(error)
    pyautogui.PAUSE = 0
    pyautogui.FAILSAFE = True
    return pyautogui


def parse_keys(combo: str) -> list[str]:
    """``"ctrl+Enter"`` -> ``["ctrl", "enter"]`` (PyAutoGUI key names); [] when unknown."""
    try:
        return list(parse_combo(combo))
    except KeyComboError:
        return []


class GuiDriver:
    """A Deliverer that clicks, clears, pastes and submits into each agent's chat input.

    Per agent it remembers how the empty input looks (after a clear, and after a submit) and
    whether text may be left in it by an attempt that did not end with a seen submit: such an
    input must look empty again before anything more is pasted ("input not empty").
    """

    def __init__(
        self,
        home: Path,
        kill_switch: KillSwitch,
        options: GuiOptions | None = None,
        agents: Sequence[Agent] = (),
    ):
        self.options = options or GuiOptions()
        self.agents = tuple(agents)  # every desktop agent: where a stray paste may land
        self._kill = kill_switch
        make_dirs(home)
        self._lock = FileLock(home / LOCK_NAME)
        self._pointer_file = home / POINTER_NAME
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="swarm-gui")
        self._grabber = Grabber()
        self._clipboard: Clipboard | None = None
        self._focus: XFocus | None = None
        self._pag: Any = None
        self._screens: list[Rect] = []
        self._deadline = 0.0
        self._seen: list[str] = []  # this delivery's steps as shown on screen
        self._waits = ScreenWaits(
            self._grab, lambda: self.options, self._check_paused, self._wait_s
        )
        self._terminals: dict[str, tuple[int, str] | None] = {}  # window -> its terminal
        self._inputs = InputClearer(
            self._grab, self._waits, lambda: self.options, home / UNSENT_NAME
        )
        self._panes = PaneInput(home)  # a terminal agent's pane confirms its submit
        self._windows = AgentWindows(home)  # the window process of each agent's last prompt

    def release_left_held(self, wait_s: float = 5.0) -> list[str]:
        """At start: release the keys and buttons a killed driver left held down on this
        display (held_keys.py), under the input lock (a driver of another process in the
        middle of its hotkey keeps its keys); what it released. Without waiting for a
        delivery: until then the server would repeat them into the focused window."""
        if not IS_X11:
            return []
        try:
            with self._lock.acquire(timeout=wait_s, poll_interval=0.005), x_display() as display:
                released = release_held(display)
        except (Timeout, NoDisplay) as exc:
            log.warning("keys left held down not checked at start: %s", exc)
            return []
        if released:
            log.warning("released what a stopped driver left held down: %s", ", ".join(released))
        return released

    @property
    def time_limit_s(self) -> float:
        """The longest one ``deliver`` call takes (the scheduler waits a little longer)."""
        return self.options.time_limit_s

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Deliver once in the driver's worker thread; never raises for a failed delivery."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self.options.time_limit_s
        return await loop.run_in_executor(self._executor, self.deliver_blocking, parcel, deadline)

    def deliver_blocking(self, parcel: Parcel, deadline: float | None = None) -> Receipt:
        """Deliver once from the calling thread (blocking; ``deliver`` is the async door)."""
        started = time.perf_counter()
        self._deadline = deadline or time.monotonic() + self.options.time_limit_s
        self._seen = []
        log.debug("delivery %s to %s: start", parcel.delivery_id, parcel.agent.id)
        try:
            receipt = self._deliver(parcel)
        except Exception as exc:
            if isinstance(exc, x_connection_errors()):
                log.warning("delivery %s: the X display went away: %s", parcel.delivery_id, exc)
                self._focus = None
                receipt = _failed(Failure.NO_DISPLAY)
            else:
                log.exception("delivery %s to %s: error", parcel.delivery_id, parcel.agent.id)
                receipt = _failed(Failure.DRIVER_ERROR)
        _log_receipt(parcel, receipt, (time.perf_counter() - started) * 1000, self._seen)
        return receipt

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Press ``keys`` (a decided prompt's answer: ``1``, ``y`` then ``enter``) into the
        agent's window, in the driver's worker thread
        (``core.coordinator.prompt_keys.KeyPresser``)."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self.options.time_limit_s
        return await loop.run_in_executor(
            self._executor, self.press_blocking, agent, tuple(keys), deadline
        )

    def press_blocking(
        self, agent: Agent, keys: tuple[str, ...], deadline: float | None = None
    ) -> Receipt:
        """Press ``keys`` like a delivery types: under the input lock, not while paused or
        while the human uses the pointer, into the window under the input point once it has
        the keyboard. Ok once pressed (with a reason when the window did not change)."""
        self._deadline = deadline or time.monotonic() + self.options.time_limit_s
        try:
            receipt = self._press(agent, keys)
        except Exception as exc:
            if isinstance(exc, x_connection_errors()):
                self._focus = None
                receipt = _failed(Failure.NO_DISPLAY)
            else:
                log.exception("keys %s for %s: error", "+".join(keys), agent.id)
                receipt = _failed(Failure.DRIVER_ERROR)
        log.info("keys %s for %s: %s", "+".join(keys), agent.id, receipt.reason or "pressed")
        return receipt

    def _press(self, agent: Agent, keys: tuple[str, ...]) -> Receipt:
        if self._kill.engaged:
            return _failed(Failure.PAUSED, deferred=True)
        if agent.input is None:
            return _failed(Failure.NO_INPUT_POINT, retryable=False)
        try:
            self._load()
        except NoDisplay as exc:
            log.warning("no display for %s's keys: %s", agent.id, exc)
            return _failed(Failure.NO_DISPLAY)
        if point_problems(agent.input, self._screens):
            return _failed(Failure.OFF_SCREEN, retryable=False)
        try:
            combos = tuple(self._keys(key) for key in keys)
        except Abort as abort:
            return _failed(abort.reason, abort.retryable)
        wait = max(0.0, min(self.options.lock_timeout_s, self._remaining()))
        try:
            with self._lock.acquire(timeout=wait, poll_interval=0.005):
                return self._press_locked(agent, combos)
        except Timeout:
            return _failed(Failure.INPUT_BUSY, deferred=True)

    def _press_locked(self, agent: Agent, combos: tuple[tuple[str, ...], ...]) -> Receipt:
        assert agent.input is not None
        x, y = agent.input
        try:
            self._check_paused()
            self._release_held_keys(agent.id)
            home = self._wait_for_human(force=False)
            region = self._press_region(agent)
            click_at(self._pag, x, y)
            window = self._take_focus(x, y)
            before = self._waits.quiet(region, self._grab(region), self.options.quiet_s)
            self._check_step(x, y, window)
        except Abort as abort:
            return _failed(abort.reason, abort.retryable, deferred=True)
        except FocusLost:
            return _failed(Failure.FOCUS_NOT_TAKEN, deferred=True)
        except _HumanMoved:
            return _failed(Failure.HUMAN_ACTIVE, deferred=True)
        except self._pag.FailSafeException:
            self._kill.engage(f"failsafe: the pointer was in a screen corner ({agent.id}'s keys)")
            return _failed(Failure.FAILSAFE, deferred=True)
        for combo in combos:  # from here on the answer is typed: never again
            press_combo(self._pag, combo)
        try:
            seen = self._waits.change(region, before, self.options.submit_timeout_s, sudden=True)
        except Abort:
            seen = None
        self._restore_pointer_after_keys(home)
        note = None if seen is not None else "no change was seen in the window after the keys"
        return Receipt(True, note, METHOD, retryable=False)

    def _press_region(self, agent: Agent) -> Rect:
        """Where a prompt's answer shows: the watched region, else the input box."""
        assert agent.input is not None
        screen = screen_of(*agent.input, self._screens)
        box = screen.clip(Rect(*agent.watch)) if screen and agent.watch else None
        return box or self._input_box(agent)

    def _release_held_keys(self, agent_id: str) -> None:
        display = pyautogui_display(self._pag)
        released = release_held(display) if display is not None else []
        if released:
            log.warning("keys for %s: released what was left held down: %s", agent_id,
                        ", ".join(released))  # fmt: skip

    def _restore_pointer_after_keys(self, home: tuple[int, int]) -> None:
        if self.options.restore_pointer:
            try:
                self._pag.moveTo(*home)
            except self._pag.FailSafeException:
                self._kill.engage("failsafe: the pointer was in a screen corner after keys")
                return
        x, y = self._pag.position()
        self._pointer_file.write_text(f"{x} {y}\n", encoding="ascii")

    def close(self) -> None:
        """Wait for the running delivery, cancel queued ones, release the X connections."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._clipboard is not None:
            self._clipboard.close()  # what we still serve goes to xsel, to outlive us
        self._grabber.close()

    def _deliver(self, parcel: Parcel) -> Receipt:
        agent = parcel.agent
        if self._kill.engaged:
            return _failed(Failure.PAUSED, deferred=True)
        if time.monotonic() >= self._deadline:
            return _failed(Failure.INPUT_BUSY, deferred=True)  # queued behind others too long
        if agent.input is None:
            return _failed(Failure.NO_INPUT_POINT, retryable=False)
        try:
            self._load()
        except NoDisplay as exc:
            log.warning("no display for delivery %s: %s", parcel.delivery_id, exc)
            return _failed(Failure.NO_DISPLAY)
        problems = point_problems(agent.input, self._screens)
        if problems:
            log.warning("%s: %s", agent.id, "; ".join(problems))
            return _failed(Failure.OFF_SCREEN, retryable=False)
        try:
            keys = self._agent_keys(agent.clear, agent.paste, agent.submit)
        except Abort as abort:
            return _failed(abort.reason, abort.retryable)
        wait = max(0.0, min(self.options.lock_timeout_s, self._remaining()))
        try:
            with self._lock.acquire(timeout=wait, poll_interval=0.005):
                return self._attempt(parcel, keys)
        except Timeout:
            return _failed(Failure.INPUT_BUSY, deferred=True)

    def _load(self) -> None:
        if self._pag is None:
            self._pag = load_pyautogui()
            # Screenshots and clipboard must use the X server PyAutoGUI is bound to.
            self._grabber.display_name = _bound_display(self._pag)
        if self._clipboard is None:
            timeout = max(1.0, self.options.clipboard_timeout_s)
            try:
                self._clipboard = Clipboard(timeout, self._grabber.display_name)
            except ClipboardError as exc:
                raise NoDisplay(str(exc)) from None
        try:
            self._screens = self._grabber.screens()
            if IS_X11 and self._focus is None:
                self._focus = XFocus(self._grabber.connection())
        except Exception as exc:
            self._grabber.close()
            self._focus = None
            raise NoDisplay(f"the display stopped answering: {exc}") from None

    def _attempt(self, parcel: Parcel, keys: AgentKeys) -> Receipt:
        clipboard = self._clipboard
        assert clipboard is not None
        try:
            self._check_paused()
            self._release_held(parcel)
            home = self._wait_for_human(force=False)
        except Abort as abort:
            return _failed(abort.reason, abort.retryable, abort.deferred)
        saved = clipboard.save(parcel.agent.set_primary) if self.options.restore_clipboard else None
        try:
            receipt, back_to = self._type_twice(parcel, keys, home)
        finally:
            self._restore_clipboard(saved)
        self._restore_pointer(back_to, parcel)
        if receipt.ok:
            self._record_window(parcel.agent)
        return receipt

    def _record_window(self, agent: Agent) -> None:
        """The window the prompt went into is the agent's: its process places the agent."""
        try:
            self._windows.delivered(agent.id, self._grabber.connection())
        except x_errors() as exc:  # closed meanwhile: recorded at the next delivery
            log.debug("%s: its window not recorded: %s", agent.id, exc)

    def _release_held(self, parcel: Parcel) -> None:
        """Release the keys and buttons a killed delivery left held down (held_keys.py)."""
        display = pyautogui_display(self._pag)
        released = release_held(display) if display is not None else []
        if released:
            log.warning(
                "delivery %s: released what was left held down: %s",
                parcel.delivery_id,
                ", ".join(released),
            )

    def _type_twice(
        self, parcel: Parcel, keys: AgentKeys, home: tuple[int, int]
    ) -> tuple[Receipt, tuple[int, int] | None]:
        """Type the parcel; if the human takes the pointer meanwhile, wait and redo once.

        Also says where to put the pointer back: None when it is the human's now.
        """
        receipt = self._type_once(parcel, keys)
        if receipt is None:
            log.info("delivery %s: the pointer moved, waiting", parcel.delivery_id)
            try:
                home = self._wait_for_human(force=True)
            except Abort as abort:
                return _failed(abort.reason, abort.retryable, abort.deferred), None
            receipt = self._type_once(parcel, keys) or _failed(Failure.HUMAN_ACTIVE, deferred=True)
        if receipt.reason in (Failure.FAILSAFE, Failure.HUMAN_ACTIVE):
            return receipt, None
        return receipt, home

    def _type_once(self, parcel: Parcel, keys: AgentKeys) -> Receipt | None:
        """One pass of typing as a receipt; None when the pointer moved meanwhile."""
        try:
            self._type_refocused(parcel, keys)
        except Abort as abort:
            return _failed(abort.reason, abort.retryable, abort.deferred)
        except FocusLost:
            return _failed(Failure.FOCUS_NOT_TAKEN)
        except self._pag.FailSafeException:
            self._engage_failsafe(parcel)
            return _failed(Failure.FAILSAFE)
        except _HumanMoved:
            return None
        return Receipt.delivered(METHOD)

    def _type_refocused(self, parcel: Parcel, keys: AgentKeys) -> None:
        """Type; if the application gave the keyboard up to nobody before the submit (focus.py:
        late, for a pointer move made before the focus was asked for), type once more from
        the click: the clear removes what the first pass pasted (the input is marked dirty).
        Not for a reset, whose steps may not bear repeating."""
        try:
            self._type(parcel, keys)
        except FocusDropped:
            if parcel.reset:
                raise
            log.info(
                "delivery %s: the keyboard went to nobody; typing again from the click",
                parcel.delivery_id,
            )
            self._type(parcel, keys)

    def _type(self, parcel: Parcel, keys: AgentKeys) -> None:
        pag, opts, agent = self._pag, self.options, parcel.agent
        assert agent.input is not None and self._clipboard is not None
        x, y = agent.input
        pane = self._check_pane_ready(agent)
        if parcel.reset:
            self._reset(parcel, keys, x, y)
            return
        box = self._input_box(agent)
        self._let_late_paste_land(agent, box)
        if not self._clipboard.put(
            parcel.text, self._wait_s(opts.clipboard_timeout_s), primary=agent.set_primary
        ):
            raise Abort(Failure.CLIPBOARD_NOT_READY)
        self._check_paused()
        click_at(pag, x, y)
        window = self._take_focus(x, y)
        found = self._meet_window(parcel, window)
        if parcel.is_retry and pane is not None and self._retry_done(parcel, keys, box, pane):
            return
        if agent.app == "terminal" and "\n" in parcel.text.strip() and found is not None:
            self._check_reads_lines(parcel, found)
        known = self._inputs.empty_look.get(agent.id)
        if known is None:  # first contact: let the focus ring and caret be drawn first
            self._waits.quiet(box, self._grabber.grab(box), opts.first_settle_s)
        empty = self._inputs.clear(
            agent.id,
            box,
            (x, y),
            lambda: self._press_each(keys.clear),
            lambda: self._check_focus(window),
            agent.app == "terminal",
        )
        self._check_step(x, y, window)
        # from the paste on, text may be left in the input (of that window)
        self._inputs.dirty.add(agent.id, self._inputs.windows.get(agent.id, ""))
        others = self._others_in(window, agent, box)
        served = self._clipboard.texts_served()
        pasted_at = time.monotonic()
        press_combo(pag, keys.paste)
        # Not a paste: the focus ring or caret drawn late (the input as it looks empty).
        pasted = self._waits.change(box, empty, opts.paste_timeout_s, sudden=True, also=known)
        if pasted is None:
            if self._clear_strays(parcel, others, window):
                raise Abort(Failure.PASTE_ELSEWHERE, retryable=False)
            raise Abort(Failure.PASTE_NOT_SEEN)
        pasted = self._text_taken(parcel, box, pasted, served, pasted_at)
        self._saw(parcel, "paste", pasted_at, empty, pasted)
        self._inputs.dirty.seen(agent.id)
        pasted = self._waits.quiet(box, pasted, opts.quiet_s)
        if agent.app == "terminal":
            time.sleep(max(0.0, pasted_at + opts.submit_gap_s - time.monotonic()))
        self._check_step(x, y, window)
        on_pane = self._pane_input(agent, parcel.text)
        submitted_at = time.monotonic()
        press_combo(pag, keys.submit)
        taken = self._waits.change(box, pasted, opts.submit_timeout_s, sudden=True)
        if taken is None:
            raise Abort(Failure.SUBMIT_NOT_SEEN)
        self._saw(parcel, "submit", submitted_at, pasted, taken)
        if on_pane is not None:
            self._confirm_on_pane(agent, on_pane, sample_of(parcel.text))
        self._inputs.dirty.discard(agent.id)

    def _text_taken(
        self, parcel: Parcel, box: Rect, pasted: Image.Image, before: int | None, at: float
    ) -> Image.Image:
        """The input once the application has asked for the pasted text: a change it shows
        before asking is not the paste (a focus ring drawn late, a key that means something
        else there), so the change after its asking is waited for, within the paste's time;
        never asked: ``paste not seen``, nothing submitted. Where ``xsel`` serves the text
        (``before`` None) nobody here can tell: the screen's word stands."""
        assert self._clipboard is not None
        served = self._clipboard.texts_served()
        if before is None or served is None or served > before:
            return pasted
        log.info(
            "delivery %s: the input changed before %s asked for the text: not the paste yet",
            parcel.delivery_id,
            parcel.agent.id,
        )
        until = at + self._wait_s(self.options.paste_timeout_s)
        while served is not None and served <= before:
            if time.monotonic() >= until:
                raise Abort(Failure.PASTE_NOT_SEEN)
            self._check_paused()
            time.sleep(self.options.poll_s)
            served = self._clipboard.texts_served()
        shown = self._waits.change(box, pasted, max(0.0, until - time.monotonic()), sudden=True)
        if shown is None:
            raise Abort(Failure.PASTE_NOT_SEEN)
        return shown

    def _saw(
        self, parcel: Parcel, step: str, since: float, before: Image.Image, after: Image.Image
    ) -> None:
        """Note how long ``step`` took to show and where in the input box it changed (the
        delivery's log line says, so a change taken for the wrong thing can be told)."""
        ms = (time.monotonic() - since) * 1000
        seen = f"{step} shown in {ms:.0f} ms at {changed_box(before, after)}"
        log.debug("delivery %s: %s", parcel.delivery_id, seen)
        self._seen.append(seen)

    def _let_late_paste_land(self, agent: Agent, box: Rect) -> None:
        """An earlier try's paste never seen in the input may still land (a slow window, a
        try stopped by its deadline): it is given the paste's own time to, before this
        text goes on the clipboard, so that it lands in an input marked dirty and is
        cleared, never taken for this try's paste (this text's own would land after the
        submit, sent with the next message)."""
        since = self._inputs.dirty.unseen_since(agent.id)
        left = 0.0 if since is None else since + self.options.paste_timeout_s - time.time()
        if left > 0:
            log.info("%s: waiting up to %.1f s for an earlier paste to land", agent.id, left)
            self._waits.change(box, self._grabber.grab(box), left)

    def _check_pane_ready(self, agent: Agent) -> PaneText | None:
        """A terminal agent's pane, read (None: it has none, or it cannot be read: not
        judged). One that shows a dialog, or not yet its CLI's input, gets nothing typed
        (retried later)."""
        ref = pane_of(agent)
        pane = capture(ref, PANE_READ_S) if ref is not None else None
        if pane is None or not pane.ok:
            return None
        blocked = self._panes.blocker(agent, pane)
        if blocked is not None:  # a dialog, or a CLI starting: no try used
            log.info("%s: nothing typed: %s", agent.id, blocked.reason)
            raise Abort(blocked.reason, deferred=blocked.deferred)
        return pane

    def _retry_done(self, parcel: Parcel, keys: AgentKeys, box: Rect, pane: PaneText) -> bool:
        """A retry to an agent whose pane shows the earlier try's text: in the transcript
        it was taken (nothing typed); still in the input, only the submit key is pressed,
        and confirmed (a clear may not empty a CLI's multi-line input). False: type it."""
        agent, sample = parcel.agent, sample_of(parcel.text)
        seen = self._panes.earlier(agent, pane, sample)
        if seen is None:
            return False
        log.info("delivery %s: the earlier try's text is in the %s", parcel.delivery_id, seen)
        if seen == "input":
            ref = pane_of(agent)
            assert ref is not None
            before = self._grabber.grab(box)
            press_combo(self._pag, keys.submit)
            if self._waits.change(box, before, self.options.submit_timeout_s, sudden=True) is None:
                raise Abort(Failure.SUBMIT_NOT_SEEN)
            self._confirm_on_pane(agent, (ref, self._panes.area(agent, pane)), sample)
        self._inputs.dirty.discard(agent.id)
        return True

    def _pane_input(self, agent: Agent, pasted: str) -> tuple[PaneRef, tuple[str, ...]] | None:
        """The agent's tmux pane and its input as the paste left it (None: no pane, or
        it cannot be read: the screen alone confirms then). A dialog that opened since the
        paste (the turn under way called a tool) aborts before the submit key, which would
        take its highlighted option for the person; the text stays in the input."""
        ref = pane_of(agent)
        if ref is None:
            return None
        pane = capture(ref, PANE_READ_S)
        if not pane.ok:
            return None
        opened = self._panes.dialog_since_paste(agent, pane, pasted)
        if opened is not None:
            log.info("%s: %s", agent.id, opened)
            raise Abort(opened)
        return ref, self._panes.area(agent, pane)

    def _confirm_on_pane(
        self, agent: Agent, on_pane: tuple[PaneRef, tuple[str, ...]], sample: str
    ) -> None:
        """Wait until the agent's pane shows it took the text (working, or its input
        changed and no longer holds the text): a submit key the CLI took as a newline
        changes the box too. Else "submit not seen" (the input stays marked dirty)."""
        ref, before = on_pane
        until = time.monotonic() + self._wait_s(self.options.submit_timeout_s)
        while True:
            pane = capture(ref, PANE_READ_S)
            if not pane.ok or self._panes.took(agent, pane, before, sample):
                return
            if time.monotonic() >= until:
                log.warning("%s: the pane still holds the text after the submit key", agent.id)
                raise Abort(Failure.SUBMIT_NOT_SEEN)
            self._check_paused()
            time.sleep(PANE_POLL_S)

    def _reset(self, parcel: Parcel, keys: AgentKeys, x: int, y: int) -> None:
        """The agent's reset action: the clear keys, then each step (keys, or ``text:...``
        pasted through the clipboard, never typed key by key). Not checked on screen: what a
        reset clears differs by application."""
        assert self._clipboard is not None
        self._check_paused()
        click_at(self._pag, x, y)
        window = self._take_focus(x, y)
        self._meet_window(parcel, window)
        self._press_each(keys.clear)
        box = self._input_box(parcel.agent)
        for step in parcel.reset:
            self._check_step(x, y, window)
            if step.startswith(TEXT_STEP):
                text = step[len(TEXT_STEP) :]
                self._paste_step(parcel, keys, text)
            else:
                before = self._grab(box)
                press_combo(self._pag, self._keys(step))
                self._settle_after_keys(box, before)
        self._inputs.dirty.discard(parcel.agent.id)
        # the window may have built its input anew (a reload): learn its empty look again
        self._inputs.empty_look.pop(parcel.agent.id, None)

    def _settle_after_keys(self, box: Rect, before: Image.Image) -> None:
        """A reset key may rebuild the window (F5 reloads a chat page): when its input
        changes within a paste's time, wait until it rests, so that the next prompt is not
        pasted into the page being replaced (its submit then sent an empty input: seen under
        load in tests/apps/test_driver_reset.py)."""
        shown = self._waits.change(box, before, self.options.paste_timeout_s)
        if shown is not None:
            self._waits.quiet(box, shown, RESET_SETTLE_S)

    def _paste_step(self, parcel: Parcel, keys: AgentKeys, text: str) -> None:
        """Paste ``text`` and wait until it shows (the next key must not overtake it)."""
        assert self._clipboard is not None
        opts = self.options
        if not self._clipboard.put(
            text, self._wait_s(opts.clipboard_timeout_s), primary=parcel.agent.set_primary
        ):
            raise Abort(Failure.CLIPBOARD_NOT_READY)
        box = self._input_box(parcel.agent)
        before = self._grab(box)
        press_combo(self._pag, keys.paste)
        shown = self._waits.change(box, before, opts.paste_timeout_s, sudden=True)
        if shown is None:
            raise Abort(Failure.PASTE_NOT_SEEN)
        self._waits.quiet(box, shown, opts.quiet_s)

    def _take_focus(self, x: int, y: int) -> int | None:
        """The top-level window under the point, once it has the keyboard (else FocusLost)."""
        if self._focus is None:
            return None  # not X11: the click gives the focus
        window = self._focus.toplevel_at(x, y)
        if window is None:
            raise FocusLost(Failure.FOCUS_NOT_TAKEN)
        self._focus.ensure(
            window, self._wait_s(self.options.focus_timeout_s), check=self._check_paused
        )
        return window

    def _others_in(
        self, window: int | None, agent: Agent, box: Rect
    ) -> list[tuple[Agent, Rect, Image.Image]]:
        """The other agents whose input point is in ``window`` (the one about to get the
        paste), each with its input box and how that looks now: where a paste not seen in
        ``box`` may have landed instead."""
        if window is None or self._focus is None:
            return []
        found = []
        for other in self.agents:
            if other.id == agent.id or other.delivery != "gui" or other.input is None:
                continue
            if point_problems(other.input, self._screens):
                continue
            if self._focus.toplevel_at(*other.input) != window:
                continue
            try:
                other_box = self._input_box(other)
            except Abort:
                continue
            if other_box != box:
                found.append((other, other_box, self._grab(other_box)))
        return found

    def _clear_strays(
        self, parcel: Parcel, others: list[tuple[Agent, Rect, Image.Image]], window: int | None
    ) -> bool:
        """After a paste not seen in the agent's input box: look at the other agents' input
        boxes in the same window; where it shows, clear it with that agent's clear keys
        until the input looks as before. True when it landed in one."""
        landed = False
        for other, box, before in others:
            if not changed(before, self._grab(box), self.options.thin_px):
                continue
            landed = True
            try:
                clear = self._agent_keys(other.clear, other.paste, other.submit).clear
                restored = self._inputs.restore(
                    box,
                    before,
                    functools.partial(self._press_each, clear),
                    functools.partial(self._check_focus, window),
                )
            except Abort:  # its keys are bad (logged), or the deadline passed
                restored = False
            log.warning(
                "delivery %s to %s: the paste landed in %s's input (the input point of %s is "
                "in %s's window): %s",
                parcel.delivery_id,
                parcel.agent.id,
                other.id,
                parcel.agent.id,
                other.id,
                "cleared" if restored else "NOT cleared, it may still hold the text",
            )
        if others and not landed:
            names = ", ".join(other.id for other, _box, _before in others)
            log.info(
                "delivery %s: the paste did not show in the input of %s either",
                parcel.delivery_id,
                names,
            )
        return landed

    def _check_reads_lines(self, parcel: Parcel, found: windows.WindowFacts) -> None:
        """Refuse a multi-line text for a terminal whose program reads whole lines (the
        terminal's canonical mode: no bracketed paste possible), which would get each line
        as a submission of its own (terminal_modes.py). A program between two prompts is in
        that mode too while it works: the mode is read again for ``LINE_MODE_WAIT_S``, and a
        refusal is retried later (a line reader fails once its tries are used up)."""
        if found.pid is None:
            return
        if found.identity not in self._terminals:
            self._terminals[found.identity] = terminal_modes.find_terminal(found.pid)
        where = self._terminals[found.identity]
        if where is None:
            return
        deadline = time.monotonic() + LINE_MODE_WAIT_S
        state = terminal_modes.read_state(*where)
        while state is not None and state.canonical and time.monotonic() < deadline:
            self._check_paused()
            time.sleep(0.05)
            state = terminal_modes.read_state(*where)
        if state is not None and state.canonical:
            log.warning(
                "delivery %s to %s: %s reads whole lines on %s (no bracketed paste): each "
                "of the %d lines would arrive as a message of its own; refused for now",
                parcel.delivery_id,
                parcel.agent.id,
                state.foreground,
                state.tty,
                parcel.text.count("\n") + 1,
            )
            raise Abort(Failure.NO_BRACKETED_PASTE)

    def _meet_window(self, parcel: Parcel, window: int | None) -> windows.WindowFacts | None:
        """Key what the driver remembers of the agent's input to the window under its point:
        a new window there (another id or process: the old one was closed and another
        opened at the same place) starts fresh, and the log says so once. The window."""
        if window is None:
            return None
        try:
            found = windows.facts(self._grabber.connection(), window)
        except x_errors() as exc:  # gone meanwhile: the next steps fail on their own
            log.debug("window 0x%x not described: %s", window, exc)
            return None
        self._windows.met(parcel.agent.id, found)
        before = self._inputs.meet(parcel.agent.id, found.identity)
        if before is not None:
            log.warning(
                "%s: a new window is under the input point, %s (was %s): its input starts "
                "fresh (no unsent mark, no remembered empty look)",
                parcel.agent.id,
                found.describe(),
                before or "a window not recorded",
            )
        return found

    def _grab(self, region: Rect) -> Image.Image:
        return self._grabber.grab(region)

    def _press_each(self, combos: tuple[tuple[str, ...], ...]) -> None:
        for combo in combos:
            press_combo(self._pag, combo)

    def _agent_keys(self, clear: tuple[str, ...], paste: str, submit: str) -> AgentKeys:
        return AgentKeys(tuple(self._keys(c) for c in clear), self._keys(paste), self._keys(submit))

    def _keys(self, combo: str) -> tuple[str, ...]:
        keys = parse_keys(combo)
        if not keys or not all(self._pag.isValidKey(key) for key in keys):
            log.warning("unknown key in %r", combo)
            raise Abort(Failure.BAD_KEY, retryable=False)
        return tuple(keys)

    def _input_box(self, agent: Agent) -> Rect:
        """Where the agent's typed text shows: its input box, else a box around the point."""
        assert agent.input is not None
        x, y = agent.input
        screen = screen_of(x, y, self._screens)
        assert screen is not None
        if agent.input_box is not None:
            box = screen.clip(Rect(*agent.input_box))
        else:
            width, height = self.options.probe_size
            box = screen.clip(Rect(x - width // 2, y - height // 2, width, height))
        if box is None:
            raise Abort(Failure.OFF_SCREEN, retryable=False)
        return box

    def _check_step(self, x: int, y: int, window: int | None = None) -> None:
        """Before a keystroke: not paused, in time, pointer untouched, focus still there."""
        self._check_paused()
        if tuple(self._pag.position()) != (x, y):
            raise _HumanMoved()
        self._check_focus(window)

    def _check_focus(self, window: int | None) -> None:
        focus = self._focus
        if window is not None and focus is not None:
            focus.verify(window)

    def _check_paused(self) -> None:
        if self._kill.engaged:
            raise Abort(Failure.PAUSED, deferred=True)
        if time.monotonic() >= self._deadline:
            raise Abort(Failure.DEADLINE_PASSED)

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def _wait_s(self, timeout: float) -> float:
        """``timeout``, cut to what is left of this delivery's deadline."""
        return max(0.0, min(timeout, self._remaining()))

    def _wait_for_human(self, force: bool) -> tuple[int, int]:
        """Wait until the pointer has rested ``human_idle_s``; the position it rests at."""
        opts = self.options
        last = tuple(self._pag.position())
        if not force and last == self._left_at():
            return last
        deadline = time.monotonic() + self._wait_s(opts.human_wait_s)
        still_since = time.monotonic()
        while time.monotonic() - still_since < opts.human_idle_s:
            if time.monotonic() >= deadline:
                raise Abort(Failure.HUMAN_ACTIVE, deferred=True)
            time.sleep(opts.pointer_poll_s)
            self._check_paused()
            now = tuple(self._pag.position())
            if now != last:
                last, still_since = now, time.monotonic()
        return last

    def _left_at(self) -> tuple[int, int] | None:
        try:
            x, y = self._pointer_file.read_text(encoding="ascii").split()
            return int(x), int(y)
        except (OSError, ValueError):
            return None

    def _restore_clipboard(self, saved: SavedSelections | None) -> None:
        """Give the user's clipboard (and PRIMARY selection, if we took it) back."""
        if saved is None or self._clipboard is None:
            return
        try:
            restored = self._clipboard.restore(saved, self.options.clipboard_timeout_s)
        except ClipboardError:
            restored = False
        if not restored:
            log.warning("could not give the user's clipboard back")

    def _restore_pointer(self, home: tuple[int, int] | None, parcel: Parcel) -> None:
        """Put the pointer back at ``home``; None means it is the human's now."""
        if home is None:
            return  # not our pointer now: remember nothing, so the next delivery waits
        if self.options.restore_pointer:
            try:
                self._pag.moveTo(*home)
            except self._pag.FailSafeException:
                self._engage_failsafe(parcel)
                return
        x, y = self._pag.position()
        self._pointer_file.write_text(f"{x} {y}\n", encoding="ascii")

    def _engage_failsafe(self, parcel: Parcel) -> None:
        reason = (
            f"failsafe: the pointer was in a screen corner during delivery "
            f"{parcel.delivery_id} to {parcel.agent.id}"
        )
        log.warning("%s; input paused", reason)
        self._kill.engage(reason)


def _log_receipt(parcel: Parcel, receipt: Receipt, ms: float, seen: list[str]) -> None:
    steps = f" ({'; '.join(seen)})" if seen else ""
    if receipt.ok:
        log.info(
            "delivery %s to %s: done in %.0f ms%s", parcel.delivery_id, parcel.agent.id, ms, steps
        )
    else:
        log.warning(
            "delivery %s to %s: failed (%s) after %.0f ms%s",
            parcel.delivery_id,
            parcel.agent.id,
            receipt.reason,
            ms,
            steps,
        )


def _bound_display(pag: Any) -> str | None:
    """The X display PyAutoGUI opened at import (it never changes afterwards)."""
    display = pyautogui_display(pag)
    return display.get_display_name() if display is not None else None


def _failed(reason: str, retryable: bool = True, deferred: bool = False) -> Receipt:
    return Receipt.failed(reason, METHOD, retryable=retryable, deferred=deferred)


def x_errors() -> tuple[type[Exception], ...]:
    """python-xlib's errors for a request about a window (a window gone: BadWindow...)."""
    try:
        from Xlib.error import XError
    except ImportError:  # not on X11
        return ()
    return (XError,)


def x_connection_errors() -> tuple[type[Exception], ...]:
    """python-xlib's errors for a display connection that went away (none without it)."""
    try:
        from Xlib.error import ConnectionClosedError, DisplayConnectionError
    except ImportError:  # not on X11
        return ()
    return (ConnectionClosedError, DisplayConnectionError)
