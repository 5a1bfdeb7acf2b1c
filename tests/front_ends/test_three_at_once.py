"""Telegram, Slack and Discord at once, from one coordinator as ``swarm run`` builds it, each
against its local server; a real agent (Claude Code, started once for the module by ``swarm
desktop up --protocol`` under swarm's host, against localmodel) asks before a shell command:
the request is approved by a press on the local Telegram's page, its answer reaches the agent
once (the model sees the tool's result once), and Slack's and Discord's messages of it show
it decided, by whom, their buttons gone; a stranger's press is refused in one line and
recorded; a question about the agent's task answered in the task's Slack thread reaches the
agent (the model sees the answer).

Claude Code: of the pinned CLIs that ask before a shell command at their defaults (it and
Gemini CLI), the one whose request the model's wire shows plainest (Anthropic Messages: the
tool's result is a ``tool_result`` block of the last message, so "seen once" is one request),
with its own option labels ("Yes" … "No") to show on three front ends."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop
    import discord  # noqa: F401

import aiohttp
import pytest
from localdiscord import LocalDiscordServer, RecordedMessage, local_client_options, pointed_at
from localslack import Channel, LocalSlackServer, User
from localtelegram import Chat, LocalTelegramServer
from localtelegram import Message as TelegramMessage
from localtelegram import User as TelegramUser

from bot.app import Builder, Coordinator, run_with_front_ends, started_parts
from bot.config import Config
from bot.discordbot.settings import DiscordSettings
from bot.slack.settings import SlackSettings
from bot.telegram.settings import TelegramSettings
from core.agent_state import AgentState
from core.agents import signals as agent_signals
from core.event_kinds import EventKind
from core.history.events import EventFilter
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.agents.launch import SETUPS
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_protocol_live import AGENT, QUIETING, Rig, started, work_folder
from tests.discord.conftest import TEST_RATE_LIMITS as DISCORD_LIMITS
from tests.slack.conftest import TEST_RATE_LIMITS as SLACK_LIMITS
from tests.telegram.conftest import TEST_RATE as TELEGRAM_RATE

pytestmark = [pytest.mark.xdist_group("protocol-live"), pytest.mark.timeout(300)]
CLI = "claude-code"
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "make the approved file"
steps = [{ text = "Creating it.", shell = "touch approved.txt" }, { text = "approved file made" }]

[[turns]]
match = "Postgres, nothing else"
text = "noted: Postgres"
"""
AGENT_S = 120.0  # the real CLI's turns, on a machine shared with other tests


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """Claude Code started by ``swarm desktop up --protocol`` as a user starts it."""
    binary = require_binary(CLI)
    root = tmp_path_factory.mktemp("three-front-ends").resolve()
    work = work_folder(root)
    model = LocalModel(root, SCRIPT)
    setup = SETUPS[CLI](binary, root / "home", work, model.url)
    env = {k: v for k, v in setup.env.items() if k not in QUIETING}
    with started(CLI, root, model, " ".join(setup.argv), env) as made:
        yield made


@dataclass
class Chats:
    """The coordinator's service and the three local servers, each with its people."""

    service: SwarmService
    telegram: LocalTelegramServer
    group: Chat
    telegram_boss: TelegramUser
    telegram_stranger: TelegramUser
    slack: LocalSlackServer
    channel: Channel
    slack_boss: User
    discord: LocalDiscordServer

    def telegram_message(self, text: str) -> TelegramMessage | None:
        """The bot's first Telegram message holding ``text``."""
        found = [m for m in self.telegram.from_bot(self.group) if text in m.text]
        return found[0] if found else None


def configured(rig: Rig, tg: LocalTelegramServer, slack: LocalSlackServer, dc: Any) -> Config:
    """The rig's home and agents file, the three front ends pointed at their servers, the
    first person of each their admin; no dashboard."""
    env = {"SWARM_HOME": str(rig.home), "SWARM_CONFIG": str(rig.config), "SWARM_WEB": "off"}
    group, tg_boss = next(iter(tg.chats.values())), next(iter(tg.users.values()))
    channel = next(iter(slack.channels.values()))
    slack_boss = next(u for u in slack.users.values() if u.name == "boss")
    discord_boss = next(u for u in dc.guild.users if u.name == "boss")
    return Config(env).replace(
        telegram=TelegramSettings(
            token=tg.token, chat_id=group.id, admin_ids=frozenset({tg_boss.id}), api_url=tg.url
        ),
        slack=SlackSettings(
            bot_token=slack.bot_token,
            app_token=slack.app_token,
            channel_id=channel.id,
            admin_ids=frozenset({slack_boss.id}),
            api_url=slack.api_url,
        ),
        discord=DiscordSettings(
            token=dc.token,
            guild_id=dc.guild.id,
            channel_id=dc.guild.channels[0].id,
            admin_ids=frozenset({discord_boss.id}),
        ),
    )


@contextlib.asynccontextmanager
async def three_chats(rig: Rig) -> AsyncIterator[Chats]:
    """One coordinator serving the three front ends (each with its platform's rate limits,
    their windows shortened) while the block runs."""
    async with contextlib.AsyncExitStack() as stack:
        tg = await stack.enter_async_context(LocalTelegramServer(rate=TELEGRAM_RATE))
        group = tg.add_group("swarm")
        tg_boss, tg_stranger = tg.add_user("Boss", "boss_person"), tg.add_user("Stranger")
        slack = await stack.enter_async_context(
            LocalSlackServer(team_name="t", rate_limits=SLACK_LIMITS)
        )
        channel, slack_boss = slack.add_channel("swarm"), slack.add_user("boss")
        dc = await stack.enter_async_context(
            LocalDiscordServer(guild_name="t", rate_limits=DISCORD_LIMITS)
        )
        dc.add_text_channel("swarm")
        dc.add_user("boss")
        builder = Builder(
            configured(rig, tg, slack, dc),
            poll_s=0.1,
            client_options=local_client_options(),
            serve_web=False,
        )
        assert [f.name for f in builder.front_ends()] == ["Discord", "Telegram", "Slack"]
        stack.enter_context(pointed_at(dc))
        stop = asyncio.Event()
        ready: asyncio.Future[Coordinator] = asyncio.get_running_loop().create_future()
        runner = asyncio.create_task(
            run_with_front_ends(builder, builder.front_ends(), stop=stop, started=ready)
        )
        try:
            parts = await started_parts(runner, ready)
            await dc.wait_for_bot_ready(30)
            await tg.wait_until(lambda: tg.commands and "getUpdates" in tg.calls, 30)
            await slack.wait_for(lambda: slack.socket_mode.opened, within_s=30)
            yield Chats(
                parts.service, tg, group, tg_boss, tg_stranger, slack, channel, slack_boss, dc
            )
        finally:
            stop.set()
            await runner


async def press_on_page(
    server: LocalTelegramServer, user: TelegramUser, body: dict[str, Any]
) -> None:
    """``user`` presses a button through their chat page's route, as the page does."""
    page = server.open_page(user, next(iter(server.chats.values())))
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.url}/chat/api/press", json=body, headers={"X-Chat-Key": page.key}
        ) as pressed,
    ):
        assert pressed.status == 200, await pressed.text()


def tool_results(model: LocalModel, command: str) -> list[dict[str, Any]]:
    """The model's requests that bring it the result of the call running ``command``: those
    whose last message is that result (a later request repeats it as history)."""
    found = []
    for request in model.requests():
        messages = (request.get("body") or {}).get("messages") or []
        last = messages[-1] if messages else {}
        content = last.get("content") if isinstance(last, dict) else None
        blocks = content if isinstance(content, list) else []
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        if results and any(command in str(m) for m in messages[:-1]):
            found.append(request)
    return found


async def agent_idle(service: SwarmService) -> bool:
    """Whether the agent's state is idle."""
    row = await service.store.read(agent_signals.get_state, AGENT)
    return row.state is AgentState.IDLE


async def until(check: Any, within: float = AGENT_S) -> Any:
    """Poll the async ``check`` until it returns something true; that."""
    async with asyncio.timeout(within):
        while not (found := await check()):  # noqa: ASYNC110
            await asyncio.sleep(0.2)  # the store and the model: nothing to wait on
        return found


async def test_a_request_approved_on_telegram_reaches_the_agent_once_and_shows_decided_elsewhere(
    rig: Rig,
) -> None:
    async with three_chats(rig) as chats:
        service = chats.service
        task = await service.tasks.create(
            TaskSpec("make the approved file", "make the approved file", agent=AGENT), "me"
        )

        async def asked() -> TelegramMessage | None:
            found = chats.telegram_message("touch approved.txt")
            return found if found is not None and found.buttons() else None

        post = await until(asked)
        ref = post.text.split(" ")[1]  # "✋ R-1 · A asks ..."
        prompt_id = int(ref.removeprefix("R-"))
        labels = [b["text"] for b in post.buttons()]
        assert labels[0] == "Yes" and labels[-1] == "No", labels  # the agent's own words
        on_slack = await _slack_message(chats, f"{ref} ·")
        on_discord = await chats.discord.wait_for_message(lambda m: ref in m.content)
        assert on_slack.buttons() and on_discord.components

        yes = post.buttons()[0]["callback_data"]
        refused = await chats.telegram.press(chats.telegram_stranger, post, yes)
        assert "Only swarm admins decide" in await chats.telegram.answer_of(refused)
        found = await service.history.find(EventFilter(kinds=(EventKind.ACCESS_REFUSED,)))
        assert [(e.data or {}).get("user") for e in found] == [str(chats.telegram_stranger.id)]
        assert (await service.inbox.prompt(prompt_id)).open

        await press_on_page(
            chats.telegram, chats.telegram_boss, {"message_id": post.message_id, "data": yes}
        )
        decided = await until(lambda: _decided(service, prompt_id), 30)
        assert decided.decided_by == "telegram:boss_person"
        made = rig.work / "approved.txt"
        await until(lambda: _true(made.exists()))
        await until(lambda: agent_idle(service))  # its turn ended
        assert len(tool_results(rig.model, "touch approved.txt")) == 1  # the answer, once

        said = "chosen by telegram:boss_person"
        await chats.slack.wait_for(lambda: said in on_slack.text + str(on_slack.blocks), 30)
        assert on_slack.buttons() == []
        await chats.discord.wait_until(lambda: said in on_discord.content, 30.0, "decided")
        assert _no_buttons(on_discord), on_discord.components
        assert said in post.text and post.buttons() == []
        prompts = await service.history.find(EventFilter(kinds=(EventKind.PROMPT_DECIDED,)))
        assert len(prompts) == 1

        # a question about the agent's task, answered in the task's Slack thread
        card = await _slack_message(chats, f"*{task.ref}*")
        await service.questions.ask(task.ref, "Which database?", AGENT)
        await chats.slack.wait_for(lambda: "Which database?" in str(card.blocks), 30)
        await chats.slack.say(
            chats.slack_boss, chats.channel, "Postgres, nothing else", thread_ts=card.ts
        )
        await until(lambda: _asked(rig.model, "Postgres, nothing else"))
        assert await service.questions.open_question(1) is None
        await until(lambda: agent_idle(service))
        await service.tasks.complete(task.ref, AGENT)


async def _slack_message(chats: Chats, text: str) -> Any:
    """The one top-level Slack message holding ``text``, once posted."""

    def found() -> list[Any]:
        return [m for m in chats.slack.top_level(chats.channel) if text in m.text]

    await chats.slack.wait_for(found, within_s=30)
    (message,) = found()
    return message


async def _decided(service: SwarmService, prompt_id: int) -> Any:
    prompt = await service.inbox.prompt(prompt_id)
    return None if prompt.open else prompt


async def _true(value: bool) -> bool:
    return value


async def _asked(model: LocalModel, text: str) -> bool:
    """Whether a request's latest prompt to ``model`` holds ``text``."""
    requests = await asyncio.to_thread(model.requests)
    return any(text in str(r.get("prompt") or "") for r in requests)


def _no_buttons(message: RecordedMessage) -> bool:
    """Whether a Discord message shows no enabled button."""
    return not any(
        not c.get("disabled") for row in message.components for c in row.get("components", [])
    )
