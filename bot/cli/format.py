"""Plain-text rendering of tasks, agents, events and status for the terminal."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.cli.style import PLAIN, Painter
from core.coordinator.home_lock import HEARTBEAT_S
from core.formats.jsonshape import (
    iso_utc as iso_utc,  # re-exported: bot/cli/web.py uses fmt.iso_utc
)
from core.formats.text import flat, one_line, shorten
from core.formats.timetext import local_text
from core.models import BlockedOn, Event, Task, task_ref

if TYPE_CHECKING:
    from core.questions import Question


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    return local_text(ts)


def _ago(ts: float | None) -> str:
    if not ts:
        return "never"
    seconds = max(0, int(time.time() - ts))
    if seconds < 90:
        return f"{seconds}s ago"
    if seconds < 5400:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    paint: Painter = PLAIN,
    coloured: Collection[int] = (),
) -> str:
    """Left-aligned columns separated by two spaces; with a painter that is on, the header
    in bold and the status words of the ``coloured`` columns in their colours."""
    cells = [[one_line(str(c)) for c in headers]] + [
        [one_line(str(c)) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for number, row in enumerate(cells):
        shown = [
            (paint(c, "bold") if number == 0 else paint.word(c) if i in coloured else c)
            + " " * (w - len(c))
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(shown).rstrip())
    return "\n".join(lines)


def task_line(task: Task, paint: Painter = PLAIN) -> str:
    """``T-3 [ready] high: Title (Agent-2)``."""
    who = f" ({task.agent})" if task.agent else ""
    why = one_line(f" - {task.reason}") if task.reason else ""
    return (
        f"{paint(task.ref, 'bold')} [{paint.word(task.status.value)}] "
        f"{task.priority.name}: {one_line(task.title)}{who}{why}"
    )


def tasks_table(
    tasks: Sequence[Task], paint: Painter = PLAIN, questions: Mapping[int, Question] | None = None
) -> str:
    """A table of tasks, or a friendly line when there are none; then the listed tasks that
    wait for an answer (``questions``: open questions by task id)."""
    if not tasks:
        return "no tasks"
    rows = [
        (
            t.ref,
            t.status.value,
            t.priority.name,
            t.agent or t.pinned or "-",
            t.role or "-",
            ",".join(task_ref(d) for d in t.after) or "-",
            shorten(t.title, 50),
        )
        for t in tasks
    ]
    text = table(
        ("ID", "STATUS", "PRIORITY", "AGENT", "ROLE", "AFTER", "TITLE"),
        rows,
        paint,
        coloured=(1, 2),
    )
    waiting = [(t.ref, (questions or {})[t.id]) for t in tasks if t.id in (questions or {})]
    if waiting:
        text += (
            "\n\n"
            + paint("waiting for an answer:", "yellow")
            + "".join(f"\n  {ref}  {question_line(q)}" for ref, q in waiting)
        )
    return text


def question_line(question: Question) -> str:
    """``Agent-1 asked 3m ago (2026-11-23 10:00:00): Which database?`` on one line."""
    text = shorten(" ".join(question.text.split()), 100)
    return one_line(
        f"{question.asked_by} asked {_ago(question.asked_at)} ({_when(question.asked_at)}): {text}"
    )


def waiting_for(task: Task) -> str:
    """What a blocked task waits for, in a person's words (empty when it waits for nothing)."""
    ref = task.ref
    words = {
        BlockedOn.dependencies: "its dependencies to finish (nobody needs to act)",
        BlockedOn.gate: f"a person to approve the gate (swarm approve {ref}, swarm reject {ref})",
        BlockedOn.dependency_failed: "a person: a dependency failed or was cancelled (retry "
        f"it with swarm task retry, or swarm task cancel {ref})",
        BlockedOn.person: "a person, who took the work over (no agent takes it)",
    }
    return words[task.blocked_on] if task.blocked_on else ""


def task_detail(
    task: Task, history: Sequence[Event], paint: Painter = PLAIN, question: Question | None = None
) -> str:
    """Every field of a task (and its open question), then its events."""
    waits = paint("waiting for an answer", "yellow") if question else ""
    fields = [
        (
            "status",
            paint.word(task.status.value)
            + (f" ({one_line(task.reason)})" if task.reason else "")
            + (f", {waits} (swarm reply {task.ref} TEXT)" if question else ""),
        ),
        *([("waiting for", waiting_for(task))] if task.blocked_on else []),
        *([("question", question_line(question))] if question else []),
        ("priority", task.priority.name),
        (
            "role",
            one_line(
                f"{task.role or 'any'}"
                + (f"; capabilities {', '.join(task.capabilities)}" if task.capabilities else "")
            ),
        ),
        ("agent", f"{task.agent or '-'}" + (f" (pinned to {task.pinned})" if task.pinned else "")),
        ("after", ", ".join(task_ref(d) for d in task.after) or "-"),
        ("attempts", f"{task.attempts}/{task.max_attempts}"),
        ("created", f"{_when(task.created_at)} by {one_line(task.created_by)}"),
        ("finished", _when(task.finished_at)),
    ] + ([("note", one_line(task.note))] if task.note else [])
    lines = [
        f"{paint(task.ref, 'bold')}: {one_line(task.title)}",
        *(f"  {name + ':':<12} {value}" for name, value in fields),
    ]
    if task.details:
        lines += ["", *("  " + one_line(line) for line in task.details.splitlines())]
    lines += ["", "history:", *("  " + event_line(e) for e in history)]
    return "\n".join(lines)


def state_label(row: dict[str, Any]) -> str:
    """``idle``, ``stalled, paused``, ``unknown, unreachable``, ``working (as of 12m ago)``:
    the decided state (how old, when no coordinator watches it), the pause and the
    unreachable alert."""
    marks = [row["state"]] + ["paused"] * bool(row["paused"])
    if row.get("stale") and row.get("since"):  # no coordinator watches it: as last seen
        marks[0] += f" (as of {_ago(row.get('since'))})"
    return ", ".join(marks + [a for a in row["alerts"] if a != "stalled"])


def agents_table(rows: Sequence[dict[str, Any]], paint: Painter = PLAIN) -> str:
    """Agents with role, state, current task, last report, the state's evidence (and tmux
    pane, if any has one)."""
    panes = any(r.get("tmux") for r in rows)
    accounts = any(r.get("account") for r in rows)
    fenced = any(r.get("sandbox", "-") != "-" for r in rows)
    return table(
        ("AGENT", "ROLE", "STATE", "TASK", "DONE", "FAILED", "LAST REPORT", "EVIDENCE")
        + (("ACCOUNT",) if accounts else ())
        + (("SANDBOX",) if fenced else ())
        + (("TMUX",) if panes else ()),
        [
            (
                r["id"],
                r["role"],
                state_label(r),
                ",".join(r["tasks"]) or "-",
                r["done"],
                r["failed"],
                _ago(r["last_report_at"]),
                shorten(one_line(r.get("evidence") or "-"), 60),
            )
            + ((account_label(r),) if accounts else ())
            + ((r.get("sandbox") or "-",) if fenced else ())
            + ((r.get("tmux") or "-",) if panes else ())
            for r in rows
        ],
        paint,
        coloured=(2,),
    )


def account_label(row: dict[str, Any]) -> str:
    """``anthropic-team``, or ``anthropic-team: limited until 15:00:00`` while its breaker
    holds its agents."""
    limit = row.get("account_limit")
    name = str(row.get("account") or "-")
    return f"{name}: {limit['text']}" if isinstance(limit, dict) else name


def event_line(event: Event) -> str:
    """``2026-11-21 12:00:00  task.done  T-3 done by Agent-2``."""
    return flat(f"{_when(event.ts)}  {event.kind:<20} {event.text}")


def _coordinator_text(running: dict[str, Any], paint: Painter) -> str:
    """``running, pid 12 since ..., last heartbeat 3 s ago`` (yellow when the loop is late)."""
    text = paint(f"running, pid {running['pid']} since {running['since']}", "green")
    beat = running.get("heartbeat")
    if not beat:
        return text
    age = max(0.0, time.time() - datetime.fromisoformat(beat).timestamp())
    late = age > 3 * HEARTBEAT_S
    note = f"last heartbeat {age:.0f} s ago" + (" (the loop is not responding)" if late else "")
    return f"{text}, {paint(note, 'yellow') if late else note}"


def status_text(overview: dict[str, Any], paint: Painter = PLAIN) -> str:
    """The swarm overview for ``swarm status``."""
    tasks = overview["tasks"]
    deliveries = overview["deliveries"]
    paused = overview["input_paused"]
    running = overview.get("coordinator")
    lines = [
        "coordinator: "
        + (
            _coordinator_text(running, paint)
            if running
            else paint("not running (start it with 'swarm run')", "yellow")
        ),
        "tasks:      " + ", ".join(f"{k} {v}" for k, v in tasks.items()),
        "deliveries: " + ", ".join(f"{k} {v}" for k, v in deliveries.items()),
        f"input:      {paint('PAUSED - ' + one_line(paused), 'bold red') if paused else 'live'}",
        *_limits_lines(overview.get("limited"), paint),
        *_notifier_lines(overview.get("notifier"), paint),
        "",
        agents_table(overview["agents"], paint),
    ]
    return "\n".join(lines)


def _notifier_lines(loops: list[dict[str, Any]] | None, paint: Painter) -> list[str]:
    """``notifier:   discord caught up, discord:urgent 3 min behind`` and, once something
    failed, a line saying what (``_failures_text``)."""
    if not loops:
        return []
    lags = []
    for loop in loops:
        behind = float(loop["behind_s"])
        lag = f"{_span(behind)} behind" if behind >= 1 else "caught up"
        lags.append(f"{loop['loop']} {paint(lag, 'yellow') if behind >= 60 else lag}")
    failures = _failures_text(loops)
    if failures is None:
        return ["notifier:   " + ", ".join(lags)]
    skipped = any(loop["skipped"] for loop in loops)
    return [
        "notifier:   " + ", ".join(lags),
        " " * 12 + paint(failures, "yellow" if skipped else None),
    ]


def _failures_text(loops: list[dict[str, Any]]) -> str | None:
    """``3 tried again, 1 skipped (refused for good), 1 posted anew (deleted); last 5s ago:
    503 Service Unavailable``, summed over the loops; None when nothing failed."""
    counts = [sum(int(loop[key]) for loop in loops) for key in ("retried", "skipped", "reposted")]
    dated = [loop for loop in loops if loop["last_error_at"]]
    if not any(counts) or not dated:
        return None
    last = max(dated, key=lambda loop: str(loop["last_error_at"]))
    when = datetime.fromisoformat(last["last_error_at"]).timestamp()
    retried, skipped, reposted = counts
    return (
        f"{retried} tried again, {skipped} skipped (refused for good), {reposted} posted anew "
        f"(deleted); last {_ago(when)}: {one_line(str(last['last_error']))}"
    )


def _span(seconds: float) -> str:
    """``40 s``, ``5 min``, ``3 h``, ``2 d``."""
    whole = int(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if whole >= 2 * size:
            return f"{whole // size} {unit}"
    return f"{whole} s"


def _limits_lines(limited: dict[str, Any] | None, paint: Painter) -> list[str]:
    """``limits:     every agent is limited until ...: ready tasks wait`` or who is limited."""
    if not limited or not limited["agents"]:
        return []
    if limited["all"]:
        text = f"every agent is limited until {_when(limited['until'])}: ready tasks wait"
        return ["limits:     " + paint(text, "bold yellow")]
    who = ", ".join(f"{r['agent']} until {_when(r['until'])}" for r in limited["agents"])
    return [f"limits:     {who} (no new task meanwhile)"]
