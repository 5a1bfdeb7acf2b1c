"""``swarm plan``, ``swarm usage`` and ``swarm summary``: the AI commands.

Light to import: the model layer (and ``openai``) is loaded only when a command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.output import emit_json
from bot.cli.style import spinner

if TYPE_CHECKING:
    from core.planning import Plan
    from core.service.ai import AIBook
    from core.service.swarm import SwarmService

ACTIONS = ("show", "approve", "discard")
MAX_CONTEXT_FILE = 2_000_000
PLAN_HELP = """\
swarm plan GOAL [--context-file F] [--yes] [--json]   ask the model for a task graph,
                                                     preview it, create it on approval
     [--save-workflow NAME]                          and save it as a reusable workflow
swarm plan show P-3 [--json]                         progress: done / total, what is blocked
swarm plan approve P-3 | discard P-3                 decide on a draft (e.g. one from Discord)

Needs OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (a local OpenAI-compatible server)."""


def register(sub: Any) -> None:
    """Add ``plan``, ``usage`` and ``summary``."""
    p = sub.add_parser(
        "plan",
        help="turn a goal into a reviewed task graph (AI)",
        description=PLAN_HELP,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    p.add_argument(
        "words", nargs="+", metavar="GOAL", help="the goal (quote it), or: show|approve|discard P-3"
    )
    p.add_argument(
        "--context-file",
        metavar="FILE",
        help="a long text (a code review, an analysis) whose findings become tasks",
    )
    p.add_argument("--yes", "-y", action="store_true", help="create the tasks without asking")
    p.add_argument(
        "--save-workflow",
        metavar="NAME",
        help="also save the plan as $SWARM_HOME/workflows/NAME.toml",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_plan, person_only=plan_decision)
    p = sub.add_parser("usage", help="AI calls, tokens and cost per purpose, model and day")
    p.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_usage)
    p = sub.add_parser("summary", help="what got done, what is stuck (AI narrative if set)")
    p.add_argument("--period", default="1d", help="e.g. 12h, 1d, 1w (default 1d)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_summary)


def _open(service: SwarmService, args: argparse.Namespace) -> AIBook:
    from bot.app import Builder

    return Builder(args.configuration).ai(service)


async def cmd_plan(service: SwarmService, args: argparse.Namespace) -> int:
    """``swarm plan GOAL`` / ``swarm plan show|approve|discard P-3``."""
    words = args.words
    async with _open(service, args) as ai:
        if len(words) == 2 and words[0] in ACTIONS and _looks_like_plan(words[1]):
            return await _plan_action(ai, words[0], words[1], args)
        return await _plan_draft(ai, " ".join(words), args)


def plan_decision(args: argparse.Namespace) -> str | None:
    """``plan approve|discard P-3`` decides a draft for a person (a person-only command);
    drafting a plan does not."""
    words = args.words
    if len(words) == 2 and words[0] in ("approve", "discard") and _looks_like_plan(words[1]):
        return f"{'approving' if words[0] == 'approve' else 'discarding'} a plan"
    return None


def _looks_like_plan(word: str) -> bool:
    text = word.strip()
    return (text[2:] if text[:2].upper() == "P-" else text).isdigit()


async def _plan_action(ai: AIBook, action: str, ref: str, args: argparse.Namespace) -> int:
    from core.planning import render_progress

    if action == "approve":
        await ai.plans.approve(ref, args.actor)
    elif action == "discard":
        await ai.plans.discard(ref, args.actor)
    progress = await ai.plans.progress(ref)
    emit_json(progress.to_json()) if args.json else print(render_progress(progress))
    return 0


async def _plan_draft(ai: AIBook, goal: str, args: argparse.Namespace) -> int:
    from core.errors import InvalidInput
    from core.planning import render_preview, render_progress

    ai.settings.require("planning")
    if not args.yes and (args.context_file == "-" or not sys.stdin.isatty()):
        raise InvalidInput(
            "no terminal to confirm in: add --yes to create the plan's tasks "
            "without asking (nothing was created)"
        )
    if args.save_workflow:  # a bad name or a taken one stops before the model is asked
        from core.workflows.writer import free_path

        free_path(args.save_workflow, args.configuration.core.home / "workflows")
    async with spinner("asking the model for a plan"):
        plan = await ai.plans.draft(goal, _read_context(args.context_file), args.actor)
    if args.save_workflow:
        _save_workflow(plan, args)
    if not args.yes:
        print(render_preview(plan), file=sys.stderr if args.json else sys.stdout)
        question = f"Create these {len(plan.items)} tasks? [y/N] "
        if not await _confirm(question):
            await ai.plans.discard(plan.id, args.actor)
            print(f"{plan.ref} discarded: nothing was created", file=sys.stderr)
            return 0
    await ai.plans.approve(plan.id, args.actor)
    progress = await ai.plans.progress(plan.id)
    if args.json:
        emit_json(progress.to_json())
    else:
        print(render_progress(progress))
    return 0


def _save_workflow(plan: Plan, args: argparse.Namespace) -> None:
    from core.workflows import writer

    flow = writer.from_plan(plan, args.save_workflow)
    path = writer.save(flow, args.configuration.core.home / "workflows")
    print(
        f"{plan.ref} saved as workflow {flow.name} ({path})",
        file=sys.stderr if args.json else sys.stdout,
    )


def _read_context(path: str | None) -> str:
    from core.errors import InvalidInput

    if not path:
        return ""
    if path == "-":
        return sys.stdin.read(MAX_CONTEXT_FILE)
    try:
        with Path(path).expanduser().open(encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_CONTEXT_FILE)
    except OSError as exc:
        raise InvalidInput(f"cannot read context file {path}: {exc.strerror}") from None


async def _confirm(question: str) -> bool:
    """Ask on the terminal (stderr), read stdin off the event loop; only y/yes is yes."""
    print(question, end="", file=sys.stderr, flush=True)
    answer = await asyncio.to_thread(sys.stdin.readline)
    return answer.strip().lower() in ("y", "yes")


async def cmd_usage(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm usage``."""
    from core.ai import ENABLE_HINT, render_usage
    from core.errors import InvalidInput

    if not 1 <= args.days <= 3660:
        raise InvalidInput("--days must be between 1 and 3660")
    async with _open(service, args) as ai:
        report = await ai.usage(args.days)
    if args.json:
        emit_json(report)
        return
    print(render_usage(report))
    if not report["configured"]:
        print(f"AI is off: {ENABLE_HINT}")


async def cmd_summary(service: SwarmService, args: argparse.Namespace) -> None:
    """``swarm summary``."""
    async with _open(service, args) as ai, spinner("writing the summary"):
        summary = await ai.summaries.summarize(args.period, args.actor)
    emit_json(summary.to_json()) if args.json else print(summary.text)
