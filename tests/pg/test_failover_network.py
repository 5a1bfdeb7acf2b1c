"""The scheduler holder's machine dies (its link is cut, no socket is closed): the standby
takes over, and the old holder stops scheduling while cut off and is a standby when it is
back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from core.settings import Settings
from tests.conftest import skip_or_fail
from tests.helpers import write_agents
from tests.netcut import Link, namespace_link, unavailable
from tests.pg.procs import Proc, start
from tests.pg.test_failover import AGENTS, _add, _delivered, _env, _inbox_files
from tests.pgcluster import Cluster, cluster, pg_bin_dir

FAILOVER_S = 2.0  # _env's SWARM_FAILOVER


@pytest.fixture
def cut_off_machine() -> Iterator[tuple[Link, Cluster]]:
    """A network namespace (the holder's "machine") joined by a veth pair to a PostgreSQL
    cluster that listens on the host's end; both go away afterwards, whatever happens."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        skip_or_fail("PostgreSQL is not installed (apt-get install postgresql)", "SWARM_REQUIRE_PG")
    assert bin_dir is not None
    with (
        namespace_link("swtest") as link,
        cluster(bin_dir, also_listen=link.host_ip, trust=link.network) as server,
    ):
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE netdeath")
        yield link, server


@pytest.mark.timeout(90)
async def test_the_standby_takes_over_when_the_holders_link_is_cut_and_it_comes_back_as_standby(
    tmp_path: Path, cut_off_machine: tuple[Link, Cluster]
) -> None:
    link, server = cut_off_machine
    on_host = server.url("netdeath")
    over_veth = on_host.replace("127.0.0.1", link.host_ip)
    config = write_agents(tmp_path / "agents.toml", AGENTS)
    settings = Settings.from_env(_env(tmp_path, "cli", on_host, config))
    holder = start(
        "holder",
        tmp_path,
        _env(tmp_path, "a", over_veth, config),
        "run",
        "--no-discord",
        prefix=link.inside(),
    )
    procs: list[Proc] = [holder]
    try:
        holder.wait_for("coordinator started")
        standby = start(
            "standby", tmp_path, _env(tmp_path, "b", on_host, config), "run", "--no-discord"
        )
        procs.append(standby)
        standby.wait_for("is the scheduler")
        await _add(settings, [f"before {i}" for i in range(2)])
        await _delivered(settings, 2)

        link.cut()
        await _add(settings, [f"during {i}" for i in range(3)])
        standby.wait_for("took over as the scheduler", timeout_s=4 * FAILOVER_S)
        await _delivered(settings, 5)
        # cut off, it cannot know whether it still holds the lock: it stops being the
        # scheduler (its store fenced) and waits as a standby
        holder.wait_for("back to standby", timeout_s=20)
        link.restore()
        holder.wait_for("is the scheduler", timeout_s=30)  # the new holder's name, as standby
        await _add(settings, [f"after {i}" for i in range(3)])  # 8 tasks, one per agent
        await _delivered(settings, 8)
        assert holder.popen.poll() is None, holder.text()
    finally:
        link.restore()
        for proc in procs:
            proc.stop()
    assert "lost the scheduler lock" in holder.text()
    assert holder.text().count("took over as the scheduler") == 0, holder.text()
    texts = _inbox_files(tmp_path / "a", tmp_path / "b")
    titles = [f"before {i}" for i in range(2)] + [
        f"{when} {i}" for when in ("during", "after") for i in range(3)
    ]
    for title in titles:
        assert sum(title in t for t in texts) == 1, title
    assert not any(title in t for title in titles[2:] for t in _inbox_files(tmp_path / "a"))
