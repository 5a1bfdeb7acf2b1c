"""``swarm db copy --from sqlite:///... --to postgresql://...``: move a home to PostgreSQL.

The copy holds the source home's coordinator lock (``core.coordinator.home_lock``, the one
``swarm run`` holds on SQLite) while it runs: with a coordinator running on the source it
refuses (what the coordinator wrote after the copy's snapshot would be lost when the home
moves), unless ``--force``; and no coordinator starts there until the copy is done.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.formats.timetext import local_text

FORCE_RISK = "what it writes after the copy starts (tasks, reports, deliveries) is not copied"


def register(sub: Any) -> None:
    """Add ``db copy``."""
    db = sub.add_parser("db", help="the database: copy a SQLite home into PostgreSQL")
    dbsub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    p = dbsub.add_parser(
        "copy",
        help="copy every table of a SQLite database into an empty "
        "PostgreSQL database, checked by counts",
    )
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="sqlite:///PATH",
        help="the SQLite file (e.g. sqlite:///home/me/.swarm/swarm.db)",
    )
    p.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="postgresql://...",
        help="the PostgreSQL database (created empty beforehand)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="copy even while a coordinator runs on the source home (risky: what it writes "
        "after the copy starts is not copied)",
    )
    p.set_defaults(handler=cmd_db_copy, no_service=True)


async def cmd_db_copy(_service: None, args: argparse.Namespace) -> int:
    """``swarm db copy``: one line per table, then the total."""
    from core.database import plan_copy, run_copy

    job = plan_copy(args.source, args.target)
    with _source_held(job.home, args.force) as warning:
        if warning:
            print(f"swarm: warning: {warning}", file=sys.stderr)
        report = await asyncio.to_thread(run_copy, job)
    for table, count in report.counts.items():
        print(f"{table:<16} {count:>8} rows")
    print(
        f"copied {report.total} rows in {len(report.counts)} tables from {job.source} to "
        f"{job.target_shown}; counts match"
        + (
            "; a coordinator was running: what it wrote after the copy started is not in it"
            if warning
            else ""
        )
    )
    return 0


@contextlib.contextmanager
def _source_held(home: Path, force: bool) -> Iterator[str | None]:
    """Hold ``home``'s coordinator lock for the block (None); when a coordinator holds it,
    InvalidState, or with ``force`` the warning to print. A home where the lock cannot be
    made (a read-only copy) has no coordinator: nothing is held."""
    from core.coordinator.home_lock import AlreadyRunning, CoordinatorLock, running_coordinator
    from core.errors import InvalidState

    lock = CoordinatorLock(home)
    try:
        lock.acquire()
    except AlreadyRunning:
        running = running_coordinator(home)
        holder = (
            f"pid {running[0]} since {local_text(running[1], '%H:%M')}" if running else "starting"
        )
        what = f"a coordinator is running on {home} ({holder})"
        if not force:
            raise InvalidState(
                f"{what}: stop it first, or --force to copy anyway ({FORCE_RISK})"
            ) from None
        yield f"{what}: {FORCE_RISK}; copy again into a new database once it has stopped"
        return
    except OSError:
        yield None
        return
    try:
        yield None
    finally:
        lock.release()
