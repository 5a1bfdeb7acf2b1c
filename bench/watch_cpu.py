"""CPU of watching 8 agents' screens at a 1 s interval: the old rule against the new one.

Run: ``.venv/bin/python bench/watch_cpu.py [--seconds 30] [--interval 1] [--json]``. Needs
Xvfb, xdotool, xterm and chromium (as ``tests/apps``).

Eight real windows on a private Xvfb (``tests/apps/screen_windows.py``): Tk, xterm and
Chromium streaming text, a Claude-Code-like spinner line, a scrolling text, a frozen xterm,
a frozen Chromium page and, focused last so its caret blinks, a frozen Tk text. Measured in
this process (``time.process_time``: the grabbing, the thumbnails and the judging; the
windows' own processes are not counted), over the same number of ticks each:

- ``old``: grab each region (``ScreenFrames``) and compare it with the last frame
  (``frames_differ``), as the watcher did before issue 24;
- ``new``: ``Watcher.sample()`` (grab, judge with ``ScreenJudge``, recheck small changes,
  save the dashboard's frames).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from automation.desktop.virtual_desktop import XServer, display_env, start_xvfb  # noqa: E402
from automation.desktop.watch import ScreenFrames  # noqa: E402
from core.agents import frames_differ  # noqa: E402
from core.coordinator.jobs import Watcher  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.watch.settings import WatchSettings  # noqa: E402
from tests.apps.screen_windows import ScreenWindow, open_window  # noqa: E402

KINDS = ("tk-stream", "xterm-stream", "chrome-stream", "xterm-spinner", "tk-scroll", "xterm",
         "chrome", "tk-caret")  # fmt: skip
CELL = (480, 540)


def open_all(server: XServer, workdir: Path) -> list[ScreenWindow]:
    """The eight windows, one per cell of a 4x2 grid (the last one keeps the focus)."""
    windows: list[ScreenWindow] = []
    try:
        for index, kind in enumerate(KINDS):
            box = ((index % 4) * CELL[0], (index // 4) * CELL[1], CELL[0] - 20, CELL[1] - 40)
            windows.append(open_window(server, kind, box, workdir / kind, f"Agent-{index + 1}"))
    except BaseException:
        for window in windows:
            window.stop()
        raise
    return windows


def agents_file(path: Path, windows: list[ScreenWindow]) -> Path:
    """An agents file whose agents watch the windows."""
    parts = []
    for index, window in enumerate(windows):
        x, y, width, height = window.box
        parts.append(
            f'[[agent]]\nid = "Agent-{index + 1}"\nrole = "dev"\n'
            f"input = [{x + width // 2}, {y + height // 2}]\n"
            f"watch = [{x}, {y}, {width}, {height}]\n"
        )
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def old_rule(service: SwarmService, ticks: int, interval: float) -> tuple[float, float, int]:
    """CPU seconds, wall seconds and changes counted by the old rule over ``ticks`` ticks."""
    source, changes = ScreenFrames(), 0
    last: dict[str, bytes] = {}
    agents = list(service.agents.values())
    began_cpu, began = time.process_time(), time.monotonic()
    try:
        for tick in range(ticks):
            time.sleep(max(0.0, began + tick * interval - time.monotonic()))
            for agent in agents:
                frame = source.grab(agent)
                if frame is not None and agent.id in last and frames_differ(last[agent.id], frame):
                    changes += 1
                if frame is not None:
                    last[agent.id] = frame
    finally:
        source.close()
    return time.process_time() - began_cpu, time.monotonic() - began, changes


async def new_rule(service: SwarmService, ticks: int, interval: float) -> tuple[float, float, int]:
    """The same with the watcher's sample (the new rule), in its worker thread."""
    watcher = Watcher(service, WatchSettings(interval_s=interval), ScreenFrames())
    changes = 0
    began_cpu, began = time.process_time(), time.monotonic()
    try:
        for tick in range(ticks):
            await asyncio.sleep(max(0.0, began + tick * interval - time.monotonic()))
            changes += len(await watcher.sample())
    finally:
        await watcher.close()
    return time.process_time() - began_cpu, time.monotonic() - began, changes


async def run(seconds: float, interval: float) -> dict[str, object]:
    """Open the desktop, measure both rules, close everything."""
    ticks = max(2, round(seconds / interval))
    with tempfile.TemporaryDirectory(prefix="watch-cpu-") as tmp:
        server = start_xvfb(Path(tmp) / "xvfb")
        try:
            with display_env(server):
                windows = open_all(server, Path(tmp))
                try:
                    await asyncio.sleep(2.0)
                    config = agents_file(Path(tmp) / "agents.toml", windows)
                    env = {"SWARM_HOME": str(Path(tmp) / "home"), "SWARM_CONFIG": str(config)}
                    service = await SwarmService.open(Settings.from_env(env))
                    try:
                        old = await asyncio.to_thread(old_rule, service, ticks, interval)
                        new = await new_rule(service, ticks, interval)
                    finally:
                        await service.close()
                finally:
                    for window in windows:
                        window.stop()
        finally:
            server.stop()
    result: dict[str, object] = {"agents": len(KINDS), "interval_s": interval, "ticks": ticks}
    for name, (cpu, wall, changes) in (("old", old), ("new", new)):
        result[name] = {"cpu_s": round(cpu, 3), "wall_s": round(wall, 2),
                        "cpu_pct_of_one_core": round(100 * cpu / wall, 2),
                        "changes": changes}  # fmt: skip
    result["new_over_old_cpu"] = round(new[0] / old[0], 2) if old[0] else None
    return result


def main() -> None:
    """Print the CPU share of one core of each rule, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.seconds, args.interval))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['agents']} agents, a look every {args.interval:g} s, {result['ticks']} looks")
    for name in ("old", "new"):
        r = result[name]
        assert isinstance(r, dict)
        cpu = f"{r['cpu_s']:.2f} s CPU in {r['wall_s']:.1f} s"
        print(f"  {name}: {r['cpu_pct_of_one_core']:.2f} % of one core ({cpu}), "
              f"{r['changes']} changes counted")  # fmt: skip
    print(f"  new / old CPU: {result['new_over_old_cpu']}")


if __name__ == "__main__":
    main()
