"""Swarm's state is its owner's alone under the usual umask 022 (issue 23, item 13): the home
and every folder made in it 0700, the database (and its -wal, -shm), inbox prompts, logs,
archives, frames, the lock, the heartbeat and the pause flag 0600. Checked with os.stat after
a real coordinator ran in this process, on SQLite and PostgreSQL: on PostgreSQL no database
file makes the home, the coordinator's own files do (the SQLite file, its -wal, -shm and the
home's lock are checked on SQLite only: on PostgreSQL none of them exist, the coordinator
lock is the database's). Swarm writes no file that holds a database URL (the user's config
file is the user's own; hook commands never carry one), so none is checked here."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.inbox.files import InboxDeliverer
from core.agents._frames import frame_path, save_frame, thumbnail_size
from core.coordinator.home_lock import HEARTBEAT_NAME, LOCK_NAME
from core.delivery._killswitch import KillSwitch
from core.logs.setup import configure_logging
from core.models import TaskSpec
from core.privacy.files import make_dirs
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import headless_run


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common default umask (files 0644, folders 0755 unless asked otherwise)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """``SWARM_LOG_FILE`` set up as the entry points do; the handler is removed after."""
    path = tmp_path / "swarm.log"
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    configure_logging({"SWARM_LOG_FILE": str(path), "SWARM_LOG_MAX_BYTES": "10000"})
    try:
        yield path
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)


@pytest.mark.both_databases
async def test_the_home_and_its_files_are_private_under_umask_022(
    tmp_path: Path, umask_022: None, log_file: Path, database_url: str | None
) -> None:
    home = tmp_path / "state" / "home"  # neither folder exists yet
    settings = Settings.from_env(
        {"SWARM_HOME": str(home), "SWARM_DATABASE_URL": database_url or ""}
    )
    service = await SwarmService.open(settings)  # on the real clock
    try:
        old = await service.tasks.create(TaskSpec("long ago"), "cli")
        await service.tasks.cancel(old.ref, "cli")
        await service.store.update(lambda c: c.execute("UPDATE events SET ts = ts - 100 * 86400"))
        await service.store.update(lambda c: c.execute("UPDATE tasks SET finished_at = 1"))
        await service.tasks.create(TaskSpec("fresh", agent="Agent-1"), "cli")
        inbox = home / "inbox" / "Agent-1"
        async with headless_run(_inbox_builder(settings)) as runner:
            for _ in range(1000):
                if (
                    list(inbox.glob("*.txt"))
                    and list((home / "archive").glob("*.gz"))
                    and (home / HEARTBEAT_NAME).exists()
                ):
                    break
                assert not runner.done()
                await asyncio.sleep(0.02)
            while_open = [home / LOCK_NAME, home / "swarm.db-wal", home / "swarm.db-shm"]
            while_open = [] if database_url else while_open  # PostgreSQL: its own lock
            assert {str(f): oct(mode(f)) for f in while_open} == {
                str(f): "0o600" for f in while_open
            }  # SQLite removes the WAL at the close
        agent = service.agents["Agent-1"]
        assert agent.watch is not None
        width, height = thumbnail_size(agent.watch[2], agent.watch[3])
        assert save_frame(home, agent, bytes(width * height)) is not None
        KillSwitch(home).engage("checking modes")
    finally:
        await service.close()
    assert_private(tmp_path, home, log_file, sqlite=not database_url)
    if database_url:
        assert not (home / "swarm.db").exists()


def assert_private(tmp_path: Path, home: Path, log_file: Path, sqlite: bool = True) -> None:
    """Folders 0700 and files 0600 after the run (the log rotated once more first)."""
    inbox = home / "inbox" / "Agent-1"
    logging.getLogger("swarm.test").warning("a line for the log file")
    handler = next(
        h
        for h in logging.getLogger().handlers
        if getattr(h, "baseFilename", None) == str(log_file.resolve())
    )
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    handler.doRollover()  # the rotated file and the new one
    logging.getLogger("swarm.test").warning("another line")
    folders = [
        tmp_path / "state",
        home,
        home / "inbox",
        inbox,
        home / "archive",
        frame_path(home, "Agent-1").parent,
    ]
    files = [
        *([home / "swarm.db", home / LOCK_NAME] if sqlite else []),
        *inbox.glob("*.txt"),
        *(home / "archive").glob("*.gz"),
        frame_path(home, "Agent-1"),
        home / HEARTBEAT_NAME,
        home / "PAUSED",
        log_file,
        log_file.with_name(log_file.name + ".1"),
    ]
    assert len(files) == 7 + 2 * sqlite and all(f.exists() for f in files), [f.name for f in files]
    assert {str(f): oct(mode(f)) for f in folders} == {str(f): "0o700" for f in folders}
    assert {str(f): oct(mode(f)) for f in files} == {str(f): "0o600" for f in files}


def _inbox_builder(settings: Settings) -> object:
    """The composition root with every agent on inbox files."""
    from bot.app import Builder
    from bot.config import Config
    from tests.watch.conftest import FakeFrames

    return Builder(
        Config({}, core=settings),
        deliverer=lambda _: InboxDeliverer(settings.home / "inbox"),
        frames=FakeFrames(),
    )


def test_make_dirs_keeps_existing_folders_and_refuses_a_file(
    tmp_path: Path, umask_022: None
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    make_dirs(mine / "a" / "b")
    assert (mode(mine), mode(mine / "a"), mode(mine / "a" / "b")) == (0o755, 0o700, 0o700)
    make_dirs(mine / "a" / "b")  # exists: nothing to do
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError):
        make_dirs(tmp_path / "file")
    with pytest.raises(OSError):
        make_dirs(tmp_path / "file" / "below")


def test_a_saved_workflow_makes_the_home_private(tmp_path: Path, umask_022: None) -> None:
    """``swarm plan --save`` may be the first thing written in a new SWARM_HOME."""
    from core.workflows import Workflow
    from core.workflows.writer import save

    home = tmp_path / "home"
    saved = save(Workflow("mine", "", "mine.toml").step("a", "A").check(), home / "workflows")
    assert (mode(home), mode(saved.parent)) == (0o700, 0o700)
