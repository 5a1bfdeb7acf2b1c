"""Workspaces benchmark: ``swarm workspaces init`` for 8 agents on a repository of 5,000 files.

Run: .venv/bin/python bench/workspaces.py [--files 5000] [--runs 3] [--dir /dev/shm] [--compare]
Builds a real repository in a temporary folder (no network), then times ``init`` (8
``git worktree add`` plus a setup command and a copied ``.env``) run after run, each in a
fresh SWARM_HOME. ``--compare`` alternates each run with the previous init (``git worktree
add`` with its checkout, one agent after the other), so both see the same load. Prints
figures only, and the disk used by objects: worktrees share the repository's object store,
so only the checked-out files are written again.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.agents_file import load_agents
from core.models import Agent
from core.settings import bundled_agents_file
from core.workspaces import CHECKOUT_WORKERS, InitRequest, init

IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


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


def sequential_init(home: Path, repo: Path, agents: list[str]) -> None:
    """The previous init, for comparison: ``git worktree add`` (with its checkout) one agent
    after the other, then the copies, then the setup commands 4 at a time."""
    folder = home / "workspaces" / repo.name
    folder.mkdir(parents=True)
    for agent in agents:
        subprocess.run(
            [
                "git",
                "worktree",
                "add",
                "--quiet",
                "-b",
                f"swarm/{agent}",
                str(folder / agent),
                "main",
            ],
            cwd=repo,
            check=True,
        )
    for agent in agents:
        shutil.copy2(repo / ".env", folder / agent / ".env")
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda a: subprocess.run("true", shell=True, cwd=folder / a, check=True), agents
            )
        )


def timed_run(
    strategy: str, home: Path, repo: Path, agents: dict[str, Agent]
) -> tuple[float, float]:
    """Wall seconds and the CPU seconds (user + system) of the git and setup processes for
    one init by ``strategy``; then its worktrees and branches are removed."""
    cpu = _children_cpu()
    started = time.perf_counter()
    if strategy == "current":
        record = init(home, agents, InitRequest(repo, setup="true", copy=(".env",)))
        broken = [s.agent for s in record.workspaces.values() if s.reason]
        assert not broken, broken
    else:
        sequential_init(home, repo, list(agents))
    took = time.perf_counter() - started, _children_cpu() - cpu
    for agent in agents:  # the next run makes the same branches again
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(home / "workspaces" / repo.name / agent)],
            cwd=repo,
            check=True,
        )
        subprocess.run(
            ["git", "branch", "-D", f"swarm/{agent}"], cwd=repo, check=True, capture_output=True
        )
    return took


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Build the repository, time the runs, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the repository and SWARM_HOME go (default: the temp folder)",
    )
    parser.add_argument(
        "--packed",
        action="store_true",
        help="pack the repository's objects first (as a clone has them)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="alternate with the previous init (worktree add one at a time)",
    )
    args = parser.parse_args()
    os.environ.update(IDENTITY)
    agents = {a.id: a for a in load_agents(bundled_agents_file())}
    strategies = ["sequential", "current"] if args.compare else ["current"]
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        repo = Path(tmp) / "big"
        make_repo(repo, args.files)
        if args.packed:
            subprocess.run(["git", "repack", "-adq"], cwd=repo, check=True)
        times: dict[str, list[tuple[float, float]]] = {s: [] for s in strategies}
        for run in range(args.runs):
            for strategy in strategies if run % 2 == 0 else strategies[::-1]:
                home = Path(tmp) / f"home-{strategy}-{run}"
                times[strategy].append(timed_run(strategy, home, repo, agents))
        objects = du(repo / ".git" / "objects")
        checkout = du(repo) - du(repo / ".git")
        for strategy, found in times.items():
            walls, cpus = [w for w, _ in found], [c for _, c in found]
            print(
                f"{strategy}: init of {len(agents)} worktrees, {args.files} files each: "
                f"median {statistics.median(walls):.2f} s (runs "
                + ", ".join(f"{t:.2f}" for t in walls)
                + f"), git and setup CPU median {statistics.median(cpus):.2f} s"
            )
        print(
            f"object store {objects / 1e6:.1f} MB, shared by every worktree (each "
            f"worktree's .git is a one-line file); one checkout {checkout / 1e6:.1f} MB; "
            f"checkout workers {CHECKOUT_WORKERS}; load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
