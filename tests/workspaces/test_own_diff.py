"""Issue 79: a task's diff is its own. An agent's worktree is kept across its tasks, so the
files it holds outside its commits when a turn begins are recorded (``task_work.start_files``)
and the turn's diff shows its commits, then what it changed and did not commit (tracked
edits, new or changed untracked files), never what an earlier task left there unchanged nor
what a later turn changed; read on real git, links never followed, large files not read."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from automation.inbox.files import InboxDeliverer
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.workspaces import _start_files as start_files
from core.workspaces import _tracker as tracker
from core.workspaces._manager import InitRequest, init
from tests.workspaces.conftest import commit_file, sh

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]
AGENT = "Agent-1"


async def _turn(service: SwarmService, clock: ManualClock, title: str) -> int:
    """A task given to the agent, its prompt sent (its start recorded), started."""
    clock.advance(60)
    task = await service.tasks.create(TaskSpec(title, agent=AGENT), "cli")
    await Scheduler(service, InboxDeliverer(service.settings.home / "inbox")).run_burst()
    await service.tasks.start(task.id, AGENT)
    return task.id


def _tree(service: SwarmService, repo: Path) -> Path:
    init(service.settings.home, service.agents, InitRequest(repo, agents=(AGENT,)))
    return service.settings.home / "workspaces" / "project" / AGENT


def _made(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _files(diff: str) -> list[str]:
    """The files a diff shows, in order (``b/`` side)."""
    heads = [line for line in diff.splitlines() if line.startswith("diff --git ")]
    return [line.rsplit(" b/", 1)[-1] for line in heads]


async def _two_tasks_on_one_worktree(
    service: SwarmService, clock: ManualClock, repo: Path
) -> tuple[int, int, Path]:
    """T-1 commits a file, leaves ``left.txt`` untracked and ``app.py`` edited, and is done;
    then T-2 in the same worktree adds ``mine.txt`` and edits ``README.md``, committing
    neither. The checks every part of this module relies on."""
    tree = _tree(service, repo)
    first = await _turn(service, clock, "the first")
    commit_file(tree, "feature.py", "FEATURE = 1\n", "feature")
    (tree / "left.txt").write_text("left by the first\n", encoding="utf-8")
    (tree / "app.py").write_text("print('first')\n", encoding="utf-8")
    await service.tasks.complete(first, AGENT, "done")
    second = await _turn(service, clock, "the second")
    (tree / "mine.txt").write_text("made by the second\n", encoding="utf-8")
    (tree / "README.md").write_text("# project\nedited by the second\n", encoding="utf-8")
    diff = await service.workspaces.diff(second)
    assert _files(diff) == ["README.md", "mine.txt"], diff
    assert "+edited by the second" in diff and "+made by the second" in diff
    assert "left by the first" not in diff and "FEATURE" not in diff
    return first, second, tree


async def test_the_second_tasks_diff_holds_its_own_work_not_the_firsts(
    repo: Path, service: SwarmService, clock: ManualClock
) -> None:
    first, second, tree = await _two_tasks_on_one_worktree(service, clock, repo)
    # the first's diff (done): its commit, and what it left uncommitted, still as it left it;
    # never the second's files
    done = await service.workspaces.diff(first)
    assert _files(done) == ["feature.py", "app.py", "left.txt"], done
    assert tracker.UNCOMMITTED in done and "+print('first')" in done
    assert "mine.txt" not in done and "edited by the second" not in done
    # the dashboard's view of the second's diff: the same two files
    files = {f.path: f for f in (await service.reviews.diff(second)).files}
    assert set(files) == {"README.md", "mine.txt"} and files["mine.txt"].status == "added"
    # the worktree as it was: nothing added to the index
    assert "?? left.txt" in sh(tree, "status", "--porcelain")


async def test_a_file_the_first_left_and_the_second_changed_is_the_seconds(
    repo: Path, service: SwarmService, clock: ManualClock
) -> None:
    first, second, tree = await _two_tasks_on_one_worktree(service, clock, repo)
    (tree / "left.txt").write_text("left by the first\nchanged by the second\n")
    (tree / "app.py").write_text("print('second')\n", encoding="utf-8")
    diff = await service.workspaces.diff(second)
    assert _files(diff) == ["README.md", "app.py", "left.txt", "mine.txt"], diff
    assert "+changed by the second" in diff and "+print('second')" in diff
    # and no longer the first's (the second changed them since it began)
    assert _files(await service.workspaces.diff(first)) == ["feature.py"]


async def test_a_turn_not_done_ends_where_the_next_turn_began(
    repo: Path, service: SwarmService, clock: ManualClock
) -> None:
    """A cancelled task's diff (its turn never done) stops at the next turn's start: the
    commits and files of the task after it in the same worktree are not its own."""
    tree = _tree(service, repo)
    first = await _turn(service, clock, "the first")
    commit_file(tree, "one.py", "ONE = 1\n", "one")
    (tree / "left.txt").write_text("left\n", encoding="utf-8")
    await service.tasks.cancel(first, "cli")
    second = await _turn(service, clock, "the second")
    commit_file(tree, "two.py", "TWO = 2\n", "two")
    (tree / "new.txt").write_text("new\n", encoding="utf-8")
    assert _files(await service.workspaces.diff(first)) == ["one.py", "left.txt"]
    assert _files(await service.workspaces.diff(second)) == ["two.py", "new.txt"]


async def test_a_turn_begun_before_snapshots_keeps_the_old_diff(
    repo: Path, service: SwarmService, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No snapshot (a turn begun before migration 0042, or git could not say): its diff is
    its commits and, while it is not done, every untracked file of the worktree."""
    tree = _tree(service, repo)
    (tree / "before.txt").write_text("there before\n", encoding="utf-8")
    monkeypatch.setattr(tracker, "_start_files_of", lambda tree, agent: None)
    task = await _turn(service, clock, "old")
    assert (await service.workspaces.turns(task))[-1].start_files is None
    (tree / "README.md").write_text("edited\n", encoding="utf-8")
    assert _files(await service.workspaces.diff(task)) == ["before.txt"]
    await service.tasks.complete(task, AGENT, "done")
    assert await service.workspaces.diff(task) == ""


async def test_the_planted_regression_of_an_ignored_snapshot_fails(
    repo: Path, service: SwarmService, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks above fail when the snapshot is ignored (every turn starting as if its
    worktree held nothing): the first's file shows in the second's diff."""
    empty = start_files.Snapshot().text()
    monkeypatch.setattr(tracker, "_start_files_of", lambda tree, agent: empty)
    with pytest.raises(AssertionError, match=r"left\.txt"):
        await _two_tasks_on_one_worktree(service, clock, repo)


async def test_links_out_fifos_and_huge_files_stay_bounded(
    repo: Path, service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    tree = _tree(service, repo)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET-OUTSIDE\n", encoding="utf-8")
    (tree / "out.txt").symlink_to(outside / "secret.txt")
    (tree / "outdir").symlink_to(outside)
    os.mkfifo(tree / "pipe")
    os.truncate(_made(tree / "huge.bin"), 8 * 1024**3)  # sparse: read whole, it takes long
    began = time.monotonic()
    task = await _turn(service, clock, "bounded")
    taken = start_files.parsed((await service.workspaces.turns(task))[-1].start_files)
    assert taken is not None and time.monotonic() - began < 20
    assert set(taken.files) == {"out.txt", "outdir", "huge.bin"}  # git lists no FIFO
    link, target = taken.files["out.txt"], str(outside / "secret.txt").encode()
    assert (link.kind, link.blob) == ("link", start_files._blob_id(target))
    assert (taken.files["huge.bin"].kind, taken.files["huge.bin"].blob) == ("file", "")
    # read directly: a FIFO is not opened, a name through a link to a folder is not followed
    assert start_files.file_id(tree, "pipe").kind == "other"
    assert start_files.file_id(tree, "outdir/secret.txt").kind == "gone"
    (tree / "new.txt").write_text("new\n", encoding="utf-8")
    diff = await service.workspaces.diff(task)
    assert _files(diff) == ["new.txt"] and "SECRET-OUTSIDE" not in diff
    (tree / "huge.bin").unlink()
    os.truncate(_made(tree / "huge.bin"), 8 * 1024**3 + 1)  # changed: its size says so
    assert _files(await service.workspaces.diff(task)) == ["huge.bin", "new.txt"]


def test_a_files_blob_id_is_gits(repo: Path) -> None:
    (repo / "plain.txt").write_bytes(b"a\r\nb\x00c")
    found = start_files.file_id(repo, "plain.txt")
    assert found.blob == sh(repo, "hash-object", "--no-filters", "plain.txt").strip()
    assert start_files.parsed(start_files.take(repo).text()) == start_files.take(repo)
    assert start_files.parsed("not json") is None and start_files.parsed('{"files": 3}') is None


async def test_names_and_text_that_are_not_utf8_are_shown(
    repo: Path, service: SwarmService, clock: ManualClock
) -> None:
    """A file name of bytes that are not UTF-8 (the agent's to choose) and Latin-1 text: the
    snapshot and the diff read them (git quotes the name), neither fails."""
    tree = _tree(service, repo)
    _write_raw(tree, b"left-\xff.txt", b"there before\n")
    task = await _turn(service, clock, "latin")
    _write_raw(tree, b"caf\xe9.txt", b"caf\xe9\n")
    commit_file(tree, "committed.txt", "x\n", "x")
    (tree / "committed.txt").write_bytes(b"caf\xe9 \xe0 la carte\n")
    diff = await service.workspaces.diff(task)
    assert 'diff --git "a/caf\\351.txt" "b/caf\\351.txt"' in diff, diff
    assert "+caf\ufffd \ufffd la carte" in diff and "left-" not in diff
    files = [f.path for f in (await service.reviews.diff(task)).files]
    assert files == ["committed.txt", "committed.txt", "caf\ufffd.txt"]


def _write_raw(tree: Path, name: bytes, data: bytes) -> None:
    Path(os.fsdecode(os.path.join(os.fsencode(tree), name))).write_bytes(data)


async def test_a_slow_status_at_the_start_fails_no_prompt(
    repo: Path,
    service: SwarmService,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """git's status at the turn's start has its own short deadline: past it the prompt goes
    out, the turn has no snapshot (its diff as before there were any), and the log says so."""
    tree = _tree(service, repo)
    monkeypatch.setattr(start_files, "START_TIMEOUT_S", 0.000_001)
    task = await _turn(service, clock, "slow")
    assert (await service.workspaces.turns(task))[-1].start_files is None
    assert "files of Agent-1's workspace at the turn's start not read" in caplog.text
    (tree / "new.txt").write_text("new\n", encoding="utf-8")
    assert _files(await service.workspaces.diff(task)) == ["new.txt"]


def test_past_the_files_kept_a_file_not_named_is_the_turns_when_changed_after_it_began(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worktree with more files outside its commits than a snapshot keeps: the snapshot
    says it was cut, and a file it does not name counts as the turn's only when it changed
    after the turn began (its time), so an old one is still not shown."""
    monkeypatch.setattr(start_files, "MAX_NAMED", 1)
    for name in ("a-old.txt", "b-old.txt"):
        (repo / name).write_text("old\n", encoding="utf-8")
        os.utime(repo / name, (1_000_000_000, 1_000_000_000))
    taken = start_files.take(repo)
    assert taken.cut and set(taken.files) == {".env"}  # git's order: the first kept
    began = time.time()
    (repo / "c-new.txt").write_text("new\n", encoding="utf-8")
    os.utime(repo / "c-new.txt", (began + 1, began + 1))
    diff = start_files.uncommitted_diff(repo, taken, began, None)
    assert _files(diff) == ["c-new.txt"], diff
