"""``swarm demo``: the whole swarm on this machine, with no token and no set-up.

A local Discord server, the real bot, the coordinator and eight demo agents. A person's
slash commands build a small task graph and a broadcast; the agents get their prompts (in
windows on a virtual screen when Xvfb is installed, otherwise as inbox files) and report
back with the real ``swarm task start`` / ``swarm task done`` CLI, as they would from their
own terminals. The terminal shows what the person typed, what the bot answered and what it
posted to the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.demo_desk import DemoDesk, open_desk
from core.errors import ConfigError
from core.service.swarm import SwarmService
from core.waits import Background, within

SCENARIO: list[tuple[str, dict[str, str]]] = [
    (
        "task create",
        {
            "title": "Design the REST API for the notes app",
            "role": "architecture",
            "priority": "high",
        },
    ),
    (
        "task create",
        {"title": "Implement the notes endpoints", "role": "integration", "after": "T-1"},
    ),
    ("task create", {"title": "Create the database schema", "role": "data", "after": "T-1"}),
    ("task create", {"title": "Write the API tests", "role": "qa", "after": "T-2,T-3"}),
    (
        "task create",
        {"title": "Set up CI for the repository", "role": "infrastructure", "priority": "urgent"},
    ),
    ("broadcast", {"text": "Demo kick-off: the notes app sprint has started."}),
]
TASKS = sum(1 for name, _ in SCENARIO if name == "task create")
TASK_IN_TEXT = re.compile(r"\btask (T-\d+)\b")
CHANNEL_MENTION = re.compile(r"<#(\d+)>")
TIMEOUT_S = 90.0
READY_S = 30.0  # the bot ready (its commands synced) at most
Player = Callable[[Config, DemoDesk, Path, bool], Awaitable[int]]
NEXT_STEPS = """
next steps:
  your agents, in terminals: swarm workspaces init ~/src/your-repo (a worktree per agent),
                             then swarm desktop up (opens each in its own window)
  the coordinator:           swarm run
  the bot, before Discord:   swarm run --local-discord (a page to use it from a browser)
  your own Discord bot:      docs/discord-setup.md, then: swarm doctor
  from each agent terminal:  swarm task start T-1 / swarm task done T-1 --note "..."
"""


def path_hint() -> str:
    """What to do when ``swarm`` is not on the PATH (a checkout's ``.venv`` not activated)."""
    if shutil.which("swarm"):
        return ""
    venv = (
        f"source {Path(sys.prefix) / 'bin' / 'activate'}, or "
        if sys.prefix != sys.base_prefix
        else ""
    )
    return (
        "  swarm is not on your PATH: "
        f"{venv}install it for your user: pipx install . (or pip install --user .)\n"
    )


async def swarm_cli(home: Path, *args: str, agent: str | None = None) -> str:
    """Run the real ``swarm`` CLI in a child process; return its output."""
    env = {**os.environ, "SWARM_HOME": str(home)}
    if agent:
        env["SWARM_AGENT"] = agent
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await within(proc.communicate(), 30)
    if proc.returncode != 0:
        raise RuntimeError(f"swarm {shlex.join(args)} failed: {out.decode().strip()}")
    return out.decode().strip()


def require_localdiscord(what: str = "swarm demo") -> None:
    """Fail with one clear line when the local Discord (the ``demo`` extra) is missing."""
    try:
        import localdiscord  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"{what} needs the localdiscord package (the swarm[demo] extra): in the swarm "
            "repository run make, or pip install ./packages/localdiscord"
        ) from None


class _NoVoiceWarnings(logging.Filter):
    """discord.py's "PyNaCl is not installed, voice will NOT be supported": noise here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


def quiet_voice_warning() -> None:
    """Leave out discord.py's voice warning (swarm's bot has no voice)."""
    logger = logging.getLogger("discord.client")
    if not any(isinstance(f, _NoVoiceWarnings) for f in logger.filters):
        logger.addFilter(_NoVoiceWarnings())


async def run_demo(keep: bool = False, inbox: bool = False, play: Player | None = None) -> int:
    """Play the scenario (``play``: in another front end than the local Discord, as
    ``bot.demo_chat`` does); 0 when every task got done."""
    if play is None:
        require_localdiscord()
        quiet_voice_warning()
    home = Path(tempfile.mkdtemp(prefix="swarm-demo-"))
    print(f"swarm demo: SWARM_HOME={home}")
    config = Config({"SWARM_HOME": str(home)})  # the demo ignores the user's settings
    try:
        async with open_desk(home, inbox=inbox) as desk:
            print(f"agents: {desk.description}\n")
            return await (play or _with_discord)(config, desk, home, keep)
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


async def _with_discord(config: Config, desk: DemoDesk, home: Path, keep: bool) -> int:
    """The coordinator exactly as ``swarm run`` builds it, against a local Discord."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop
        import discord  # noqa: F401
    from localdiscord import LocalDiscordServer, local_client_options, pointed_at

    from bot.app import Builder, Coordinator, run_with_discord, started_parts
    from bot.discordbot.settings import DiscordSettings

    # no rate limits: under Discord's the demo's posts wait for their buckets and the scenario
    # takes 10 s instead of 3 s (docs/reliability.md, "Discord rate limits")
    async with LocalDiscordServer(guild_name="swarm-demo", rate_limits=None) as server:
        channel = server.add_text_channel("swarm")
        you = server.add_user("you")
        discord_settings = DiscordSettings(
            token=server.token,
            guild_id=server.guild.id,
            channel_id=channel.id,
            admin_ids=frozenset({you.id}),
        )
        builder = Builder(
            config.replace(discord=discord_settings),
            deliverer=desk.deliverer,
            poll_s=0.2,
            client_options=local_client_options(),
        )
        stop = asyncio.Event()
        demo = Background("demo")  # the coordinator, awaited at the end
        with pointed_at(server):
            started: asyncio.Future[Coordinator] = asyncio.get_running_loop().create_future()
            coordinator = run_with_discord(builder, stop=stop, started=started)
            runner = demo.start(coordinator, name="coordinator", awaited=True)
            try:
                await started_parts(runner, started)  # built: the database is there
                service = await builder.service()  # the demo's own view; it outlives the run
                try:
                    await _until_ready(server, runner)
                    print(f"local Discord at {server.url}: bot ready, slash commands synced\n")
                    return await _play(
                        server, channel, you, service, desk, home, stop, runner, keep
                    )
                finally:
                    await service.close()
            finally:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner


async def _until_ready(server: Any, runner: asyncio.Task[None]) -> None:
    """Until the local Discord has the bot's commands and the bot is ready."""

    async def synced() -> None:
        await server.wait_for_commands("task", "broadcast")
        await server.wait_for_bot_ready()

    await until_ready(synced, runner)


async def until_ready(ready: Callable[[], Awaitable[None]], runner: asyncio.Task[None]) -> None:
    """Until ``ready()`` returns (bounded: ``READY_S``); the coordinator's error if it stops
    first (the demo of every front end)."""
    starting = Background("demo: the bot's start")  # awaited or cancelled below
    waiting = starting.start(within(ready(), READY_S), name="demo-ready", awaited=True)
    await asyncio.wait({waiting, runner}, return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        runner.result()
        raise RuntimeError("the coordinator stopped before the bot was ready")
    waiting.result()


async def _play(
    server: Any,
    channel: Any,
    you: Any,
    service: SwarmService,
    desk: DemoDesk,
    home: Path,
    stop: asyncio.Event,
    runner: asyncio.Task[None],
    keep: bool,
) -> int:
    from bot.discordbot.front_end import DiscordFrontEnd

    started = time.monotonic()
    tasks = Background("demo")  # awaited at the end
    helpers = [
        tasks.start(_show_channel(server, channel, stop), name="demo-channel", awaited=True),
        tasks.start(demo_agents(desk, home, stop), name="demo-agents", awaited=True),
    ]
    try:
        for name, options in SCENARIO:
            await _slash(server, you, name, options)
        finished = await wait_all_done(service, stop)
        await wait_posted(service, DiscordFrontEnd.name)
    finally:
        stop.set()
        for task in (*helpers, runner):
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await _summary(service, server, channel, desk, home, time.monotonic() - started, keep)
    return 0 if finished else 1


async def _slash(server: Any, user: Any, name: str, options: dict[str, str]) -> None:
    shown = " ".join(f"{k}:{v}" for k, v in options.items())
    print(f"you> /{name} {shown}")
    callback = await (await server.invoke_slash(user, name, options)).wait_callback()
    data = callback.data
    text = data.get("content") or (data.get("embeds") or [{}])[0].get("title", "")
    text = CHANNEL_MENTION.sub(lambda m: f"#{_channel_name(server, int(m[1]))}", text)
    print(f"  bot ({callback.latency * 1000:.0f} ms)> {text}")


def _channel_name(server: Any, channel_id: int) -> str:
    """A channel's name as Discord's client shows a ``<#id>`` mention."""
    found = [c.name for c in server.guild.channels if c.id == channel_id]
    return found[0] if found else str(channel_id)


async def _show_channel(server: Any, channel: Any, stop: asyncio.Event) -> None:
    """Print each channel post, and each post again when it is edited in place."""
    shown: dict[int, str] = {}
    while not stop.is_set():
        for message in server.messages(channel):
            if shown.get(message.id) == message.content:
                continue
            mark = "#swarm (edited)" if message.id in shown else "#swarm"
            for line in message.content.splitlines():
                print(f"  {mark} | {line}", flush=True)
            shown[message.id] = message.content
        await asyncio.sleep(0.1)


async def demo_agents(desk: DemoDesk, home: Path, stop: asyncio.Event) -> None:
    """Each demo agent reads what it received and reports through the CLI, like a real one."""
    while not stop.is_set():
        for agent, text in desk.received():
            found = TASK_IN_TEXT.search(text)
            if found:
                ref = found.group(1)
                for args in (
                    ("task", "start", ref),
                    ("task", "done", ref, "--note", f"finished by demo {agent}"),
                ):
                    print(f"  {agent}$ swarm {shlex.join(args)}", flush=True)
                    await swarm_cli(home, *args, agent=agent)
        await asyncio.sleep(0.1)


async def wait_all_done(service: SwarmService, stop: asyncio.Event) -> bool:
    """Until every task is done (True), or time is up or Ctrl+C stopped the coordinator."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline and not stop.is_set():
        if (await service.status())["tasks"]["done"] == TASKS:
            return True
        await asyncio.sleep(0.1)
    return False


async def wait_posted(service: SwarmService, front_end: str) -> None:
    """Until ``front_end``'s notifier has posted every event (bounded)."""
    last = (await service.history.last(1))[-1].id
    deadline = time.monotonic() + 5
    while await service.posts.cursor(front_end) < last and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # the cursor lives in the database: nothing to wait on
    await asyncio.sleep(0.2)  # the printer shows what was posted


async def _summary(
    service: SwarmService,
    server: Any,
    channel: Any,
    desk: DemoDesk,
    home: Path,
    seconds: float,
    keep: bool,
) -> None:
    posted = f"{len(server.messages(channel))} channel posts"
    await summary(service, desk, home, seconds, keep, posted)
    print(NEXT_STEPS + path_hint())


async def summary(
    service: SwarmService, desk: DemoDesk, home: Path, seconds: float, keep: bool, posted: str
) -> None:
    """The demo's end in numbers (``posted``: what its front end shows, in words), and the
    agents' screenshot when kept (every front end's demo)."""
    overview = await service.status()
    tasks, deliveries = overview["tasks"], overview["deliveries"]
    print(
        f"\nsummary: {tasks['done']}/{TASKS} tasks done, {tasks['failed']} failed; "
        f"{deliveries['delivered']} deliveries ({desk.method}), {deliveries['failed']} failed; "
        f"{posted}; {seconds:.1f} s"
    )
    shot = desk.screenshot(home / "agents.png") if keep else None
    if shot is not None:
        print(f"screenshot of the eight agent windows: {shot}")
