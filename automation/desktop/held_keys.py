"""Keys and pointer buttons that a killed delivery left held down on the X server.

PyAutoGUI presses through the XTEST extension. A driver killed between a key's press and its
release (``kill -9`` of ``swarm node`` or ``swarm run`` inside the paste hotkey) leaves that
key down on the server's XTEST device, and nobody releases it: the server repeats a held
letter or Enter into the focused window, and a held Ctrl or Shift turns the next delivery's
click and paste into other commands (a paste that never shows), for the person at the desktop
as well. So the driver presses each combination and its releases, and clicks, in one write to
the server (:func:`press_combo`, :func:`click_at`: a kill lands before it or after it, and no
scheduling pause between a press and its release lets the server repeat the key), keeps its
connection open half a second past its own death so the server processes the whole write
(:func:`hold_past_exit`), and releases whatever another XTEST client left held before it
types, under the input lock.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import Any

BUTTONS = range(1, 6)  # left, middle, right, wheel up, wheel down


def held_keys(display: Any) -> list[int]:
    """The key codes the server has down, on any keyboard."""
    keymap = display.query_keymap()
    return [i * 8 + bit for i, byte in enumerate(keymap) for bit in range(8) if byte >> bit & 1]


def held_buttons(display: Any) -> list[int]:
    """The pointer buttons the server has down."""
    from Xlib import X

    mask = display.screen().root.query_pointer().mask
    return [n for n in BUTTONS if mask & (X.Button1Mask << (n - 1))]


def release_held(display: Any) -> list[str]:
    """Release through XTEST every key and button the server has down; what that released
    (``"key 37"``, ``"button 1"``).

    The server drops a release of a key or button that is not down on the XTEST device
    itself (``UpdateDeviceState``), so what a person holds on a real keyboard or mouse stays
    held; only the presses of XTEST clients, such as a killed driver's, end here. Call it
    holding the input lock: other drivers press through the same XTEST device."""
    from Xlib import X
    from Xlib.ext import xtest

    keys, buttons = held_keys(display), held_buttons(display)
    if not keys and not buttons:
        return []
    for code in keys:
        xtest.fake_input(display, X.KeyRelease, code)
    for button in buttons:
        xtest.fake_input(display, X.ButtonRelease, button)
    display.sync()
    keys_left, buttons_left = set(held_keys(display)), set(held_buttons(display))
    return [f"key {code}" for code in keys if code not in keys_left] + [
        f"button {n}" for n in buttons if n not in buttons_left
    ]


def press_combo(pag: Any, combo: Sequence[str]) -> None:
    """Press ``combo`` (PyAutoGUI key names: ``ctrl``, ``v``) in order and release it in
    reverse, as ``pyautogui.hotkey`` does, but in one write to the X server.

    ``hotkey`` waits for the server after every press and every release: a driver killed
    in between (``kill -9``, the OOM killer) left the key down, and the server repeated it
    into the focused window 25 times a second until someone released it; a driver thread
    descheduled for longer than the server's repeat delay (660 ms) under load typed the key
    twice. Queued together, the presses and releases reach the server in one request
    buffer, or none of them does. Off X11 (no python-xlib display): ``hotkey`` itself.
    Keys that have no code on this keyboard are left out, as ``hotkey`` leaves them."""
    x11: Any = getattr(pag, "_pyautogui_x11", None)
    display = pyautogui_display(pag)
    if display is None:
        pag.hotkey(*combo)
        return
    from Xlib import X
    from Xlib.ext import xtest

    pag.failSafeCheck()
    mapping, keys = x11.keyboardMapping, [k.lower() if len(k) > 1 else k for k in combo]
    codes = [(mapping.get(k), pag.isShiftCharacter(k)) for k in keys]
    shift = mapping.get("shift")
    for code, shifted in codes:  # as PyAutoGUI presses one: Shift around a shifted character
        if code is None:
            continue
        if shifted and shift is not None:
            xtest.fake_input(display, X.KeyPress, shift)
        xtest.fake_input(display, X.KeyPress, code)
        if shifted and shift is not None:
            xtest.fake_input(display, X.KeyRelease, shift)
    for code, _ in reversed(codes):
        if code is not None:
            xtest.fake_input(display, X.KeyRelease, code)
    display.sync()


def click_at(pag: Any, x: int, y: int) -> None:
    """Click the left button at ``(x, y)`` as ``pyautogui.click(x, y)`` does (the move
    checked by its failsafe, the point itself too), the press and the release in one write
    to the X server: a driver killed inside a click no longer leaves the button down, for
    the person's next move of the mouse to drag with it. Off X11: ``click`` itself."""
    display = pyautogui_display(pag)
    if display is None:
        pag.click(x, y)
        return
    from Xlib import X
    from Xlib.ext import xtest

    pag.moveTo(x, y)
    pag.failSafeCheck()
    xtest.fake_input(display, X.MotionNotify, x=x, y=y)
    xtest.fake_input(display, X.ButtonPress, 1)
    xtest.fake_input(display, X.ButtonRelease, 1)
    display.sync()


def pyautogui_display(pag: Any) -> Any:
    """PyAutoGUI's python-xlib connection (None when not on X11), held open past this
    process's death (:func:`hold_past_exit`)."""
    display = getattr(getattr(pag, "_pyautogui_x11", None), "_display", None)
    if display is not None:
        hold_past_exit(display)
    return display


LINGER_S = 0.5
_holders: dict[int, subprocess.Popen[bytes]] = {}


def hold_past_exit(display: Any) -> None:
    """Keep ``display``'s socket open for :data:`LINGER_S` after this process ends.

    One write puts a press and its release on the server's socket together, but the server
    may yield to other clients between the two requests; if it then sees the socket hung up
    (``kill -9`` of the driver), it closes the client and drops the release it had already
    been sent: the key stays down. A small process that inherits the socket and outlives
    this one by half a second lets the server finish what it was sent. It ends when this
    process does (its standard input, a pipe only this process writes, reaches its end)."""
    if id(display) in _holders:
        return
    socket = getattr(getattr(display, "display", None), "socket", None)
    if socket is None:
        return
    _holders[id(display)] = subprocess.Popen(
        ["sh", "-c", f"read -r _; sleep {LINGER_S}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(socket.fileno(),),
        start_new_session=True,
    )
