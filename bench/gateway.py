"""The model gateway's added latency to the first streamed token, and its CPU per request.

``python bench/gateway.py [--requests N]``: localmodel as its own process, the gateway as
its own process (``python -I -m automation.launch.gateway``, one agent, upstream localmodel,
a key from its environment), and this process as the client. Each round sends the same
streamed Anthropic Messages request three ways, interleaved: to localmodel directly, to the
gateway's Unix socket, and through the relay (a loopback port -> the socket -> the gateway,
the path a sandboxed CLI takes, here without a network namespace). The time is from the
request's first byte sent to the first ``content_block_delta`` event read. Prints p50 and p99
of each, their ratio to direct, and the gateway process's CPU time per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from automation.launch.gateway import MODULE, RELAY

BODY = {"model": "local", "max_tokens": 64, "stream": True,
        "messages": [{"role": "user", "content": "say hi"}]}  # fmt: skip
HEADERS = {"x-api-key": "placeholder", "anthropic-version": "2023-06-01"}
SCRIPT = 'default = [{ text = "hello from the bench, a few tokens long" }]\n'


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def first_token(session: aiohttp.ClientSession, url: str) -> float:
    """Seconds from sending the request to reading its first text delta (the stream read to
    its end, so the connection is reused)."""
    started = time.perf_counter()
    seen: float | None = None
    async with session.post(url, json=BODY, headers=HEADERS) as answer:
        buffer = b""
        async for chunk in answer.content.iter_any():
            if seen is None:
                buffer += chunk
                if b"content_block_delta" in buffer:
                    seen = time.perf_counter() - started
    assert seen is not None, "no text delta in the stream"
    return seen


def cpu_seconds(pid: int) -> float:
    """A process's user and system CPU time so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def spawn(argv: list[str], env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """A process whose first line of output says it is ready."""
    return await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env
    )


async def first_line(process: asyncio.subprocess.Process) -> str:
    """The process's first line of output (30 s at most)."""
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()


async def run(requests: int) -> dict[str, object]:
    """Start the three processes, measure, end them."""
    folder = Path(tempfile.mkdtemp(prefix="gwb-", dir="/tmp"))
    (folder / "script.toml").write_text(SCRIPT)
    model = await spawn([sys.executable, "-m", "localmodel", "--port", "0",
                         "--script", str(folder / "script.toml")])  # fmt: skip
    url = await first_line(model)
    socket = folder / "agent.model"
    spec = {
        "records": str(folder / "records"),
        "agents": [
            {
                "agent": "bench",
                "model": {
                    "socket": str(socket),
                    "upstream": url,
                    "vendor": "anthropic",
                    "key_env": "BENCH_KEY",
                },
            }
        ],
    }
    (folder / "spec.json").write_text(json.dumps(spec))
    env = {"PATH": os.environ.get("PATH", ""), "BENCH_KEY": "sk-ant-bench-key"}
    gateway = await spawn([sys.executable, "-I", "-m", MODULE, "--spec",
                           str(folder / "spec.json")], env)  # fmt: skip
    await first_line(gateway)
    relay = await spawn([sys.executable, "-I", str(RELAY), "--listen", f"0:{socket}"])
    relay_port = json.loads(await first_line(relay))["ports"][0]
    try:
        return await measure(requests, url, socket, relay_port, gateway.pid)
    finally:
        for process in (relay, gateway, model):
            process.terminate()
            await process.wait()


async def measure(
    requests: int, url: str, socket: Path, relay_port: int, gateway_pid: int
) -> dict[str, object]:
    """Interleaved rounds of the three ways; the first 20 of each are a warm-up."""
    ways: dict[str, tuple[Callable[[], aiohttp.BaseConnector], str]] = {
        "direct": (aiohttp.TCPConnector, f"{url}/v1/messages"),
        "gateway socket": (lambda: aiohttp.UnixConnector(str(socket)), "http://gw/v1/messages"),
        "relay + gateway": (aiohttp.TCPConnector, f"http://127.0.0.1:{relay_port}/v1/messages"),
    }
    sessions = {name: aiohttp.ClientSession(connector=make()) for name, (make, _) in ways.items()}
    times: dict[str, list[float]] = {name: [] for name in ways}
    try:
        for _ in range(20):
            for name, (_, target) in ways.items():
                await first_token(sessions[name], target)
        cpu_before = cpu_seconds(gateway_pid)
        for _ in range(requests):
            for name, (_, target) in ways.items():
                times[name].append(await first_token(sessions[name], target))
        cpu = cpu_seconds(gateway_pid) - cpu_before
    finally:
        for session in sessions.values():
            await session.close()
    base = times["direct"]
    found: dict[str, object] = {
        name: {"p50_ms": pct(v, 0.5) * 1e3, "p99_ms": pct(v, 0.99) * 1e3,
               "p50_ratio": pct(v, 0.5) / pct(base, 0.5),
               "p99_ratio": pct(v, 0.99) / pct(base, 0.99)}
        for name, v in times.items()
    }  # fmt: skip
    found["gateway_cpu_ms_per_request"] = cpu / (2 * requests) * 1e3  # two ways through it
    found["requests"] = requests
    return found


def main() -> None:
    """Run and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    found = asyncio.run(run(args.requests))
    for name, value in found.items():
        if isinstance(value, dict):
            print(f"{name:<16} first token p50 {value['p50_ms']:6.2f} ms "
                  f"(x{value['p50_ratio']:.2f})   p99 {value['p99_ms']:6.2f} ms "
                  f"(x{value['p99_ratio']:.2f})")  # fmt: skip
    print(f"gateway CPU per request: {found['gateway_cpu_ms_per_request']:.2f} ms "
          f"({found['requests']} requests each way)")  # fmt: skip


if __name__ == "__main__":
    main()
