"""``swarm`` commands on a full disk (``tests/store/test_full_disk.py``), run as root in a mount
namespace of its own: ``unshare -m --propagation private python -m tests.full_disk_child
SPEC``. A 2 MB tmpfs is mounted over ``SPEC["mount"]`` (seen only in that namespace), the
home is copied in, a writer holds the database open if asked (a coordinator's connection,
with its commit still in the WAL), and the rest of the file system is filled until writing
fails with ENOSPC; then the commands run, then the filling is removed and each of
``SPEC["after_freeing"]`` runs; their results go to stdout as JSON. Each command is a child
forked from a CLI zygote started in this namespace (``tests/cli_zygote.py``), as the suite's
other commands are, one after another: none can write, so their order is no matter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests import cli_zygote

ROOT = Path(__file__).resolve().parent.parent
# a swarm process holding the database open, its task still in the WAL, until killed
WRITER = """
import asyncio
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
import os

async def main():
    service = await SwarmService.open(Settings.from_env(dict(os.environ)))
    await service.tasks.create(TaskSpec("Written before the disk filled"), "cli")
    print("ready", flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


def main(spec: dict[str, Any]) -> None:
    """Mount, copy, start the writer, fill, run; print the results."""
    mount = Path(spec["mount"])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    shutil.copytree(spec["home"], mount, dirs_exist_ok=True)
    env = {**spec["env"], "SWARM_HOME": str(mount)}
    if spec.get("log"):
        log = mount / "swarm.log"
        log.write_bytes(b"x" * 4096)  # its one page full: the next line needs a new one
        env["SWARM_LOG_FILE"] = str(log)
    writer = None
    if spec.get("writer"):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    try:
        fill(mount / "zz-fill")
        results = [run(args, env) for args in spec["commands"]]
        (mount / "zz-fill").unlink()
        results += [run(args, env) for args in spec.get("after_freeing", [])]
    finally:
        if writer is not None:
            writer.kill()
            writer.wait()
    print(json.dumps(results))


def fill(path: Path) -> None:
    """Write ``path`` until the file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                os.write(fd, b"\0" * 4096)
            except OSError:
                break
    finally:
        os.close(fd)


def run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One ``swarm`` command: its exit status, stdout and stderr."""
    proc = cli_zygote.run(args, env, ROOT, 60)
    return {"code": proc.returncode, "out": proc.stdout, "err": proc.stderr}


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
