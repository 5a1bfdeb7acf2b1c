"""``swarm run --local-telegram``: the real coordinator and Telegram bot against a local
Telegram, used from its page as a person would (no BotFather token); and beside the local
Discord from one ``swarm run``: a task made from Telegram is a live message on both."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.discord.local_run import URL_LINE as DISCORD_URL
from tests.helpers import ROOT, cli_env, write_agents
from tests.web.live import free_port

TELEGRAM_URL = re.compile(
    r"swarm run: local Telegram: open (http://127\.0\.0\.1:(\d+)/chat/#(\S+))"
)
pytestmark = pytest.mark.timeout(90)


class Run:
    """The child ``swarm run``: its output lines and the Telegram page's routes."""

    def __init__(self, proc: asyncio.subprocess.Process, http: aiohttp.ClientSession) -> None:
        self.proc, self.http = proc, http
        self.lines: list[str] = []
        self.base = self.key = ""

    async def read_until(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """Output lines until one matches."""
        async with asyncio.timeout(30):
            while True:
                found = next((m for m in map(pattern.search, self.lines) if m), None)
                if found:
                    return found
                raw = await self.proc.stdout.readline()  # type: ignore[union-attr]
                assert raw, "swarm run ended:\n" + "\n".join(self.lines)
                self.lines.append(raw.decode().rstrip("\n"))

    async def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A route of the page (GET without a body)."""
        headers = {"X-Chat-Key": self.key}
        if body is None:
            async with self.http.get(self.base + path, headers=headers) as got:
                assert got.status == 200, await got.text()
                return dict(await got.json())
        async with self.http.post(self.base + path, json=body, headers=headers) as got:
            assert got.status == 200, await got.text()
            return dict(await got.json())

    async def message(self, text: str) -> dict[str, Any]:
        """The first message of the chat holding ``text``, once there is one."""
        async with asyncio.timeout(20):
            while True:
                state = await self.call("state")
                found = [m for m in state["messages"] if text in m["text"]]
                if found:
                    return dict(found[0])
                assert self.proc.returncode is None, f"swarm run ended, waiting for {text!r}"
                await asyncio.sleep(0.1)

    async def stop(self) -> int:
        """Ctrl+C, and the exit status."""
        self.proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(self.proc.communicate(), 30)
        self.lines += out.decode().splitlines()
        return int(self.proc.returncode or 0)


@asynccontextmanager
async def swarm_run(tmp: Path, *flags: str) -> AsyncIterator[Run]:
    """``swarm run --local-telegram <flags>`` on a fresh home with one inbox agent."""
    agents = write_agents(
        tmp / "agents.toml", [{"id": "Agent-1", "role": "backend", "delivery": "inbox"}]
    )
    extra = {"SWARM_WEB_PORT": str(free_port())}
    command = ["run", "--local-telegram", "--local-telegram-port", str(free_port()), *flags]
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
        run = Run(proc, http)
        try:
            found = await run.read_until(TELEGRAM_URL)
            run.base, run.key = f"http://127.0.0.1:{found[2]}/chat/api/", found[3]
            yield run
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_a_task_from_the_page_is_a_live_message_and_its_button_acts(tmp_path: Path) -> None:
    async with swarm_run(tmp_path) as run:
        await run.call("send", {"text": "/task <b>Fix</b> the login"})
        await run.message("T-1 created: its message follows")
        card = await run.message("T-1 · <b>Fix</b> the login — assigned to Agent-1")
        done = next(b for row in card["buttons"] for b in row if b["text"] == "Done")
        await run.call("press", {"message_id": card["id"], "data": done["callback_data"]})
        await run.message("T-1 · <b>Fix</b> the login — done by Agent-1")
        state = await run.call("state")
        assert [a["text"] for a in state["answers"]] == ["T-1 is now done"]
        assert [c["command"] for c in state["commands"]][:2] == ["task", "tasks"]
        assert await run.stop() == 0
    assert "swarm run: stopped" in run.lines


async def test_beside_the_local_discord_one_task_is_a_message_on_both(tmp_path: Path) -> None:
    async with swarm_run(
        tmp_path, "--local-discord", "--local-discord-port", str(free_port())
    ) as run:
        found = await run.read_until(DISCORD_URL)
        discord = f"http://127.0.0.1:{found[2]}/client/api/state"
        await run.call("send", {"text": "/task both places"})
        await run.message("T-1 · both places — assigned to Agent-1")
        headers = {"X-Client-Key": found[3]}
        async with asyncio.timeout(20):
            while True:
                async with run.http.get(discord, headers=headers) as got:
                    messages = (await got.json())["messages"]
                if any("**T-1** · both places" in m["content"] for m in messages):
                    break
                await asyncio.sleep(0.1)
        assert await run.stop() == 0


async def test_the_banner_names_telegram(tmp_path: Path) -> None:
    async with swarm_run(tmp_path) as run:
        await run.read_until(re.compile(r"^  Telegram:  on \(connecting\)$"))
        assert "  Discord:   off" in run.lines
        assert await run.stop() == 0
