"""``swarm agents check`` and ``swarm agents calibrate``: the agents' screen points."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.args import seconds_arg
from bot.cli.output import emit_json
from core.errors import InvalidInput, InvalidState
from core.privacy.files import copy_file, make_dirs
from core.settings import bundled_agents_file

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


@contextlib.contextmanager
def _plain_ctrl_c() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def register(asub: Any) -> None:
    """Add ``check`` and ``calibrate`` under ``swarm agents``."""
    q = asub.add_parser(
        "check",
        help="which window is under each input point; exit 1 on a point off screen, over "
        "the bare desktop, inside another agent's input box, or two agents in one window",
    )
    q.add_argument(
        "--screenshot",
        metavar="PNG",
        type=Path,
        help="also save a screenshot with every point and region marked",
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_check)
    q = asub.add_parser("calibrate", help="capture input points and boxes: hover, then Enter")
    q.add_argument("agents", nargs="*", metavar="AGENT", help="only these agents (default all)")
    q.add_argument(
        "--countdown",
        type=seconds_arg(zero=True),
        metavar="S",
        help="capture after S seconds instead of waiting for Enter",
    )
    q.add_argument(
        "--points-only",
        action="store_true",
        help="capture only the input points, not the input boxes",
    )
    q.add_argument(
        "--app",
        metavar="APP",
        help="record APP's layout profile on one AGENT's window opened by swarm desktop up, "
        "for every gui agent with app = APP (as swarm desktop calibrate --app APP AGENT)",
    )
    q.set_defaults(handler=cmd_calibrate)


async def cmd_check(service: SwarmService, args: argparse.Namespace) -> int:
    """``swarm agents check [--screenshot PNG]``."""
    from automation.desktop.calibrate import check_points
    from automation.desktop.screen import NoDisplay

    try:
        checks = await asyncio.to_thread(
            check_points, list(service.agents.values()), args.screenshot
        )
    except NoDisplay as exc:
        raise InvalidState(f"no display to check against: {exc}") from None
    if args.json:
        emit_json([check.to_json() for check in checks])
    else:
        for check in checks:
            print("\n".join(check.lines()))
        if args.screenshot:
            print(f"screenshot with the points marked: {args.screenshot}")
    return 0 if all(c.ok for c in checks) else 1


async def _calibrate_app(args: argparse.Namespace) -> int:
    from bot.cli.desktop_attach import calibrate_profile

    if len(args.agents) != 1 or args.countdown is not None or args.points_only:
        raise InvalidInput(
            "--app records one application's layout profile: name one AGENT whose window "
            "swarm desktop up opened (swarm agents calibrate --app cursor Agent-5), without "
            "--countdown or --points-only"
        )
    return await asyncio.to_thread(calibrate_profile, args, args.agents[0], args.app)


async def cmd_calibrate(service: SwarmService, args: argparse.Namespace) -> int:
    """``swarm agents calibrate [AGENT...]``: writes the agents file atomically, with a backup;
    with ``--app``, an application's layout profile (``swarm desktop calibrate``)."""
    from automation.desktop.calibrate import calibrate, window_under
    from automation.desktop.screen import NoDisplay
    from core.coordinator.agents_reload import RELOAD_CHECK_S

    if args.app is not None:
        return await _calibrate_app(args)
    path = service.settings.config_path
    if path.resolve() == bundled_agents_file().resolve():
        path = service.settings.home / "agents.toml"
        make_dirs(path.parent)
        copy_file(bundled_agents_file(), path)
        print(f"calibrating a copy of the bundled layout: {path} (used from now on)")
    try:
        # In this thread, with Python's own Ctrl+C handling, so that Ctrl+C stops the
        # questions at once (asyncio's handler would only cancel after the next Enter).
        with _plain_ctrl_c():
            calibrate(path, args.agents, countdown=args.countdown, with_box=not args.points_only,
                      window_of=window_under)  # fmt: skip
    except NoDisplay as exc:
        raise InvalidState(f"no display to calibrate on: {exc}") from None
    print(
        "a running swarm run reloads the agents file within "
        f"{RELOAD_CHECK_S:g} s (its log says 'agents file reloaded'); one started without "
        "desktop agents or without a display delivers to windows only once you restart "
        "swarm run"
    )
    return 0
