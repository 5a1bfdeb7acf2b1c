"""Every way the CLI used to crash ends in one line ``swarm: error: ...``, exit 2, nothing
written: absurd numbers, bytes that are not UTF-8, a damaged database, a home that cannot be
used, a full disk; and a closed stdout ends quietly."""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, CliResult, run_cli

pytestmark = pytest.mark.timeout(60)


def _digest(home: Path) -> str:
    """The database's content, table by table (files may change on open; rows must not)."""
    path = home / "swarm.db"
    if not path.exists():
        return "-"
    found = hashlib.sha256()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        for table in tables:
            found.update(repr(conn.execute(f"SELECT * FROM {table}").fetchall()).encode())
    return found.hexdigest()


def _one_line_error(result: CliResult, text: str) -> None:
    assert result.code == 2, result
    assert result.out == ""
    assert result.err.startswith("swarm: error: ") and result.err.count("\n") == 1, result.err
    assert text in result.err and "Traceback" not in result.err


@pytest.fixture
def filled(home: Path) -> Path:
    assert run_cli(home, "task", "add", "first").code == 0
    return home


@pytest.mark.parametrize(
    "args, text",
    [
        (("task", "show", "99999999999999999999"), "unknown task '99999999999999999999'"),
        (("task", "done", "T-99999999999999999999"), "task ids look like T-12"),
        (("task", "list", "--limit", "99999999999999999999"), "whole number from 0 to 1,000,000"),
        (("task", "list", "--limit", "-1"), "argument --limit: expected a whole number"),
        (("events", "--limit", "-5"), "argument --limit"),
        (("task", "depend", "T-1", "99999999999999999999"), "task ids look like T-12"),
        (("task", "show", "٣"), "unknown task"),  # a digit, but not an ASCII one
        (("task", "frobnicate"), "invalid choice: 'frobnicate'"),
        (("task", "add", "x", "--budget", "0"), "a budget is a number of dollars above 0"),
        (("campaign", "create", "c", "T-1", "--budget", "nan"), "a budget is a number of dol"),
        (("campaign", "create", "c", "T-1", "--budget", "-1"), "a budget is a number of dol"),
        (("campaign", "budget", "C-9", "3"), "unknown campaign C-9"),
        (("doctor", "--timeout", "-1"), "argument --timeout: expected seconds, more than 0"),
        (("github", "status", "--timeout", "nan"), "argument --timeout: expected seconds"),
        (("desktop", "up", "--timeout", "inf"), "argument --timeout: expected seconds"),
        (("agents", "calibrate", "--countdown", "-3"), "expected seconds, 0 or more"),
        (
            (
                "workflow",
                "run",
                "release",
                "--var",
                "version=1",
                "--var",
                "modules=a",
                "--budget",
                "inf",
            ),
            "a budget is a number of dollars above 0",
        ),
    ],
)
def test_absurd_ids_and_limits(filled: Path, args: tuple[str, ...], text: str) -> None:
    before = _digest(filled)
    _one_line_error(run_cli(filled, *args), text)
    assert _digest(filled) == before


@pytest.mark.parametrize(
    "env, text",
    [
        ({"SWARM_BUSY_TIMEOUT": "inf"}, "SWARM_BUSY_TIMEOUT must be a number of seconds (finite)"),
        ({"SWARM_LEASE": "nan"}, "SWARM_LEASE must be a number of seconds (finite)"),
        ({"SWARM_RETRY_BACKOFF": "1e400"}, "SWARM_RETRY_BACKOFF must be a number of seconds"),
        (
            {"SWARM_MAX_ATTEMPTS": "99999999999999999999"},
            "SWARM_MAX_ATTEMPTS must be between 1 and 100",
        ),
        ({"SWARM_MAX_TEXT": "0"}, "SWARM_MAX_TEXT must be between 1 and 100000, got '0'"),
        ({"SWARM_LEASE": "-3"}, "SWARM_LEASE must be more than 0 seconds"),
        ({"SWARM_LEASE": "1e9"}, "SWARM_LEASE must be between 0 and 604800"),
    ],
)
def test_absurd_settings(filled: Path, env: dict[str, str], text: str) -> None:
    before = _digest(filled)
    _one_line_error(run_cli(filled, "task", "add", "second", env=env), text)
    assert _digest(filled) == before


def _run_raw(
    home: Path,
    *args: str | bytes,
    program: list[str] | None = None,
    env_extra: dict[str, str] | None = None,
    **kwargs: object,
) -> CliResult:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env |= {"SWARM_HOME": str(home), **(env_extra or {})}
    command = program or [sys.executable, "-m", "bot.cli.main"]
    proc = subprocess.run(
        [*command, *args], env=env, cwd=ROOT, capture_output=True, timeout=30, **kwargs
    )  # type: ignore[call-overload]
    return CliResult(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def test_arguments_that_are_not_utf8(filled: Path) -> None:
    before = _digest(filled)
    _one_line_error(
        _run_raw(filled, "task", "add", b"caf\xe9 \xff"), "argument 3 is not valid UTF-8 text"
    )
    _one_line_error(_run_raw(filled, "send", "Agent-1", b"\xc3\x28"), "argument 3 is not valid")
    assert _digest(filled) == before


def test_damaged_database(filled: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated"
    shutil.copytree(filled, truncated)
    for suffix in ("-wal", "-shm"):
        (truncated / f"swarm.db{suffix}").unlink(missing_ok=True)
    data = (filled / "swarm.db").read_bytes()
    (truncated / "swarm.db").write_bytes(data[: len(data) // 3])
    _one_line_error(run_cli(truncated, "task", "list"), "the database file is damaged")
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "swarm.db").write_bytes(os.urandom(8192))
    before = (garbage / "swarm.db").read_bytes()
    _one_line_error(run_cli(garbage, "task", "add", "x"), "not a swarm database")
    assert (garbage / "swarm.db").read_bytes() == before


def test_home_that_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "not-a-folder"
    home.write_text("hello")
    _one_line_error(
        run_cli(home, "task", "add", "x"), f"cannot use {home} as the swarm's home (SWARM_HOME)"
    )
    assert home.read_text() == "hello"


def test_read_only_home(filled: Path) -> None:
    before = _digest(filled)
    if os.geteuid() == 0:  # root ignores file modes: make it a read-only file system
        if shutil.which("unshare") is None:
            pytest.skip("running as root without unshare: cannot make a read-only home")
        script = (
            f'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && '
            f'exec "{sys.executable}" -m bot.cli.main task add x'
        )
        result = _run_raw(
            filled,
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            str(filled),
            program=["unshare"],
        )
    else:
        filled.chmod(0o555)
        try:
            result = _run_raw(filled, "task", "add", "x")
        finally:
            filled.chmod(0o755)
    _one_line_error(result, "SWARM_HOME is read-only")
    assert _digest(filled) == before


def _small_disk() -> None:
    """In the child: no file may grow past 64 kB (EFBIG, as on a full disk)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))


def test_full_disk_writes_nothing(filled: Path) -> None:
    before = _digest(filled)
    big = "x" * 90_000  # one transaction larger than the space left
    result = _run_raw(
        filled,
        "task",
        "add",
        "big",
        "--details",
        big,
        preexec_fn=_small_disk,
        env_extra={"SWARM_MAX_TEXT": "100000"},
    )
    _one_line_error(result, "is the disk full?")
    assert _digest(filled) == before
    after = run_cli(filled, "task", "add", "small")
    assert after.code == 0 and after.out.startswith("T-2 "), after  # nothing half-written


def test_closed_stdout_ends_quietly(filled: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env["SWARM_HOME"] = str(filled)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "agents", "--json"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -1` having read its line and gone
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=30) == 141
    assert err == b""
