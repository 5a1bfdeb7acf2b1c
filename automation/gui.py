"""The desktop driver: pastes prompts into the agents' chat inputs with PyAutoGUI.

One delivery at a time: a cross-process file lock owns mouse and keyboard, and a one-worker
thread pool keeps the blocking work off the event loop. Every step is checked on screen
(the paste must show before Enter, the input must change after Enter) and every wait is
bounded; failures come back as receipts with a short reason, never as exceptions.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from PIL import Image, ImageChops

from automation.clipboard import Clipboard, ClipboardError, SavedSelections
from automation.focus import FocusLost, XFocus
from automation.screen import (
    IS_X11,
    Grabber,
    NoDisplay,
    Rect,
    allow_missing_xauthority,
    point_problems,
    screen_of,
)
from core.killswitch import KillSwitch
from core.models import Agent, Receipt
from core.protocols import Parcel
from core.settings import env_seconds

log = logging.getLogger(__name__)

METHOD = "gui"
LOCK_NAME = "input.lock"
POINTER_NAME = "input.pointer"
X_CONNECTION_LOST = {"ConnectionClosedError", "DisplayConnectionError"}
KEY_ALIASES = {"control": "ctrl", "return": "enter", "del": "delete", "esc": "escape"}


@dataclass(frozen=True)
class GuiOptions:
    """Tunables of the desktop driver (seconds unless said otherwise)."""

    lock_timeout_s: float = 30.0  # wait for another process's delivery, then "input busy"
    clipboard_timeout_s: float = 1.0  # until the clipboard holds exactly the text
    focus_timeout_s: float = 1.0  # until the keyboard focus is in the window clicked
    paste_timeout_s: float = 2.0  # until the paste shows, else "paste not seen"
    submit_timeout_s: float = 2.0  # until the input changes after submit, else "submit not seen"
    quiet_s: float = 0.01  # the input must rest this long before paste and before submit
    quiet_timeout_s: float = 0.5  # ...but never wait longer than this for it to rest
    clear_settle_s: float = 0.025  # a clear pass showing no change within this changed nothing
    clear_passes: int = 4  # clear passes before an input that keeps changing is "not empty"
    first_settle_s: float = 0.05  # first delivery to an agent: the input rests this long first
    poll_s: float = 0.001  # pause between screenshots while waiting for a change
    human_idle_s: float = 2.0  # the pointer must rest this long after someone else moved it
    human_wait_s: float = 10.0  # ...within this time, else "human active"
    pointer_poll_s: float = 0.05
    steps_s: float = 15.0  # the typing steps' share of one delivery's deadline
    probe_size: tuple[int, int] = (460, 140)  # input box around the point when none is set
    band_px: int = 40  # rows around the input point compared with the empty input
    thin_px: int = 3  # changes at most this wide are a blinking cursor, not a paste
    restore_clipboard: bool = True
    restore_pointer: bool = True

    @property
    def time_limit_s(self) -> float:
        """One delivery's deadline: lock wait, two human waits and the typing steps."""
        return self.lock_timeout_s + 2 * self.human_wait_s + self.steps_s

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GuiOptions:
        """The tunables people change, from ``SWARM_*`` variables (see the README)."""
        env = os.environ if env is None else env
        return cls(
            lock_timeout_s=env_seconds(env, "SWARM_INPUT_LOCK_TIMEOUT", 30.0),
            focus_timeout_s=env_seconds(env, "SWARM_FOCUS_TIMEOUT", 1.0),
            paste_timeout_s=env_seconds(env, "SWARM_PASTE_TIMEOUT", 2.0),
            submit_timeout_s=env_seconds(env, "SWARM_SUBMIT_TIMEOUT", 2.0),
            human_idle_s=env_seconds(env, "SWARM_HUMAN_IDLE", 2.0),
            human_wait_s=env_seconds(env, "SWARM_HUMAN_WAIT", 10.0),
            steps_s=env_seconds(env, "SWARM_DELIVERY_STEPS", 15.0),
        )


@dataclass(frozen=True)
class AgentKeys:
    """One agent's key combinations, as PyAutoGUI key-name lists."""

    clear: tuple[tuple[str, ...], ...]
    paste: tuple[str, ...]
    submit: tuple[str, ...]


class _Abort(Exception):
    """Stop this delivery with a receipt reason."""

    def __init__(self, reason: str, retryable: bool = True, deferred: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.deferred = deferred


class _HumanMoved(Exception):
    """The pointer left the input point during the delivery."""


def load_pyautogui() -> Any:
    """Import PyAutoGUI with PAUSE 0 and the failsafe on; NoDisplay when it cannot start."""
    error = None
    with warnings.catch_warnings():
        # pyscreeze and python-xlib leave pipes and sockets open while importing.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            allow_missing_xauthority()
            import pyautogui
        except Exception as exc:  # KeyError 'DISPLAY', DisplayConnectionError, XauthError...
            error = f"PyAutoGUI cannot use the display: {type(exc).__name__}: {exc}"
        gc.collect()
    if error is not None:
        raise NoDisplay(error)
    pyautogui.PAUSE = 0
    pyautogui.FAILSAFE = True
    return pyautogui


def parse_keys(combo: str) -> list[str]:
    """``"ctrl+Enter"`` -> ``["ctrl", "enter"]`` (PyAutoGUI key names)."""
    keys = [part.strip().lower() for part in combo.split("+")]
    return [KEY_ALIASES.get(key, key) for key in keys if key]


def changed(before: Image.Image, after: Image.Image, thin_px: int) -> bool:
    """True when the images differ by more than a thin vertical bar (a blinking cursor).

    Differences of at most ``LEVEL_TOLERANCE`` per channel do not count: Chromium repaints
    borders and text with such tiny variations between frames.
    """
    diff = ImageChops.difference(before, after)
    if diff.getbbox() is None:
        return False
    bands = diff.split()
    strongest = bands[0]
    for band in bands[1:]:
        strongest = ImageChops.lighter(strongest, band)
    box = strongest.point(_SIGNIFICANT).getbbox()
    return box is not None and box[2] - box[0] > thin_px


LEVEL_TOLERANCE = 8
_SIGNIFICANT = [0] * (LEVEL_TOLERANCE + 1) + [255] * (255 - LEVEL_TOLERANCE)


class GuiDriver:
    """A Deliverer that clicks, clears, pastes and submits into each agent's chat input.

    Per agent it remembers how the empty input looks (after a clear, and after a submit) and
    whether text may be left in it by an attempt that did not end with a seen submit: such an
    input must look empty again before anything more is pasted ("input not empty").
    """

    def __init__(self, home: Path, kill_switch: KillSwitch, options: GuiOptions | None = None):
        self.options = options or GuiOptions()
        self._kill = kill_switch
        home.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(home / LOCK_NAME)
        self._pointer_file = home / POINTER_NAME
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="swarm-gui")
        self._grabber = Grabber()
        self._clipboard: Clipboard | None = None
        self._focus: XFocus | None = None
        self._pag: Any = None
        self._screens: list[Rect] = []
        self._empty_look: dict[str, Image.Image] = {}
        self._dirty: set[str] = set()
        self._deadline = 0.0
        self._point = (0, 0)

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
        log.debug("delivery %s to %s: start", parcel.delivery_id, parcel.agent.id)
        try:
            receipt = self._deliver(parcel)
        except Exception as exc:
            if type(exc).__name__ in X_CONNECTION_LOST:
                log.warning("delivery %s: the X display went away: %s", parcel.delivery_id, exc)
                self._focus = None
                receipt = _failed("no display")
            else:
                log.exception("delivery %s to %s: error", parcel.delivery_id, parcel.agent.id)
                receipt = _failed("driver error")
        _log_receipt(parcel, receipt, (time.perf_counter() - started) * 1000)
        return receipt

    def close(self) -> None:
        """Wait for the running delivery, cancel queued ones, release the X connections."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._clipboard is not None:
            self._clipboard.close()  # what we still serve goes to xsel, to outlive us
        self._grabber.close()

    def _deliver(self, parcel: Parcel) -> Receipt:
        agent = parcel.agent
        if self._kill.engaged:
            return _failed("paused", deferred=True)
        if time.monotonic() >= self._deadline:
            return _failed("input busy", deferred=True)  # queued behind others too long
        if agent.input is None:
            return _failed("no input point", retryable=False)
        try:
            self._load()
        except NoDisplay as exc:
            log.warning("no display for delivery %s: %s", parcel.delivery_id, exc)
            return _failed("no display")
        problems = point_problems(agent.input, self._screens)
        if problems:
            log.warning("%s: %s", agent.id, "; ".join(problems))
            return _failed("off screen", retryable=False)
        try:
            keys = self._agent_keys(agent.clear, agent.paste, agent.submit)
        except _Abort as abort:
            return _failed(abort.reason, abort.retryable)
        wait = max(0.0, min(self.options.lock_timeout_s, self._remaining()))
        try:
            with self._lock.acquire(timeout=wait, poll_interval=0.005):
                return self._attempt(parcel, keys)
        except Timeout:
            return _failed("input busy", deferred=True)

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
            home = self._wait_for_human(force=False)
        except _Abort as abort:
            return _failed(abort.reason, abort.retryable, abort.deferred)
        saved = clipboard.save(parcel.agent.set_primary) if self.options.restore_clipboard else None
        try:
            receipt, back_to = self._type_twice(parcel, keys, home)
        finally:
            self._restore_clipboard(saved)
        self._restore_pointer(back_to, parcel)
        return receipt

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
            except _Abort as abort:
                return _failed(abort.reason, abort.retryable, abort.deferred), None
            receipt = self._type_once(parcel, keys) or _failed("human active", deferred=True)
        if receipt.reason in ("failsafe", "human active"):
            return receipt, None
        return receipt, home

    def _type_once(self, parcel: Parcel, keys: AgentKeys) -> Receipt | None:
        """One pass of typing as a receipt; None when the pointer moved meanwhile."""
        try:
            self._type(parcel, keys)
        except _Abort as abort:
            return _failed(abort.reason, abort.retryable, abort.deferred)
        except FocusLost as lost:
            return _failed(str(lost))
        except self._pag.FailSafeException:
            self._engage_failsafe(parcel)
            return _failed("failsafe")
        except _HumanMoved:
            return None
        return Receipt(True, None, METHOD, False)

    def _type(self, parcel: Parcel, keys: AgentKeys) -> None:
        pag, opts, agent = self._pag, self.options, parcel.agent
        assert agent.input is not None and self._clipboard is not None
        x, y = agent.input
        self._point = (x, y)
        box = self._input_box(agent)
        if not self._clipboard.put(parcel.text, self._wait_s(opts.clipboard_timeout_s),
                                   primary=agent.set_primary):
            raise _Abort("clipboard not ready")
        self._check_paused()
        pag.click(x, y)
        window = self._take_focus(x, y)
        known = self._empty_look.get(agent.id)
        if known is None:  # first contact: let the focus ring and caret be drawn first
            self._wait_quiet(box, self._grabber.grab(box), opts.first_settle_s)
        empty = self._clear(agent.id, box, keys.clear, window)
        self._check_step(x, y, window)
        self._dirty.add(agent.id)  # from the paste on, text may be left in the input
        pag.hotkey(*keys.paste)
        # Not a paste: the focus ring or caret drawn late (the input as it looks empty).
        pasted = self._wait_change(box, empty, opts.paste_timeout_s, sudden=True, also=known)
        if pasted is None:
            raise _Abort("paste not seen")
        pasted = self._wait_quiet(box, pasted, opts.quiet_s)
        self._check_step(x, y, window)
        pag.hotkey(*keys.submit)
        after = self._wait_change(box, pasted, opts.submit_timeout_s, sudden=True)
        if after is None:
            raise _Abort("submit not seen")
        self._dirty.discard(agent.id)
        self._empty_look[agent.id] = after  # focused and empty again

    def _take_focus(self, x: int, y: int) -> int | None:
        """The top-level window under the point, once it has the keyboard (else FocusLost)."""
        if self._focus is None:
            return None  # not X11: the click gives the focus
        window = self._focus.toplevel_at(x, y)
        if window is None:
            raise FocusLost("focus not taken")
        self._focus.ensure(window, self._wait_s(self.options.focus_timeout_s),
                           check=self._check_paused)
        return window

    def _clear(
        self, agent_id: str, box: Rect, clear: tuple[tuple[str, ...], ...], window: int | None
    ) -> Image.Image:
        """Empty the input and return how it looks empty; ``input not empty`` when it cannot.

        One clear pass; done when the input line looks as it did when last seen empty, or when
        the pass changed nothing. When it changed something, pass again until a pass changes
        nothing: an input that keeps changing (a Ctrl+A that only moves to the line start,
        then Delete) is not empty. An input that may hold an earlier attempt's paste, on which
        the clear keys changed nothing, must look as it did when it was empty.
        """
        opts = self.options
        start = self._grabber.grab(box)
        self._press_each(clear)
        image = self._wait_quiet(box, start, opts.quiet_s)
        known = self._empty_look.get(agent_id)
        band = self._input_band(box)
        if known is not None and not changed(_crop(known, band), _crop(image, band), opts.thin_px):
            return image
        moved = changed(start, image, opts.thin_px)
        dirty = agent_id in self._dirty and known is not None
        if not moved and not dirty:
            self._empty_look.setdefault(agent_id, image)  # nothing there to clear: empty
            return image
        for _ in range(opts.clear_passes):
            self._check_focus(window)
            self._press_each(clear)
            after = self._wait_change(box, image, opts.clear_settle_s)
            if after is None:
                break
            moved = True
            image = self._wait_quiet(box, after, opts.quiet_s)
        else:
            raise _Abort("input not empty")
        if dirty and not moved and known is not None and changed(known, image, opts.thin_px):
            raise _Abort("input not empty")
        self._empty_look[agent_id] = image
        return image

    def _input_band(self, box: Rect) -> Rect:
        """The rows of ``box`` around the input point (the input line), box-relative."""
        y = self._point[1] - box.top
        half = self.options.band_px // 2
        top = max(0, min(box.height - 1, y - half))
        bottom = max(top + 1, min(box.height, y + half))
        if not 0 <= y < box.height:
            return Rect(0, 0, box.width, box.height)
        return Rect(0, top, box.width, bottom - top)

    def _press_each(self, combos: tuple[tuple[str, ...], ...]) -> None:
        for combo in combos:
            self._pag.hotkey(*combo)

    def _agent_keys(self, clear: tuple[str, ...], paste: str, submit: str) -> AgentKeys:
        return AgentKeys(tuple(self._keys(c) for c in clear), self._keys(paste), self._keys(submit))

    def _keys(self, combo: str) -> tuple[str, ...]:
        keys = parse_keys(combo)
        if not keys or not all(self._pag.isValidKey(key) for key in keys):
            log.warning("unknown key in %r", combo)
            raise _Abort("bad key", retryable=False)
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
            raise _Abort("off screen", retryable=False)
        return box

    def _wait_change(
        self, region: Rect, reference: Image.Image, timeout: float, sudden: bool = False,
        also: Image.Image | None = None,
    ) -> Image.Image | None:
        """The first grab that differs from ``reference`` (and ``also``); None at the timeout.

        ``sudden``: the grab must also differ from the grab before it, so a slow animation (a
        focus ring fading in, each frame a few levels from the last) is not taken for a paste.
        """
        deadline = time.monotonic() + self._wait_s(timeout)
        thin = self.options.thin_px
        previous = reference
        while True:
            image = self._grabber.grab(region)
            moved = changed(reference, image, thin) and (also is None or changed(also, image, thin))
            if moved and (not sudden or changed(previous, image, thin)):
                return image
            previous = image
            if time.monotonic() >= deadline:
                self._check_paused()  # cut short by the delivery's deadline: say so
                return None
            self._check_paused()
            time.sleep(self.options.poll_s)

    def _wait_quiet(self, region: Rect, last: Image.Image, quiet_s: float) -> Image.Image:
        """A grab once the region has not changed for ``quiet_s`` (bounded)."""
        opts = self.options
        deadline = time.monotonic() + self._wait_s(opts.quiet_timeout_s)
        since = time.monotonic()
        while True:
            image = self._grabber.grab(region)
            now = time.monotonic()
            if changed(last, image, opts.thin_px):
                last, since = image, now
            if now - since >= quiet_s or now >= deadline:
                return image
            time.sleep(max(opts.poll_s, min(quiet_s / 2, since + quiet_s - now)))

    def _check_step(self, x: int, y: int, window: int | None = None) -> None:
        """Before a keystroke: not paused, in time, pointer untouched, focus still there."""
        self._check_paused()
        if tuple(self._pag.position()) != (x, y):
            raise _HumanMoved()
        self._check_focus(window)

    def _check_focus(self, window: int | None) -> None:
        focus = self._focus
        if window is not None and focus is not None and not focus.focus_inside(window):
            raise FocusLost("focus not taken")

    def _check_paused(self) -> None:
        if self._kill.engaged:
            raise _Abort("paused", deferred=True)
        if time.monotonic() >= self._deadline:
            raise _Abort("deadline passed")

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
                raise _Abort("human active", deferred=True)
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


def _crop(image: Image.Image, rect: Rect) -> Image.Image:
    return image.crop(rect.bbox)


def _log_receipt(parcel: Parcel, receipt: Receipt, ms: float) -> None:
    if receipt.ok:
        log.info("delivery %s to %s: done in %.0f ms", parcel.delivery_id, parcel.agent.id, ms)
    else:
        log.warning("delivery %s to %s: failed (%s) after %.0f ms", parcel.delivery_id,
                    parcel.agent.id, receipt.reason, ms)


def _bound_display(pag: Any) -> str | None:
    """The X display PyAutoGUI opened at import (it never changes afterwards)."""
    display = getattr(getattr(pag, "_pyautogui_x11", None), "_display", None)
    return display.get_display_name() if display is not None else None


def _failed(reason: str, retryable: bool = True, deferred: bool = False) -> Receipt:
    return Receipt(False, reason, METHOD, retryable, deferred)
