"""Benchmark of the dashboard: the board with 10,000 tasks, the live stream into a real
browser, and deliveries with and without 50 live clients.

Run: ``.venv/bin/python bench/web.py [--tasks 10000] [--runs 40] [--stream-runs 15]
[--messages 200] [--clients 50] [--screenshot docs/dashboard-board.png] [--json]``.
Needs Debian's chromium for the stream figure and the screenshot (Playwright drives it;
nothing is downloaded).

Prints: the board page's server time p50/p95 (in-process ASGI, so no network), the time
from a ``swarm task add`` in another process committing to its card in the browser's DOM
(p50/p95), and delivery latency (queued → delivered, inbox deliverer, p50/p95) without and
with ``--clients`` SSE clients in another process, with their ratio from the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import httpx  # noqa: E402

from bench.web_data import demo_board, many_tasks, write_agents  # noqa: E402
from bot.web.app import create_app  # noqa: E402
from bot.web.settings import WebSettings  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.web.live import CHROMIUM, CHROMIUM_ARGS, LiveDashboard, free_port  # noqa: E402


def summary(samples: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "p95_ms": round(cuts[18] * 1000, 1),
    }


def env_for(folder: Path) -> dict[str, str]:
    """SWARM_HOME and an agents file of eight inbox agents under ``folder``."""
    return {
        "SWARM_HOME": str(folder / "home"),
        "SWARM_CONFIG": str(write_agents(folder / "agents.toml")),
    }


async def board_time(folder: Path, tasks: int, runs: int) -> dict[str, Any]:
    """Server time of ``GET /`` over ``tasks`` tasks (and of a filtered board)."""
    service = await SwarmService.open(Settings.from_env(env_for(folder)))
    try:
        await many_tasks(service, tasks)
        token = await _admin_token(service)
        app = create_app(service, WebSettings())
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1",
            cookies={"swarm_token": token},
        ) as http:
            result: dict[str, Any] = {"tasks": tasks}
            for name, path in (
                ("board", "/"),
                ("board_filtered", "/?q=parser&role=qa"),
                ("column_500", "/?status=done"),
            ):
                samples = []
                for _ in range(runs):
                    started = time.perf_counter()
                    answer = await http.get(path)
                    samples.append(time.perf_counter() - started)
                    assert answer.status_code == 200, answer.text[:200]
                result[name] = summary(samples)
            return result
    finally:
        await service.close()


async def _admin_token(service: SwarmService) -> str:
    from core.access import _tokens as tokens

    token = tokens.new_token()
    await service.store.update(
        tokens.create, token, "bench", tokens.Role.admin, service.clock.now()
    )
    return token


async def stream_latency(folder: Path, runs: int, screenshot: Path | None) -> dict[str, Any]:
    """From a CLI write (its event's timestamp) to the card in the browser's DOM."""
    from playwright.async_api import async_playwright

    env = env_for(folder)
    live = LiveDashboard(env)
    await asyncio.to_thread(live.start)
    profile = tempfile.mkdtemp(prefix="swarm-bench-chromium-")
    try:
        if screenshot is not None:
            await asyncio.to_thread(live.call, demo_board)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1680, "height": 860},
            )
            page = await browser.new_page()
            await page.goto(live.url + "/login")
            await page.fill("#token", live.admin_token)
            await page.click("#login")
            await page.wait_for_selector("body[data-live=yes]")
            if screenshot is not None:
                await page.screenshot(path=str(screenshot))
            await page.evaluate(_OBSERVER)
            samples = [await _one_write(page, live, env, n) for n in range(runs)]
            await browser.close()
        return summary(samples)
    finally:
        await asyncio.to_thread(live.stop)


_OBSERVER = """() => {
  window.seen = {};
  new MutationObserver(records => {
    for (const r of records) for (const n of r.addedNodes)
      if (n.id && n.id.startsWith("task-")) window.seen[n.id] = Date.now();
  }).observe(document.querySelector(".board"), {childList: true, subtree: true});
}"""


async def _one_write(page: Any, live: LiveDashboard, env: dict[str, str], n: int) -> float:
    cli = [sys.executable, "-m", "bot.cli.main", "task", "add", f"stream probe {n}", "--json"]
    done = await asyncio.to_thread(
        subprocess.run, cli, env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    ref = json.loads(done.stdout)["id"]
    key = f"task-{ref}"
    await page.wait_for_function(f"() => window.seen['{key}'] !== undefined", timeout=10000)
    seen_ms = await page.evaluate(f"() => window.seen['{key}']")
    return max(0.0, seen_ms / 1000 - _created_at(Path(env["SWARM_HOME"]), ref))


def _created_at(home: Path, ref: str) -> float:
    """The commit time (epoch seconds, full precision) the store gave task ``ref``; the
    CLI's --json shows it to the second only."""
    with contextlib.closing(sqlite3.connect(home / "swarm.db")) as conn:
        row = conn.execute(
            "SELECT created_at FROM tasks WHERE id = $1", (int(ref.removeprefix("T-")),)
        ).fetchone()
    return float(row[0])


async def delivery_latency(folder: Path, messages: int, clients: int) -> dict[str, Any]:
    """Delivery p50 without and with ``clients`` live SSE clients (another process)."""
    quiet = await _deliveries(folder / "quiet", messages, 0)
    busy = await _deliveries(folder / "busy", messages, clients)
    return {
        "messages": messages,
        "clients": clients,
        "without": quiet,
        "with": busy,
        "ratio_p50": round(busy["p50_ms"] / quiet["p50_ms"], 2) if quiet["p50_ms"] else None,
    }


async def _deliveries(folder: Path, messages: int, clients: int) -> dict[str, float]:
    from automation.inbox.files import InboxDeliverer
    from bot.web.server import running
    from core.coordinator.scheduler import Scheduler

    service = await SwarmService.open(Settings.from_env(env_for(folder)))
    stop = asyncio.Event()
    try:
        token = await _admin_token(service)
        scheduler = Scheduler(service, InboxDeliverer(service.settings.inbox_dir))
        runner = asyncio.create_task(scheduler.run(stop))
        async with running(service, WebSettings(port=free_port())) as server:
            assert server is not None
            listeners = _start_clients(server.port, token, clients)
            try:
                await _until(lambda: server.app.state.web.hub.listeners >= clients)
                for n in range(messages):
                    await service.messages.send(f"Agent-{n % 8 + 1}", f"bench message {n}", "bench")
                    await asyncio.sleep(0.01)
                await _until_delivered(service, messages)
            finally:
                if listeners is not None:
                    listeners.terminate()
                    listeners.wait(10)
        stop.set()
        await runner
        samples = await service.store.read(_latencies)
        return summary(samples)
    finally:
        await service.close()


async def _until(ready: Any, limit_s: float = 60.0) -> None:
    for _ in range(int(limit_s / 0.05)):
        if ready():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the SSE clients did not connect")


async def _until_delivered(service: SwarmService, count: int, limit_s: float = 120.0) -> None:
    for _ in range(int(limit_s / 0.05)):
        if (await service.status())["deliveries"].get("delivered", 0) >= count:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the deliveries did not finish")


def _latencies(conn: Any) -> list[float]:
    return [
        float(r[0])
        for r in conn.execute(
            "SELECT updated_at - created_at FROM deliveries WHERE state = 'delivered'"
        )
    ]


def _start_clients(port: int, token: str, clients: int) -> subprocess.Popen[bytes] | None:
    if not clients:
        return None
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "sse_clients.py"), str(port), token, str(clients)]
    )


async def main() -> None:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--stream-runs", type=int, default=15)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--screenshot", type=Path, help="save the board (demo data) here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarm-bench-web-") as tmp:
        folder = Path(tmp)
        for part in ("board", "stream", "deliveries/quiet", "deliveries/busy"):
            (folder / part).mkdir(parents=True)
        result = {
            "board": await board_time(folder / "board", args.tasks, args.runs),
            "stream": await stream_latency(folder / "stream", args.stream_runs, args.screenshot),
            "deliveries": await delivery_latency(
                folder / "deliveries", args.messages, args.clients
            ),
        }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    board, stream, deliveries = result["board"], result["stream"], result["deliveries"]
    print(
        f"board, {board['tasks']} tasks: p50 {board['board']['p50_ms']} ms, "
        f"p95 {board['board']['p95_ms']} ms (filtered p50 {board['board_filtered']['p50_ms']}"
        f" ms, one 500-card column p50 {board['column_500']['p50_ms']} ms)"
    )
    print(
        f"CLI write -> browser DOM: p50 {stream['p50_ms']} ms, p95 {stream['p95_ms']} ms "
        f"({stream['n']} writes)"
    )
    print(
        f"delivery p50 without clients {deliveries['without']['p50_ms']} ms, with "
        f"{deliveries['clients']} SSE clients {deliveries['with']['p50_ms']} ms "
        f"(ratio {deliveries['ratio_p50']}; p95 {deliveries['without']['p95_ms']} / "
        f"{deliveries['with']['p95_ms']} ms; {deliveries['messages']} messages each)"
    )


if __name__ == "__main__":
    asyncio.run(main())
