"""Reviews of a task's work (``service.reviews``): comments on lines of its diff, kept
pending until a person sends them, then one prompt to the agent that did the task, which
goes back in progress (the dashboard's task page, ``/task review``, ``swarm task review``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.context import Ctx, check_chars
from core.errors import InvalidInput, NotFound, SwarmError
from core.formats.text import escape_controls
from core.models import parse_task_ref, task_ref
from core.reviews import _queries as reviews
from core.reviews import _sendback as review
from core.reviews._queries import NewComment, ReviewComment
from core.reviews._sendback import Sent
from core.store.access import StoreAccess
from core.store.conn import Conn
from core.tasks import get_task
from core.workspaces import (
    FolderMissing,
    GitFailed,
    ParsedDiff,
    WorkspaceBook,
    end_of,
    git,
    parse,
    work,
)

MAX_PATH = 1000


class ReviewBook:
    """Add, change, remove and send review comments."""

    def __init__(self, access: StoreAccess, workspaces: WorkspaceBook) -> None:
        self.access = access
        self.workspaces = workspaces

    async def diff(self, ref: str | int) -> ParsedDiff:
        """The task's diff as files of numbered lines; NotFound when it was not worked on in
        a workspace, InvalidState when git cannot read it."""
        try:
            return parse(await self.workspaces.diff(ref))
        except GitFailed as exc:
            raise InvalidInput(f"the diff of {task_ref(parse_task_ref(ref))}: {exc}") from None

    async def comments(self, ref: str | int) -> list[ReviewComment]:
        """The task's pending comments (NotFound for an unknown task)."""
        task = await self.access.read(_task_id, ref)
        return await self.access.read(reviews.pending, task)

    async def add(
        self,
        ref: str | int,
        actor: str,
        text: str,
        path: str | None = None,
        line: int | None = None,
    ) -> ReviewComment:
        """A pending comment on line ``line`` of ``path`` (both None: on the whole task)."""
        task_id = await self.access.read(_task_id, ref)
        new = await self._checked(task_id, text, path, line)
        comment_id = await self.access.write(actor, review.add, task_id, new)
        return await self.access.read(reviews.get_pending, task_id, comment_id)

    async def edit(self, ref: str | int, comment_id: int, text: str, actor: str) -> ReviewComment:
        """Change a pending comment's text."""
        task_id = await self.access.read(_task_id, ref)
        body = review.clean_text(text, "comment", self.access.settings.max_text)
        return await self.access.write(actor, _update, task_id, comment_id, body)

    async def delete(self, ref: str | int, comment_id: int, actor: str) -> None:
        """Remove a pending comment."""
        task_id = await self.access.read(_task_id, ref)
        await self.access.write(actor, _delete, task_id, comment_id)

    async def send(self, ref: str | int, actor: str) -> Sent:
        """Send every pending comment to the task's agent as one prompt."""
        task_id = await self.access.read(_task_id, ref)
        return await self.access.write(actor, _send, task_id, self._footer(task_id), None)

    async def send_one(
        self,
        ref: str | int,
        actor: str,
        text: str,
        path: str | None = None,
        line: int | None = None,
    ) -> Sent:
        """Send one comment alone (pending ones stay pending): ``/task review``, the CLI."""
        task_id = await self.access.read(_task_id, ref)
        new = await self._checked(task_id, text, path, line)
        return await self.access.write(actor, _send, task_id, self._footer(task_id), new)

    def _footer(self, task_id: int) -> str:
        ref, swarm = task_ref(task_id), self.access.settings.agent_swarm
        return (
            f'When the review is addressed: {swarm} task done {ref} --note "what you changed"  '
            f'or  {swarm} task fail {ref} --reason "why"'
        )

    async def _checked(
        self, task_id: int, text: str, path: str | None, line: int | None
    ) -> NewComment:
        body = review.clean_text(text, "comment", self.access.settings.max_text)
        if path is None and line is None:
            return NewComment(None, None, None, body)
        if path is None or line is None:
            raise InvalidInput("a comment on a line needs both the file and the line number")
        path = check_chars(path.strip(), "file", one_line=True).removeprefix("./")
        if not path or len(path) > MAX_PATH:
            raise InvalidInput(f"file must be a path of 1 to {MAX_PATH} characters")
        if line < 1:
            raise InvalidInput(f"line must be 1 or more, not {line}")
        return NewComment(path, line, await self._line_text(task_id, path, line), body)

    async def _line_text(self, task_id: int, path: str, line: int) -> str:
        """The text of ``path``'s line ``line``: from the diff, else from the file as the
        task's work left it; InvalidInput when neither has it."""
        ref = task_ref(task_id)
        try:
            found = (await self.diff(task_id)).line_text(path, line)
            if found is None:
                found = await asyncio.to_thread(_file_line, await self._end(task_id), path, line)
        except NotFound:
            raise InvalidInput(
                f"{ref} was not worked on in a workspace: comment on the whole task "
                "(no file and line)"
            ) from None
        if found is None:
            raise InvalidInput(f"{path} has no line {line} in {ref}'s work")
        return found

    async def _end(self, task_id: int) -> tuple[Path, str]:
        turns = [t for t in await self.workspaces.turns(task_id) if t.start_sha]
        turn = turns[-1]
        return Path(turn.path), await asyncio.to_thread(end_of, turn)


def _file_line(where: tuple[Path, str], path: str, line: int) -> str | None:
    folder, commit = where
    try:
        text = git(folder, "show", f"{commit}:{path}")
    except (GitFailed, FolderMissing, SwarmError):
        return None
    lines = text.splitlines()
    return escape_controls(lines[line - 1], keep="\t") if line <= len(lines) else None


def _task_id(conn: Conn, ref: str | int) -> int:
    return get_task(conn, parse_task_ref(ref)).id


def _update(conn: Conn, ctx: Ctx, task_id: int, comment_id: int, body: str) -> ReviewComment:
    return reviews.update(conn, task_id, comment_id, body, ctx.now)


def _delete(conn: Conn, ctx: Ctx, task_id: int, comment_id: int) -> None:
    reviews.delete(conn, task_id, comment_id)


def _send(conn: Conn, ctx: Ctx, task_id: int, footer: str, single: NewComment | None) -> Sent:
    """The review sent, and the agent's workspace turn going on when the task reopened."""
    sent = review.send(conn, ctx, task_id, footer, single)
    if sent.reopened:
        work.reopen_turn(conn, task_id, sent.agent)
    return sent
