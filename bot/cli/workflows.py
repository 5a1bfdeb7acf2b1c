"""``swarm workflow ...`` and ``swarm campaign ...``: reusable task graphs and their runs."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.cli.format import table
from bot.cli.output import emit_json
from core.errors import InvalidInput
from core.formats.text import dollars_text, one_line
from core.models import Priority, parse_task_ref, task_ref
from core.workflows.roles import parse_role_map
from core.workflows.view import campaign_text, workflow_text

if TYPE_CHECKING:
    from core.service.swarm import SwarmService
    from core.workflows import RunPlan


def register(sub: Any) -> None:
    """Add the ``workflow`` and ``campaign`` groups."""
    _workflow(sub)
    _campaign(sub)


def _workflow(sub: Any) -> None:
    p = sub.add_parser("workflow", help="reusable task graphs: list, show, validate, run")
    wsub = p.add_subparsers(dest="workflow_command", metavar="ACTION", required=True)
    q = wsub.add_parser("list", help="the workflows of $SWARM_HOME/workflows and the bundled")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_workflow_list, no_service=True)
    q = wsub.add_parser("show", help="one workflow: variables and steps")
    q.add_argument("name", help="a workflow name or a .toml file")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_workflow_show, no_service=True)
    q = wsub.add_parser("validate", help="check a workflow file (exit 2 with the problem)")
    q.add_argument("name", metavar="FILE", help="a .toml file (or a workflow name)")
    q.set_defaults(handler=cmd_workflow_show, no_service=True, brief=True, json=False)
    q = wsub.add_parser("run", help="create a workflow's tasks, grouped in a campaign")
    q.add_argument("name", help="a workflow name or a .toml file")
    q.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable (repeatable); a list is comma-separated",
    )
    q.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="ROLE=OTHER",
        help="give a step's role to another role your agents have (repeatable), e.g. "
        "coordination=qa; a role no agent has and no --role maps goes to the captain",
    )
    q.add_argument(
        "--dry-run",
        action="store_true",
        help="print the task graph that would be created; write nothing",
    )
    q.add_argument(
        "--budget",
        type=float,
        metavar="DOLLARS",
        help="the campaign's budget: its tasks get no agent once their turns cost this much",
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_workflow_run)
    for name, helptext in (
        ("approve", "approve a gate step waiting for a person"),
        ("reject", "reject a gate: it and what depends on it are cancelled"),
    ):
        q = wsub.add_parser(name, help=helptext)
        q.add_argument("id", help="the gate's task id, e.g. T-12")
        q.add_argument("--note", default="", help="why (recorded)")
        q.set_defaults(handler=cmd_gate, decision=name, person_only=f"deciding a gate ({name})")


def _campaign(sub: Any) -> None:
    p = sub.add_parser("campaign", help="groups of tasks followed to the end")
    csub = p.add_subparsers(dest="campaign_command", metavar="ACTION", required=True)
    q = csub.add_parser("create", help="a campaign over existing tasks")
    q.add_argument("title")
    q.add_argument("tasks", nargs="*", metavar="TASK", help="task ids, e.g. T-1 T-2")
    q.add_argument(
        "--budget",
        type=float,
        metavar="DOLLARS",
        help="give its tasks no agent once their turns cost this much (80%% is posted)",
    )
    q.set_defaults(handler=cmd_campaign_create)
    q = csub.add_parser("budget", help="give a campaign a budget in dollars, or raise it")
    q.add_argument("id", help="e.g. C-3")
    q.add_argument("dollars", type=float)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_campaign_budget, person_only="a campaign's budget")
    q = csub.add_parser("add", help="put more tasks in a campaign")
    q.add_argument("id", help="e.g. C-3")
    q.add_argument("tasks", nargs="+", metavar="TASK")
    q.set_defaults(handler=cmd_campaign_add)
    q = csub.add_parser("show", help="progress: done/total, failed, blocked, gates, time")
    q.add_argument("id")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_campaign_show)
    q = csub.add_parser("list", help="campaigns, newest first")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_campaign_list)
    q = csub.add_parser("cancel", help="cancel a campaign and its unfinished tasks")
    q.add_argument("id")
    q.set_defaults(handler=cmd_campaign_cancel)


def _home(args: argparse.Namespace) -> Any:
    return args.configuration.core.home


async def cmd_workflow_list(_: None, args: argparse.Namespace) -> None:
    """``swarm workflow list``."""
    from core.workflows import loader

    found = loader.catalog(_home(args))
    if args.json:  # a file that does not load: its error, no description
        emit_json(
            [
                {
                    "name": n,
                    "file": str(p),
                    "description": getattr(f, "description", None),
                    "error": str(f) if isinstance(f, Exception) else None,
                }
                for n, p, f in found
            ]
        )
    else:
        print(
            table(
                ("WORKFLOW", "STEPS", "DESCRIPTION"),
                [
                    (n, "-", f"INVALID: {f}")
                    if isinstance(f, Exception)
                    else (n, len(f.steps), one_line(f.description))
                    for n, _, f in found
                ],
            )
        )
    bad = sum(isinstance(f, Exception) for _, _, f in found)
    if bad:
        print(
            f"swarm: warning: {bad} workflow file(s) do not load (swarm workflow validate "
            "FILE says why)",
            file=sys.stderr,
        )


async def cmd_workflow_show(_: None, args: argparse.Namespace) -> None:
    """``swarm workflow show NAME`` / ``validate FILE``."""
    from core.workflows import loader

    flow = loader.find(_home(args), args.name)
    if getattr(args, "brief", False):
        print(f"{flow.source}: valid ({len(flow.vars)} variables, {len(flow.steps)} steps)")
    elif args.json:
        emit_json(flow.to_json())
    else:
        print(workflow_text(flow))


def parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    """``["a=1", "b=x,y"]`` as a dict; InvalidInput for a pair without ``=``."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--var {pair!r}: write NAME=VALUE")
        if name.strip() in values:
            raise InvalidInput(f"--var {name.strip()} is given twice")
        values[name.strip()] = value
    return values


async def cmd_workflow_run(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm workflow run NAME --var k=v [--dry-run] [--json]``."""
    from core.service.costs import check_dollars

    if args.budget is not None:
        check_dollars(args.budget)
    flows = service.workflows
    given = parse_vars(args.var)
    plan = await flows.plan(flows.find(args.name), given, parse_role_map(args.role))
    if args.dry_run:
        if args.json:
            emit_json(
                {
                    "workflow": plan.workflow.name,
                    "vars": plan.values,
                    "dry_run": True,
                    "notes": list(plan.notes),
                    "tasks": _planned_json(plan),
                }
            )
        else:
            print("\n".join([*plan.notes, graph_text(plan)]))
        return
    if args.budget is None:
        result = await flows.run(plan, args.actor)
    else:
        result = await service.costs.run_workflow(plan, args.actor, args.budget)
    if args.json:
        emit_json(
            {
                "campaign": result.campaign,
                "workflow": plan.workflow.name,
                "vars": plan.values,
                "notes": list(plan.notes),
                "tasks": [task_ref(i) for i in result.task_ids],
            }
        )
        return
    for note in plan.notes:
        print(note)
    print(
        f"{result.campaign} started: {len(result.task_ids)} tasks "
        f"({task_ref(result.task_ids[0])}..{task_ref(result.task_ids[-1])}); "
        f"follow it with: swarm campaign show {result.campaign}"
    )


def _planned_json(plan: RunPlan) -> list[dict[str, Any]]:
    return [
        {
            "ref": p.spec.ref,
            "step": p.step,
            "item": p.item,
            "kind": p.kind,
            "title": p.spec.title,
            "role": p.spec.role,
            "agent": p.spec.agent,
            "priority": Priority.parse(p.spec.priority).name,
            "needs": list(p.spec.after),
            "on_failure": list(p.spec.on_failure),
        }
        for p in plan.tasks
    ]


def graph_text(plan: RunPlan) -> str:
    """The tasks a run would create, with roles and dependencies (``--dry-run``)."""
    rows = []
    for p in plan.tasks:
        waits = list(p.spec.after) + [f"fails:{r}" for r in p.spec.on_failure]
        kind = {"skip": "skipped (if)", "on_failure": "on failure"}.get(p.kind, p.kind)
        rows.append(
            (
                p.spec.ref,
                kind,
                p.spec.role or (f"{p.spec.agent} (agent)" if p.spec.agent else "-"),
                ", ".join(map(str, waits)) or "-",
                one_line(p.spec.title),
            )
        )
    head = f"{plan.workflow.name}: {len(plan.tasks)} tasks would be created (dry run)"
    return head + "\n" + table(("REF", "KIND", "ROLE", "AFTER", "TITLE"), rows)


async def cmd_gate(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm workflow approve|reject T-12``."""

    flows = service.workflows
    if args.decision == "approve":
        await flows.approve(args.id, args.actor, args.note)
        print(f"{task_ref(parse_task_ref(args.id))} approved")
        return
    cancelled = await flows.reject(args.id, args.actor, args.note)
    shown = ", ".join(task_ref(i) for i in cancelled) or "nothing else"
    print(f"{task_ref(parse_task_ref(args.id))} rejected; cancelled {shown}")


async def cmd_campaign_create(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm campaign create TITLE T-1 T-2``."""
    from core.workflows import campaign_ref

    if args.budget is None:
        campaign_id = await service.workflows.create_campaign(args.title, args.tasks, args.actor)
    else:
        campaign_id = await service.costs.create_campaign(
            args.title, args.tasks, args.actor, args.budget
        )
    count = len(args.tasks)
    budget = "" if args.budget is None else f", budget {dollars_text(args.budget)}"
    print(f"{campaign_ref(campaign_id)} created ({count} task{'' if count == 1 else 's'}{budget})")


async def cmd_campaign_budget(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm campaign budget C-3 DOLLARS``."""
    from core.workflows import campaign_ref, parse_campaign_ref

    await service.costs.set_campaign_budget(args.id, args.dollars, args.actor)
    spend = await service.costs.of_campaign(args.id)
    ref = campaign_ref(parse_campaign_ref(args.id))
    if args.json:
        emit_json({"campaign": ref, "cost": spend["cost"].to_json(), "budget": spend["budget"]})
    else:
        print(f"{ref}: budget {dollars_text(spend['budget'])}, spent {spend['cost'].cost_text()}")


async def cmd_campaign_add(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm campaign add C-3 T-9``."""
    from core.workflows import campaign_ref, parse_campaign_ref

    ids = await service.workflows.add_to_campaign(args.id, args.tasks, args.actor)
    shown = ", ".join(task_ref(i) for i in ids)
    print(f"{campaign_ref(parse_campaign_ref(args.id))} now also follows {shown}")


async def cmd_campaign_show(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm campaign show C-3``."""

    campaign = await service.workflows.campaign(args.id)
    spend = await service.costs.of_campaign(campaign.id)
    now = time.time()
    if args.json:
        cost = {"cost": spend["cost"].to_json(), "budget": spend["budget"]}
        emit_json({**campaign.to_json(now), **cost})
    else:
        print(campaign_text(campaign, now))
        print(_cost_line(spend))


def _cost_line(spend: dict[str, Any]) -> str:
    """``Cost: $1.20 (14 turn(s)), budget $5.00, 24% spent``."""
    cost, budget = spend["cost"], spend["budget"]
    text = (
        f"Cost: {cost.cost_text()} ({cost.turns} turn(s))"
        if cost.turns
        else "Cost: no turn recorded"
    )
    if budget is not None:
        text += f", budget {dollars_text(budget)}, {cost.share_text(budget)}"
    return text


async def cmd_campaign_list(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm campaign list``."""

    found = await service.workflows.campaigns()
    now = time.time()
    if args.json:
        emit_json([{k: v for k, v in c.to_json(now).items() if k != "tasks"} for c in found])
        return
    rows = []
    for c in found:
        s = c.to_json(now)
        rows.append(
            (
                c.ref,
                s["state"],
                f"{s['done']}/{s['total']}",
                s["failed"],
                len(s["gates_waiting"]),
                one_line(c.title),
            )
        )
    print(table(("CAMPAIGN", "STATE", "DONE", "FAILED", "GATES", "TITLE"), rows))


async def cmd_campaign_cancel(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm campaign cancel C-3``."""
    from core.workflows import campaign_ref, parse_campaign_ref

    ids = await service.workflows.cancel_campaign(args.id, args.actor)
    ref = campaign_ref(parse_campaign_ref(args.id))
    print(f"{ref} cancelled ({len(ids)} unfinished tasks cancelled)")
