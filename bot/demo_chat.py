"""``swarm demo --front-end telegram|slack``: the demo played in a chat's local server.

The same coordinator, demo agents and scenario as the Discord demo's, with one front end:
the real Telegram bot (python-telegram-bot) against ``packages/localtelegram``, or the real
Slack app (slack-bolt over Socket Mode) against ``packages/localslack``. The person's
commands are sent as the local server's page sends them; the terminal shows each command,
the bot's answer and every message the bot posts to the chat (again when it is edited).
A chat's ``/task`` takes a title only: the tasks have no roles or dependencies here.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.app import Builder, Coordinator, run_with_front_ends, started_parts
from bot.config import Config
from bot.demo import (
    NEXT_STEPS,
    SCENARIO,
    demo_agents,
    path_hint,
    run_demo,
    summary,
    until_ready,
    wait_all_done,
    wait_posted,
)
from bot.demo_desk import DemoDesk
from core.errors import ConfigError
from core.service.swarm import SwarmService
from core.waits import Background

if TYPE_CHECKING:
    from bot.slack.settings import SlackSettings
    from bot.telegram.settings import TelegramSettings

# the scenario as a chat's commands: (command, its text)
CHAT_SCENARIO: list[tuple[str, str]] = [
    ("task" if name == "task create" else name, options.get("title") or options["text"])
    for name, options in SCENARIO
]
# front end → (the module that must be installed, its package in the repository)
NEEDS = {
    "telegram": (("localtelegram", "telegram"), "packages/localtelegram"),
    "slack": (("localslack", "slack_bolt"), "packages/localslack"),
}


class ChatStage(Protocol):
    """One chat's local server, as the demo drives it (``bot.telegram.demo``,
    ``bot.slack.demo``)."""

    name: str  # the front end as a person says it: "Telegram"
    posts_name: str  # its posts' rows and cursor: "telegram"
    url: str  # the page a person would open
    setup: str  # where its set-up is documented
    ready_says: str  # what is said once it is ready

    def settings(self) -> TelegramSettings | SlackSettings:
        """This front end's settings, pointed at the local server (its ``posts_name`` is
        its section of the configuration)."""
        ...

    async def ready(self) -> None:
        """Until the bot is connected and listening."""
        ...

    async def command(self, name: str, text: str) -> tuple[str, str]:
        """The person runs ``name`` with ``text``; what they typed and the bot's answer."""
        ...

    def posts(self) -> list[tuple[str, str]]:
        """The bot's messages in the chat (not its answers to commands): (id, text)."""
        ...


def require_chat(front_end: str) -> None:
    """Fail with one clear line when the front end's local server or library is missing."""
    modules, package = NEEDS[front_end]
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            raise ConfigError(
                f"swarm demo --front-end {front_end} needs the {module} package: in the swarm "
                f"repository run make, or pip install ./{package} 'swarm[{front_end}]'"
            ) from None


async def run_chat_demo(front_end: str, keep: bool = False, inbox: bool = False) -> int:
    """``swarm demo --front-end telegram|slack``: 0 when every task got done."""
    require_chat(front_end)

    async def play(config: Config, desk: DemoDesk, home: Path, keep: bool) -> int:
        async with _stage(front_end) as chat:
            return await play_in_chat(config, desk, home, keep, chat)

    return await run_demo(keep, inbox, play)


def _stage(front_end: str) -> contextlib.AbstractAsyncContextManager[ChatStage]:
    """The local server of ``front_end`` while a block runs."""
    if front_end == "telegram":
        from bot.telegram.demo import telegram_stage

        return telegram_stage()
    from bot.slack.demo import slack_stage

    return slack_stage()


async def play_in_chat(
    config: Config, desk: DemoDesk, home: Path, keep: bool, stage: ChatStage
) -> int:
    """The coordinator exactly as ``swarm run`` builds it, with ``stage``'s front end only;
    0 when every task got done."""
    configured = config.replace(**{stage.posts_name: stage.settings()})
    builder = Builder(configured, deliverer=desk.deliverer, poll_s=0.2)
    front_end = builder.telegram() if stage.posts_name == "telegram" else builder.slack()
    stop = asyncio.Event()
    started: asyncio.Future[Coordinator] = asyncio.get_running_loop().create_future()
    demo = Background("chat demo")  # the coordinator, awaited at the end
    coordinator = run_with_front_ends(builder, [front_end], stop=stop, started=started)
    runner = demo.start(coordinator, name="coordinator", awaited=True)
    try:
        await started_parts(runner, started)
        service = await builder.service()
        try:
            await until_ready(stage.ready, runner)
            print(f"local {stage.name} at {stage.url}: {stage.ready_says}\n")
            return await _play(stage, service, desk, home, stop, runner, keep)
        finally:
            await service.close()
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def _play(
    stage: ChatStage,
    service: SwarmService,
    desk: DemoDesk,
    home: Path,
    stop: asyncio.Event,
    runner: asyncio.Task[None],
    keep: bool,
) -> int:
    started = time.monotonic()
    tasks = Background("chat demo")  # awaited at the end
    helpers = [
        tasks.start(_show_chat(stage, stop), name="demo-chat", awaited=True),
        tasks.start(demo_agents(desk, home, stop), name="demo-agents", awaited=True),
    ]
    try:
        for name, text in CHAT_SCENARIO:
            typed, said = await stage.command(name, text)
            print(f"you> {typed}")
            print(f"  bot> {said}")
        finished = await wait_all_done(service, stop)
        await wait_posted(service, stage.posts_name)
    finally:
        stop.set()
        for task in (*helpers, runner):
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await _summary(service, stage, desk, home, time.monotonic() - started, keep)
    return 0 if finished else 1


async def _show_chat(stage: ChatStage, stop: asyncio.Event) -> None:
    """Print each message of the bot, and again when it is edited in place."""
    shown: dict[str, str] = {}
    mark = stage.name.lower()
    while not stop.is_set():
        for key, text in stage.posts():
            if shown.get(key) == text:
                continue
            where = f"{mark} (edited)" if key in shown else mark
            for line in text.splitlines():
                print(f"  {where} | {line}", flush=True)
            shown[key] = text
        await asyncio.sleep(0.1)


async def _summary(
    service: SwarmService, stage: ChatStage, desk: DemoDesk, home: Path, seconds: float, keep: bool
) -> None:
    await summary(service, desk, home, seconds, keep, f"{len(stage.posts())} {stage.name} messages")
    label = f"your own {stage.name} bot:".ljust(27)
    print(NEXT_STEPS + f"  {label}{stage.setup}\n" + path_hint())
