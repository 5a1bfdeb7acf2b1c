"""The REST API under ``/api/v1``: thin routes over ``SwarmService``, like the CLI's commands.

Reads need any token; actions need an admin token and are audited. Errors are the CLI's
texts as ``{"error": "..."}`` (see ``bot.web.errors``).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, BeforeValidator, Field

from automation.desktop.watch import screenshot_png
from automation.turn_stop import stop_and_record
from bot.web.auth import acting, presented_token, principal_of, require_admin, require_viewer
from bot.web.context import web_context
from bot.web.cost_view import task_cost_json
from bot.web.events import sse_stream
from core.access import Principal
from core.coordinator import watched
from core.costs.ledger import spend_json
from core.errors import InvalidInput
from core.formats.jsonshape import shaped
from core.models import TaskSpec, TaskStatus, parse_task_ref
from core.posts.health import with_notifier
from core.reports.dashboard import PAGE_MAX, TaskFilter


class ShapedJSON(JSONResponse):
    """The CLI's ``--json`` shape (core/formats/jsonshape.py): times as ISO-8601 UTC text."""

    def render(self, content: Any) -> bytes:
        return super().render(shaped(content))


MAX_ID = 2**63 - 1  # the largest id the database holds: a larger number is a 422, not a 500
Id = Query(ge=0, le=MAX_ID)
router = APIRouter(prefix="/api/v1", tags=["swarm"], default_response_class=ShapedJSON)
Viewer = Annotated[Principal, Depends(require_viewer)]
Admin = Annotated[Principal, Depends(require_admin)]


class TaskIn(BaseModel):
    """A new task: the fields of ``swarm task add``."""

    title: str
    details: str = ""
    priority: str = "normal"
    role: str | None = None
    capabilities: list[str] = Field(default_factory=list)
    agent: str | None = None
    after: list[str] = Field(default_factory=list)


class ReportIn(BaseModel):
    """A report on a task: a note (start, done), a reason (fail), ``force``."""

    note: str = ""
    reason: str = ""
    force: bool = False


class AssignIn(BaseModel):
    """The agent a task is given to."""

    agent: str


class MessageIn(BaseModel):
    """A message to one agent, or (without ``agent``) to all agents or one role's."""

    text: str
    agent: str | None = None
    role: str | None = None


class PauseIn(BaseModel):
    """Why desktop input is paused."""

    reason: str = ""


@router.get("/status")
async def status(request: Request, _: Viewer) -> dict[str, Any]:
    """Tasks per status, deliveries per state, agents, the input pause, the Discord
    notifier's lag and failures."""
    service = web_context(request).service
    return await with_notifier(service.posts, await service.status())


@router.get("/tasks")
async def list_tasks(
    request: Request,
    _: Viewer,
    status: str | None = None,
    agent: str | None = None,
    campaign: Annotated[int | None, Id] = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
) -> dict[str, Any]:
    """Tasks newest first, filtered; ``next_cursor`` gives the next page."""
    service = web_context(request).service
    flt = TaskFilter(
        status=TaskStatus.parse(status) if status else None,
        agent=service.resolve_agent(agent).id if agent else None,
        campaign=campaign,
        text=q or None,
    )
    before = parse_task_ref(cursor) if cursor else None
    found = await service.reports.find_tasks(flt, before, limit)
    more = len(found) == limit
    return {
        "tasks": [t.to_json() for t in found],
        "next_cursor": found[-1].ref if more and found else None,
    }


@router.get("/tasks/{ref}")
async def get_task(request: Request, ref: str, _: Viewer) -> dict[str, Any]:
    """One task with its history and what its turns cost (``cost``, ``turns``, ``budget``,
    ``waits``: as ``swarm task show --json``)."""
    service = web_context(request).service
    task = await service.tasks.get(ref)
    history = await service.history.events(task=task.id, limit=1000)
    cost = await task_cost_json(service, task.id)
    return {**task.to_json(), "events": [e.to_json() for e in history], **cost}


@router.get("/costs")
async def costs(
    request: Request, _: Viewer, hours: Annotated[int, Query(ge=1, le=24 * 31)] = 24
) -> dict[str, Any]:
    """What the agents' turns of the last ``hours`` cost, per task, agent, account, CLI,
    model, UTC day and campaign (``swarm stats --json``'s ``cost``), the most spent first."""
    service = web_context(request).service
    now = service.clock.now()
    since = now - hours * 3600
    return {"since": since, "until": now, **spend_json(await service.costs.spend(since))}


@router.post("/tasks", status_code=201)
async def create_task(request: Request, body: TaskIn, who: Admin) -> dict[str, Any]:
    """Create a task (as ``swarm task add``)."""
    service = web_context(request).service
    spec = TaskSpec(
        title=body.title,
        details=body.details,
        priority=body.priority,
        role=body.role,
        capabilities=tuple(body.capabilities),
        agent=body.agent,
        after=tuple(body.after),
    )
    task = await acting(request, who, service.tasks.create(spec, who.actor))
    return task.to_json()


@router.post("/tasks/{ref}/start")
async def start_task(
    request: Request, ref: str, who: Admin, body: ReportIn | None = None
) -> dict[str, Any]:
    """Report that the holder has begun (a person reports for the holder)."""
    body = body or ReportIn()
    service = web_context(request).service
    await acting(request, who, service.tasks.start(ref, who.actor, body.note, force=body.force))
    return await _task_json(request, ref)


@router.post("/tasks/{ref}/done")
async def done_task(
    request: Request, ref: str, who: Admin, body: ReportIn | None = None
) -> dict[str, Any]:
    """Report the task done."""
    body = body or ReportIn()
    service = web_context(request).service
    await acting(request, who, service.tasks.complete(ref, who.actor, body.note, force=body.force))
    return await _task_json(request, ref)


@router.post("/tasks/{ref}/fail")
async def fail_task(request: Request, ref: str, body: ReportIn, who: Admin) -> dict[str, Any]:
    """Report the task failed, with a reason."""
    if not body.reason.strip():
        raise InvalidInput("a failure needs a reason")
    service = web_context(request).service
    await acting(request, who, service.tasks.fail(ref, who.actor, body.reason, force=body.force))
    return await _task_json(request, ref)


@router.post("/tasks/{ref}/cancel")
async def cancel_task(request: Request, ref: str, who: Admin) -> dict[str, Any]:
    """Stop a task that has not finished."""
    await acting(request, who, web_context(request).service.tasks.cancel(ref, who.actor))
    return await _task_json(request, ref)


@router.post("/tasks/{ref}/retry")
async def retry_task(request: Request, ref: str, who: Admin) -> dict[str, Any]:
    """Give a failed or cancelled task new attempts."""
    await acting(request, who, web_context(request).service.tasks.retry(ref, who.actor))
    return await _task_json(request, ref)


@router.post("/tasks/{ref}/assign")
async def assign_task(request: Request, ref: str, body: AssignIn, who: Admin) -> dict[str, Any]:
    """Give the task to one agent."""
    service = web_context(request).service
    await acting(request, who, service.tasks.assign(ref, body.agent, who.actor))
    return await _task_json(request, ref)


@router.get("/agents")
async def agents(request: Request, _: Viewer) -> list[dict[str, Any]]:
    """Each agent with its state, load and current tasks (``"stale": true`` while no
    coordinator runs: the state is the one last seen, at ``since``)."""
    return await watched.agent_rows(web_context(request).service)


@router.post("/agents/{agent}/pause")
async def pause_agent(request: Request, agent: str, who: Admin) -> dict[str, Any]:
    """The agent gets nothing new until resumed."""
    service = web_context(request).service
    changed = await acting(request, who, service.roster.set_paused(agent, True, who.actor))
    return {"agent": service.resolve_agent(agent).id, "paused": True, "changed": changed}


@router.post("/agents/{agent}/resume")
async def resume_agent(request: Request, agent: str, who: Admin) -> dict[str, Any]:
    """The agent takes tasks again."""
    service = web_context(request).service
    changed = await acting(request, who, service.roster.set_paused(agent, False, who.actor))
    return {"agent": service.resolve_agent(agent).id, "paused": False, "changed": changed}


@router.post("/agents/{agent}/stop")
async def stop_agent(request: Request, agent: str, who: Admin) -> dict[str, Any]:
    """Stop the agent's running turn now, its task kept (as ``swarm agents stop``: the
    protocol host's cancel, the CLI's interrupt key in its tmux pane); ``stopped`` false
    when no turn was running. 409 when its route cannot stop a turn or it runs on a node."""
    service = web_context(request).service
    call = stop_and_record(service, agent, who.actor, on_coordinator=True)
    found, stop = await acting(request, who, call)
    return {
        "agent": found.id,
        "stopped": stop.done,
        "how": stop.how,
        "text": f"{found.id}: {stop.said}",
    }


@router.get(
    "/agents/{agent}/screenshot",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the PNG"}},
)
async def agent_screenshot(request: Request, agent: str, who: Admin) -> Response:
    """A full-resolution PNG of the agent's watched region, grabbed now from this machine's
    screen (admins only, audited, never cached)."""

    found = web_context(request).service.resolve_agent(agent)
    png = await acting(request, who, asyncio.to_thread(screenshot_png, found))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/messages", status_code=201)
async def send_message(request: Request, body: MessageIn, who: Admin) -> dict[str, Any]:
    """Queue a message for one agent, or for all (``role``: one role's)."""
    service = web_context(request).service
    if body.agent:
        call = service.messages.send(body.agent, body.text, who.actor)
    else:
        call = service.messages.broadcast(body.text, who.actor, body.role)
    message_id = await acting(request, who, call)
    deliveries = await service.messages.deliveries(message_id)
    return {"message": message_id, "agents": sorted(d.agent for d in deliveries)}


@router.post("/input/pause")
async def pause_input(request: Request, who: Admin, body: PauseIn | None = None) -> dict[str, Any]:
    """Engage the kill switch: no desktop input until resumed."""
    service = web_context(request).service
    await acting(request, who, service.pause_input(who.actor, (body or PauseIn()).reason))
    return {"input_paused": service.kill_switch.reason()}


@router.post("/input/resume")
async def resume_input(request: Request, who: Admin) -> dict[str, Any]:
    """Release the kill switch."""
    service = web_context(request).service
    released = await acting(request, who, service.resume_input(who.actor))
    return {"input_paused": service.kill_switch.reason(), "released": released}


@router.get("/events")
async def events(
    request: Request,
    _: Viewer,
    after: Annotated[int, Id] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    task: str | None = None,
) -> dict[str, Any]:
    """Events after ``after``, oldest first; ``last_id`` is the cursor of the next call."""
    found = await web_context(request).service.history.events(after, limit, task)
    return {"events": [e.to_json() for e in found], "last_id": found[-1].id if found else after}


@router.get("/events/stream")
async def event_stream(
    request: Request, _: Viewer, after: Annotated[int | None, Id] = None
) -> StreamingResponse:
    """Server-sent events: each new event (``Last-Event-ID`` or ``after`` resumes)."""
    last = request.headers.get("last-event-id", "")
    start = int(last) if last.isdigit() and len(last) < 19 else after
    ctx = web_context(request)
    token = presented_token(request)[0]

    async def allowed() -> bool:  # a revoked or expired token ends the stream
        return token is not None and await principal_of(ctx, token) is not None

    return StreamingResponse(
        sse_stream(ctx.hub, start, allowed, recheck_s=ctx.hub.recheck_s),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _task_json(request: Request, ref: str) -> dict[str, Any]:
    task = await web_context(request).service.tasks.get(ref)
    return task.to_json()


# -- what needs a person ("Needs you": core/inbox/needs.py) ------------------------------


class ReplyIn(BaseModel):
    """The answer to a question."""

    text: str


def _option_key(value: Any) -> Any:
    """An option's key as given: ``"2"``, or its number ``2`` (a JSON number, not a bool)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


OptionKey = Annotated[str, BeforeValidator(_option_key)]


class DecisionIn(BaseModel):
    """A decision: a prompt's option (default: approve its first, reject its last), by its
    key or number, or a gate's note."""

    option: OptionKey | None = None
    note: str = ""


class OptionIn(BaseModel):
    """The key of a prompt's option (``"2"`` or ``2``)."""

    option: OptionKey


def _not_a_bool(value: Any) -> Any:
    """A number or its text as given; a JSON boolean is no amount (pydantic reads 1.0)."""
    if isinstance(value, bool):
        raise ValueError("an amount of dollars, not a boolean")
    return value


class ActIn(BaseModel):
    """The agent a Reassign gives the item's task(s) to (only ``reassign`` takes one), the
    dollars a Raise makes a spent budget (only ``raise`` takes them: above the spend)."""

    agent: str | None = None
    dollars: Annotated[float, BeforeValidator(_not_a_bool)] | None = None


@router.get("/inbox")
async def inbox(request: Request, _: Viewer) -> dict[str, Any]:
    """Open questions, permission prompts, gates, draft plans and open alerts, oldest
    first, each with its reference (``Q-3``, ``R-7``, ``T-12``, ``P-3``, ``A-2``) and actions."""
    found = await web_context(request).service.inbox.needs()
    return {"items": [n.to_json() for n in found], "count": len(found)}


@router.get("/inbox/{ref}")
async def inbox_item(request: Request, ref: str, _: Viewer) -> dict[str, Any]:
    """One item with its whole text (``R-7``: also once decided or closed)."""
    return (await web_context(request).service.inbox.item(ref)).to_json()


@router.post("/inbox/{ref}/reply")
async def inbox_reply(request: Request, ref: str, body: ReplyIn, who: Admin) -> dict[str, Any]:
    """Answer question ``Q-3`` (the answer goes to its agent)."""
    service = web_context(request).service
    question = await acting(request, who, service.inbox.reply(ref, body.text, who.actor))
    return question.to_json()


@router.post("/inbox/{ref}/approve")
async def inbox_approve(
    request: Request, ref: str, who: Admin, body: DecisionIn | None = None
) -> dict[str, Any]:
    """Approve a gate or a plan, or choose a prompt's first option (or ``option``)."""
    body = body or DecisionIn()
    service = web_context(request).service
    call = service.inbox.approve(ref, who.actor, body.option, body.note)
    return (await acting(request, who, call)).to_json()


@router.post("/inbox/{ref}/reject")
async def inbox_reject(
    request: Request, ref: str, who: Admin, body: DecisionIn | None = None
) -> dict[str, Any]:
    """Reject a gate (it and its dependents are cancelled) or a plan (discarded), or choose
    a prompt's last option (or ``option``)."""
    body = body or DecisionIn()
    service = web_context(request).service
    call = service.inbox.reject(ref, who.actor, body.option, body.note)
    return (await acting(request, who, call)).to_json()


@router.post("/inbox/{ref}/{action}")
async def inbox_act(
    request: Request,
    ref: str,
    action: Literal[
        "retry",
        "dismiss",
        "handon",
        "reassign",
        "nudge",
        "cancel",
        "raise",
        "accept",
        "fail",
        "allow",
        "deny",
    ],
    who: Admin,
    body: ActIn | None = None,
) -> dict[str, Any]:
    """Retry or dismiss a failed delivery (``D-5``); hand on, reassign (``{"agent":
    "Agent-2"}``), nudge or cancel the task of a stalled or limited agent (``A-2``,
    ``T-3``); reassign or cancel a stranded task; raise a task's or a campaign's spent
    budget (``B-2``, ``{"dollars": 5.0}``) or cancel what it covers."""
    service = web_context(request).service
    body = body or ActIn()
    call = service.inbox.act(ref, action, who.actor, body.agent, body.dollars)
    return (await acting(request, who, call)).to_json()


@router.post("/prompts/{prompt_id}/decide")
async def decide_prompt(
    request: Request, prompt_id: Annotated[int, Path(ge=0, le=MAX_ID)], body: OptionIn, who: Admin
) -> dict[str, Any]:
    """Choose option ``option`` of an open permission prompt; once (409 names who decided)."""
    service = web_context(request).service
    call = service.inbox.decide_prompt(prompt_id, body.option, who.actor)
    return (await acting(request, who, call)).to_json()


# -- reviews: comments on lines of a task's diff, sent to its agent as one prompt ----------


class CommentIn(BaseModel):
    """A review comment: on line ``line`` (the new side's number) of ``path``, or, without
    them, on the whole task."""

    text: str
    path: str | None = None
    line: int | None = Field(default=None, ge=1, le=MAX_ID)


class CommentEdit(BaseModel):
    """A pending comment's new text."""

    text: str


CommentId = Annotated[int, Path(ge=0, le=MAX_ID)]


@router.get("/tasks/{ref}/review/comments")
async def review_comments(request: Request, ref: str, _: Viewer) -> dict[str, Any]:
    """The task's pending review comments (not sent yet), by file and line."""
    found = await web_context(request).service.reviews.comments(ref)
    return {"comments": [c.to_json() for c in found], "count": len(found)}


@router.post("/tasks/{ref}/review/comments", status_code=201)
async def add_review_comment(
    request: Request, ref: str, body: CommentIn, who: Admin
) -> dict[str, Any]:
    """Add a pending comment on a line of the task's diff (or on the whole task)."""
    reviews = web_context(request).service.reviews
    call = reviews.add(ref, who.actor, body.text, body.path, body.line)
    return (await acting(request, who, call)).to_json()


@router.patch("/tasks/{ref}/review/comments/{comment_id}")
async def edit_review_comment(
    request: Request, ref: str, comment_id: CommentId, body: CommentEdit, who: Admin
) -> dict[str, Any]:
    """Change a pending comment's text."""
    reviews = web_context(request).service.reviews
    call = reviews.edit(ref, comment_id, body.text, who.actor)
    return (await acting(request, who, call)).to_json()


@router.delete("/tasks/{ref}/review/comments/{comment_id}")
async def delete_review_comment(
    request: Request, ref: str, comment_id: CommentId, who: Admin
) -> dict[str, Any]:
    """Remove a pending comment."""
    reviews = web_context(request).service.reviews
    await acting(request, who, reviews.delete(ref, comment_id, who.actor))
    return {"deleted": comment_id}


@router.post("/tasks/{ref}/review/send")
async def send_review(request: Request, ref: str, who: Admin) -> dict[str, Any]:
    """Send every pending comment to the task's agent as one prompt; the task goes back in
    progress (a done task is reopened for the same agent)."""
    reviews = web_context(request).service.reviews
    return (await acting(request, who, reviews.send(ref, who.actor))).to_json()
