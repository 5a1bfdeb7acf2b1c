"""The ``swarm`` subcommands: argument definitions and thin handlers."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from bot import cli_format as fmt
from bot.cli_args import LIMIT_MAX, count_arg
from bot.cli_output import emit_json, json_line
from bot.cli_style import painter
from core.coordinator_lock import last_heartbeat, running_coordinator
from core.jsonshape import iso_utc
from core.models import Event, Priority, Task, TaskSpec, TaskStatus

if TYPE_CHECKING:
    from core.questions import Question
    from core.service import SwarmService

PRIORITIES = [p.name for p in Priority]
STATUSES = [s.value for s in TaskStatus]


def register(sub: Any) -> None:
    """Add every subcommand to the parser's subparsers."""
    _agents(sub)
    _task(sub)
    p = sub.add_parser("send", help="message one agent")
    p.add_argument("agent", help="agent id, e.g. Agent-3")
    p.add_argument("text", help="the message (quote it)")
    _json_option(p)
    p.set_defaults(handler=cmd_send)
    p = sub.add_parser("broadcast", help="message every agent (or one role)")
    p.add_argument("text")
    p.add_argument("--role", help="only agents with this role")
    _json_option(p)
    p.set_defaults(handler=cmd_broadcast)
    p = sub.add_parser("status", help="overview of tasks, deliveries and agents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)
    p = sub.add_parser("events", help="what happened, oldest first")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    p.add_argument("--limit", type=count_arg(LIMIT_MAX), default=50,
                   help="how many recent events (default 50)")
    p.add_argument("--task", help="only events of this task")
    p.add_argument("--since", metavar="AGE", help="only the last AGE: 3600, 30m, 2h, 7d")
    p.add_argument("--kind", action="append", metavar="KIND",
                   help="only this kind (task.done) or family (task); repeatable")
    p.add_argument("--grep", metavar="TEXT", help="only events whose text contains TEXT")
    p.add_argument("--json", action="store_true",
                   help="a JSON array (with --follow: one JSON object per line)")
    p.set_defaults(handler=cmd_events)
    p = sub.add_parser("pause", help="kill switch: stop all desktop input now")
    p.add_argument("reason", nargs="?", default="", help="why (shown to others)")
    p.set_defaults(handler=cmd_pause)
    p = sub.add_parser("resume", help="release the kill switch")
    p.set_defaults(handler=cmd_resume)
    p = sub.add_parser("gc", help="archive and delete old history and leftover files")
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    p.add_argument("--keep-days", type=count_arg(36_500), metavar="DAYS",
                   help="keep this many days (default $SWARM_KEEP_DAYS or 90)")
    _json_option(p)
    p.set_defaults(handler=cmd_gc)
    from bot import cli_ai, cli_ask, cli_config, cli_db, cli_doctor, cli_node, cli_run

    cli_ask.register(sub)
    cli_config.register(sub)
    cli_doctor.register(sub)
    cli_run.register(sub)
    cli_node.register(sub)
    cli_db.register(sub)
    cli_ai.register(sub)
    from bot import cli_watch, cli_workspaces

    cli_watch.register(sub)
    from bot import cli_web, cli_workflows

    cli_web.register(sub)
    cli_workflows.register(sub)
    cli_workspaces.register(sub)
    from bot import cli_completion

    cli_completion.register(sub)


def _agents(sub: Any) -> None:
    p = sub.add_parser("agents", help="list agents; pause, resume, check or calibrate them")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_agents)
    asub = p.add_subparsers(dest="agents_command", metavar="ACTION")
    for name, paused in (("pause", True), ("resume", False)):
        what = "no new tasks" if paused else "take tasks again"
        q = asub.add_parser(name, help=f"{name} one agent ({what})")
        q.add_argument("agent")
        q.set_defaults(handler=cmd_agent_pause, paused=paused)
    from bot import cli_desktop, cli_workspaces

    cli_desktop.register(asub)
    cli_workspaces.register_agents(asub)


def _task(sub: Any) -> None:
    p = sub.add_parser("task", help="create, list and report on tasks")
    tsub = p.add_subparsers(dest="task_command", metavar="ACTION", required=True)
    q = tsub.add_parser("add", aliases=["create"], help="create a task (alias: create, "
                                                       "as /task create)")
    q.add_argument("title")
    q.add_argument("--details", default="", help="longer description")
    q.add_argument("--priority", default="normal", help=f"one of {', '.join(PRIORITIES)}")
    q.add_argument("--role", help="only agents with this role may take it")
    q.add_argument("--capability", action="append", default=[], metavar="CAP",
                   help="a capability the agent needs (repeatable)")
    q.add_argument("--agent", help="pin to one agent")
    q.add_argument("--after", nargs="+", default=[], metavar="ID", help="tasks to finish first")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_task_add)
    q = tsub.add_parser("list", help="list unfinished tasks, newest first (--all: every task)")
    q.add_argument("--status", help=f"one of {', '.join(STATUSES)}")
    q.add_argument("--all", action="store_true", help="finished tasks too")
    q.add_argument("--agent")
    q.add_argument("--limit", type=count_arg(LIMIT_MAX), default=200,
                   help="at most this many (default 200)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_task_list)
    q = tsub.add_parser("show", help="one task with its history")
    q.add_argument("id")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_task_show)
    _task_reports(tsub)


def _json_option(parser: Any) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _force_option(parser: Any) -> None:
    parser.add_argument("--force", action="store_true",
                        help="report on a task another agent holds (recorded as forced)")


def _task_reports(tsub: Any) -> None:
    for name, helptext in (("start", "you began the task (or report progress)"),
                           ("done", "you finished the task")):
        q = tsub.add_parser(name, help=helptext)
        q.add_argument("id")
        q.add_argument("--note", default="", help="what you did")
        _force_option(q)
        _json_option(q)
        q.set_defaults(handler=cmd_task_report, action=name)
    q = tsub.add_parser("note", help="a progress note (handed to whoever takes the task over)")
    q.add_argument("id")
    q.add_argument("text", help="the note (quote it)")
    _force_option(q)
    _json_option(q)
    q.set_defaults(handler=cmd_task_note)
    q = tsub.add_parser("fail", help="you could not do the task")
    q.add_argument("id")
    q.add_argument("--reason", required=True)
    _force_option(q)
    _json_option(q)
    q.set_defaults(handler=cmd_task_report, action="fail")
    for name, helptext in (("cancel", "stop a task"), ("retry", "retry a failed/cancelled task")):
        q = tsub.add_parser(name, help=helptext)
        q.add_argument("id")
        _json_option(q)
        q.set_defaults(handler=cmd_task_report, action=name)
    q = tsub.add_parser("assign", help="give a task to one agent")
    q.add_argument("id")
    q.add_argument("agent")
    _json_option(q)
    q.set_defaults(handler=cmd_task_assign)
    q = tsub.add_parser("depend", help="make a task wait for other tasks")
    q.add_argument("id")
    q.add_argument("after", nargs="+", metavar="DEP")
    _json_option(q)
    q.set_defaults(handler=cmd_task_depend)
    from bot import cli_workspaces

    cli_workspaces.register_task(tsub)


async def cmd_agents(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents``."""
    rows = await service.agent_rows()
    emit_json(rows) if args.json else print(fmt.agents_table(rows, painter()))


async def cmd_agent_pause(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm agents pause|resume A``."""
    changed = await service.set_agent_paused(args.agent, args.paused, args.actor)
    word = "paused" if args.paused else "resumed"
    agent = service.ctx(args.actor).agent(args.agent).id
    print(f"{agent} {word}" if changed else f"{agent} was already {word}")


async def cmd_task_add(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task add``."""
    spec = TaskSpec(
        title=args.title, details=args.details, priority=args.priority, role=args.role,
        capabilities=tuple(args.capability), agent=args.agent, after=tuple(args.after),
    )
    task = await service.create_task(spec, args.actor)
    emit_json(task.to_json()) if args.json else print(fmt.task_line(task, painter()))


async def cmd_task_list(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task list``."""
    found = await service.list_tasks(args.status, args.agent, args.limit,
                                     open_only=not args.all)
    waiting = await service.open_questions()
    if args.json:
        emit_json([_task_json(t, waiting.get(t.id)) for t in found])
    else:
        print(fmt.tasks_table(found, painter(), waiting))


async def cmd_task_show(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task show``."""
    task = await service.get_task(args.id)
    history = await service.events(task=task.id, limit=1000)
    question = (await service.open_questions()).get(task.id)
    if args.json:
        emit_json({**_task_json(task, question), "events": [e.to_json() for e in history]})
    else:
        print(fmt.task_detail(task, history, painter(), question))


def _task_json(task: Task, question: Question | None) -> dict[str, Any]:
    """The task's JSON with its open question (``null`` when it waits for none)."""
    return {**task.to_json(), "question": question.to_json() if question else None}


async def cmd_task_report(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task start|done|fail|cancel|retry``."""
    action = args.action
    calls = {
        "start": lambda: service.start_task(args.id, args.actor, args.note, force=args.force),
        "done": lambda: service.complete_task(args.id, args.actor, args.note, force=args.force),
        "fail": lambda: service.fail_task(args.id, args.actor, args.reason, force=args.force),
        "cancel": lambda: service.cancel_task(args.id, args.actor),
        "retry": lambda: service.retry_task(args.id, args.actor),
    }
    await calls[action]()
    _print_task(await service.get_task(args.id), args)


async def cmd_task_note(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task note ID TEXT``."""
    await service.note_task(args.id, args.actor, args.text, force=args.force)
    task = await service.get_task(args.id)
    _print_task(task, args, f"note added to {task.ref}")


async def cmd_task_assign(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task assign ID AGENT``."""
    await service.assign_task(args.id, args.agent, args.actor)
    task = await service.get_task(args.id)
    _print_task(task, args, f"{fmt.task_line(task, painter())} (given to {task.pinned})")


async def cmd_task_depend(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task depend ID DEP...``."""
    await service.add_dependencies(args.id, args.after, args.actor)
    _print_task(await service.get_task(args.id), args)


def _print_task(task: Task, args: argparse.Namespace, text: str | None = None) -> None:
    """The task as JSON with ``--json``, else ``text`` (default: its one-line form)."""
    emit_json(task.to_json()) if args.json else print(text or fmt.task_line(task, painter()))


async def cmd_send(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm send AGENT TEXT``."""
    message_id = await service.send(args.agent, args.text, args.actor)
    agent = service.ctx(args.actor).agent(args.agent).id
    if args.json:
        emit_json({"message": message_id, "agents": [agent]})
    else:
        print(f"message {message_id} queued for {agent}")
    if running_coordinator(service.settings.home) is None:
        print("swarm: warning: no coordinator is running for this SWARM_HOME "
              f"({service.settings.home}): the message waits until 'swarm run' starts",
              file=sys.stderr)


async def cmd_broadcast(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm broadcast TEXT [--role R]``."""
    message_id = await service.broadcast(args.text, args.actor, args.role)
    agents = [d.agent for d in await service.deliveries(message_id)]
    if args.json:
        emit_json({"message": message_id, "agents": agents})
    else:
        print(f"message {message_id} queued for {len(agents)} agent(s)")


async def cmd_status(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm status``."""
    overview = await service.status()
    if service.settings.database_url:  # the scheduler lock's holder, on any machine
        from core.pg_failover import scheduler_holder

        running = await service.db.read(scheduler_holder)
    else:
        running = running_coordinator(service.settings.home)
    overview["coordinator"] = None if running is None else {
        "pid": running[0], "since": iso_utc(running[1]),
        "heartbeat": _heartbeat(service, running[0])}
    emit_json(overview) if args.json else print(fmt.status_text(overview, painter()))
    if overview.get("nodes") and not args.json:
        from bot import cli_node

        print(cli_node.nodes_text(overview["nodes"], service.clock.now()))


def _heartbeat(service: SwarmService, pid: int) -> str | None:
    """When the local coordinator ``pid``'s loop last beat (ISO-8601 UTC), if known here."""
    beat = last_heartbeat(service.settings.home, pid)
    return None if beat is None else iso_utc(beat)


async def cmd_events(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm events [--since D] [--kind K] [--grep T] [--task T] [--follow]``."""
    from core.event_query import EventFilter
    from core.models import parse_task_ref
    from core.watch.timing import parse_every

    since = service.clock.now() - parse_every(args.since) if args.since else None
    flt = EventFilter(since=since, kinds=tuple(args.kind or ()), grep=args.grep or "",
                      task_id=parse_task_ref(args.task) if args.task else None)
    latest = await service.last_events(1)  # --follow starts after it, whatever matched
    shown = await service.find_events(flt, limit=args.limit, newest=True) if args.limit else []
    last_id = max([e.id for e in latest + shown], default=0)
    if args.json and not args.follow:
        emit_json([e.to_json() for e in shown])
        return
    for event in shown:
        print(_event_out(event, args.json))
    while args.follow:
        await asyncio.sleep(0.5)
        for event in await service.find_events(flt, after_id=last_id, limit=500):
            last_id = event.id
            print(_event_out(event, args.json), flush=True)


def _event_out(event: Event, as_json: bool) -> str:
    return json_line(event.to_json()) if as_json else fmt.event_line(event)


async def cmd_pause(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm pause``: the kill switch."""
    await service.pause_input(args.actor, args.reason)
    print(f"desktop input paused (flag file {service.kill_switch.path}); swarm resume to undo")


async def cmd_resume(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm resume``."""
    released = await service.resume_input(args.actor)
    print("desktop input resumed" if released else "desktop input was not paused")


async def cmd_gc(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm gc [--dry-run]``."""
    from core.retention import collect_garbage

    report = await collect_garbage(service, days=args.keep_days, dry_run=args.dry_run)
    if args.json:
        emit_json({**vars(report), "archive": str(report.archive) if report.archive else None,
                   "dry_run": args.dry_run})
    else:
        print(report.summary(args.dry_run))
