"""Workflows and campaigns as text (the CLI and Discord show the same)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.formats.text import one_line
from core.reports.counts import deliveries_text, tasks_text
from core.workflows.campaigns import Campaign
from core.workflows.model import Workflow
from core.workflows.pace import duration_text as _duration


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns, two spaces apart, each cell on one line (like the CLI's)."""
    cells = [[one_line(str(c)) for c in headers], *([one_line(str(c)) for c in r] for r in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )


def workflow_text(flow: Workflow) -> str:
    """A workflow's variables and steps, for ``workflow show``."""
    lines = [
        f"{flow.name}: {flow.description}" if flow.description else flow.name,
        "",
        "variables:",
    ]
    for var in flow.vars.values():
        state = "required" if var.required else f"default {var.default!r}"
        lines.append(
            f"  {var.name} ({var.type}, {state})"
            + (f": {var.description}" if var.description else "")
        )
    lines += ["" if flow.vars else "  (none)", "steps:"]
    for step in flow.steps.values():
        marks = [f"needs {', '.join(step.needs)}"] if step.needs else []
        marks += [f"on failure of {', '.join(step.on_failure)}"] if step.on_failure else []
        marks += [f"for each {step.for_each}"] if step.for_each else []
        marks += [f"if {step.when}"] if step.when else []
        marks += ["gate"] if step.gate else [f"role {step.role}"] if step.role else []
        lines.append(f"  {step.id}: {step.title}" + (f"  [{'; '.join(marks)}]" if marks else ""))
    return "\n".join(one_line(line) for line in lines)


def campaign_text(campaign: Campaign, now: float) -> str:
    """Progress of one campaign, then its tasks."""
    summary = campaign.to_json(now)
    gates = ", ".join(summary["gates_waiting"]) or "none"
    lines = [
        f"{campaign.ref}: {campaign.title} ({summary['state']})",
        f"  progress:   {summary['done']}/{summary['total']} done or skipped, "
        f"{summary['failed']} failed, {summary['waiting']} waiting for other tasks, "
        f"{summary['blocked']} blocked (a person must act)",
        f"  gates:      {gates} waiting for approval",
        f"  history:    {tasks_text(summary['happened'])}; deliveries: "
        f"{deliveries_text(summary['happened'])}",
        f"  time:       {_duration(summary['elapsed_s'])}" + _so_far(summary),
        "",
    ]
    rows = [
        (t.ref, t.status.value, campaign.kinds.get(t.id, "work"), t.agent or "-", one_line(t.title))
        for t in campaign.tasks
    ]
    return (
        "\n".join(one_line(line) for line in lines)
        + "\n"
        + table(("TASK", "STATUS", "KIND", "AGENT", "TITLE"), rows)
    )


def _so_far(summary: dict[str, Any]) -> str:
    if summary["state"] != "open":
        return ""
    left, basis = summary["remaining_s"], summary["estimate_basis"]
    if left is None:
        return " so far" + (f" ({basis})" if basis else "")
    return f" so far, about {_duration(left)} left ({basis})"
