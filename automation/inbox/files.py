"""The inbox fallback: each message becomes a file the agent can read.

Layout: ``<inbox_dir>/<agent id>/<UTC time>-d<delivery id>-<n>.txt`` holding exactly the
message text. Names sort by time; a file is written under a temporary name and linked to its
final name, so readers never see half a file and nothing is ever overwritten.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

from automation.failures import Failure
from core.models import Agent, Receipt
from core.privacy.files import make_dirs, open_file
from core.protocols import Clock, Parcel, SystemClock

log = logging.getLogger(__name__)

METHOD = "inbox"
MAX_SAME_NAME = 1000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def agent_folder(inbox_dir: Path, agent_id: str) -> Path:
    """The inbox folder of one agent (the id made safe as a folder name)."""
    name = _UNSAFE.sub("_", agent_id)
    if name.startswith("."):
        name = "_" + name
    return inbox_dir / name


INBOX_TIME_LIMIT_S = 30.0  # a file write that takes longer is failed by the scheduler


class InboxDeliverer:
    """A Deliverer that writes one file per message into the agent's inbox folder."""

    def __init__(self, inbox_dir: Path, clock: Clock | None = None) -> None:
        self.inbox_dir = inbox_dir
        self._clock = clock or SystemClock()

    @property
    def time_limit_s(self) -> float:
        """A file write that takes longer than this is failed by the scheduler."""
        return INBOX_TIME_LIMIT_S

    def close(self) -> None:
        """Nothing to release: each delivery opens and closes its own file."""

    def parallel(self, agent: Agent) -> bool:
        """Every agent's files are written beside the others'."""
        return True

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Write the parcel's file (in a worker thread); never raises for a failed write."""
        try:
            path = await asyncio.to_thread(self.write, parcel)
        except OSError as exc:
            log.warning(
                "inbox delivery %s to %s failed: %s", parcel.delivery_id, parcel.agent.id, exc
            )
            return Receipt.failed(Failure.INBOX_WRITE_FAILED, METHOD)
        log.info("delivery %s to %s: written to %s", parcel.delivery_id, parcel.agent.id, path)
        return Receipt.delivered(METHOD)

    def write(self, parcel: Parcel) -> Path:
        """Write the parcel's file now; its path. Raises OSError when the disk refuses."""
        folder = agent_folder(self.inbox_dir, parcel.agent.id)
        make_dirs(folder)
        stamp = datetime.fromtimestamp(self._clock.now(), UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        stem = f"{stamp}-d{parcel.delivery_id:09d}"
        temp = folder / f".tmp-{uuid.uuid4().hex}"
        _write_new(temp, parcel.text.encode("utf-8"))
        try:
            return _link_free_name(temp, folder, stem, parcel.text)
        finally:
            temp.unlink(missing_ok=True)


def _write_new(path: Path, data: bytes) -> None:
    fd = open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _link_free_name(temp: Path, folder: Path, stem: str, text: str) -> Path:
    """Give ``temp`` the first free name ``stem-NNN.txt`` (never replacing a file)."""
    for n in range(MAX_SAME_NAME):
        final = folder / f"{stem}-{n:03d}.txt"
        try:
            os.link(temp, final)
        except FileExistsError:
            continue
        except OSError:  # no hard links on this file system: create the name exclusively
            try:
                _write_new(final, text.encode("utf-8"))
            except FileExistsError:
                continue
        return final
    raise FileExistsError(f"{MAX_SAME_NAME} files named {stem}-*.txt already exist in {folder}")
