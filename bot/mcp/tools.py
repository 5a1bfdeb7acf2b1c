"""The tools of swarm's MCP server, listed in :data:`TOOLS` (the one place tools are added).

At most 10 tools, with short descriptions: their schemas cost every agent context, and Cursor
reads only the first 40 tools across all servers. Each has a CLI twin (an MCP process can
die and the work must go on): ``my_task`` ~ ``swarm task show``, ``report`` ~ ``swarm task
start|done|fail|note``, ``ask_human`` ~ ``swarm ask``, ``message`` ~ ``swarm send``,
``handoff_note`` ~ ``swarm task note``, ``reserve`` / ``release`` / ``conflicts`` ~ ``swarm
reserve|release|conflicts``. The caller is never an argument
(:mod:`bot.mcp.identity`); errors are the CLI's one-line texts (:func:`bot.errors.describe`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from bot.errors import describe
from core.delivery import captain_of
from core.errors import InvalidInput, InvalidState, MissingDependency, NotFound, UnknownTask
from core.models import ACTIVE, Task
from core.reservations import released_text

if TYPE_CHECKING:
    from bot.mcp.identity import Backend
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
MAX_WAIT_S = 600  # ask_human waits at most this long for the answer
POLL_S = 0.5  # how often a waiting ask_human reads the question (another process answers)
ACTIONS = ("start", "done", "fail", "note")


@dataclass(frozen=True)
class Tool:
    """One tool: its function (parameters become the schema), name and description."""

    fn: Callable[..., Any]
    name: str
    description: str


@contextlib.asynccontextmanager
async def calling(ctx: Context) -> AsyncIterator[tuple[SwarmService, str]]:
    """The service and the calling agent; any error the user can act on leaves as one line
    (a ToolError: the call's result, marked as an error)."""
    backend = cast("Backend", ctx.request_context.lifespan_context)
    service = None
    try:
        service = await backend.service()
        me = await backend.caller(ctx.request_context.request)
        yield service, me
    except ToolError:
        raise
    except (UnknownTask, MissingDependency) as exc:  # as the CLI says it: the wrong home?
        where = f" (in {service.settings.database_shown})" if service is not None else ""
        raise ToolError(f"{describe(exc)}{where}") from None
    except Exception as exc:
        text = describe(exc)
        if text is None:
            log.exception("MCP tool failed")
            text = f"internal error ({type(exc).__name__}): see the swarm log"
        raise ToolError(text) from None


async def current(service: SwarmService, me: str, ref: str) -> Task:
    """The task ``ref`` names, else the one active task ``me`` holds."""
    if ref.strip():
        return await service.tasks.get(ref)
    mine = [t for t in await service.tasks.newest(agent=me, open_only=True) if t.status in ACTIVE]
    if not mine:
        raise InvalidState(f"{me} holds no task now: a task comes as a prompt")
    if len(mine) > 1:
        refs = ", ".join(t.ref for t in mine)
        raise InvalidInput(f"{me} holds {refs}: say which with task")
    return mine[0]


async def _readable(service: SwarmService, me: str, task: Task) -> None:
    """InvalidInput unless ``task`` is ``me``'s own or one its own wait for: another agent's
    details, notes and reservations are not its to read (its door says the same of ``task
    show``; the tools that act on a task refuse another's as the CLI does)."""
    if not await service.tasks.readable_by(task, me):
        raise InvalidInput(f"{task.ref} is not {me}'s: my_task shows its own tasks only")


def _line(task: Task) -> str:
    return f"{task.ref} [{task.status.value}, {task.priority.name}] {task.title}"


async def my_task(ctx: Context, task: str = "") -> str:
    """Your current task: title, details, handoff from a previous agent, and the notes of the
    tasks it depends on."""
    async with calling(ctx) as (service, me):
        found = await current(service, me, task)
        await _readable(service, me, found)
        lines = [_line(found)]
        if found.details.strip():
            lines += ["", found.details.rstrip()]
        deps = [await service.tasks.get(dep) for dep in found.after]
        if deps:
            lines += ["", "Depends on:"]
            lines += [f"- {_line(d)}" + (f": {d.note}" if d.note else "") for d in deps]
        handed = await service.workspaces.handoff(found.id, me)
        if handed:
            lines += ["", handed]
        question = await service.questions.open_question(found.id)
        if question is not None:
            lines += ["", f"Waiting for an answer to question {question.id}: {question.text}"]
        held = await service.reservations.of_task(found.id)
        if held:
            lines += ["", "File reservations:"]
            lines += [f"- {r.shown()}" for r in held]
        return "\n".join(lines)


async def report(
    ctx: Context, action: str, note: str = "", evidence: str = "", task: str = ""
) -> str:
    """Report on your task: start (when you begin), note (progress), done or fail (note says
    why). Evidence: test output, a commit, a link."""
    async with calling(ctx) as (service, me):
        if action not in ACTIONS:
            raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
        found = await current(service, me, task)
        text = f"{note} (evidence: {evidence})" if note and evidence else note or evidence
        calls = {
            "start": lambda: service.tasks.start(found.id, me, text),
            "done": lambda: service.tasks.complete(found.id, me, text),
            "fail": lambda: service.tasks.fail(found.id, me, text),
            "note": lambda: service.tasks.note(found.id, me, text),
        }
        await calls[action]()
        return _line(await service.tasks.get(found.id))


async def ask_human(ctx: Context, question: str, wait_s: int = 0, task: str = "") -> str:
    """Ask a person about your task (the task waits for the answer). wait_s (max 600): wait
    that long for the answer here; else it comes to you later like any message."""
    async with calling(ctx) as (service, me):
        if not 0 <= wait_s <= MAX_WAIT_S:
            raise InvalidInput(f"wait_s must be 0 to {MAX_WAIT_S} seconds")
        found = await current(service, me, task)
        backend = cast("Backend", ctx.request_context.lifespan_context)
        with backend.waiting(me) if wait_s else contextlib.nullcontext():
            asked = await service.questions.ask(found.id, question, me, waited=wait_s > 0)
            deadline = asyncio.get_running_loop().time() + wait_s
            while asked.open and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(POLL_S)  # a person answers from another process
                asked = await service.questions.question(asked.id)
        if asked.open:
            return (
                f"{found.ref}: question {asked.id} asked; {found.ref} waits for an answer "
                f"(the answer comes to {me} like any message)"
            )
        await service.questions.take_answer(asked.id, me)  # given here: not pasted too
        return f"answer from {asked.answered_by}: {asked.answer}"


async def message(ctx: Context, to: str, text: str) -> str:
    """Message another agent, or the captain (to="captain")."""
    async with calling(ctx) as (service, me):
        agent = to
        if to.strip().lower() == "captain":
            agent = captain_of(service.agents)
            if agent not in service.agents:
                raise NotFound("no agent is captain (captain = true in the agents file)")
        message_id = await service.messages.send(agent, text, me)
        return f"message {message_id} queued for {service.ctx(me).agent(agent).id}"


async def handoff_note(ctx: Context, text: str, task: str = "") -> str:
    """Leave a note on your task for whoever takes it over (what is done, what remains)."""
    async with calling(ctx) as (service, me):
        found = await current(service, me, task)
        await service.tasks.note(found.id, me, text)
        return f"note added to {found.ref}"


async def reserve(
    ctx: Context, patterns: list[str], shared: bool = False, ttl_minutes: int = 0
) -> str:
    """Reserve files for your task (paths or globs: src/api/**) before changing them; refused,
    naming the holder, when another agent holds an overlapping one. shared: others may too."""
    async with calling(ctx) as (service, me):
        if ttl_minutes < 0:
            raise InvalidInput("ttl_minutes must be 0 (for the task) or more")
        made = await service.reservations.reserve(
            me, patterns, exclusive=not shared, ttl_s=ttl_minutes * 60 or None
        )
        return "\n".join(r.reserved_text() for r in made)


async def release(ctx: Context, patterns: list[str] | None = None) -> str:
    """Release your file reservations (all of them without patterns); done, fail and a task
    taken from you release them too."""
    async with calling(ctx) as (service, me):
        return released_text(me, await service.reservations.release(me, patterns))


async def conflicts(ctx: Context, paths: list[str]) -> str:
    """Whose reservations these paths or globs touch (yours left out)."""
    async with calling(ctx) as (service, me):
        found = await service.reservations.conflicts(paths, agent=me)
        if not found:
            return "no reservation touches " + ", ".join(paths)
        return "\n".join(c.describe() for c in found)


# The tools, in the order an agent lists them: keep the list at 10 tools or fewer.
TOOLS: tuple[Tool, ...] = tuple(
    Tool(fn, fn.__name__, " ".join((fn.__doc__ or "").split()))
    for fn in (my_task, report, ask_human, message, handoff_note, reserve, release, conflicts)
)
