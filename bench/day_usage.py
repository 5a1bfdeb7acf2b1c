"""Issue 51's comparison for ``bench/day_real.py --usage``: swarm's cost ledger as
``swarm stats --json`` shows it, per task, agent and campaign, beside each agent's model
server's own count of the usage it reported (its recorded requests, each with the ``usage``
its answer sent: packages/localmodel), and the difference.

The rule is the live tests' (tests/agents/live.py, ``check_ledger_is_localmodels``): a CLI
writes the requests of its conversation, those that offer the model tools, to the files swarm
reads; its side requests (Claude Code's and Codex's titles, opencode's title, Gemini CLI's
router) offer none and are written nowhere, so the ledger is compared with the server's count
of the requests that offer tools, and the side requests' tokens are shown apart. A request
is a task's when its latest prompt names the task (``| task T-n |``, swarm's prompt); the
broadcasts' turns are the agent's only.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

TASK = re.compile(r"\| task T-(\d+) \|")
FIELDS = ("input", "output", "cache_read", "cache_write")
LEDGER = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
SETTLE_S = 20.0  # the ledger unchanged this long (four of the watch's default 5 s ticks)
SETTLE_AT_MOST_S = 180.0

Sums = tuple[int, int, int, int]


async def compare(stats: Callable[[], dict[str, Any]], agents: list[Any], ids: list[int]) -> dict:
    """The ledger once it settled, beside the servers' counts: per agent, task and campaign."""
    cost = await _settled(stats)
    agent_rows = {row["key"]: _ledger(row) for row in cost["by_agent"]}
    task_rows = {row["key"]: _ledger(row) for row in cost["by_task"]}
    campaigns = [_ledger(row) for row in cost["by_campaign"] if row["key"] != "(none)"]
    by_agent, by_task = [], {f"T-{i}": (0, 0, 0, 0) for i in ids}
    for agent in agents:
        records = agent.model.admin.requests(since=0)
        talk = [r for r in records if _offers_tools(r) and r.get("usage")]
        side = [r for r in records if not _offers_tools(r) and r.get("usage")]
        server = _sum(talk)
        unreported = sum(1 for r in records if r.get("api") and not r.get("usage"))
        ledger = agent_rows.get(agent.id, (0, 0, 0, 0))
        by_agent.append({"agent": agent.id, "cli": agent.cli, "ledger": ledger,
                         "server": server, "difference": _minus(ledger, server),
                         "side_requests": len(side), "side_tokens": _sum(side),
                         "unreported": unreported})  # fmt: skip
        for record in talk:
            found = TASK.search(str(record.get("prompt") or ""))
            if found and f"T-{found.group(1)}" in by_task:
                key = f"T-{found.group(1)}"
                by_task[key] = _plus(by_task[key], _sum([record]))
    tasks = [{"task": key, "ledger": task_rows.get(key, (0, 0, 0, 0)), "server": server,
              "difference": _minus(task_rows.get(key, (0, 0, 0, 0)), server)}
             for key, server in by_task.items()]  # fmt: skip
    campaign_server = _total(list(by_task.values()))
    campaign_ledger = campaigns[0] if len(campaigns) == 1 else None
    return {
        "fields": list(FIELDS),
        "by_agent": by_agent,
        "by_task": tasks,
        "campaign": {"ledger": campaign_ledger, "server": campaign_server,
                     "difference": campaign_ledger and _minus(campaign_ledger, campaign_server)},
        "equal": {
            "agents": f"{sum(1 for a in by_agent if a['ledger'] == a['server'])}/{len(by_agent)}",
            "tasks": f"{sum(1 for t in tasks if t['ledger'] == t['server'])}/{len(tasks)}",
            "campaign": campaign_ledger == campaign_server,
        },
    }  # fmt: skip


async def _settled(stats: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``swarm stats --json``'s ``cost`` once its sums stayed the same for ``SETTLE_S``."""
    last, since = None, time.monotonic()
    deadline = time.monotonic() + SETTLE_AT_MOST_S
    while True:
        cost = dict((await asyncio.to_thread(stats))["cost"])
        if cost != last:
            last, since = cost, time.monotonic()
        elif time.monotonic() - since >= SETTLE_S or time.monotonic() > deadline:
            return cost
        await asyncio.sleep(5.0)


def _offers_tools(record: dict[str, Any]) -> bool:
    body = record.get("body")
    return isinstance(body, dict) and bool(body.get("tools"))


def _ledger(row: dict[str, Any]) -> Sums:
    a, b, c, d = (int(row[name]) for name in LEDGER)
    return a, b, c, d


def _sum(records: list[dict[str, Any]]) -> Sums:
    parts: list[Sums] = []
    for record in records:
        a, b, c, d = (int(record["usage"][name] or 0) for name in FIELDS)
        parts.append((a, b, c, d))
    return _total(parts)


def _total(parts: list[Sums]) -> Sums:
    a, b, c, d = (sum(p[i] for p in parts) for i in range(4))
    return a, b, c, d


def _plus(a: Sums, b: Sums) -> Sums:
    return _total([a, b])


def _minus(a: Sums, b: Sums) -> Sums:
    w, x, y, z = (a[i] - b[i] for i in range(4))
    return w, x, y, z
