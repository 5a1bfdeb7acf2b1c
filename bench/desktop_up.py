"""Benchmark of ``swarm desktop up`` on a private Xvfb.

Run: ``.venv/bin/python bench/desktop_up.py [--agents 8] [--terminal xterm] [--wm]
[--prompts 16] [--json]``. The agents run the scripted agent CLI of ``tests/apps/agent_cli.py``
(as ``claude``) in xterm + tmux; ``--wm`` runs openbox as the window manager.

Prints the time from ``swarm desktop up`` to every agent ready for a first delivery (its
prompt drawn), against the baseline of the same programs opened in bare xterms (no swarm, no
tmux) in the same run; the prompts then delivered through the real driver with no
calibration; the time to bring every agent back after all windows are killed (tmux sessions
re-attached, conversations kept); and after a "reboot" (windows and tmux server killed:
every agent restarted with ``--continue``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from automation.desktop.gui import GuiDriver, GuiOptions  # noqa: E402
from automation.desktop.screen import Rect, open_x_display  # noqa: E402
from automation.desktop.virtual_desktop import XServer, display_env, start_xvfb  # noqa: E402
from automation.desktop.window_place import Desk  # noqa: E402
from core.agents_file import load_agents  # noqa: E402
from core.delivery import KillSwitch  # noqa: E402
from core.protocols import Parcel  # noqa: E402
from tests.apps import launchers  # noqa: E402
from tests.automation.messages import make_texts  # noqa: E402
from tests.desktop.rig import DesktopRig, own_args  # noqa: E402


def baseline(server: XServer, workdir: Path, count: int) -> float:
    """Seconds until ``count`` bare xterms running the same prompt have drawn it."""
    began = time.monotonic()
    opened = []
    try:
        for i in range(count):
            cell = ((i % 4) * 480, (i // 4) * 540, 480, 540)
            opened.append(
                launchers.launch_xterm(
                    server, f"bare-{i}", cell, workdir / f"bare-{i}.jsonl", workdir
                )
            )
        for i, launched in enumerate(opened):
            ready = workdir / f"bare-{i}-term.ready"
            launchers.wait_until(ready.exists, 60, f"bare xterm {i} not ready", launched.process)
        return time.monotonic() - began
    finally:
        for launched in opened:
            launched.stop()


def in_cells(rig: DesktopRig, layout: tuple[int, int] = (4, 2)) -> int:
    """How many agents' windows (with the manager's frame) lie wholly in their cells."""
    columns = layout[0]
    display = open_x_display(rig.server.display)
    try:
        desk = Desk(display)
        count = 0
        for index, row in enumerate(rig.status()):
            if row["window"] is None:
                continue
            box = desk.box(row["window"])
            left, right, top, bottom = desk.frame_extents(row["window"])
            outer = Rect(
                box.left - left, box.top - top, box.width + left + right, box.height + top + bottom
            )
            cell = Rect((index % columns) * 480, (index // columns) * 540, 480, 540)
            count += cell.encloses(outer)
        return count
    finally:
        display.close()


async def deliver_all(rig: DesktopRig, texts: list[str], start: int = 0) -> int:
    """Deliver ``texts`` round-robin through the real driver; how many arrived exactly."""
    agents = {a.id: a for a in load_agents(rig.config)}
    home = rig.workdir / "driver-home"
    home.mkdir(exist_ok=True)
    before = {name: len(rig.texts(name)) for name in rig.names}
    driver = GuiDriver(home, KillSwitch(home), GuiOptions(human_idle_s=0.05))
    try:
        for n, text in enumerate(texts):
            agent = agents[rig.names[n % len(rig.names)]]
            receipt = await driver.deliver(Parcel(start + n + 1, agent, text, "bench"))
            if not receipt.ok:
                print(f"delivery {n} to {agent.id} failed: {receipt.reason}", file=sys.stderr)
    finally:
        driver.close()
    count = len(rig.names)
    ok = 0
    for i, name in enumerate(rig.names):
        expected = texts[i::count]
        got = rig.wait_for(name, before[name] + len(expected))[before[name] :]
        ok += sum(1 for a, b in zip(got, expected, strict=False) if a == b)
    return ok


def save_screenshot(server: XServer, path: Path) -> None:
    """The whole screen as a PNG (the agents just opened)."""
    from PIL import ImageGrab

    path.parent.mkdir(parents=True, exist_ok=True)
    ImageGrab.grab(xdisplay=server.display).save(path, format="PNG", optimize=True)


def kill_windows(rig: DesktopRig) -> None:
    """SIGKILL every agent's terminal (as a crash would); wait until the windows are gone."""
    display = open_x_display(rig.server.display)
    try:
        desk = Desk(display)
        for info in desk.windows():
            if info.agent is not None and info.pid is not None:
                os.kill(info.pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while any(info.agent for info in desk.windows()) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        display.close()


def timed_up(rig: DesktopRig, starts: int = 1) -> tuple[float, list[str]]:
    """Seconds from ``swarm desktop up`` to every agent ready after its ``starts``-th start;
    the actions it reported."""
    began = time.monotonic()
    rows = rig.up()
    rig.wait_ready(timeout=60, starts=starts)
    return time.monotonic() - began, [row["action"] for row in rows]


def run(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    """The whole benchmark on one Xvfb."""
    server = start_xvfb(workdir / "xvfb")
    wm = launchers.start_openbox(server, workdir) if args.wm else None
    rig = DesktopRig(server, workdir / "rig", agents=args.agents, terminal=args.terminal)
    try:
        with display_env(server):
            bare_s = baseline(server, workdir, args.agents)
            up_s, first = timed_up(rig)
            cells = in_cells(rig)
            if args.screenshot is not None:
                save_screenshot(server, args.screenshot)
            texts = make_texts(args.prompts, long_every=7)
            delivered = asyncio.run(deliver_all(rig, texts))
            before = {name: rig.texts(name) for name in rig.names}
            kill_windows(rig)
            began = time.monotonic()
            actions = [row["action"] for row in rig.up()]
            windows_back_s = time.monotonic() - began
            probe = [f"after the crash {i}" for i in range(args.agents)]
            probed = asyncio.run(deliver_all(rig, probe, start=len(texts)))
            resume_s = time.monotonic() - began
            kept = all(rig.texts(n)[: len(before[n])] == before[n] for n in rig.names)
            kept = kept and all(len(rig.starts(n)) == 1 for n in rig.names) and probed == len(probe)
            kill_windows(rig)
            rig.tmux("kill-server")
            reboot_s, rebooted = timed_up(rig, starts=2)
            continued = all(
                own_args(rig.starts(n)[-1]["argv"]) == ["--continue"] for n in rig.names
            )
    finally:
        rig.stop()
        if wm is not None:
            wm.stop()
        server.stop()
    return {
        "agents": args.agents,
        "terminal": args.terminal,
        "window_manager": args.wm,
        "bare_xterms_s": round(bare_s, 3),
        "up_ready_s": round(up_s, 3),
        "up_vs_bare": round(up_s / bare_s, 2),
        "first_actions": sorted(set(first)),
        "in_cells": cells,
        "prompts": len(texts),
        "delivered": delivered,
        "windows_back_s": round(windows_back_s, 3),
        "resume_and_one_delivery_each_s": round(resume_s, 3),
        "resume_actions": sorted(set(actions)),
        "resumed_kept": kept,
        "reboot_ready_s": round(reboot_s, 3),
        "reboot_actions": sorted(set(rebooted)),
        "reboot_continued": continued,
    }


def main() -> int:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--terminal", default="xterm", choices=("xterm", "urxvt"))
    parser.add_argument("--wm", action="store_true", help="run openbox")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="one JSON line at the end")
    parser.add_argument("--screenshot", type=Path, metavar="PNG", help="save the screen once up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-desktop-up-") as tmp:
        result = run(args, Path(tmp))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<32} {value}")
    ok = result["delivered"] == result["prompts"] and result["in_cells"] == args.agents
    return 0 if ok and result["resumed_kept"] and result["reboot_continued"] else 1


if __name__ == "__main__":
    sys.exit(main())
