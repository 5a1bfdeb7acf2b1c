"""aiosqlite's internals that core/store/sqlite.py runs whole transactions through, checked at
start-up."""

from __future__ import annotations

import sqlite3
import threading
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from packaging.specifiers import SpecifierSet

from core.errors import ConfigError
from core.store.sqlite import TESTED_AIOSQLITE, Database, check_sqlite_version, check_thread_access
from tests.helpers import ROOT


async def _opened(cls: type[aiosqlite.Connection], path: Path) -> aiosqlite.Connection:
    """A real aiosqlite connection of class ``cls`` on ``path`` (as aiosqlite.connect does)."""
    return await cls(lambda: sqlite3.connect(path, check_same_thread=False), 64)


def test_pyproject_pins_the_tested_range_and_it_is_installed() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [d for d in project["dependencies"] if d.startswith("aiosqlite")]
    assert pins == [f"aiosqlite{TESTED_AIOSQLITE}"]
    assert version("aiosqlite") in SpecifierSet(TESTED_AIOSQLITE)


async def test_installed_aiosqlite_passes_and_runs_work_in_its_thread(tmp_path: Path) -> None:
    db_path = tmp_path / "swarm.db"
    conn = await _opened(aiosqlite.Connection, db_path)
    try:
        await check_thread_access(conn)
    finally:
        await conn.close()
    db = await Database.open(db_path)
    try:
        thread = await db.read(lambda _conn: threading.get_ident())
        assert thread != threading.get_ident()
    finally:
        await db.close()


class _RunsOnTheLoop(aiosqlite.Connection):
    """As if a release ran ``_execute``'s function on the caller's thread."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)


class _Synchronous(aiosqlite.Connection):
    """As if a release made ``_execute`` a plain method."""

    def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return None


class _RenamedConn(aiosqlite.Connection):
    """As if a release renamed the ``_conn`` property."""

    @property
    def _conn(self) -> sqlite3.Connection:
        raise AttributeError("'Connection' object has no attribute '_conn'")


@pytest.mark.parametrize(
    ("cls", "problem"),
    [
        (_RunsOnTheLoop, "no longer runs in the connection's thread"),
        (_Synchronous, "TypeError"),
        (_RenamedConn, "AttributeError"),
    ],
)
async def test_moved_internals_fail_with_the_remedy(
    tmp_path: Path, cls: type[aiosqlite.Connection], problem: str
) -> None:
    conn = await _opened(cls, tmp_path / "swarm.db")
    try:
        with pytest.raises(ConfigError) as caught:
            await check_thread_access(conn)
    finally:
        conn.__class__ = aiosqlite.Connection  # the real internals again, to close it
        await conn.close()
    message = str(caught.value)
    assert message.startswith(f"aiosqlite {version('aiosqlite')} changed Connection._execute")
    assert problem in message
    assert message.endswith(f"pip install 'aiosqlite{TESTED_AIOSQLITE}'")
    assert "\n" not in message


def test_an_sqlite_too_old_for_the_sql_is_refused_with_the_remedy() -> None:
    check_sqlite_version()  # this machine's
    with pytest.raises(ConfigError, match=r"SQLite 3\.31\.1 is too old: swarm needs 3\.35"):
        check_sqlite_version((3, 31, 1))
