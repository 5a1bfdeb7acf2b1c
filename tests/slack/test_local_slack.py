"""``swarm run --local-slack`` beside ``--local-discord``: the real coordinator, its Slack app
and its Discord bot in one process, each against its local server, used from the local
Slack's page as a person would; no Slack app, no token."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from tests.discord.local_run import local_run, message_with
from tests.helpers import run_cli
from tests.web.live import free_port

SLACK_URL = re.compile(
    r"swarm run: local Slack: open (http://127\.0\.0\.1:\d+)/\?user=(U\w+)&channel=(C\w+)"
)


@pytest.mark.timeout(90)
async def test_a_task_made_from_the_slack_page_shows_on_slack_and_discord(
    tmp_path: Path,
) -> None:
    flags = ("--local-slack", "--local-slack-port", str(free_port()))
    async with local_run(tmp_path, *flags, env={"SLACK_BOT_TOKEN": ""}) as run:
        found = await run.read_until(SLACK_URL)
        base, who = found.group(1), {"user": found.group(2), "channel": found.group(3)}

        async def slack(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with run.http.post(f"{base}/local/{path}", json=who | body) as response:
                answer = dict(await response.json())
                assert response.status == 200, answer
                return answer

        async def slack_state(_: object) -> dict[str, Any]:
            async with run.http.get(f"{base}/local/state", params=who) as response:
                return dict(await response.json())

        async def slack_card(text: str) -> dict[str, Any]:
            async with asyncio.timeout(20):
                while True:
                    state = await slack_state(None)
                    for message in state["messages"]:
                        if text in str(message.get("blocks")):
                            return dict(message)
                    await asyncio.sleep(0.1)

        await run.until(lambda s: s["bot_ready"], "the Discord bot")
        assert (await slack("command", {"text": "task <b>Fix</b> the login"}))["ok"]
        answered = (await slack_state(None))["ephemerals"]
        assert [(a["text"], a["blocks"]) for a in answered] == [
            ("🆕 *T-1* created: its card follows", [])
        ]
        card = await slack_card("assigned to Agent-1")
        assert "*T-1* · &lt;b&gt;Fix&lt;/b&gt; the login" in card["text"]
        await run.until(message_with("T-1"), "the task's card on Discord")
        done = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]
        assert done["action_id"] == "swarm:done:T-1"
        await slack("press", {"ts": card["ts"], "action_id": done["action_id"]})
        await slack_card("done by Agent-1")
        await run.until(message_with("done by Agent-1"), "the Discord card done")
        assert await run.stop() == 0
    done_events = run_cli(
        tmp_path / "home", "events", "--kind", "task.done", config=tmp_path / "agents.toml"
    )
    assert "reported by slack:you" in done_events.out, done_events


def test_the_flags_go_with_each_other(tmp_path: Path) -> None:
    port = run_cli(tmp_path / "home", "run", "--local-slack-port", "0")
    assert port.code != 0 and "--local-slack-port goes with --local-slack" in port.err
    headless = run_cli(tmp_path / "home", "run", "--local-slack", "--no-discord")
    assert headless.code != 0 and "leave out --no-discord" in headless.err


def test_the_local_servers_default_ports_are_each_their_own(tmp_path: Path) -> None:
    """``swarm run --local-discord --local-telegram --local-slack`` beside the dashboard, each
    on its default port. Before: Telegram and Slack both defaulted to 8767 and the run
    stopped ("cannot listen on 127.0.0.1:8767 for the local Telegram")."""
    from bot.local_discord import DEFAULT_PORT as DISCORD
    from bot.local_telegram import DEFAULT_PORT as TELEGRAM
    from bot.slack.local import DEFAULT_PORT as SLACK
    from bot.web.settings import DEFAULT_PORT as DASHBOARD

    assert len({DASHBOARD, DISCORD, TELEGRAM, SLACK}) == 4, (DASHBOARD, DISCORD, TELEGRAM, SLACK)
    shown = run_cli(tmp_path / "home", "run", "--help").out
    assert f"default {SLACK};" in " ".join(shown.split()), shown
