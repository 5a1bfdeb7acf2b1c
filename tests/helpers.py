"""Shared test helpers: a recording deliverer, the CLI in a child process, config files."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.models import Receipt
from core.protocols import Parcel
from core.settings import Settings
from core.store.conn import Conn, SqliteConn, values

ROOT = Path(__file__).resolve().parent.parent
XVFB_LOCK = Path(tempfile.gettempdir()) / "swarm-tests-xvfb.lock"


def start_xvfb(workdir: Path, auth: bool = True) -> Any:
    """``automation.desktop.virtual_desktop.start_xvfb`` under a lock that every test process on the
    machine shares: two xdist workers probing the same free display number at once could
    otherwise both see it free, and the loser's Xvfb, still exiting, would look started."""
    from filelock import FileLock

    from automation.desktop.virtual_desktop import start_xvfb as start

    with FileLock(XVFB_LOCK, timeout=120):
        return start(workdir, auth=auth)


@dataclass
class RecordingDeliverer:
    """Implements the Deliverer protocol for tests: records parcels, fails on request."""

    time_limit_s: float | None = field(default=None, kw_only=True)  # no deadline of its own
    parcels: list[Parcel] = field(default_factory=list)
    failing: dict[str, str] = field(default_factory=dict)
    deferring: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        """Nothing to release."""

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Record the parcel, or fail (or defer) with the reason configured for its agent."""
        reason = self.failing.get(parcel.agent.id)
        if reason:
            return Receipt.failed(reason, "test")
        if parcel.agent.id in self.deferring:
            return Receipt.failed(self.deferring[parcel.agent.id], "test", deferred=True)
        self.parcels.append(parcel)
        return Receipt.delivered("test")

    def for_agent(self, agent: str) -> list[Parcel]:
        """Parcels delivered to one agent."""
        return [p for p in self.parcels if p.agent.id == agent]


@dataclass
class CliResult:
    """Outcome of one ``swarm`` run."""

    code: int
    out: str
    err: str


def run_cli(
    home: Path,
    *args: str,
    config: Path | None = None,
    agent: str | None = None,
    timeout: float = 30,
    env: dict[str, str] | None = None,
) -> CliResult:
    """Run ``python -m bot.cli.main ARGS`` with SWARM_HOME=home (plus ``env``): in a child
    of the CLI zygote (:mod:`tests.cli_zygote`) when it can, else a fresh process."""
    from tests import cli_zygote

    full = cli_env(home, config, agent, env)
    zygote = cli_zygote.shared(ROOT)
    if zygote is not None and zygote.fits(full):
        ran = zygote.run(list(args), full, ROOT, timeout)
        if ran is not None:
            return CliResult(*ran)
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def cli_env(
    home: Path,
    config: Path | None = None,
    agent: str | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a CLI run: SWARM_HOME=home plus ``env``, nothing else of swarm's."""
    extra = env or {}
    # no SWARM_* settings and no display from the caller: the CLI sees a clean machine
    found = {
        k: v for k, v in os.environ.items() if not k.startswith("SWARM_") and k != "DISPLAY"
    } | extra
    found["SWARM_HOME"] = str(home)
    if "XDG_CONFIG_HOME" not in extra:  # no user config file unless the test writes one
        found["XDG_CONFIG_HOME"] = f"{home}-no-user-config"
    if config:
        found["SWARM_CONFIG"] = str(config)
    if agent:
        found["SWARM_AGENT"] = agent
    return found


def table_counts(settings: Settings, *tables: str) -> tuple[int, ...]:
    """Rows in each of ``tables``, read through a separate connection (SQLite or PostgreSQL)."""
    return tuple(
        row[0]
        for row in query(settings, " UNION ALL ".join(f"SELECT count(*) FROM {t}" for t in tables))
    )


def query(settings: Settings, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (portable, ``$n`` placeholders) as tuples, over a separate
    connection to the store."""
    if settings.database_url:
        import psycopg

        with psycopg.connect(settings.database_url, cursor_factory=psycopg.RawCursor) as conn:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    with contextlib.closing(sqlite3.connect(settings.db_path, factory=SqliteConn)) as lite:
        return [tuple(r) for r in lite.execute(sql, params).fetchall()]


def write_agents(path: Path, agents: list[dict[str, object]]) -> Path:
    """Write an agents TOML file from dicts of simple values."""
    lines = []
    for agent in agents:
        lines.append("[[agent]]")
        for key, value in agent.items():
            if isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            elif isinstance(value, bool):
                lines.append(f"{key} = {str(value).lower()}")
            elif isinstance(value, list | tuple):
                items = ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in value)
                lines.append(f"{key} = [{items}]")
            else:
                lines.append(f"{key} = {value}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def recording_builder(settings: Settings) -> Any:
    """The composition root on ``settings`` with a recording deliverer and fake frames."""
    from bot.app import Builder
    from bot.config import Config
    from tests.watch.conftest import FakeFrames

    return Builder(
        Config({}, core=settings), deliverer=lambda _: RecordingDeliverer(), frames=FakeFrames()
    )


@contextlib.asynccontextmanager
async def headless_run(builder: Any) -> AsyncIterator[asyncio.Task[Any]]:
    """``run_headless(builder)`` (``swarm run --no-discord`` in this process) as a task for
    the block; stopped and awaited after it, whatever happened."""
    from bot.app import run_headless

    stop = asyncio.Event()
    runner = asyncio.create_task(run_headless(builder, stop=stop))
    try:
        yield runner
    finally:
        stop.set()
        await asyncio.gather(runner, return_exceptions=True)


def read_archive(path: Path) -> list[dict[str, Any]]:
    """Every line of an archive (all members)."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def stored_count(settings: Settings, table: str) -> int:
    """The rows of ``table`` in the database of ``settings`` (0 before SQLite's file exists)."""
    query = f"SELECT count(*) FROM {table}"
    if settings.database_url:
        import psycopg

        with psycopg.connect(settings.database_url) as pg:
            found = pg.execute(query).fetchone()
            return int(found[0]) if found else 0
    if not settings.db_path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(settings.db_path)) as conn:
        return int(conn.execute(query).fetchone()[0])


def query_plan(conn: Conn, sql: str, *params: object) -> str:
    """The plan the database chooses for ``sql`` (``EXPLAIN``; SQLite's ``EXPLAIN QUERY
    PLAN``), as one line."""
    if conn.dialect == "postgres":
        rows = conn.execute(f"EXPLAIN {sql}", params).fetchall()
        return " ".join(str(values(r)[0]) for r in rows)
    return " ".join(r["detail"] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


# text that breaks SQL or JSON pasted into a statement: quotes, %, a backslash, JSON brackets
HOSTILE_TEXT = 'it\'s 100% \\ ["x"] {"a": 1} ünïcødé 🚀 \' -- ;'


def task_cells(title: str, **overrides: Any) -> tuple[Any, ...]:
    """A ready task's cells in ``graph_queries.TASK_COLUMNS`` order, for ``insert_tasks``."""
    from core.tasks._graph_queries import TASK_COLUMNS

    row: dict[str, Any] = {
        "title": title, "details": "", "priority": 1, "role": None, "capabilities": "[]",
        "pinned_agent": None, "status": "ready", "reason": None, "blocked_on": None,
        "max_attempts": 3, "created_by": "cli", "created_at": 1.0, "updated_at": 1.0,
        "plan_id": None, "campaign_id": None, "kind": "work",
    }  # fmt: skip
    row.update(overrides)
    return tuple(row[c] for c in TASK_COLUMNS)
