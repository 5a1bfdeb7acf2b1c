"""Workspaces benchmark: ``swarm workspaces init`` for 8 agents on a repository of 5,000 files.

Run: .venv/bin/python bench/workspaces.py [--files 5000] [--runs 3] [--dir /dev/shm]
Builds a real repository in a temporary folder (no network), then times ``init`` (8
``git worktree add`` plus a setup command and a copied ``.env``) run after run, each in a
fresh SWARM_HOME. Prints figures only, and the disk used by objects: worktrees share the
repository's object store, so only the checked-out files are written again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import load_agents
from core.settings import bundled_agents_file
from core.workspaces.manager import InitRequest, init

IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
            "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def make_repo(path: Path, files: int) -> None:
    """A repository on ``main`` with ``files`` small source files in 50 folders."""
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    for n in range(files):
        folder = path / f"pkg{n % 50:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"mod{n:05d}.py").write_text(f"VALUE_{n} = {n}\n" * 20, encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "files"], cwd=path, check=True)
    (path / ".env").write_text("TOKEN=bench\n", encoding="utf-8")


def du(path: Path) -> int:
    """Bytes of disk the files under ``path`` take (blocks, like ``du``)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())


def main() -> None:
    """Build the repository, time the runs, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None,
                        help="where the repository and SWARM_HOME go (default: the temp folder)")
    args = parser.parse_args()
    os.environ.update(IDENTITY)
    agents = {a.id: a for a in load_agents(bundled_agents_file())}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        repo = Path(tmp) / "big"
        make_repo(repo, args.files)
        times = []
        for run in range(args.runs):
            home = Path(tmp) / f"home{run}"
            started = time.perf_counter()
            record = init(home, agents, InitRequest(repo, setup="true", copy=(".env",)))
            times.append(time.perf_counter() - started)
            broken = [s.agent for s in record.workspaces.values() if s.reason]
            assert not broken, broken
            for agent in agents:  # the next run makes the same branches again
                subprocess.run(["git", "worktree", "remove", "--force",
                                str(home / "workspaces" / "big" / agent)], cwd=repo, check=True)
                subprocess.run(["git", "branch", "-D", f"swarm/{agent}"], cwd=repo, check=True,
                               capture_output=True)
        objects = du(repo / ".git" / "objects")
        checkout = du(repo) - du(repo / ".git")
        print(f"init of {len(agents)} worktrees, {args.files} files each: "
              f"median {statistics.median(times):.2f} s, runs "
              + ", ".join(f"{t:.2f}" for t in times))
        print(f"object store {objects / 1e6:.1f} MB, shared by every worktree (each "
              f"worktree's .git is a one-line file); one checkout {checkout / 1e6:.1f} MB; "
              f"folder {tmp}")


if __name__ == "__main__":
    main()
