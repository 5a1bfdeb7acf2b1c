"""``swarm task ...``: create, list and show tasks; the reports agents make on them (start,
done, note, fail) and a person's actions (cancel, retry, assign, depend, review)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli import format as fmt
from bot.cli import workspaces
from bot.cli.args import LIMIT_MAX, count_arg, door_agent, json_option, only_reads
from bot.cli.output import emit_json
from bot.cli.style import painter
from core.errors import InvalidInput
from core.formats.text import dollars_text
from core.models import Priority, Task, TaskSpec, TaskStatus

if TYPE_CHECKING:
    from core.questions import Question
    from core.service.swarm import SwarmService

PRIORITIES = [p.name for p in Priority]
STATUSES = [s.value for s in TaskStatus]


def register(sub: Any) -> None:
    """Add ``task`` and its actions."""
    p = sub.add_parser("task", help="create, list and report on tasks")
    tsub = p.add_subparsers(dest="task_command", metavar="ACTION", required=True)
    q = tsub.add_parser(
        "add", aliases=["create"], help="create a task (alias: create, as /task create)"
    )
    q.add_argument("title")
    q.add_argument("--details", default="", help="longer description")
    q.add_argument("--priority", default="normal", help=f"one of {', '.join(PRIORITIES)}")
    q.add_argument("--role", help="only agents with this role may take it")
    q.add_argument(
        "--capability",
        action="append",
        default=[],
        metavar="CAP",
        help="a capability the agent needs (repeatable)",
    )
    q.add_argument("--agent", help="pin to one agent")
    q.add_argument("--after", nargs="+", default=[], metavar="ID", help="tasks to finish first")
    q.add_argument(
        "--budget",
        type=float,
        metavar="DOLLARS",
        help="stop giving it turns once its turns cost this much (80%% is posted)",
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_task_add)
    q = tsub.add_parser("list", help="list unfinished tasks, newest first (--all: every task)")
    q.add_argument("--status", help=f"one of {', '.join(STATUSES)}")
    q.add_argument("--all", action="store_true", help="finished tasks too")
    q.add_argument("--agent")
    q.add_argument(
        "--limit", type=count_arg(LIMIT_MAX), default=200, help="at most this many (default 200)"
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_task_list)
    q = tsub.add_parser("budget", help="give a task a budget in dollars, or raise it")
    q.add_argument("id")
    q.add_argument("dollars", type=float)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_task_budget, person_only="a task's budget")
    q = tsub.add_parser("show", help="one task with its history")
    q.add_argument("id")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_task_show)
    _task_reports(tsub)
    workspaces.register_task(tsub)


def _force_option(parser: Any) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="report on a task another agent holds (recorded as forced)",
    )


def _task_reports(tsub: Any) -> None:
    for name, helptext in (
        ("start", "you began the task (or report progress)"),
        ("done", "you finished the task"),
    ):
        q = tsub.add_parser(name, help=helptext)
        q.add_argument("id")
        q.add_argument("--note", default="", help="what you did")
        _force_option(q)
        json_option(q)
        q.set_defaults(handler=cmd_task_report, action=name)
    q = tsub.add_parser("note", help="a progress note (handed to whoever takes the task over)")
    q.add_argument("id")
    q.add_argument("text", help="the note (quote it)")
    _force_option(q)
    json_option(q)
    q.set_defaults(handler=cmd_task_note)
    q = tsub.add_parser("fail", help="you could not do the task")
    q.add_argument("id")
    q.add_argument("--reason", required=True)
    _force_option(q)
    json_option(q)
    q.set_defaults(handler=cmd_task_report, action="fail")
    for name, helptext in (("cancel", "stop a task"), ("retry", "retry a failed/cancelled task")):
        q = tsub.add_parser(name, help=helptext)
        q.add_argument("id")
        json_option(q)
        q.set_defaults(handler=cmd_task_report, action=name)
    q = tsub.add_parser("assign", help="give a task to one agent")
    q.add_argument("id")
    q.add_argument("agent")
    json_option(q)
    q.set_defaults(handler=cmd_task_assign)
    q = tsub.add_parser(
        "edit",
        help="change an unfinished task's title, details, priority or role (recorded)",
    )
    q.add_argument("id")
    q.add_argument("--title", help="a new title (one line)")
    q.add_argument("--details", help="new details (replace the old ones)")
    q.add_argument("--priority", help=f"one of {', '.join(PRIORITIES)}")
    q.add_argument("--role", help='only agents with this role may take it ("": any agent)')
    json_option(q)
    q.set_defaults(handler=cmd_task_edit)
    q = tsub.add_parser(
        "review",
        help="send one review comment to the agent that did a task (a done task reopens)",
        description="Send one review comment to the agent that did the task, quoted, as one "
        "prompt; the task goes back in progress (a done task reopens for the same agent) and "
        "its history records the review. Comments pending on the dashboard stay pending.",
    )
    q.add_argument("id")
    q.add_argument("text", help="the comment (quote it)")
    q.add_argument("--file", metavar="PATH", help="a file of the task's work (with --line)")
    q.add_argument(
        "--line", type=count_arg(10**9), metavar="N", help="the line of --file (new side)"
    )
    json_option(q)
    q.set_defaults(handler=cmd_task_review)
    q = tsub.add_parser("depend", help="make a task wait for other tasks")
    q.add_argument("id")
    q.add_argument("after", nargs="+", metavar="DEP")
    json_option(q)
    q.set_defaults(handler=cmd_task_depend)


async def cmd_task_add(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task add``."""
    spec = TaskSpec(
        title=args.title,
        details=args.details,
        priority=args.priority,
        role=args.role,
        capabilities=tuple(args.capability),
        agent=args.agent,
        after=tuple(args.after),
    )
    if args.budget is None:
        task = await service.tasks.create(spec, args.actor)
    else:
        task = await service.tasks.get(
            await service.costs.create_task(spec, args.actor, args.budget)
        )
    emit_json(task.to_json()) if args.json else print(fmt.task_line(task, painter()))
    await _warn_without_coordinator(service, task)


async def _warn_without_coordinator(service: SwarmService, task: Task) -> None:
    """One line on stderr when no coordinator runs: nothing assigns the task until one does."""
    from core.coordinator import db_lock

    if await db_lock.running(service) is None:
        print(
            f"swarm: {task.ref} waits for a coordinator: none is running for this SWARM_HOME "
            f"({service.settings.home}); 'swarm run' starts one",
            file=sys.stderr,
        )


async def cmd_task_budget(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task budget ID DOLLARS``."""
    await service.costs.set_task_budget(args.id, args.dollars, args.actor)
    spend = await service.costs.of_task(args.id)
    task = await service.tasks.get(args.id)
    if args.json:
        emit_json({"task": task.ref, **cost_json(spend)})
    else:
        print(
            f"{task.ref}: budget {dollars_text(spend['budget'])}, spent {spend['cost'].cost_text()}"
        )


@only_reads
async def cmd_task_list(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task list`` (through a door: its agent's own tasks, whatever ``--agent``)."""
    agent = door_agent(args) or args.agent
    found = await service.tasks.newest(args.status, agent, args.limit, open_only=not args.all)
    waiting = await service.questions.open_questions()
    if args.json:
        emit_json([_task_json(t, waiting.get(t.id)) for t in found])
    else:
        print(fmt.tasks_table(found, painter(), waiting))


@only_reads
async def cmd_task_show(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task show`` (through a sandbox's door: its agent's own tasks, and those they
    wait for)."""
    task = await service.tasks.get(args.id)
    await _refuse_others(service, args, task)
    history = await service.history.events(task=task.id, limit=1000)
    question = (await service.questions.open_questions()).get(task.id)
    spend = await service.costs.of_task(task.id)
    waits = await service.costs.why_waiting(task.id)
    if args.json:
        emit_json(
            {
                **_task_json(task, question),
                "events": [e.to_json() for e in history],
                **cost_json(spend),
                "waits": waits,
            }
        )
    else:
        print(fmt.task_detail(task, history, painter(), question))
        print(cost_lines(spend))
        if waits:
            print(f"Waits:    {waits}")


async def _refuse_others(service: SwarmService, args: argparse.Namespace, task: Task) -> None:
    """InvalidInput when a door's agent asks for a task neither its own nor one its own wait
    for (another agent's work is not its to read)."""
    mine = door_agent(args)
    if mine is None:
        return
    if not await service.tasks.readable_by(task, mine):
        raise InvalidInput(f"{task.ref} is not {mine}'s: its door shows its own tasks only")


def cost_json(spend: dict[str, Any]) -> dict[str, Any]:
    """A task's ``cost`` (its sums), ``turns``, ``budget`` and ``usage_unknown`` as JSON: a
    cost not known is ``null``, never 0."""
    from core.service.costs import task_cost_json

    return task_cost_json(spend)


def cost_lines(spend: dict[str, Any]) -> str:
    """``Cost:     $0.0123 (3 turns: 1200 in, 300 out, 0 cache read, 0 cache write tokens)``
    and its budget, if any; ``unknown`` when its agent's usage cannot be read."""
    cost, unknown = spend["cost"], spend.get("usage_unknown")
    if unknown:
        text = f"Cost:     unknown ({cost.turns} turn(s) recorded; {unknown})"
    elif not cost.turns:
        text = "Cost:     no turn recorded (its route gives no usage, or it has not run)"
    else:
        text = f"Cost:     {cost.cost_text()} ({cost.turns} turn(s): {cost.tokens_text()})"
    budget = spend["budget"]
    if budget is not None:
        text += f"\nBudget:   {dollars_text(budget)}, {cost.share_text(budget, bool(unknown))}"
    return text


def _task_json(task: Task, question: Question | None) -> dict[str, Any]:
    """The task's JSON with its open question (``null`` when it waits for none)."""
    return {**task.to_json(), "question": question.to_json() if question else None}


async def cmd_task_report(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task start|done|fail|cancel|retry``."""
    action = args.action
    calls = {
        "start": lambda: service.tasks.start(args.id, args.actor, args.note, force=args.force),
        "done": lambda: service.tasks.complete(args.id, args.actor, args.note, force=args.force),
        "fail": lambda: service.tasks.fail(args.id, args.actor, args.reason, force=args.force),
        "cancel": lambda: service.tasks.cancel(args.id, args.actor),
        "retry": lambda: service.tasks.retry(args.id, args.actor),
    }
    await calls[action]()
    _print_task(await service.tasks.get(args.id), args)


async def cmd_task_note(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task note ID TEXT``."""
    await service.tasks.note(args.id, args.actor, args.text, force=args.force)
    task = await service.tasks.get(args.id)
    _print_task(task, args, f"note added to {task.ref}")


async def cmd_task_assign(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task assign ID AGENT``."""
    await service.tasks.assign(args.id, args.agent, args.actor)
    task = await service.tasks.get(args.id)
    _print_task(task, args, f"{fmt.task_line(task, painter())} (given to {task.pinned})")


async def cmd_task_edit(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task edit ID [--title] [--details] [--priority] [--role]``."""
    from core.tasks import TaskEdit

    change = TaskEdit(args.title, args.details, args.priority, args.role)
    changed = await service.tasks.edit(args.id, change, args.actor)
    task = await service.tasks.get(args.id)
    said = f"{task.ref} edited: {', '.join(changed)}" if changed else f"{task.ref}: no change"
    if changed and task.agent and task.status is not TaskStatus.ready:
        said += (
            f" ({task.agent} already has its prompt: tell it with "
            f'swarm send {task.agent} "..." if it matters)'
        )
    _print_task(task, args, said)


async def cmd_task_review(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task review ID TEXT [--file PATH --line N]``."""
    sent = await service.reviews.send_one(args.id, args.actor, args.text, args.file, args.line)
    if args.json:
        emit_json(sent.to_json())
        return
    task = await service.tasks.get(sent.task)
    reopened = " (reopened)" if sent.reopened else ""
    print(f"review sent to {sent.agent}{reopened}: {fmt.task_line(task, painter())}")


async def cmd_task_depend(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm task depend ID DEP...``."""
    await service.tasks.add_dependencies(args.id, args.after, args.actor)
    _print_task(await service.tasks.get(args.id), args)


def _print_task(task: Task, args: argparse.Namespace, text: str | None = None) -> None:
    """The task as JSON with ``--json``, else ``text`` (default: its one-line form)."""
    emit_json(task.to_json()) if args.json else print(text or fmt.task_line(task, painter()))
