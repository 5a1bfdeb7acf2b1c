"""Fixtures: a real SQLite file under tmp_path (or a fresh database of a throwaway PostgreSQL
cluster, for modules marked ``both_databases``), a manual clock, the service."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer
from tests.pgcluster import Cluster, cluster, pg_bin_dir

BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of a module marked ``both_databases`` run once per store: SQLite, PostgreSQL
    (a test that chooses its own ``database_url`` keeps its choice)."""
    if "database_url" not in metafunc.fixturenames:
        return
    chosen = any(
        mark.args and mark.args[0] == "database_url"
        for mark in metafunc.definition.iter_markers("parametrize")
    )
    if not chosen and metafunc.definition.get_closest_marker("both_databases"):
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The checks and marks of the collected tests (after xdist's own)."""
    _refuse_unreached_both_databases(items)
    _mark_xdist_groups(config, items)


def _refuse_unreached_both_databases(items: list[pytest.Item]) -> None:
    """A module marked ``both_databases`` must have tests that run on PostgreSQL (that
    reach ``database_url``, not pinned to SQLite); else the mark says PostgreSQL while every
    test runs on SQLite: refuse the session."""
    marked: dict[str, bool] = {}
    for item in items:
        module = getattr(item, "module", None)
        if item.get_closest_marker("both_databases") is None or module is None:
            continue
        name = module.__name__
        callspec = getattr(item, "callspec", None)
        on_pg = callspec is not None and callspec.params.get("database_url") == "postgresql"
        marked[name] = marked.get(name, False) or on_pg
    silent = sorted(name for name, reaches in marked.items() if not reaches)
    if silent:
        raise pytest.UsageError(
            "marked both_databases, but no test runs on PostgreSQL (none reaches the "
            "database_url fixture unpinned): " + ", ".join(silent)
        )


def _mark_xdist_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` (make test), each test marked ``xdist_group(NAME)`` gets
    ``@NAME`` at the end of its node id, which is how pytest-xdist sends a group to one
    worker. xdist 3.8 does it by setting ``item._nodeid``, which pytest 9 no longer reads
    (its node id is ``item._id``): every group was spread over both workers, and each live
    CLI module started its CLI on each (twice its start, two CLIs at once). Done here when
    xdist's did not take."""
    if not config.getoption("loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        if names and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(sorted(names))}")


class PgServer:
    """The session's PostgreSQL cluster: a migrated template and a fresh database per test."""

    def __init__(self, server: Cluster) -> None:
        self.cluster = server
        self._made = 0

    def make_template(self) -> None:
        """``swarm_template``: an empty database at the latest schema, copied per test."""
        import psycopg

        from core.store.migrations import migrations
        from core.store.postgres.store import connect, migrate

        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE swarm_template")
        conn = connect(self.cluster.url("swarm_template"))
        try:
            migrate(conn, migrations("postgres"))
        finally:
            conn.raw.close()

    def fresh_database(self) -> str:
        """The URL of a new database copied from the template."""
        import psycopg

        self._made += 1
        name = f"swarm_test_{self._made}"
        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name} TEMPLATE swarm_template STRATEGY FILE_COPY")
        return self.cluster.url(name)

    def drop(self, url: str) -> None:
        """Drop the database of ``url`` (connections left open are ended)."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL cluster for the session (started on first use), in memory
    (``tests/pgcluster.py``: a test's fresh database is then a copy of 0.05 s)."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        skip_or_fail("PostgreSQL is not installed (apt-get install postgresql)", "SWARM_REQUIRE_PG")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        skip_or_fail(
            "psycopg is not installed (pip install 'swarm[postgresql]')", "SWARM_REQUIRE_PG"
        )
    assert bin_dir is not None
    with cluster(bin_dir, in_memory=True) as running:
        server = PgServer(running)
        server.make_template()
        yield server


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (the SQLite file in the home) or the URL of a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield None
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.fresh_database()
    yield url
    server.drop(url)


@contextlib.contextmanager
def _fresh_database(server: PgServer | None, migrated: Path, home: Path) -> Iterator[str | None]:
    if server is None:
        shutil.copy(migrated, home / "swarm.db")  # as the home's first open makes it
        yield None
        return
    url = server.fresh_database()
    try:
        yield url
    finally:
        server.drop(url)


@pytest.fixture
def example_database(
    request: pytest.FixtureRequest, database_url: str | None, migrated_sqlite: Path
) -> Callable[[Path], contextlib.AbstractContextManager[str | None]]:
    """For property tests: ``with example_database(home) as url:`` a database of its own per
    example: None on SQLite, the home's database file a copy of ``migrated_sqlite`` (an
    example's service opens it on the ``ManualClock`` it was made on), else a new PostgreSQL
    database from the template, dropped after the example."""
    server = request.getfixturevalue("pg_server") if database_url else None
    return lambda home: _fresh_database(server, migrated_sqlite, home)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh SWARM_HOME."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def settings(home: Path, database_url: str | None) -> Settings:
    """Settings on the bundled agents file with short leases and backoff.

    On PostgreSQL the database is also written to the user config file that ``cli_env``
    gives the CLI (``$XDG_CONFIG_HOME/swarm/config.toml``), as a user would: a ``swarm``
    subprocess on the same home reaches the same database.
    """
    if database_url:
        user_config = Path(f"{home}-no-user-config") / "swarm" / "config.toml"
        user_config.parent.mkdir(parents=True, exist_ok=True)
        user_config.write_text(f'database_url = "{database_url}"\n')
    return Settings.from_env(
        {
            "SWARM_HOME": str(home),
            "SWARM_LEASE": "60",
            "SWARM_RETRY_BACKOFF": "5",
            "SWARM_MAX_ATTEMPTS": "3",
            "SWARM_DATABASE_URL": database_url or "",
        }
    )


@pytest.fixture
def cli_home(home: Path, settings: Settings) -> Path:
    """``home`` for ``swarm`` subprocesses (``run_cli``): on PostgreSQL ``settings`` wrote
    the database to the user config file the CLI reads, so the CLI reaches it too."""
    return home


@pytest.fixture
def clock() -> ManualClock:
    """Time that moves only when the test says so."""
    return ManualClock()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once for the session (closed: no write-ahead log), which a
    test's service starts from: the same file a fresh home's first open makes, without its
    migrations each time (about 50 ms a test)."""
    import asyncio

    home = tmp_path_factory.mktemp("migrated")

    async def made() -> None:
        settings = Settings.from_env({"SWARM_HOME": str(home)})
        svc = await SwarmService.open(settings, ManualClock())  # as the ``clock`` fixture
        await svc.close()

    asyncio.run(made())
    return home / "swarm.db"


@pytest.fixture
async def service(
    settings: Settings, clock: ManualClock, migrated_sqlite: Path
) -> AsyncIterator[SwarmService]:
    """The service over a real database file."""
    fresh = not settings.database_url and not settings.db_path.exists()
    if fresh and clock.now() == ManualClock().now():  # as the template was made
        shutil.copy(migrated_sqlite, settings.db_path)
    svc = await SwarmService.open(settings, clock)
    yield svc
    await svc.close()


@pytest.fixture
def deliverer() -> RecordingDeliverer:
    """A deliverer that records what it was given."""
    return RecordingDeliverer()


DESKTOP_TOOLS = ("Xvfb", "xsel", "xdotool")


def skip_or_fail(reason: str, flag: str = "SWARM_REQUIRE_XVFB") -> None:
    """Skip a test that needs a missing tool, or fail it when ``flag`` is 1 (CI sets
    ``SWARM_REQUIRE_XVFB=1`` for the desktop, browser and shell tools and
    ``SWARM_REQUIRE_PG=1`` for PostgreSQL: it runs them all)."""
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1 makes this a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_xvfb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The one 1920x1080 Xvfb of the test session, shared by every desktop test.

    PyAutoGUI binds to the display it is first imported with, so all desktop tests of one
    session must use the same X server.
    """
    missing = [tool for tool in DESKTOP_TOOLS if shutil.which(tool) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed (apt-get install xvfb xsel xdotool)")
    from tests.helpers import start_xvfb

    server = start_xvfb(tmp_path_factory.mktemp("xvfb"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def apps_desktop(tmp_path_factory: pytest.TempPathFactory, shared_xvfb: Any) -> Iterator[Any]:
    """The session's mixed desktop on the shared Xvfb, no window manager (tests/apps/desktop.py):
    Agent-1, 2 Chromium, 3, 4 xterm, 5 Tk, 6 Tk with a slow paste."""
    from tests.apps.desktop import SESSION_SPEC, SLOW_PASTE_MS, MixedDesktop, missing_reason

    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    workdir = tmp_path_factory.mktemp("apps-desktop")
    desktop = MixedDesktop(SESSION_SPEC, workdir, slow_paste_ms=SLOW_PASTE_MS, server=shared_xvfb)
    desktop.start()
    try:
        yield desktop
    finally:
        desktop.stop()


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Any]:
    """A private tmux server on a socket in the test's folder (tests/tmux_server.py)."""
    from tests.tmux_server import Tmux

    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (apt-get install tmux)")
    server = Tmux(tmp_path / "tmux.sock")
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """The test process's one headless Chromium (Debian's, driven by Playwright: nothing is
    downloaded), one persistent context with a fresh profile folder, for every module that
    asks (the async API on the session's loop: the sync one would keep a loop running under
    every later test)."""
    from tests.web.live import CHROMIUM, CHROMIUM_ARGS

    if shutil.which(CHROMIUM) is None:
        skip_or_fail("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    profile = tempfile.mkdtemp(prefix="swarm-chromium-")
    try:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1600, "height": 900},
            )
            try:
                yield context
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
