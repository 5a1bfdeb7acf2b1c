"""``swarm run --local-discord`` in a child process, and its page's JSON routes over HTTP."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.helpers import ROOT, cli_env, write_agents
from tests.web.live import free_port

URL_LINE = re.compile(
    r"swarm run: local Discord: open (http://127\.0\.0\.1:(\d+)/client/#key=(\S+))"
)
Probe = Callable[[dict[str, Any]], Any]


class LocalRun:
    """The running coordinator: its output so far, its page's address and key."""

    def __init__(self, proc: asyncio.subprocess.Process, http: aiohttp.ClientSession) -> None:
        self.proc = proc
        self.http = http
        self.lines: list[str] = []
        self.url = self.base = self.key = ""

    async def read_until(self, pattern: re.Pattern[str], within: float = 30) -> re.Match[str]:
        """Read output lines until one matches (the process's end: an AssertionError)."""
        async with asyncio.timeout(within):
            while True:
                for line in self.lines:
                    found = pattern.search(line)
                    if found:
                        return found
                raw = await self.proc.stdout.readline()  # type: ignore[union-attr]
                assert raw, "swarm run ended:\n" + "\n".join(self.lines)
                self.lines.append(raw.decode().rstrip("\n"))

    async def state(self) -> dict[str, Any]:
        """The page's state (all of it)."""
        async with self.http.get(self.base + "state", headers=self._key) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        """A POST of the page; its answer."""
        async with self.http.post(self.base + path, json=body, headers=self._key) as response:
            answer = dict(await response.json())
            assert response.status == status, answer
            return answer

    async def until(self, probe: Probe, what: str, within: float = 15) -> Any:
        """Poll the page's state until ``probe(state)`` is truthy; return it."""
        async with asyncio.timeout(within):
            while True:
                state = await self.state()
                found = probe(state)
                if found:
                    return found
                assert self.proc.returncode is None, f"swarm run ended, waiting for {what}"
                await asyncio.sleep(0.05)

    async def stop(self) -> int:
        """Ctrl+C, and the exit status."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(self.proc.communicate(), 30)
        self.lines += out.decode().splitlines()
        return int(self.proc.returncode or 0)

    @property
    def _key(self) -> dict[str, str]:
        return {"X-Client-Key": self.key}


@asynccontextmanager
async def local_run(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[LocalRun]:
    """``swarm run --local-discord`` on a fresh home in ``tmp`` with one inbox agent
    (``Agent-1``, role ``backend``), its dashboard and page on free ports; stopped after."""
    agents = write_agents(
        tmp / "agents.toml", [{"id": "Agent-1", "role": "backend", "delivery": "inbox"}]
    )
    extra = {"SWARM_WEB_PORT": str(free_port()), **(env or {})}
    command = ["run", "--local-discord", "--local-discord-port", str(free_port()), *args]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        *command,
        env=cli_env(tmp / "home", agents, None, extra),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with aiohttp.ClientSession() as http:
        run = LocalRun(proc, http)
        try:
            found = await run.read_until(URL_LINE)
            run.url, run.key = found.group(1), found.group(3)
            run.base = f"http://127.0.0.1:{found.group(2)}/client/api/"
            yield run
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


def message_with(text: str) -> Probe:
    """A probe for the first shown message holding ``text`` (content or an embed's title)."""

    def probe(state: dict[str, Any]) -> dict[str, Any] | None:
        for message in state.get("messages") or []:
            titles = " ".join(embed["title"] for embed in message["embeds"])
            if text in message["content"] or text in titles:
                return dict(message)
        return None

    return probe
