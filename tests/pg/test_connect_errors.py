"""A PostgreSQL password in any form libpq takes never reaches the output, and ``swarm run``
gives up at once on a refusal for good but waits through a server restart.

A cluster of this module's own requires a password (SCRAM) of one role, so that a wrong
password is refused for real, and is stopped and started again by the restart test.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.helpers import run_cli
from tests.pg.procs import start
from tests.pgcluster import Cluster, cluster, free_port, pg_bin_dir, server_start, server_stop

ROLE = "swarm_pw"
PASSWORD = "Hunter2 s/q&x'y"  # a space, '/', '&' and a quote: percent-encoded in a URL
ENCODED = quote(PASSWORD, safe="")
WRONG = "Wrong-Pw-77"
SECRETS = (PASSWORD, ENCODED, "Hunter2", WRONG)


@pytest.fixture(scope="module")
def pw_cluster() -> Iterator[tuple[Path, Cluster]]:
    """A cluster where ``swarm_pw`` must give its password over TCP (database ``swarm``)."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed")
    import psycopg

    with cluster(bin_dir) as running:
        with psycopg.connect(running.url(), autocommit=True) as admin:
            admin.execute(
                f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD.replace(chr(39), chr(39) * 2)}'"
            )
            admin.execute(f"CREATE DATABASE swarm OWNER {ROLE}")
        hba = running.folder / "data" / "pg_hba.conf"
        hba.write_text(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n{hba.read_text()}")
        with psycopg.connect(running.url(), autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")
        _until_password_required(running)
        yield bin_dir, running


def _until_password_required(running: Cluster) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(_url(running, "?user=" + ROLE), connect_timeout=5).close()
        except psycopg.OperationalError:
            return
        assert time.monotonic() < deadline, "pg_hba.conf was not reloaded"
        time.sleep(0.05)


def _url(running: Cluster, query: str, db: str = "swarm", host: str = "127.0.0.1") -> str:
    return f"postgresql://{host}:{running.port}/{db}{query}"


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def _forms(running: Cluster) -> dict[str, str]:
    """The right password in each form, and what the output must show instead."""
    return {
        f"postgresql://{ROLE}:{ENCODED}@127.0.0.1:{running.port}/swarm": f"postgresql://[redacted]@127.0.0.1:{running.port}/swarm",
        _url(running, f"?user={ROLE}&password={ENCODED}"): _url(
            running, f"?user={ROLE}&password=[redacted]"
        ),
        _url(running, f"?password={ENCODED}&user={ROLE}&sslmode=disable"): _url(
            running, f"?password=[redacted]&user={ROLE}&sslmode=disable"
        ),
        # repeated, the name percent-encoded: libpq takes the last one
        _url(running, f"?user={ROLE}&password={WRONG}&pass%77ord={ENCODED}"): _url(
            running, f"?user={ROLE}&password=[redacted]&pass%77ord=[redacted]"
        ),
    }


@pytest.mark.timeout(240)
async def test_config_show_doctor_and_errors_never_print_the_password(
    tmp_path: Path, pw_cluster: tuple[Path, Cluster]
) -> None:
    _, running = pw_cluster
    for index, (url, shown) in enumerate(_forms(running).items()):
        home, env = tmp_path / f"home{index}", {"SWARM_DATABASE_URL": url}
        # first: it creates the schema (the doctor reads it)
        missing = await asyncio.to_thread(run_cli, home, "task", "show", "T-99", env=env)
        show, as_json, doctor = await asyncio.gather(
            *(
                asyncio.to_thread(run_cli, home, *args, env=env, timeout=60)
                for args in (
                    ("config", "show"),
                    ("config", "show", "--json"),
                    ("doctor", "--timeout", "1"),
                )
            )
        )
        for result in (show, as_json, doctor, missing):
            _clean(result.out + result.err)
        assert re.search(rf"SWARM_DATABASE_URL +{re.escape(shown)}  \(env\)", show.out), show.out
        rows = {r["name"]: r["value"] for r in json.loads(as_json.out)["settings"]}
        assert rows["SWARM_DATABASE_URL"] == shown
        assert f"ok       database     {shown} (reachable, " in doctor.out, doctor.out
        assert missing.code == 2
        assert missing.err == f"swarm: error: unknown task T-99 (in {shown})\n"


@pytest.mark.timeout(120)
def test_a_key_value_connection_string_is_refused_without_its_password(
    tmp_path: Path, pw_cluster: tuple[Path, Cluster]
) -> None:
    _, running = pw_cluster
    quoted = PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
    dsn = f"host=127.0.0.1 port={running.port} user={ROLE} password='{quoted}' dbname=swarm"
    env = {"SWARM_DATABASE_URL": dsn}
    show = run_cli(tmp_path / "home", "config", "show", env=env)
    listed = run_cli(tmp_path / "home", "task", "list", env=env)
    for result in (show, listed):
        _clean(result.out + result.err)
    shown = f"host=127.0.0.1 port={running.port} user={ROLE} password=[redacted] dbname=swarm"
    assert re.search(rf"SWARM_DATABASE_URL +{re.escape(shown)}  \(env\)", show.out), show.out
    assert listed.code == 2
    assert listed.err.startswith(
        "swarm: error: SWARM_DATABASE_URL must be a postgresql:// URL, got 'host=127.0.0.1 port="
    )


def _resolver_says_unknown(host: str) -> bool:
    """True when this machine's resolver answers "no such name" for ``host`` (not "cannot
    ask": without a reachable DNS server the failure is temporary, and retried)."""
    try:
        socket.getaddrinfo(host, 5432)
    except socket.gaierror as exc:
        return exc.errno == socket.EAI_NONAME
    return False


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "case", ["wrong password", "no password", "missing database", "missing role", "unknown host"]
)
def test_swarm_run_gives_up_at_once_on_a_refusal_for_good(
    tmp_path: Path, pw_cluster: tuple[Path, Cluster], case: str
) -> None:
    _, running = pw_cluster
    url, reason = {
        "wrong password": (
            _url(running, f"?user={ROLE}&password={WRONG}"),
            f'password authentication failed for user "{ROLE}"',
        ),
        "no password": (_url(running, f"?user={ROLE}"), "no password supplied"),
        "missing database": (
            _url(running, f"?user={ROLE}&password={ENCODED}", db="nodb"),
            'database "nodb" does not exist',
        ),
        "missing role": (
            _url(running, f"?user=nobody&password={ENCODED}"),
            'role "nobody" does not exist',
        ),
        "unknown host": (
            _url(
                running, f"?user={ROLE}&password={ENCODED}", host="no-such-host.swarm-test.invalid"
            ),
            "failed to resolve host",
        ),
    }[case]
    if case == "unknown host" and not _resolver_says_unknown("no-such-host.swarm-test.invalid"):
        pytest.skip("this machine's resolver cannot say that a name does not exist")
    env = {"SWARM_DATABASE_URL": url, "SWARM_FAILOVER": "1", "SWARM_WEB_PORT": str(free_port())}
    result = run_cli(tmp_path / "home", "run", "--no-discord", env=env, timeout=60)
    _clean(result.out + result.err)
    assert result.code == 2, result.err
    [line] = result.err.splitlines()  # one line, no standby, no retries
    assert line.startswith("swarm: error: cannot connect to PostgreSQL at postgresql://")
    assert reason in line, line


@pytest.mark.timeout(180)
async def test_swarm_run_waits_through_a_server_restart_with_backoff(
    tmp_path: Path, pw_cluster: tuple[Path, Cluster]
) -> None:
    bin_dir, running = pw_cluster
    url = _url(running, f"?user={ROLE}&password={ENCODED}")
    env = {
        "SWARM_HOME": str(tmp_path / "home"),
        "SWARM_DATABASE_URL": url,
        "SWARM_FAILOVER": "1",
    }  # tries 0.2 s apart at first, doubling up to 1 s
    server_stop(bin_dir, running)
    proc = None
    try:
        proc = start("run", tmp_path, env, "run", "--no-discord")
        proc.wait_for("(attempt 4)")
        assert proc.popen.poll() is None  # refused while the server is down: waits
        await asyncio.to_thread(server_start, bin_dir, running)
        proc.wait_for("coordinator started")
        proc.stop()
        assert proc.popen.returncode == 0
    finally:
        if proc is not None:
            proc.stop()
        if not (running.folder / "data" / "postmaster.pid").exists():
            server_start(bin_dir, running)
    text = proc.text()
    _clean(text)
    tries = [line for line in text.splitlines() if "standby:" in line]
    assert len(tries) >= 4
    shown = _url(running, f"?user={ROLE}&password=[redacted]")
    for attempt, (line, delay) in enumerate(
        zip(tries, ("0.2", "0.4", "0.8", "1.0"), strict=False), 1
    ):
        assert f"standby: cannot connect to PostgreSQL at {shown}: " in line, line
        assert "Connection refused" in line, line
        assert line.endswith(f"; trying again in {delay} s (attempt {attempt})"), line
    assert all(line.endswith(f"s (attempt {n})") for n, line in enumerate(tries, 1))
