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

from automation.clipboard import Clipboard, ClipboardError
from automation.screen import Grabber, NoDisplay, Rect, point_problems, screen_of
from core.killswitch import KillSwitch
from core.models import Receipt
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
    clear_keys: tuple[str, ...] = ("ctrl+a", "delete")  # empty the input before pasting
    paste_keys: str = "ctrl+v"
    clipboard_timeout_s: float = 1.0  # until the clipboard holds exactly the text
    paste_timeout_s: float = 2.0  # until the paste shows, else "paste not seen"
    submit_timeout_s: float = 2.0  # until the input changes after submit, else "submit not seen"
    quiet_s: float = 0.01  # the input must rest this long before paste and before submit
    quiet_timeout_s: float = 0.5  # ...but never wait longer than this for it to rest
    poll_s: float = 0.001  # pause between screenshots while waiting for a change
    human_idle_s: float = 2.0  # the pointer must rest this long after someone else moved it
    human_wait_s: float = 10.0  # ...within this time, else "human active"
    pointer_poll_s: float = 0.05
    probe_size: tuple[int, int] = (460, 140)  # screenshot region around the input point (px)
    thin_px: int = 3  # changes at most this wide are a blinking cursor, not a paste
    restore_clipboard: bool = True
    restore_pointer: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GuiOptions:
        """The tunables people change, from ``SWARM_*`` variables (see the README)."""
        env = os.environ if env is None else env
        clear = tuple((env.get("SWARM_CLEAR_KEYS") or "ctrl+a,delete").replace(" ", "").split(","))
        return cls(
            lock_timeout_s=env_seconds(env, "SWARM_INPUT_LOCK_TIMEOUT", 30.0),
            clear_keys=tuple(k for k in clear if k),
            paste_timeout_s=env_seconds(env, "SWARM_PASTE_TIMEOUT", 2.0),
            submit_timeout_s=env_seconds(env, "SWARM_SUBMIT_TIMEOUT", 2.0),
            human_idle_s=env_seconds(env, "SWARM_HUMAN_IDLE", 2.0),
            human_wait_s=env_seconds(env, "SWARM_HUMAN_WAIT", 10.0),
        )


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
    """True when the images differ by more than a thin vertical bar (a blinking cursor)."""
    box = ImageChops.difference(before, after).getbbox()
    return box is not None and box[2] - box[0] > thin_px


class GuiDriver:
    """A Deliverer that clicks, clears, pastes and submits into each agent's chat input."""

    def __init__(self, home: Path, kill_switch: KillSwitch, options: GuiOptions | None = None):
        self.options = options or GuiOptions()
        self._kill = kill_switch
        home.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(home / LOCK_NAME)
        self._pointer_file = home / POINTER_NAME
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="swarm-gui")
        self._grabber = Grabber()
        self._clipboard: Clipboard | None = None
        self._pag: Any = None
        self._screens: list[Rect] = []

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Deliver once in the driver's worker thread; never raises for a failed delivery."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.deliver_blocking, parcel)

    def deliver_blocking(self, parcel: Parcel) -> Receipt:
        """Deliver once from the calling thread (blocking; ``deliver`` is the async door)."""
        started = time.perf_counter()
        log.debug("delivery %s to %s: start", parcel.delivery_id, parcel.agent.id)
        try:
            receipt = self._deliver(parcel)
        except Exception as exc:
            if type(exc).__name__ in X_CONNECTION_LOST:
                log.warning("delivery %s: the X display went away: %s", parcel.delivery_id, exc)
                receipt = _failed("no display")
            else:
                log.exception("delivery %s to %s: error", parcel.delivery_id, parcel.agent.id)
                receipt = _failed("driver error")
        ms = (time.perf_counter() - started) * 1000
        if receipt.ok:
            log.info("delivery %s to %s: done in %.0f ms", parcel.delivery_id, parcel.agent.id, ms)
        else:
            log.warning(
                "delivery %s to %s: failed (%s) after %.0f ms",
                parcel.delivery_id,
                parcel.agent.id,
                receipt.reason,
                ms,
            )
        return receipt

    def close(self) -> None:
        """Wait for the running delivery, cancel queued ones, release the X connection."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._grabber.close()

    def _deliver(self, parcel: Parcel) -> Receipt:
        agent = parcel.agent
        if self._kill.engaged:
            return _failed("paused", deferred=True)
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
            with self._lock.acquire(timeout=self.options.lock_timeout_s, poll_interval=0.005):
                return self._attempt(parcel)
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
        except Exception as exc:
            self._grabber.close()
            raise NoDisplay(f"the display stopped answering: {exc}") from None

    def _attempt(self, parcel: Parcel) -> Receipt:
        clipboard = self._clipboard
        assert clipboard is not None
        try:
            self._check_paused()
            home = self._wait_for_human(force=False)
        except _Abort as abort:
            return _failed(abort.reason, abort.retryable, abort.deferred)
        saved = clipboard.read() if self.options.restore_clipboard else None
        receipt, back_to = self._type_twice(parcel, home)
        self._restore(back_to, saved, parcel)
        return receipt

    def _type_twice(
        self, parcel: Parcel, home: tuple[int, int]
    ) -> tuple[Receipt, tuple[int, int] | None]:
        """Type the parcel; if the human takes the pointer meanwhile, wait and redo once.

        Also says where to put the pointer back: None when it is the human's now.
        """
        receipt = self._type_once(parcel)
        if receipt is None:
            log.info("delivery %s: the pointer moved, waiting", parcel.delivery_id)
            try:
                home = self._wait_for_human(force=True)
            except _Abort as abort:
                return _failed(abort.reason, abort.retryable, abort.deferred), None
            receipt = self._type_once(parcel) or _failed("human active", deferred=True)
        if receipt.reason in ("failsafe", "human active"):
            return receipt, None
        return receipt, home

    def _type_once(self, parcel: Parcel) -> Receipt | None:
        """One pass of typing as a receipt; None when the pointer moved meanwhile."""
        try:
            self._type(parcel)
        except _Abort as abort:
            return _failed(abort.reason, abort.retryable, abort.deferred)
        except self._pag.FailSafeException:
            self._engage_failsafe(parcel)
            return _failed("failsafe")
        except _HumanMoved:
            return None
        return Receipt(True, None, METHOD, False)

    def _type(self, parcel: Parcel) -> None:
        pag, opts, clipboard = self._pag, self.options, self._clipboard
        assert parcel.agent.input is not None and clipboard is not None
        x, y = parcel.agent.input
        clear = [self._keys(combo) for combo in opts.clear_keys]
        paste, submit = self._keys(opts.paste_keys), self._keys(parcel.agent.submit)
        region = self._probe(x, y)
        pag.click(x, y)
        for keys in clear:
            pag.hotkey(*keys)
        first, since = self._grabber.grab(region), time.monotonic()
        if not clipboard.put(parcel.text, opts.clipboard_timeout_s):
            raise _Abort("clipboard not ready")
        before = self._wait_quiet(region, first, since)
        self._check_step(x, y)
        pag.hotkey(*paste)
        pasted = self._wait_change(region, before, opts.paste_timeout_s)
        if pasted is None:
            raise _Abort("paste not seen")
        pasted = self._wait_quiet(region, pasted, time.monotonic())
        self._check_step(x, y)
        pag.hotkey(*submit)
        if self._wait_change(region, pasted, opts.submit_timeout_s) is None:
            raise _Abort("submit not seen")

    def _keys(self, combo: str) -> list[str]:
        keys = parse_keys(combo)
        if not keys or not all(self._pag.isValidKey(key) for key in keys):
            log.warning("unknown key in %r", combo)
            raise _Abort("bad key", retryable=False)
        return keys

    def _probe(self, x: int, y: int) -> Rect:
        width, height = self.options.probe_size
        screen = screen_of(x, y, self._screens)
        assert screen is not None
        probe = screen.clip(Rect(x - width // 2, y - height // 2, width, height))
        assert probe is not None
        return probe

    def _wait_change(
        self, region: Rect, reference: Image.Image, timeout: float
    ) -> Image.Image | None:
        """The first grab that differs from ``reference``; None at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            image = self._grabber.grab(region)
            if changed(reference, image, self.options.thin_px):
                return image
            if time.monotonic() >= deadline:
                return None
            self._check_paused()
            time.sleep(self.options.poll_s)

    def _wait_quiet(self, region: Rect, last: Image.Image, since: float) -> Image.Image:
        """A grab once the region has not changed for ``quiet_s`` (bounded)."""
        opts = self.options
        deadline = time.monotonic() + opts.quiet_timeout_s
        while True:
            image = self._grabber.grab(region)
            now = time.monotonic()
            if changed(last, image, opts.thin_px):
                last, since = image, now
            if now - since >= opts.quiet_s or now >= deadline:
                return image
            time.sleep(max(opts.poll_s, min(opts.quiet_s / 2, since + opts.quiet_s - now)))

    def _check_step(self, x: int, y: int) -> None:
        self._check_paused()
        if tuple(self._pag.position()) != (x, y):
            raise _HumanMoved()

    def _check_paused(self) -> None:
        if self._kill.engaged:
            raise _Abort("paused", deferred=True)

    def _wait_for_human(self, force: bool) -> tuple[int, int]:
        """Wait until the pointer has rested ``human_idle_s``; the position it rests at."""
        opts = self.options
        last = tuple(self._pag.position())
        if not force and last == self._left_at():
            return last  # type: ignore[return-value]
        deadline = time.monotonic() + opts.human_wait_s
        still_since = time.monotonic()
        while time.monotonic() - still_since < opts.human_idle_s:
            if time.monotonic() >= deadline:
                raise _Abort("human active", deferred=True)
            time.sleep(opts.pointer_poll_s)
            self._check_paused()
            now = tuple(self._pag.position())
            if now != last:
                last, still_since = now, time.monotonic()
        return last  # type: ignore[return-value]

    def _left_at(self) -> tuple[int, int] | None:
        try:
            x, y = self._pointer_file.read_text(encoding="ascii").split()
            return int(x), int(y)
        except (OSError, ValueError):
            return None

    def _restore(self, home: tuple[int, int] | None, saved: str | None, parcel: Parcel) -> None:
        """Give back the clipboard and, unless ``home`` is None, the pointer position."""
        assert self._clipboard is not None
        if saved is not None:
            try:  # xsel takes the selection in the background: check that it did
                restored = self._clipboard.put(saved, self.options.clipboard_timeout_s)
            except ClipboardError:
                restored = False
            if not restored:
                log.warning("could not give the user's clipboard back")
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


def _bound_display(pag: Any) -> str | None:
    """The X display PyAutoGUI opened at import (it never changes afterwards)."""
    display = getattr(getattr(pag, "_pyautogui_x11", None), "_display", None)
    return display.get_display_name() if display is not None else None


def _failed(reason: str, retryable: bool = True, deferred: bool = False) -> Receipt:
    return Receipt(False, reason, METHOD, retryable, deferred)
