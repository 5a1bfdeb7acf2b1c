"""``swarm pause`` and ``swarm resume``: the kill switch of all desktop input."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.service.swarm import SwarmService


def register(sub: Any) -> None:
    """Add ``pause`` and ``resume``."""
    p = sub.add_parser("pause", help="kill switch: stop all desktop input now")
    p.add_argument("reason", nargs="?", default="", help="why (shown to others)")
    p.set_defaults(handler=cmd_pause)
    p = sub.add_parser("resume", help="release the kill switch")
    p.set_defaults(handler=cmd_resume, person_only="releasing the kill switch")


async def cmd_pause(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm pause``: the kill switch."""
    await service.pause_input(args.actor, args.reason)
    print(f"desktop input paused (flag file {service.kill_switch.path}); swarm resume to undo")


async def cmd_resume(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm resume``."""
    released = await service.resume_input(args.actor)
    print("desktop input resumed" if released else "desktop input was not paused")
