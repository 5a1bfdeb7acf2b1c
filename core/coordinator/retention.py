"""Retention: old history goes to a compressed archive, then out of the database.

What is old: events, messages and deliveries of tasks that finished more than
``SWARM_KEEP_DAYS`` ago (and task-less ones as old), and inbox files as old. Each batch is
appended to ``$SWARM_HOME/archive/YYYY-MM.jsonl.gz`` as one gzip member, fsynced, and only
then deleted in one transaction (a crash in between archives a batch twice, never loses
it). Freed pages go back to the file system with ``PRAGMA incremental_vacuum``; a database
made before auto-vacuum is converted by one ``VACUUM`` when the swarm is idle. Temporary
files (``.tmp-*``) older than a minute are crash leftovers and are removed. Audit rows
(who ran what) older than ``SWARM_KEEP_DAYS`` are archived and deleted the same way.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from core.delivery import retention_queries as message_queries
from core.history import retention_queries as queries
from core.history.retention_queries import BATCH
from core.privacy.files import make_dirs, open_file
from core.protocols import PeriodicTimer
from core.store.access import StoreAccess
from core.store.conn import Conn

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)

TEMP_MAX_AGE_S = 60.0
EVERY_S = 3600.0
DAY_S = 86_400.0


@dataclass
class GcReport:
    """What one pass removed (or, in a dry run, would remove)."""

    events: int = 0
    messages: int = 0
    deliveries: int = 0
    inbox_files: int = 0
    temp_files: int = 0
    audit: int = 0
    archive: Path | None = None
    vacuumed: str = ""
    notes: list[str] = field(default_factory=list)

    def summary(self, dry_run: bool) -> str:
        """One line for people."""
        verb = "would remove" if dry_run else "removed"
        where = f"; archived to {self.archive}" if self.archive and not dry_run else ""
        return (
            f"{verb} {self.events} events, {self.messages} messages ({self.deliveries} "
            f"deliveries), {self.inbox_files} inbox files, {self.temp_files} temp files, "
            f"{self.audit} audit rows{where}{'; ' + self.vacuumed if self.vacuumed else ''}"
        )


# -- old rows: archived, then deleted (each owner's ``retention_queries``) -----------------


def count_old_audit(conn: Conn, cutoff: float) -> int:
    """Audit rows a pass would remove."""
    return queries.old_audit_count(conn, cutoff)


def archive_audit(conn: Conn, cutoff: float, out: Path) -> int:
    """Archive and delete one batch of old audit rows (who ran what, allowed or refused)."""
    rows = queries.old_audit(conn, cutoff)
    if rows:
        append_archive(out, ({"table": "audit", **asdict(r)} for r in rows))
        queries.delete_audit(conn, rows)
    return len(rows)


def count_old(conn: Conn, cutoff: float) -> tuple[int, int, int]:
    """Events, messages and deliveries a pass would remove."""
    return queries.old_event_count(conn, cutoff), *message_queries.old_counts(conn, cutoff)


def archive_events(conn: Conn, cutoff: float, out: Path) -> int:
    """Archive and delete one batch of old events (in the caller's transaction)."""
    rows = queries.old_events(conn, cutoff)
    if rows:
        append_archive(out, ({"table": "events", **asdict(r)} for r in rows))
        queries.delete_events(conn, rows)
    return len(rows)


def archive_messages(conn: Conn, cutoff: float, out: Path) -> tuple[int, int]:
    """Archive and delete one batch of old messages with their deliveries."""
    rows = message_queries.old_messages(conn, cutoff)
    if not rows:
        return 0, 0
    ids = [r.id for r in rows]
    sent = message_queries.deliveries_of(conn, ids)
    lines = [{"table": "messages", **asdict(r)} for r in rows]
    lines += [{"table": "deliveries", **asdict(r)} for r in sent]
    append_archive(out, iter(lines))
    message_queries.delete_messages(conn, ids)
    return len(rows), len(sent)


def append_archive(out: Path, lines: Iterator[dict[str, Any]]) -> None:
    """Append one gzip member of JSON lines to ``out`` and fsync it; on failure the file is
    cut back to where it was (so it never ends in half a member)."""
    make_dirs(out.parent)
    with os.fdopen(open_file(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND), "ab") as raw:
        start = raw.tell()
        try:
            _write_member(raw, lines)
        except BaseException:
            raw.truncate(start)
            raise


def _write_member(raw: BinaryIO, lines: Iterator[dict[str, Any]]) -> None:
    with gzip.GzipFile(fileobj=raw, mode="wb") as packed:
        for line in lines:
            packed.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    raw.flush()
    os.fsync(raw.fileno())


# -- files ---------------------------------------------------------------------------------


def old_inbox_files(inbox: Path, cutoff: float) -> list[Path]:
    """Delivered inbox files last changed before ``cutoff``, oldest first."""
    if not inbox.is_dir():
        return []
    found = [
        p
        for p in inbox.glob("*/*")
        if p.is_file() and not p.name.startswith(".tmp-") and p.stat().st_mtime < cutoff
    ]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def archive_inbox(files: list[Path], out: Path) -> int:
    """Archive the files' text (with agent folder and name), then delete them."""
    for start in range(0, len(files), BATCH):
        chunk = files[start : start + BATCH]
        append_archive(
            out,
            (
                {
                    "table": "inbox",
                    "agent": p.parent.name,
                    "name": p.name,
                    "text": p.read_text(encoding="utf-8", errors="replace"),
                }
                for p in chunk
            ),
        )
        for path in chunk:
            path.unlink(missing_ok=True)
    return len(files)


def sweep_temp_files(home: Path, now: float | None = None, dry_run: bool = False) -> int:
    """Remove ``.tmp-*`` files under ``home`` older than a minute (crash leftovers)."""
    if not home.is_dir():
        return 0
    cutoff = (now or time.time()) - TEMP_MAX_AGE_S
    old = [p for p in home.rglob(".tmp-*") if p.is_file() and p.stat().st_mtime < cutoff]
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    if old:
        log.info("%s %d leftover temporary files", "found" if dry_run else "removed", len(old))
    return len(old)


# -- space ---------------------------------------------------------------------------------


def _idle(conn: Conn) -> bool:
    return message_queries.pending_deliveries(conn) == 0


# -- one pass ------------------------------------------------------------------------------


async def collect_garbage(
    swarm: SwarmService, *, days: float | None = None, dry_run: bool = False
) -> GcReport:
    """Archive and delete what is older than ``days`` (default SWARM_KEEP_DAYS)."""
    service = swarm.store
    now = service.clock.now()
    cutoff = now - DAY_S * (service.settings.keep_days if days is None else days)
    home = service.settings.home
    report = GcReport(temp_files=sweep_temp_files(home, time.time(), dry_run))
    inbox = old_inbox_files(service.settings.inbox_dir, cutoff)
    if dry_run:
        report.events, report.messages, report.deliveries = await service.read(count_old, cutoff)
        report.inbox_files = len(inbox)
        report.audit = await service.read(count_old_audit, cutoff)
        return report
    out = home / "archive" / f"{datetime.fromtimestamp(now, UTC):%Y-%m}.jsonl.gz"
    report.events = await _batches(service, lambda c: archive_events(c, cutoff, out))
    report.messages, report.deliveries = await _message_batches(service, cutoff, out)
    report.inbox_files = await asyncio.to_thread(archive_inbox, inbox, out)
    report.audit = await _batches(service, lambda c: archive_audit(c, cutoff, out))
    if report.events or report.messages or report.inbox_files or report.audit:
        report.archive = out
    report.vacuumed = await service.read(_vacuum)
    return report


def _vacuum(conn: Conn) -> str:
    return conn.give_back_space(_idle(conn))


async def _batches(service: StoreAccess, step: Callable[[Conn], int]) -> int:
    total = 0
    while count := await service.update(step):
        total += count
        await asyncio.sleep(0)  # let the scheduler in between batches
    return total


async def _message_batches(service: StoreAccess, cutoff: float, out: Path) -> tuple[int, int]:
    messages = deliveries = 0
    while True:
        made = await service.update(archive_messages, cutoff, out)
        if not made[0]:
            return messages, deliveries
        messages, deliveries = messages + made[0], deliveries + made[1]
        await asyncio.sleep(0)


class RetentionTimer(PeriodicTimer):
    """The coordinator's retention as a timer of the one scheduler loop: a pass at start
    (leftovers of a crash go before anything else), then every ``every_s``; a failed pass
    is logged and tried at the next."""

    def __init__(self, service: SwarmService, every_s: float = EVERY_S) -> None:
        super().__init__(service.clock, every_s)
        self.service = service

    async def run(self) -> int:
        """One pass; how many rows and files it removed."""
        try:
            report = await collect_garbage(self.service)
        except Exception:  # never take the coordinator down; try again at the next pass
            log.exception("retention pass failed; next one in %g s", self.every_s)
            return 0
        log.info("retention: %s", report.summary(dry_run=False))
        return (
            report.events + report.messages + report.inbox_files + report.temp_files + report.audit
        )
