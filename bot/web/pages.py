"""The dashboard's pages (Jinja2, rendered on the server): login, board, task, agents,
activity, charts. Actions are buttons that call the REST API (``static/app.js``)."""

from __future__ import annotations

import dataclasses
import io
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from automation.turn_stop import can_stop
from bot.web import charts
from bot.web.api import MAX_ID
from bot.web.auth import COOKIE, page_viewer, principal_of
from bot.web.context import web_context
from bot.web.cost_view import spend_of, task_cost
from core.access import Principal
from core.agents import frame_path
from core.coordinator import watched
from core.errors import InvalidInput, NotFound, SwarmError
from core.event_kinds import EventKind, event_text, shown
from core.formats.jsonshape import iso_utc
from core.formats.text import MULTI_LINE, escape_controls, shorten
from core.formats.timetext import local_text
from core.history.events import EventFilter
from core.models import Event, Priority, Task, TaskStatus, parse_task_ref
from core.posts.health import notifier_health
from core.reports import counts
from core.reports import dashboard as queries
from core.reports.chart_style import hour_labels
from core.reviews import ReviewComment
from core.schedules.timing import parse_every
from core.tasks import allowed
from core.workspaces import FileDiff

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(str(files("bot.web").joinpath("templates"))))
templates.env.filters["when"] = lambda ts: local_text(ts) if ts else "-"
templates.env.filters["line"] = event_text
templates.env.filters["lines"] = lambda event: _event_lines(event)
templates.env.filters["iso"] = iso_utc
templates.env.filters["ago"] = lambda ts, now: _ago(now - ts)
templates.env.globals["holder_words"] = {  # the task page: who has it, by its state
    TaskStatus.assigned.value: "assigned to",
    TaskStatus.in_progress.value: "held by",  # also once a review reopened it
    TaskStatus.done.value: "done by",
    TaskStatus.failed.value: "failed with",
}
Page = Annotated[Principal, Depends(page_viewer)]
PER_COLUMN = 50  # cards per board column: the count says how many match in all
DONE_SHOWN = 20  # the Done column: the latest finished; "show all" opens the whole column
COLUMN_MAX = 500
COOKIE_DAYS = 30
ACTIVITY_MAX = 200  # events on the activity page
KIND_HINTS = (  # offered in the activity page's kind filter (any kind or family is accepted)
    "task",
    EventKind.TASK_DONE,
    EventKind.TASK_FAILED,
    EventKind.TASK_CREATED,
    "delivery",
    EventKind.DELIVERY_FAILED,
    "message",
    "agent",
    "alert",
    "gate",
    "input",
    "schedule",
    "campaign",
    "plan",
    "discord",
)


def _event_lines(event: Event) -> str:
    """The notifier's wording with the text's own line breaks kept (shown ``pre-wrap``);
    other control characters are escaped as in ``event_text``."""
    icon = shown(event.kind).icon
    return shorten(escape_controls(f"{icon} {event.text}", keep=MULTI_LINE), 4000)


def _ago(seconds: float) -> str:
    """``40 s ago``, ``5 min ago``, ``3 h ago``, ``2 d ago``."""
    whole = max(0, int(seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if whole >= 2 * size:
            return f"{whole // size} {unit} ago"
    return f"{whole} s ago"


def _lag(seconds: float) -> str:
    """``caught up``, ``40 s behind``, ``5 min behind``."""
    return _ago(seconds).replace(" ago", " behind") if seconds >= 1 else "caught up"


async def render(request: Request, name: str, who: Principal | None, **values: Any) -> HTMLResponse:
    """A page with what every page shows (who is logged in, the input pause, the newest
    event id: the page's live stream starts after it, so nothing written since is missed)."""
    ctx = web_context(request)
    newest = await ctx.service.history.last(1) if who is not None else []
    needs = values.get("needs")
    if who is not None and needs is None:  # the nav's "Needs you" badge
        needs = await ctx.service.inbox.needs()
    return templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "paused": ctx.service.kill_switch.reason(),
            "last_event": newest[-1].id if newest else 0,
            "needs_count": len(needs or ()),
            "agent_ids": list(ctx.service.agents),  # a Reassign's choices
            **values,
        },
    )


LOGIN_ERRORS = {  # ?error= names one of these; any other text is never shown
    "unknown-token": "Unknown, revoked or expired token.",
    "expired": "Your token was revoked or has expired: log in again.",
}


@router.get("/login")
async def login_page(request: Request, next: str = "/", error: str = "") -> HTMLResponse:
    """The token form."""
    return await render(
        request, "login.html", None, next=_safe_next(next), error=LOGIN_ERRORS.get(error, "")
    )


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the token; keep it in an HTTP-only cookie."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    target = _safe_next((form.get("next") or ["/"])[0])
    if not token or await principal_of(web_context(request), token) is None:
        return RedirectResponse(f"/login?error=unknown-token&next={quote(target)}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout() -> Response:
    """Forget the cookie."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
async def board_page(
    request: Request,
    who: Page,
    agent: str = "",
    role: str = "",
    priority: str = "",
    q: str = "",
    status: str = "",
) -> HTMLResponse:
    """Tasks in columns by status, filtered."""
    service = web_context(request).service
    flt = queries.TaskFilter(
        status=TaskStatus.parse(status) if status else None,
        agent=service.resolve_agent(agent).id if agent else None,
        role=role or None,
        priority=Priority.parse(priority) if priority else None,
        text=q or None,
    )
    per_column = COLUMN_MAX if status else PER_COLUMN  # one column asked for: show more
    capped = {} if status else {TaskStatus.done: DONE_SHOWN}
    columns = await service.reports.board(flt, per_column, capped)
    return await render(
        request,
        "board.html",
        who,
        columns=columns,
        per_column=per_column,
        capped={s.value: n for s, n in capped.items()},
        holders=await _holder_states(service),
        questions=await service.questions.open_questions(),
        now=service.clock.now(),
        needs=await service.inbox.needs(),
        agents=list(service.agents.values()),
        priorities=[p.name for p in Priority],
        filters={"agent": agent, "role": role, "priority": priority, "q": q, "status": status},
    )


async def _holder_states(service: SwarmService) -> dict[str, dict[str, Any]]:
    """Each agent's decided state as a card shows its holder's: the state, paused, open
    alerts, and the evidence (the reason: "hook: Stop", "no news for 14 m")."""
    return {
        row["id"]: {
            "state": row["state"],
            "paused": row["paused"],
            "alerts": row["alerts"],
            "evidence": row["evidence"],
        }
        for row in await service.roster.rows()
    }


@router.get("/board/card/{ref}")
async def card(request: Request, ref: str, who: Page) -> HTMLResponse:
    """One task's card (the board replaces a card with it when the task changes)."""
    service = web_context(request).service
    task = await service.tasks.get(ref)
    return await render(
        request,
        "card.html",
        who,
        task=task,
        holders=await _holder_states(service),
        questions=await service.questions.open_questions(),
        now=service.clock.now(),
    )


@router.get("/tasks/{ref}")
async def task_page(request: Request, ref: str, who: Page) -> HTMLResponse:
    """A task with its history, notes, handoff and diff stat."""
    service = web_context(request).service
    task = await service.tasks.get(ref)
    history = await service.history.events(task=task.id, limit=1000)
    handoff = await service.workspaces.handoff_shown(task.id, task.agent)
    return await render(
        request,
        "task.html",
        who,
        task=task,
        holders=await _holder_states(service),
        github=await service.github.link_of_task(task.id),  # its issue and PR, if any
        history=history,
        question=(await service.questions.open_questions()).get(task.id),
        now=service.clock.now(),
        notes=[e for e in history if e.kind in (EventKind.TASK_NOTE, EventKind.TASK_STARTED)],
        diffstat=_diffstat(history),
        handoff=handoff,
        reservations=await service.reservations.of_task(task.id),
        agents=list(service.agents),
        actions=[action.value for action in allowed(task)],  # the buttons its state allows
        review=await _review_view(service, task),
        transcript=await service.transcripts.of_task(task.id),  # its turns' words
        cost=await task_cost(service, task.id),  # its turns' tokens and dollars, its budget
    )


async def _review_view(service: SwarmService, task: Task) -> dict[str, Any]:
    """The task's diff per file and its pending review comments, placed under their lines
    (``left``: on the whole task, or on a line the diff does not show)."""
    changed: list[FileDiff] = []
    cut, error, worked = False, "", False
    try:
        parsed = await service.reviews.diff(task.id)
        changed, cut, worked = parsed.files, parsed.cut, True
    except NotFound:
        pass  # not worked on in a workspace: no diff, comments on the whole task only
    except SwarmError as exc:  # the worktree is gone, git refused
        error = str(exc)
    comments = await service.reviews.comments(task.id)
    shown = {(f.path, line.new) for f in changed for line in f.lines if line.kind != "del"}
    placed: dict[tuple[str | None, int | None], list[ReviewComment]] = {}
    for comment in comments:
        if (comment.path, comment.line) in shown:
            placed.setdefault((comment.path, comment.line), []).append(comment)
    return {
        "files": changed,
        "worked": worked,  # in a workspace (no files then: no change there)
        "cut": cut,
        "error": error,
        "count": len(comments),
        "placed": placed,
        "left": [c for c in comments if (c.path, c.line) not in shown],
    }


AGENT_CARD_LINES = 4  # a protocol agent's newest transcript rows on its card


@router.get("/agents")
async def agents_page(request: Request, who: Page) -> HTMLResponse:
    """The agents as cards."""
    ctx = web_context(request)
    rows = await watched.agent_rows(ctx.service)  # no coordinator: each state as last seen
    home = ctx.service.settings.home
    held = await ctx.service.reservations.held()
    for row in rows:
        row["reservations"] = [r for r in held if r.agent == row["id"]]
        agent = ctx.service.agents[row["id"]]
        finished = row["done"] + row["failed"]
        row["success"] = f"{row['done'] / finished:.0%}" if finished else "-"
        row["thumbnail"] = agent.delivery != "inbox" and frame_path(home, agent.id).is_file()
        row["stoppable"] = can_stop(agent)  # a Stop button: its route can end a turn
        if not row["thumbnail"] and agent.delivery != "inbox":  # its newest words instead
            row["lines"] = await ctx.service.transcripts.newest(agent.id, AGENT_CARD_LINES)
    nodes = (await ctx.service.status()).get("nodes", [])  # what `swarm status` lists
    now = ctx.service.clock.now()
    for node in nodes:
        node["ago"] = f"{max(0.0, now - float(node['heartbeat_at'])):.0f}"
    notifier = [  # the Discord notifier's loops, as `swarm status` shows them
        dataclasses.asdict(loop) | {"behind": _lag(loop.behind_s)}
        for loop in await notifier_health(ctx.service.posts)
    ]
    return await render(
        request, "agents.html", who, agents=rows, nodes=nodes, notifier=notifier, now=now
    )


@router.get("/api/docs")
async def api_docs(request: Request, who: Page) -> HTMLResponse:
    """The REST API's operations, from its OpenAPI description (no script, no CDN)."""
    spec = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "doc": op.get("description", ""),
            "params": [
                (p["name"], p["in"], p.get("required", False)) for p in op.get("parameters", [])
            ],
            "body": _body_fields(spec, op),
        }
        for path, methods in spec.get("paths", {}).items()
        for method, op in methods.items()
    ]
    return await render(request, "apidocs.html", who, operations=operations)


def _body_fields(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    """The fields of an operation's JSON body (from its schema's ``properties``)."""
    schema = (
        op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    )
    refs = [schema, *schema.get("anyOf", [])]
    for ref in (r.get("$ref", "") for r in refs):
        if ref:
            found = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
            return list(found.get("properties", {}))
    return []


@router.get("/agents/{agent}/frame.png")
async def agent_frame(request: Request, agent: str, _: Page) -> Response:
    """The watcher's latest frame of the agent's window, as a PNG."""
    service = web_context(request).service
    agent_id = service.resolve_agent(agent).id
    path = frame_path(service.settings.home, agent_id)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no frame of {agent_id} yet (the watcher writes {path})") from None
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, "PNG")
    return Response(out.getvalue(), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/activity")
async def activity_page(
    request: Request, who: Page, kind: str = "", grep: str = "", since: str = "", task: str = ""
) -> HTMLResponse:
    """The newest events first, in the Discord notifier's words, filtered like ``swarm
    events --kind/--grep/--since/--task``; a bad filter is said above an empty list."""
    filters = {"kind": kind, "grep": grep, "since": since, "task": task}
    error, events = "", []
    try:
        flt = _event_filter(request, filters)
        events = await web_context(request).service.history.find(
            flt, limit=ACTIVITY_MAX, newest=True
        )
    except (InvalidInput, NotFound) as exc:  # a bad --since or --task
        error = str(exc)
    return await render(
        request,
        "activity.html",
        who,
        events=list(reversed(events)),
        filters=filters,
        error=error,
        kind_hints=KIND_HINTS,
    )


@router.get("/activity/rows")
async def activity_rows(
    request: Request,
    who: Page,
    after: Annotated[int, Query(ge=0, le=MAX_ID)],
    upto: Annotated[int, Query(ge=0, le=MAX_ID)],
    kind: str = "",
    grep: str = "",
    since: str = "",
    task: str = "",
) -> HTMLResponse:
    """The rows of the events ``after`` < id <= ``upto`` that match the page's filters,
    newest first (the activity page adds them as the live stream says they exist)."""
    filters = {"kind": kind, "grep": grep, "since": since, "task": task}
    flt = dataclasses.replace(_event_filter(request, filters), until_id=upto)
    found = await web_context(request).service.history.find(
        flt, after_id=after, limit=ACTIVITY_MAX, newest=True
    )
    return await render(request, "activity_rows.html", who, events=list(reversed(found)))


def _event_filter(request: Request, filters: dict[str, str]) -> EventFilter:
    """The page's filters as the CLI reads them (InvalidInput names a bad one)."""
    service = web_context(request).service
    since = filters["since"].strip()
    task = filters["task"].strip()
    return EventFilter(
        since=service.clock.now() - parse_every(since) if since else None,
        kinds=tuple(k for k in filters["kind"].replace(",", " ").split() if k),
        grep=filters["grep"].strip(),
        task_id=parse_task_ref(task) if task else None,
    )


@router.get("/charts")
async def charts_page(request: Request, who: Page, hours: int = 24) -> HTMLResponse:
    """What happened per hour and per agent (``core.reports.counts``, the count of
    ``swarm stats`` and the summary), delivery latency percentiles, what the turns cost."""
    service = web_context(request).service
    hours = max(1, min(hours, 24 * 14))
    now = service.clock.now()
    since = now - hours * queries.HOUR
    book = service.reports
    found = await book.counts(since, now)
    latency = await book.delivery_latency(since)
    return await render(
        request,
        "charts.html",
        who,
        hours=hours,
        since=since,
        now=now,
        tasks=counts.tasks_text(found.total),
        deliveries=counts.deliveries_text(found.total),
        latency=latency,
        hourly=_hourly_chart(found.per_hour, since, now),
        by_agent=_agent_chart(found.per_agent, list(service.agents)),
        latency_chart=_latency_chart(latency),
        spend=await spend_of(service, since, now),
    )


HOURLY = ("done", "failed", "cancelled", "reopened", "requeued")  # the series per hour
PER_AGENT = (*HOURLY, "delivery_failed")  # and per agent


def _hourly_chart(per_hour: dict[int, dict[str, int]], since: float, now: float) -> str:
    start = int(since // queries.HOUR) * int(queries.HOUR)
    hours = list(range(start, int(now) + 1, int(queries.HOUR)))
    return charts.bar_chart(
        "Tasks per hour",
        [local_text(h, "%a %d %H:00") for h in hours],
        [
            charts.Series(_label(name), [per_hour.get(h, {}).get(name, 0) for h in hours])
            for name in HOURLY
        ],
        charts.Axes("hour (the server's local time)", "tasks", empty="nothing happened"),
        tick_labels=hour_labels(hours),
    )


def _agent_chart(per_agent: dict[str, dict[str, int]], agents: list[str]) -> str:
    agents = agents + sorted(set(per_agent) - set(agents))
    return charts.bar_chart(
        "Per agent",
        agents,
        [
            charts.Series(_label(name), [per_agent.get(a, {}).get(name, 0) for a in agents])
            for name in PER_AGENT
        ],
        charts.Axes("agent", "count", empty="nothing happened"),
    )


def _label(name: str) -> str:
    """A count's name in a chart's legend (its colour is chosen by it)."""
    return name.replace("_", " ")


def _latency_chart(latency: dict[str, dict[str, float]]) -> str:
    agents = list(latency)
    return charts.bar_chart(
        "Delivery latency per agent: queued to delivered",
        agents,
        [charts.Series(p, [latency[a][p] for a in agents]) for p in ("p50", "p90", "p99")],
        charts.Axes("agent", "seconds", counts=False, unit="s", empty="no delivery"),
    )


def _diffstat(history: list[Event]) -> str | None:
    """The ``--stat`` of the task's last recorded commits, if any."""
    for event in reversed(history):
        if event.kind == EventKind.TASK_COMMITS and event.data and event.data.get("stat"):
            return str(event.data["stat"])
    return None


def _safe_next(target: str) -> str:
    """Only a path of this site (never ``//host`` or a full URL)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/inbox")
async def needs_page(request: Request, who: Page) -> HTMLResponse:
    """What needs a person, oldest first, answerable in place ("Needs you")."""
    service = web_context(request).service
    return await render(
        request, "needs.html", who, needs=await service.inbox.needs(), now=service.clock.now()
    )


@router.get("/inbox/panel")
async def needs_panel(request: Request, who: Page) -> HTMLResponse:
    """The "Needs you" panel alone (the pages replace theirs with it when an event comes)."""
    service = web_context(request).service
    return await render(
        request, "needs_panel.html", who, needs=await service.inbox.needs(), now=service.clock.now()
    )


@router.get("/inbox/{ref}")
async def need_page(request: Request, ref: str, who: Page) -> HTMLResponse:
    """One item whole (a long prompt's panel shows its head and tail), answerable in place."""
    service = web_context(request).service
    need = await service.inbox.item(ref)
    return await render(request, "need.html", who, need=need, now=service.clock.now())
