"""Making the worktrees of one init: git's bookkeeping one worktree at a time, then the
checkouts in a few workers, each followed by the copies and the setup command.

Where the time goes: ``git worktree add`` spends nearly all of it writing the checked-out
files (5,000 files: ~0.3 s on tmpfs, 2-4 s on this machine's ext4, mostly kernel time);
adding the worktree itself (``--no-checkout``) takes ~10 ms. Two ``worktree add`` running
at once can fail (one reads the other's half-written ``.git/worktrees/<name>``), so the adds
stay sequential and only the checkouts (``git reset --hard`` in each worktree, what
``worktree add`` runs itself) run in parallel, one per core. Blocking (subprocesses).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from core.errors import InvalidState
from core.privacy.files import open_file
from core.sandbox import branch_records
from core.workspaces import _procs as procs
from core.workspaces._git import GitFailed, git
from core.workspaces._manifest import BROKEN, MAKING, Workspace

log = logging.getLogger(__name__)
CHECKOUT_WORKERS = max(1, min(4, os.cpu_count() or 1))  # checkouts are kernel-bound: a core each
SETUP_WORKERS = 4
NULL_SHA = "0" * 40
POLL_S = 0.1
# the setup shell waits for "go" on stdin (written once its session is journaled, so no
# kill -9 of swarm can leave it running unrecorded); at EOF (swarm gone) it runs nothing.
# Then the command runs (its stdin at EOF, as /dev/null would be), in the same process.
GATE = 'IFS= read -r go && [ "$go" = go ] && exec /bin/sh -c "$1"'


class InitInterrupted(InvalidState):
    """The init was stopped (Ctrl+C) before it finished: what it had made is removed."""


def make_all(
    repo: Path,
    spaces: Sequence[Workspace],
    base: str,
    copies: Sequence[Path],
    setup: str | None,
    logs: Path,
    timeout: float,
    stop: threading.Event | None = None,
    journal: Callable[[], None] | None = None,
) -> None:
    """Add, check out, copy into and set up every workspace (statuses set on them: broken
    with the reason, or left ``making`` for the caller to mark ready). ``journal`` saves
    the spaces: called as each setup command starts, with its session recorded."""
    stop = stop or threading.Event()
    save = journal or (lambda: None)
    for space in spaces:  # one at a time: git's worktree bookkeeping is not safe in parallel
        _check(stop)
        try:
            git(
                repo,
                "worktree",
                "add",
                "--quiet",
                "--no-checkout",
                "-b",
                space.branch,
                space.path,
                base,
            )
        except GitFailed as exc:
            _broken(space, f"git worktree add failed: {exc.output.strip()}")
        else:  # the one branch its sandboxed agent may move
            branch_records.record_folder(Path(space.path), space.branch)
    with (
        ThreadPoolExecutor(CHECKOUT_WORKERS) as checkouts,
        ThreadPoolExecutor(SETUP_WORKERS) as setups,
    ):

        def prepare(space: Workspace) -> Future[None] | None:
            _check(stop)
            if not _checkout(space):
                return None
            _copy_files(repo, space, copies)
            if setup is None:
                return None
            return setups.submit(_run_setup, space, setup, logs, timeout, stop, save)

        started = [checkouts.submit(prepare, s) for s in spaces if s.status == MAKING]
        for future in started:
            inner = future.result()
            if inner is not None:
                inner.result()
    _check(stop)


def _check(stop: threading.Event) -> None:
    if stop.is_set():
        raise InitInterrupted("workspaces init interrupted: what it had made is removed")


def _broken(space: Workspace, reason: str) -> None:
    space.status, space.reason = BROKEN, reason
    log.warning("workspace of %s not made: %s", space.agent, reason)


def _checkout(space: Workspace) -> bool:
    """Write the files (and run a ``post-checkout`` hook, as ``worktree add`` does)."""
    path = Path(space.path)
    try:
        git(path, "reset", "--hard", "--quiet")
        head = git(path, "rev-parse", "HEAD").strip()
    except GitFailed as exc:
        _broken(space, f"checkout failed: {exc.output.strip()}")
        return False
    try:
        git(path, "hook", "run", "--ignore-missing", "post-checkout", "--", NULL_SHA, head, "1")
    except GitFailed as exc:
        if "not a git command" in exc.output:  # git before 2.36 has no `git hook`
            log.debug("post-checkout hook not run in %s: %s", path, exc.output.strip())
            return True
        said = exc.output.strip()
        _broken(
            space,
            f"post-checkout hook exited with status {exc.code}" + (f": {said}" if said else ""),
        )
        return False
    return True


def _copy_files(repo: Path, space: Workspace, copies: Sequence[Path]) -> None:
    for relative in copies:
        target = Path(space.path) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / relative, target)


def _run_setup(
    space: Workspace,
    command: str,
    logs: Path,
    timeout: float,
    stop: threading.Event,
    journal: Callable[[], None],
) -> None:
    """Run the setup command in the worktree, its output in the log; mark failures. It runs
    in its own session: a Ctrl+C reaches swarm, which stops it (and its children). The
    session (pid and start time) goes into the journal at once: after a kill -9 of swarm
    nobody else stops it, so ``repair`` and the next init do before removing the folder."""
    log_path = logs / f"{space.agent}.setup.log"
    space.log = str(log_path)
    with open(open_file(log_path), "w", encoding="utf-8") as out:
        out.write(f"$ {command}\n")
        out.flush()
        proc = subprocess.Popen(
            ["/bin/sh", "-c", GATE, "swarm-setup", command],
            cwd=space.path,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stdin is not None
        space.setup_pid, space.setup_started = proc.pid, procs.start_time(proc.pid)
        try:
            journal()
        except BaseException:
            proc.stdin.close()  # EOF: the gate runs nothing
            _kill_group(proc)
            raise
        with contextlib.suppress(BrokenPipeError):  # the command starts: it is journaled
            proc.stdin.write(b"go\n")
            proc.stdin.close()
        deadline = time.monotonic() + timeout
        while not _exited(proc):
            if stop.is_set() or time.monotonic() > deadline:
                _kill_group(proc)
                if not stop.is_set():
                    _broken(space, f"setup ran over {timeout:g} s")
                return
    if proc.returncode != 0:
        _broken(space, f"setup exited with status {proc.returncode} (log: {log_path})")


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    try:
        proc.wait(timeout=POLL_S)
    except subprocess.TimeoutExpired:
        return False
    return True


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
