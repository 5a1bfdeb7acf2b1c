"""``swarm db copy --from sqlite:///... --to postgresql://...``: move a home to PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


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
    p.set_defaults(handler=cmd_db_copy, no_service=True)


async def cmd_db_copy(_service: None, args: argparse.Namespace) -> int:
    """``swarm db copy``: one line per table, then the total."""
    from core.errors import ConfigError
    from core.redact import redact_urls
    from core.store.db_copy import copy, sqlite_path

    source = sqlite_path(args.source)
    target = args.target.strip()
    if target.split("://", 1)[0].lower() not in {"postgresql", "postgres"} or "://" not in target:
        raise ConfigError(f"--to must be a postgresql:// URL, got {redact_urls(target)!r}")
    try:
        from core.store import postgres  # noqa: F401  (psycopg is installed)
    except ImportError:
        raise ConfigError("swarm db copy needs psycopg: pip install 'swarm[postgresql]'") from None
    report = await asyncio.to_thread(copy, source, target)
    for table, count in report.counts.items():
        print(f"{table:<16} {count:>8} rows")
    print(
        f"copied {report.total} rows in {len(report.counts)} tables from {source} to "
        f"{redact_urls(target)}; counts match"
    )
    return 0
