"""``task merge`` without half-done merges: git's merge runs in the checkout of the target
branch, and whatever stops it (a conflict, a refusing hook, a kill) is undone.

How swarm knows a merge is its own: before it runs ``git merge`` it writes a marker,
``swarm-merge.json``, into the git folder of that checkout (``.git`` of the main checkout,
``.git/worktrees/<name>`` of a linked one), naming the task, the commit merged, the head
before, the message and the processes (swarm's and git's, each with its start time). A
merge is swarm's only when the marker's processes are gone and git's state matches it:
``MERGE_HEAD`` is the commit, ``HEAD`` the head before and ``MERGE_MSG`` holds the message.
A merge started by hand never has all of these, so it is never aborted: ``task merge``
refuses to run over it. Blocking (git subprocesses).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import InvalidState
from core.workspaces import _procs as procs
from core.workspaces._git import GitFailed, changed_files, git, head, ok, safe_env

log = logging.getLogger(__name__)
MARKER = "swarm-merge.json"
MERGE_TIMEOUT_S = 1800.0  # hooks (pre-merge-commit, commit-msg) may run a test suite


class MergeBusy(InvalidState):
    """A merge swarm started is still running in that checkout."""


@dataclass
class Job:
    """One ``task merge``, as its marker records it."""

    task: str  # e.g. "T-3"
    branch: str | None  # the agent branch (for the messages)
    commit: str  # what is merged
    into: str  # the target branch
    head: str  # the target's head before the merge
    message: str  # the merge commit's message
    pid: int = 0  # swarm
    started: str = ""
    git_pid: int | None = None
    git_started: str | None = None

    @property
    def what(self) -> str:
        """The merge in words."""
        return f"the merge of {self.task} ({self.branch or self.commit[:10]}) into {self.into}"


def marker_of(where: Path) -> Path:
    """The marker's path for the checkout ``where``."""
    return Path(git(where, "rev-parse", "--absolute-git-dir").strip()) / MARKER


def settle(where: Path) -> str | None:
    """Finish with what a stopped ``task merge`` left in ``where``: its merge aborted (or
    its half-done fast-forward undone), or noted as completed by git after swarm stopped;
    a line saying what was done, None when there was nothing. MergeBusy while the swarm or
    git process that began it still runs."""
    marker = marker_of(where)
    job = _load(marker)
    if job is None:
        return None
    if procs.Proc(job.pid, job.started).alive():
        raise MergeBusy(
            f"another task merge into {job.into} is running in {where} (pid "
            f"{job.pid}): try again when it is done"
        )
    if (
        job.git_pid is not None
        and job.git_started is not None
        and procs.Proc(job.git_pid, job.git_started).alive()
    ):
        raise MergeBusy(
            f"git is still running {job.what} in {where} (pid {job.git_pid}, "
            "started by a task merge that was stopped; a slow hook?): try "
            "again when it ends"
        )
    said = _undo(where, job)
    marker.unlink(missing_ok=True)
    return said


def refuse_foreign(where: Path, target: str) -> None:
    """InvalidState when ``where`` is in the middle of a merge swarm did not start."""
    if _merge_head(where) is not None:
        raise InvalidState(
            f"{where} ({target}) is in the middle of a merge swarm did not "
            "start (MERGE_HEAD exists): finish it (git commit) or abort it "
            "(git merge --abort) first; nothing merged"
        )


def run(where: Path, job: Job) -> None:
    """``git merge`` of ``job.commit`` in ``where``, its marker around it. On any failure
    the merge is aborted (InvalidState says why: conflicting files, or what git or the
    refusing hook printed) and nothing has changed."""
    marker = marker_of(where)
    me = procs.me()
    job.pid, job.started = me.pid, me.started
    _claim(marker, job)
    try:
        code, output = _git_merge(where, job, marker)
    except BaseException:
        _undo_failed(where, job, marker)
        raise
    if code == 0:
        marker.unlink(missing_ok=True)
        return
    files = _conflicts(where)
    _undo_failed(where, job, marker)
    if files:
        raise InvalidState(
            f"merging {job.branch} into {job.into} conflicts in {', '.join(files)}: nothing changed"
        )
    said = "; ".join(
        line.strip()
        for line in output.splitlines()
        if line.strip() and not line.startswith("Not committing merge")
    )
    raise InvalidState(
        f"merge of {job.branch} into {job.into} refused (git exited with "
        f"status {code}): {said or 'no output'}: aborted, nothing changed"
    )


def _git_merge(where: Path, job: Job, marker: Path) -> tuple[int, str]:
    """Run git (in swarm's process group, so a Ctrl+C reaches it and its hooks). Its output
    goes to a file, not a pipe: if swarm is killed, git is not killed by SIGPIPE half-way
    (after making the merge commit, before moving the branch) but finishes."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out:
        proc = subprocess.Popen(
            ["git", "merge", "--no-edit", "-m", job.message, job.commit],
            cwd=where,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=safe_env(hooks=True),
        )
        try:
            job.git_pid, job.git_started = proc.pid, procs.start_time(proc.pid)
            _write(marker, job)
            code = proc.wait(timeout=MERGE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return -9, f"git merge ran over {MERGE_TIMEOUT_S:g} s (a hook?) and was stopped"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out.seek(0)
        return code, out.read()


def _undo_failed(where: Path, job: Job, marker: Path) -> None:
    """Undo what the failed merge left, then drop the marker; if that fails the marker
    stays (the next merge or ``workspaces repair`` tries again)."""
    try:
        _undo(where, job, ours=True)
    except GitFailed as exc:
        raise InvalidState(
            f"{job.what} failed and could not be undone in {where} "
            f"({exc.output.strip()}): run git merge --abort there, or swarm "
            "workspaces repair"
        ) from None
    marker.unlink(missing_ok=True)


def _undo(where: Path, job: Job, *, ours: bool = False) -> str | None:
    """Put ``where`` back as it was before ``job`` when git's state is the job's own
    (``ours``: this process has just run that merge, a hook may have rewritten MERGE_MSG)."""
    now = head(where)
    pending = _merge_head(where)
    if pending is not None:
        if pending == job.commit and now == job.head and (ours or _our_message(where, job)):
            git(where, "merge", "--abort")
            return f"aborted {job.what} that a stopped task merge left in {where}: nothing merged"
        return None  # a merge begun since, by someone else: not ours to touch
    if now == job.head:
        # a fast-forward stopped after writing the files (a kill, or a reference-transaction
        # hook refusing the ref update): the index is exactly the commit's tree. Switch the
        # files back from it to HEAD (two-tree read-tree: no ref is updated, so the hook
        # that refused is not asked again; edits made since are kept)
        if changed_files(where) and ok(
            where, "diff-index", "--cached", "--quiet", job.commit, "--"
        ):
            git(where, "read-tree", "-m", "-u", job.commit, "HEAD")
            return f"undid the half-done fast-forward of {job.what} in {where}"
        return None
    if ok(where, "merge-base", "--is-ancestor", job.commit, now):
        return (
            f"{job.what} was completed by git after the task merge that started it "
            f"stopped (now {now[:10]})"
        )
    return None


def _our_message(where: Path, job: Job) -> bool:
    try:
        text = (marker_of(where).parent / "MERGE_MSG").read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        return False
    return job.message in text


def _merge_head(where: Path) -> str | None:
    try:
        return git(where, "rev-parse", "--quiet", "--verify", "MERGE_HEAD").strip() or None
    except GitFailed:
        return None


def _conflicts(where: Path) -> list[str]:
    return git(where, "diff", "--name-only", "--diff-filter=U").split()


def _claim(marker: Path, job: Job) -> None:
    """Write the marker, refusing when one exists (another merge is starting)."""
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise MergeBusy(
            f"another task merge into {job.into} is starting in "
            f"{marker.parent}: try again when it is done"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(job), handle)
        handle.flush()
        os.fsync(handle.fileno())


def _write(marker: Path, job: Job) -> None:
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(job)), encoding="utf-8")
    os.replace(tmp, marker)


def _load(marker: Path) -> Job | None:
    try:
        raw = json.loads(marker.read_text(encoding="utf-8"))
        return Job(**raw)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("unreadable merge marker %s removed: %s", marker, exc)
        with contextlib.suppress(OSError):
            marker.unlink()
        return None
