"""Benchmark of swarm's MCP server: tool-call round trips over stdio and HTTP, and the size of
the tool list an agent receives.

Run: ``.venv/bin/python bench/mcp.py [--calls 300] [--cli-runs 10] [--json]``.

Prints, for a read (``my_task``) and a write (``report`` action ``note``), the round trip
p50/p99 through the SDK's own client: over stdio to a ``swarm mcp`` child, and over HTTP to
the dashboard's ``/mcp`` (uvicorn on its own thread and event loop, as in ``swarm run``),
each call authenticated by an agent token. The baselines, in the same run: the dashboard's
REST ``GET /api/v1/tasks/T-1`` (the same server, token check and database) and the CLI twin
``swarm task note`` (a new process per report, as an agent's shell runs it), with ratios.
Then the tool list as sent (the ``tools/list`` result's JSON): bytes and ~tokens (bytes/4).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent  # run as a script, this file would shadow the SDK
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import httpx2  # noqa: E402
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from core.access import _tokens as tokens  # noqa: E402
from core.models import TaskSpec  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from tests.helpers import cli_env  # noqa: E402
from tests.web.live import LiveDashboard  # noqa: E402

AGENT = "Agent-1"


def summary(samples: list[float]) -> dict[str, float]:
    """n, p50 and p99 in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
    }


async def timed(calls: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    """Seconds per call, after 5 warm-up calls."""
    for _ in range(5):
        await call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        result = await call()
        samples.append(time.perf_counter() - start)
        if getattr(result, "is_error", False):
            raise RuntimeError(f"the tool failed: {result.content}")
    return samples


async def round_trips(session: ClientSession, calls: int) -> dict[str, Any]:
    """my_task and report(note) through ``session``."""
    read = await timed(calls, lambda: session.call_tool("my_task", {}))
    write = await timed(
        calls, lambda: session.call_tool("report", {"action": "note", "note": "bench"})
    )
    return {"my_task": summary(read), "report_note": summary(write)}


async def over_stdio(home: Path, calls: int) -> tuple[dict[str, Any], int]:
    """Round trips to a ``swarm mcp`` child, and the tool list's size in bytes."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "bot.cli.main", "mcp"],
        env=cli_env(home, agent=AGENT),
        cwd=str(ROOT),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        listed = await session.list_tools()
        size = len(listed.model_dump_json(by_alias=True, exclude_none=True).encode())
        return await round_trips(session, calls), size


async def over_http(url: str, token: str, calls: int) -> dict[str, Any]:
    """Round trips to the dashboard's ``/mcp``."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await round_trips(session, calls)


async def rest_baseline(base: str, token: str, calls: int) -> dict[str, float]:
    """``GET /api/v1/tasks/T-1`` on the same dashboard: its REST API's round trip."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(base_url=base, headers=headers) as http:

        async def one() -> Any:
            response = await http.get("/api/v1/tasks/T-1")
            response.raise_for_status()

        return summary(await timed(calls, one))


def cli_twin(home: Path, runs: int) -> dict[str, float]:
    """``swarm task note T-1 ...`` in a new process, as an agent's shell runs it."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli.main", "task", "note", "T-1", "bench"],
            env=cli_env(home, agent=AGENT),
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        samples.append(time.perf_counter() - start)
    return {"n": runs, "p50_ms": round(statistics.median(samples) * 1000, 1)}


async def prepare(service: SwarmService) -> str:
    """T-1 given to Agent-1 and started; an agent token for it (the dashboard's admin
    token is made by LiveDashboard)."""
    await service.tasks.create(TaskSpec("Bench task", "Measure the tools", agent=AGENT), "cli")
    await service.queue.assign_batch()
    await service.tasks.start("T-1", AGENT)
    token = tokens.new_token()
    now = service.clock.now()
    await service.store.update(tokens.create, token, "bench", tokens.Role.agent, now, None, AGENT)
    return token


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--cli-runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        dash = LiveDashboard({"SWARM_HOME": str(home)})
        dash.start()
        try:
            token = dash.call(prepare)
            http = asyncio.run(over_http(f"{dash.url}/mcp", token, args.calls))
            rest = asyncio.run(rest_baseline(dash.url, dash.admin_token, args.calls))
            stdio, size = asyncio.run(over_stdio(home, args.calls))
            cli = cli_twin(home, args.cli_runs)
        finally:
            dash.stop()
    figures = {
        "stdio": stdio,
        "http": http,
        "rest_get_task": rest,
        "http_my_task_over_rest_p50": round(http["my_task"]["p50_ms"] / rest["p50_ms"], 1),
        "cli_task_note": cli,
        "cli_over_stdio_report_p50": round(cli["p50_ms"] / stdio["report_note"]["p50_ms"], 1),
        "cli_over_http_report_p50": round(cli["p50_ms"] / http["report_note"]["p50_ms"], 1),
        "tool_list_bytes": size,
        "tool_list_tokens_approx": size // 4,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for transport in ("stdio", "http"):
        for tool, shown in figures[transport].items():
            print(
                f"{transport:5} {tool:11} n={shown['n']} p50 {shown['p50_ms']} ms "
                f"p99 {shown['p99_ms']} ms"
            )
    print(
        f"REST GET /api/v1/tasks/T-1 (same dashboard): p50 {rest['p50_ms']} ms "
        f"p99 {rest['p99_ms']} ms; my_task over HTTP / REST p50: "
        f"{figures['http_my_task_over_rest_p50']}x"
    )
    print(f"CLI twin swarm task note: p50 {cli['p50_ms']} ms (n={cli['n']})")
    print(
        f"report(note) is {figures['cli_over_stdio_report_p50']}x faster over stdio, "
        f"{figures['cli_over_http_report_p50']}x over HTTP, than the CLI twin (p50)"
    )
    print(f"tool list: {size} bytes, ~{size // 4} tokens")


if __name__ == "__main__":
    main()
