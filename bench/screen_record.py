"""Record the screen signal's test set: real windows on a private Xvfb, 10 frames a second.

Run: ``.venv/bin/python bench/screen_record.py [--out tests/data/screen] [--seconds 12]
[--only NAME,...]``. Needs Xvfb, xdotool, xterm and chromium (as ``tests/apps``).

Each scenario opens one window (``tests/apps/screen_windows.py``) with the keyboard focus, so
its caret blinks as it does by default, and grabs the window every 0.1 s as the watcher
does (``automation.desktop.watch.ScreenFrames``: a grayscale thumbnail of at most 128
pixels a side).
It writes ``NAME.png``, the distinct frames stacked top to bottom, and one line of
``manifest.jsonl``: the scenario, its truth (``still``: nothing but a caret may move;
``active``: the window changes all the time), the frame size, the region's size and the
index of the frame seen at each 0.1 s step. ``bench/screen_accuracy.py`` replays them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from PIL import Image  # noqa: E402

from automation.desktop.virtual_desktop import XServer, display_env, start_xvfb  # noqa: E402
from automation.desktop.watch import ScreenFrames  # noqa: E402
from core.agents import thumbnail_size  # noqa: E402
from core.models import Agent  # noqa: E402
from tests.apps.screen_windows import open_window  # noqa: E402

STEP_S = 0.1
SMALL = (960, 540, 400, 300)  # the window's box on the 1920x1080 screen
LARGE = (0, 0, 1280, 900)  # a large region: a 1-2 pixel caret is at most 1 thumbnail pixel


@dataclass(frozen=True)
class Scenario:
    """One recording: a window kind, where, the truth, and whether someone types into it."""

    name: str
    kind: str
    truth: str
    box: tuple[int, int, int, int] = SMALL
    typing: bool = False


SCENARIOS = (
    Scenario("tk-caret", "tk-caret", "still"),
    Scenario("tk-caret-large", "tk-caret", "still", LARGE),
    Scenario("xterm-cursor", "xterm", "still"),
    Scenario("xterm-blinking-block", "xterm-blink", "still"),
    Scenario("chrome-textarea", "chrome", "still"),
    Scenario("chrome-textarea-large", "chrome", "still", LARGE),
    Scenario("tk-typing", "tk-caret", "active", typing=True),
    Scenario("xterm-typing", "xterm-blink", "active", typing=True),
    Scenario("chrome-typing", "chrome", "active", typing=True),
    Scenario("tk-stream", "tk-stream", "active"),
    Scenario("tk-scroll", "tk-scroll", "active"),
    Scenario("tk-spinner", "tk-spinner", "active"),
    Scenario("tk-resize", "tk-resize", "active"),
    Scenario("xterm-stream", "xterm-stream", "active"),
    Scenario("xterm-spinner", "xterm-spinner", "active"),
    Scenario("chrome-stream", "chrome-stream", "active"),
)


def record(server: XServer, scenario: Scenario, seconds: float, workdir: Path) -> dict[str, object]:
    """Open the scenario's window, grab it every STEP_S for ``seconds``; frames and steps."""
    window = open_window(server, scenario.kind, scenario.box, workdir, scenario.name)
    stop = threading.Event()
    typist = threading.Thread(target=_type, args=(server, stop), daemon=True)
    try:
        time.sleep(1.5)  # drawn, focused, the page's script running
        x, y, width, height = window.box
        agent = Agent(scenario.name, "screen", watch=(x, y, width, height))
        if scenario.typing:
            typist.start()
        frames, steps = _grab(agent, seconds)
    finally:
        stop.set()
        if typist.is_alive():
            typist.join(10)
        window.stop()
    return {"name": scenario.name, "kind": scenario.kind, "truth": scenario.truth,
            "region": [width, height], "size": list(thumbnail_size(width, height)),
            "step_s": STEP_S, "distinct": frames, "steps": steps}  # fmt: skip


def _grab(agent: Agent, seconds: float) -> tuple[list[bytes], list[int]]:
    source = ScreenFrames()
    distinct: dict[bytes, int] = {}
    steps: list[int] = []
    began = time.monotonic()
    try:
        for step in range(round(seconds / STEP_S)):
            time.sleep(max(0.0, began + step * STEP_S - time.monotonic()))
            frame = source.grab(agent)
            assert frame is not None, "no frame grabbed"
            steps.append(distinct.setdefault(frame, len(distinct)))
    finally:
        source.close()
    return list(distinct), steps


def _type(server: XServer, stop: threading.Event) -> None:
    """A person typing: a word every 0.4 s, a character every 60 ms."""
    words = iter(["the", "agent", "types", "a", "line", "of", "code", "and", "then"] * 99)
    while not stop.is_set():
        server.xdotool("type", "--delay", "60", next(words) + " ")
        stop.wait(0.4)


def save(out: Path, recorded: dict[str, object]) -> None:
    """The distinct frames as one PNG strip; the rest as a manifest line."""
    frames = recorded.pop("distinct")
    assert isinstance(frames, list)
    size = recorded["size"]
    assert isinstance(size, list)
    width, height = int(size[0]), int(size[1])
    strip = Image.new("L", (width, height * len(frames)))
    for index, frame in enumerate(frames):
        strip.paste(Image.frombytes("L", (width, height), frame), (0, index * height))
    strip.save(out / f"{recorded['name']}.png", optimize=True)
    with (out / "manifest.jsonl").open("a", encoding="utf-8") as manifest:
        manifest.write(json.dumps(recorded) + "\n")


def main() -> None:
    """Record every scenario (or ``--only`` some) into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "screen")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.only:
        (args.out / "manifest.jsonl").unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="screen-record-") as tmp:
        server = start_xvfb(Path(tmp) / "xvfb")
        try:
            with display_env(server):
                for scenario in chosen:
                    recorded = record(server, scenario, args.seconds, Path(tmp) / scenario.name)
                    distinct = len(recorded["distinct"])  # type: ignore[arg-type]
                    save(args.out, recorded)
                    print(f"{scenario.name}: {distinct} distinct frames", flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
