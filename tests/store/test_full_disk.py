"""On a full disk the commands that only read still work (issue 40, item 17): a real full
file system (a 2 MB tmpfs filled until ENOSPC, mounted in a mount namespace of the test's own,
``tests/full_disk_child.py``; root and ``unshare`` needed), with no process holding the
database (no ``-shm`` can be made: read without writing, saying so in one line) and beside a
coordinator's open connection (its commit still in the WAL); a write still fails in one line;
a log file that cannot be written is one line on stderr, not a traceback per log line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, CliResult, cli_env, run_cli

pytestmark = pytest.mark.timeout(180)

READS = [
    ["status"],
    ["task", "list"],
    ["task", "show", "T-1"],
    ["events", "--limit", "5"],
    ["inbox"],
    ["reservations"],
    ["conflicts", "src/x.py"],
    ["agents"],
]
WRITES = [["task", "add", "Late"], ["agents", "pause", "Agent-1"]]
WARNING = "swarm: warning: cannot write the database ("
UNSHARE = ["unshare", "-m", "--propagation", "private"]  # mounts seen by the child only


@pytest.fixture
def filled(home: Path) -> Path:
    """A home with a task and a reservation, no process holding it."""
    assert run_cli(home, "task", "add", "Parse the agents file").code == 0
    assert run_cli(home, "reserve", "src/**", "--ttl", "3600", agent="Agent-2").code == 0
    return home


def on_full_disk(
    home: Path, tmp_path: Path, commands: list[list[str]], **spec: Any
) -> list[CliResult]:
    """Each of ``commands`` run on a copy of ``home`` on a full file system."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a full disk here is a tmpfs mounted in a mount namespace: root and unshare")
    mount = tmp_path / "full"
    mount.mkdir()
    env = cli_env(home)
    spec |= {"mount": str(mount), "home": str(home), "env": env, "commands": commands}
    proc = subprocess.run(
        [*UNSHARE, sys.executable, "-m", "tests.full_disk_child", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert proc.returncode == 0, proc.stderr
    return [CliResult(r["code"], r["out"], r["err"]) for r in json.loads(proc.stdout)]


def test_reads_work_on_a_full_disk_and_say_so_in_one_line(filled: Path, tmp_path: Path) -> None:
    """No process holds the database: a reader cannot make its ``-shm`` (before: every read
    command failed, ``could not write the database (disk I/O error: is the disk full?)``)."""
    freed = [["task", "add", "Late"], ["task", "list"]]
    results = on_full_disk(filled, tmp_path, [*READS, *WRITES], after_freeing=freed)
    reads, writes = results[: len(READS)], results[len(READS) : -len(freed)]
    late, listed_later = results[-len(freed) :]
    for args, result in zip(READS, reads, strict=True):
        assert result.code == 0, (args, result)
        assert result.err.startswith(WARNING) and result.err.count("\n") == 1, (args, result)
        assert "is the disk full?" in result.err and "read-only" in result.err
    status, listed, shown = reads[:3]
    assert "Agent-2" in status.out
    assert "T-1" in listed.out and "Parse the agents file" in listed.out
    assert shown.out.startswith("T-1: Parse the agents file")
    assert "src/**" in reads[5].out and "Agent-2" in reads[6].out
    for write in writes:  # one line each (no read-only warning: these write)
        assert write.code == 2 and write.out == "" and write.err.count("\n") == 1, write
        assert write.err.startswith("swarm: error: ") and "disk" in write.err
    # space freed: the same home takes writes again, nothing lost or damaged
    # (no coordinator runs for this home: task add says the task waits for one)
    assert late.code == 0 and late.out.startswith("T-2 "), late
    assert late.err.startswith("swarm: T-2 waits for a coordinator") and late.err.count("\n") == 1
    assert "Parse the agents file" in listed_later.out and "Late" in listed_later.out


def test_reads_work_on_a_full_disk_beside_a_coordinator(filled: Path, tmp_path: Path) -> None:
    """A process holds the database open, its last commit in the WAL (before: every read
    command failed, ``the disk is full``: opening asked to write ``auto_vacuum``)."""
    results = on_full_disk(filled, tmp_path, READS, writer=True)
    for args, result in zip(READS, results, strict=True):
        assert (result.code, result.err) == (0, ""), (args, result)
    assert "Written before the disk filled" in results[1].out  # read through the WAL


def test_a_log_file_that_cannot_be_written_is_one_line(filled: Path, tmp_path: Path) -> None:
    (result,) = on_full_disk(filled, tmp_path, [["-v", "task", "list"]], log=True)
    assert result.code == 0, result
    assert "Parse the agents file" in result.out
    said = [line for line in result.err.splitlines() if line.startswith("swarm: warning:")]
    assert len(said) == 2, result.err  # the log file, then the database
    assert said[0].startswith("swarm: warning: cannot write the log file ")
    assert "No space left on device" in said[0] and said[1].startswith(WARNING)
    assert "Traceback" not in result.err and "Logging error" not in result.err
    assert "DEBUG" in result.err  # its lines go to stderr instead
