"""Task work in workspaces: the branch head (and the files outside its commits) when a
prompt goes out, the commits at done, the diff and the merge. Git runs in a worker thread;
a git failure never stops a delivery or a report (it is logged)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from core.context import Ctx
from core.errors import (
    InvalidInput,
    InvalidState,
    NotFound,
    ReservationConflict,
    SwarmError,
    UnknownTask,
)
from core.event_kinds import EventKind
from core.history.events import EventFilter, find_events
from core.models import Event, parse_task_ref, task_ref
from core.reservations import Conflict, files_touching
from core.store.conn import Conn
from core.store.grouped import Grouped
from core.store.tables import insert_event
from core.workspaces import _handoff as handoff
from core.workspaces import _manifest as manifest
from core.workspaces import _merging as merging
from core.workspaces import _queries as queries
from core.workspaces import _reservation_hook as reservation_hook
from core.workspaces import _start_files as start_files
from core.workspaces import _task_branch as task_branch
from core.workspaces import _work as work
from core.workspaces._git import (
    FolderMissing,
    GitFailed,
    changed_files,
    commits_between,
    git,
    has_commits,
    head,
    ok,
    worktrees,
)
from core.workspaces._handoff import Handoff
from core.workspaces._ops import Located, find
from core.workspaces._queries import NextTurn
from core.workspaces._untracked import untracked_diff
from core.workspaces._work import TaskWork

if TYPE_CHECKING:
    from core.store.access import StoreAccess

log = logging.getLogger(__name__)


class WorkspaceBook:
    """What the service and the scheduler ask about tasks done in workspaces."""

    def __init__(self, service: StoreAccess) -> None:
        self.service = service
        self._root = str(manifest.root(service.settings.home))  # checked at every prompt
        # the turns' records of prompts built together (a node's first wave): one transaction
        self._starts: Grouped[TaskWork] = Grouped(self._record_starts)

    async def locate(self, agent: str) -> Located | None:
        """The agent's workspace, or None."""
        return await asyncio.to_thread(find, self.service.settings.home, self.service.agents, agent)

    async def tracked_files(self, agent: str) -> list[str] | None:
        """The files git tracks in the agent's workspace (what a reservation's share of the
        tree is measured against); None when it has none or git cannot say."""
        if not self.may_have_workspace(agent):
            return None
        located = await self.locate(agent)
        if located is None:
            return None
        try:
            listing = await asyncio.to_thread(git, located.path, "ls-files", "-z")
        except (GitFailed, FolderMissing) as exc:
            log.info("the files of %s's workspace are not known: %s", agent, exc)
            return None
        return [f for f in listing.split("\0") if f]

    def may_have_workspace(self, agent: str) -> bool:
        """False when the agent surely has none (no ``workspace =``, no worktrees at all):
        one stat, so prompts of a swarm without workspaces pay nothing more."""
        configured = self.service.agents.get(agent)
        if configured is not None and configured.workspace:
            return True
        return os.path.isdir(self._root)

    def any_workspaces(self) -> bool:
        """False when no agent can have a workspace (none configured, no worktrees made)."""
        if any(agent.workspace for agent in self.service.agents.values()):
            return True
        return os.path.isdir(self._root)

    async def before_prompt(self, task_id: int, agent: str) -> Located | None:
        """Put the agent's worktree on the task's branch (its own, else the agent's: see
        ``task_branch``) and record the branch head the first time the task's prompt goes
        to ``agent``. A worktree that cannot move cleanly fails the prompt (one line)."""
        if not self.may_have_workspace(agent):
            return None
        started = time.perf_counter()
        try:
            place = await self.locate(agent)
        except SwarmError as exc:  # e.g. workspaces in two repositories: none is named
            log.warning("workspace of %s not used: %s", agent, exc)
            return None
        if place is None:
            return None
        wanted, known, unworked = await self.service.read(work.start_known, task_id, agent)
        if place.base is not None:  # a worktree swarm made: the task's branch, or the agent's
            place = await asyncio.to_thread(task_branch.checkout, place, wanted, unworked)
        try:
            sha = place.head
            if sha is None and not place.head_read:  # (read for sure: a branch with no commit)
                sha = await asyncio.to_thread(head, place.path, place.branch or "HEAD")
        except FolderMissing:
            raise  # deleted by hand: the delivery fails saying so (no prompt without its place)
        except (GitFailed, OSError) as exc:
            if await asyncio.to_thread(has_commits, place.path):
                log.warning("head of %s's workspace not read: %s", agent, exc)
            sha = None  # else a repository with no commit yet (a new project): no head
        files = None if known else await asyncio.to_thread(_start_files_of, place.path, agent)
        turn = TaskWork(
            task_id,
            agent,
            str(place.path),
            place.branch,
            place.base,
            sha,
            None,
            self.service.clock.now(),
            None,
            files,
        )
        read = time.perf_counter()
        await self._starts.add(turn)
        log.debug(
            "timing: T-%d prompt to %s: workspace read in %.0f ms, recorded in %.0f ms",
            task_id,
            agent,
            (read - started) * 1000,
            (time.perf_counter() - read) * 1000,
        )
        return place

    async def _record_starts(self, turns: list[TaskWork]) -> None:
        await self.service.update(work.record_starts, turns)

    async def handoff(self, task_id: int, agent: str) -> str | None:
        """The handoff section for ``agent``'s turn, None when nobody held the task before."""
        return await self.handoff_text(await self.service.read(handoff.facts, task_id, agent))

    async def handoff_shown(self, task_id: int, agent: str | None) -> str | None:
        """The handoff as the task page shows it (``handoff.handoff_text``: no git read)."""
        return await self.service.read(handoff.handoff_text, task_id, agent)

    async def handoff_text(self, found: Handoff | None) -> str | None:
        """The section for facts read by :func:`handoff.facts` (commits read from git)."""
        if found is None:
            return None
        turn = found.turn
        if turn is not None and turn.start_sha:
            try:
                end, commits, _ = await asyncio.to_thread(_commits_since, turn)
            except (GitFailed, OSError, FolderMissing) as exc:
                log.warning("commits of %s's turn not read: %s", found.previous, exc)
            else:
                found.end_sha = end
                found.commits = [(c["sha"], c["subject"]) for c in commits]
        return found.text()

    async def turns(self, task_id: int) -> list[TaskWork]:
        """Every agent's turn on the task, oldest first."""
        return await self.service.read(work.turns, task_id)

    async def commit_events(self, task_id: int, limit: int = 3) -> list[Event]:
        """The task's last ``task.commits`` events (one per turn done), oldest first."""
        found = EventFilter(kinds=(EventKind.TASK_COMMITS,), task_id=task_id)
        return await self.service.read(find_events, found, 0, limit, True)

    async def after_done(self, task_id: int, actor: str) -> None:
        """Put the commits made on the holder's branch since its turn began in the history."""
        if not self.any_workspaces():
            return  # a swarm without workspaces pays one stat, not a database read
        turn = await self.service.read(work.holder_turn, task_id)
        if turn is None or turn.start_sha is None:
            return
        try:
            end, commits, stat = await asyncio.to_thread(_commits_since, turn)
        except (GitFailed, OSError, FolderMissing) as exc:
            log.warning("commits of %s not read: %s", task_ref(task_id), exc)
            return
        await self.service.write(actor, work.record_end, turn, end, commits, stat)

    async def diff(self, ref: str | int) -> str:
        """The diff of the task's last turn: its commits (up to now when not done), then what
        it changed in its worktree and did not commit (``_diff``)."""
        turn = await self._last_turn(ref, "diff")
        after = await self.service.read(work.next_turn, turn) if turn.start_files else None
        return await asyncio.to_thread(_diff, turn, after)

    async def merge(self, ref: str | int, actor: str, into: str | None = None) -> str:
        """Merge the task's commits into ``into`` (default the base): a fast-forward or a
        merge commit; a conflict is aborted and its files listed."""
        task = await self.service.read(_task, parse_task_ref(ref))
        task_id = task.id
        turn = await self._last_turn(task_id, "merge")
        target = into or turn.base
        if not target:
            raise InvalidInput(f"{turn.path} is not a swarm worktree: say where with --into")
        warning = await self._check_reservations(task_id, turn, target, actor)
        said, data = await asyncio.to_thread(
            _merge, turn, target, task_ref(task_id), f"{task_ref(task_id)}: {task.title}"
        )
        await self.service.write(actor, work.record_merge, task_id, said, data)
        return f"{warning}\n{said}" if warning else said

    async def _check_reservations(
        self, task_id: int, turn: TaskWork, target: str, actor: str
    ) -> str | None:
        """The files the merge brings against other agents' exclusive reservations: None
        when it touches none; else a ``reservation.crossed`` event and a warning line, or
        ReservationConflict with ``SWARM_RESERVATIONS=strict`` (nothing merged)."""
        try:
            files = await asyncio.to_thread(_branch_files, turn, target)
        except (GitFailed, OSError) as exc:  # FolderMissing: the merge cannot run, it says why
            log.warning("files of %s not checked against reservations: %s", task_ref(task_id), exc)
            return None
        found = await self.service.read(files_touching, self.service.clock.now(), files, turn.agent)
        if not found:
            return None
        strict = self.service.settings.reservations == "strict"
        shown = "; ".join(c.describe() for c in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        text = f"{task_ref(task_id)} changes files others reserved: {shown}{more}"
        await self.service.write(actor, _crossed, task_id, turn.agent, text, found, strict)
        if strict:
            raise ReservationConflict(
                f"{text}: not merged (SWARM_RESERVATIONS=strict); merge when they release, "
                "or without strict"
            )
        return f"warning: {text}"

    async def _last_turn(self, ref: str | int, what: str) -> TaskWork:
        task = await self.service.read(_task, parse_task_ref(ref))
        found = [t for t in await self.turns(task.id) if t.start_sha]
        if not found:
            holder = f" ({task.assignee} has none)" if task.assignee else ""
            raise NotFound(
                f"{task_ref(task.id)} was not worked on in a workspace{holder}: nothing to {what}"
            )
        return found[-1]


def _task(conn: Conn, task_id: int) -> queries.TaskHead:
    """The task's id, title and assignee; UnknownTask (a NotFound) when there is none."""
    row = queries.task_row(conn, task_id)
    if row is None:
        raise UnknownTask(f"unknown task {task_ref(task_id)}")
    return row


def _branch_files(turn: TaskWork, target: str) -> list[str]:
    return reservation_hook.branch_files(Path(turn.path), target, _end(turn))


def _crossed(
    conn: Conn,
    ctx: Ctx,
    task_id: int,
    agent: str,
    text: str,
    found: list[Conflict],
    refused: bool,
) -> None:
    """The event of a merge that brings files under others' exclusive reservations (what a
    ``commit --no-verify`` let through)."""
    insert_event(
        conn,
        ctx.now,
        EventKind.RESERVATION_CROSSED,
        text + (": merge refused" if refused else ": merged anyway"),
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={
            "refused": refused,
            "files": sorted({c.given for c in found}),
            "holders": sorted({c.reservation.agent for c in found}),
        },
    )


def _end(turn: TaskWork) -> str:
    return turn.end_sha or head(Path(turn.path), turn.branch or "HEAD")


def end_of(turn: TaskWork) -> str:
    """The commit a turn's work ends at: its head at done, else its branch's head now."""
    return _end(turn)


def _commits_since(turn: TaskWork) -> tuple[str, list[dict[str, str]], str]:
    path = Path(turn.path)
    end = head(path, turn.branch or "HEAD")
    start = turn.start_sha or end
    found = [{"sha": c.sha, "subject": c.subject} for c in commits_between(path, start, end)]
    return end, found, git(path, "diff", "--stat", start, end).rstrip()


def _start_files_of(tree: Path, agent: str) -> str | None:
    """What ``tree`` holds outside its commits as a turn begins (stored with the turn);
    None when git cannot say (that turn's diff is then as before there were snapshots)."""
    try:
        return start_files.take(tree).text()
    except (GitFailed, OSError, SwarmError, ValueError, subprocess.TimeoutExpired) as exc:
        log.warning("files of %s's workspace at the turn's start not read: %s", agent, exc)
        return None


UNCOMMITTED = "(not committed: in the worktree only, which task merge does not bring)\n"


def _diff(turn: TaskWork, after: NextTurn | None) -> str:
    """The turn's commits (up to the next turn's start on its branch when it was not done
    before that began), then the files it changed in its worktree and did not commit (see
    ``start_files.uncommitted_diff``): while it runs and after done, as long as they are as
    it left them. A turn begun before snapshots has its commits, and while it is not done
    every untracked file of its worktree; when the next turn's start was not read, its
    commits alone (what is left is not known to be its own)."""
    path = Path(turn.path)
    end = turn.end_sha
    if end is None and after is not None and after.branch == turn.branch:
        end = after.start_sha
    committed = git(path, "diff", turn.start_sha or "HEAD", end or _end(turn), errors="replace")
    start = start_files.parsed(turn.start_files)
    if start is None:
        return committed if turn.end_sha is not None else committed + untracked_diff(path)
    later = None if after is None else start_files.parsed(after.start_files)
    if after is not None and later is None:
        return committed
    left = start_files.uncommitted_diff(path, start, turn.started_at, later)
    return committed + (UNCOMMITTED + left if left else "")


def checkout_of(path: Path, branch: str) -> Path | None:
    """The worktree (of the repository holding ``path``) where ``branch`` is checked out."""
    return next((tree.path for tree in worktrees(path) if tree.branch == branch), None)


def _merge(turn: TaskWork, target: str, ref: str, title: str) -> tuple[str, dict[str, object]]:
    path = Path(turn.path)
    end = _end(turn)
    where = checkout_of(path, target)
    if where is None:
        raise InvalidState(
            f"branch {target} is not checked out in any worktree of "
            f"{path}: check it out, then merge (nothing changed)"
        )
    settled = merging.settle(where)  # what a stopped task merge left: aborted (or noted)
    merging.refuse_foreign(where, target)
    dirty = changed_files(where)
    if dirty:
        raise InvalidState(
            f"{where} ({target}) has uncommitted changes ({', '.join(dirty[:5])}): nothing merged"
        )
    data: dict[str, object] = {"into": target, "commit": end, "branch": turn.branch}
    before = f"{settled}; " if settled else ""
    if settled:
        data["settled"] = settled
    if ok(where, "merge-base", "--is-ancestor", end, target):
        return (f"{before}{title} is already in {target} ({end[:10]})", {**data, "how": "none"})
    fast = ok(where, "merge-base", "--is-ancestor", target, end)
    merging.run(
        where,
        merging.Job(ref, turn.branch, end, target, head(where), f"Merge {title} ({turn.branch})"),
    )
    how = "fast-forward" if fast else "merge commit"
    now = head(where)
    return (
        f"{before}{title} merged into {target} ({how}, now {now[:10]})",
        {**data, "how": how, "head": now},
    )
