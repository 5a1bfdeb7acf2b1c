"""Measure which applications take the X input focus from a click, and how fast.

Run: ``python -m tests.apps.focus_probe [--wm] [--rounds N]``. Opens a mixed desktop
(two windows of each kind), and for every window, round after round: gives the keyboard to
the previous window (``windowfocus``, or ``windowactivate`` under openbox), clicks the
window's input point in-process through XTest (as PyAutoGUI does), and polls the X input
focus until it is inside the clicked window (or 1 s passed). Prints, per kind, how many
clicks gave the focus and how long after the click reached the server it took (p50 / max).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from Xlib import X
from Xlib.display import Display
from Xlib.ext import xtest
from Xlib.xobject.drawable import Window

from automation.desktop.virtual_desktop import display_env
from tests.apps.desktop import AppWindow, MixedDesktop

SPEC = ("chrome", "chrome", "xterm", "xterm", "tk", "tk")
LIMIT_S = 1.0


def _top_level(display: Display, window: Window | int) -> int:
    """The child of the root that holds ``window`` (0 for none, PointerRoot or the root)."""
    if isinstance(window, int) or window in (X.NONE, X.PointerRoot):
        return 0
    root = display.screen().root
    current = window
    while True:
        parent = current.query_tree().parent
        if parent is None or parent.id in (0, root.id):
            return 0 if current.id == root.id else int(current.id)
        current = parent


def _taken_after(desktop: MixedDesktop, display: Display, target: AppWindow) -> float | None:
    """Click ``target``'s input; seconds until the focus is in it, None if not within 1 s."""
    wanted = _top_level(display, display.create_resource_object("window", target.window))
    x, y = target.input
    xtest.fake_input(display, X.MotionNotify, x=x, y=y)
    xtest.fake_input(display, X.ButtonPress, 1)
    xtest.fake_input(display, X.ButtonRelease, 1)
    display.sync()
    clicked = time.perf_counter()
    while time.perf_counter() - clicked < LIMIT_S:
        if _top_level(display, display.get_input_focus().focus) == wanted:
            return time.perf_counter() - clicked
        time.sleep(0.001)
    return None


def measure(desktop: MixedDesktop, rounds: int) -> dict[str, list[float | None]]:
    """Per kind, the focus latency of every click (None: never taken)."""
    results: dict[str, list[float | None]] = {}
    give = "windowactivate" if desktop.window_manager else "windowfocus"
    with display_env(desktop.xserver):
        display = Display(desktop.xserver.display)
    try:
        for _ in range(rounds):
            for index, target in enumerate(desktop.windows):
                previous = desktop.windows[index - 1]
                desktop.xserver.xdotool(give, "--sync", str(previous.window))
                latency = _taken_after(desktop, display, target)
                results.setdefault(target.kind, []).append(latency)
    finally:
        display.close()
    return results


def report(results: dict[str, list[float | None]]) -> str:
    """One line per kind: taken n/N, p50 and max in milliseconds."""
    lines = []
    for kind, latencies in results.items():
        taken = [value * 1000 for value in latencies if value is not None]
        timing = (f"p50 {statistics.median(taken):.1f} ms, max {max(taken):.1f} ms"
                  if taken else "never")  # fmt: skip
        lines.append(f"{kind:8} focus taken by the click {len(taken)}/{len(latencies)}: {timing}")
    return "\n".join(lines)


def main() -> None:
    """Open the desktop, measure, print, clean up."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wm", action="store_true", help="run openbox")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="focus-probe-") as workdir:
        desktop = MixedDesktop(SPEC, Path(workdir), window_manager=args.wm).start()
        try:
            print(f"desktop started in {desktop.startup_s:.2f} s (window manager: {args.wm})")
            print(report(measure(desktop, args.rounds)))
        finally:
            desktop.stop()


if __name__ == "__main__":
    main()
