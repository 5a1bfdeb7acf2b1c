"""The web client: a person's page at /client/ drives the real bot through the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from localdiscord import LocalDiscordServer, running_client
from localdiscord.slash_text import parse_slash
from localdiscord.views import shown_mentions
from localdiscord.webclient import WebClient
from sample_bot import SampleBot


@dataclass
class Page:
    """The server, its web client and an HTTP session acting as the page."""

    server: LocalDiscordServer
    client: WebClient
    http: aiohttp.ClientSession

    @property
    def api(self) -> str:
        return f"{self.server.url}/client/api/"

    async def state(self, since: str = "") -> dict[str, Any]:
        query = f"?since={since}" if since else ""
        async with self.http.get(self.api + "state" + query, headers=self._key) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        async with self.http.post(self.api + path, json=body, headers=self._key) as response:
            answer = dict(await response.json())
            assert response.status == status, answer
            return answer

    async def message(self, text: str) -> dict[str, Any]:
        """The first shown message whose content or embed title holds ``text``."""

        def probe() -> dict[str, Any] | None:
            for message in self.client.view()["messages"]:
                titles = " ".join(e["title"] for e in message["embeds"])
                if text in message["content"] or text in titles:
                    return dict(message)
            return None

        return await self.server.wait_until(probe, what=f"a message with {text!r}")

    @property
    def _key(self) -> dict[str, str]:
        return {"X-Client-Key": self.client.key}


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    """The sample bot on a server whose web client acts as alice in #general."""
    server = LocalDiscordServer(guild_name="swarm-test", rate_limits=None)
    general = server.add_text_channel("general")
    reports = server.add_text_channel("reports")
    alice = server.add_user("alice", owner=True)
    server.add_user("bob")
    client = server.open_web_client(alice, general)
    bot = SampleBot(server.guild.id, reports.id)
    async with server, aiohttp.ClientSession() as http, running_client(server, bot):
        await server.wait_for_commands("task", "feedback")
        yield Page(server, client, http)


async def test_the_page_and_its_files_come_with_a_strict_policy(page: Page) -> None:
    assert page.client.url == f"{page.server.url}/client/#key={page.client.key}"
    for path, kind in (("", "text/html"), ("client.js", "text/javascript")):
        async with page.http.get(f"{page.server.url}/client/{path}") as response:
            assert response.status == 200 and response.content_type == kind
            policy = response.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    async with page.http.get(page.api + "state") as response:  # no key: nothing
        assert response.status == 401
        assert "key" in (await response.json())["error"]
    before = len(page.server.requests)
    await page.state()
    assert len(page.server.requests) == before  # the page's requests are not the bot's


async def test_a_typed_slash_command_reaches_the_bot_and_its_answer_shows(page: Page) -> None:
    sent = await page.post("command", {"text": "/task create title:Fix the login priority:high"})
    assert sent["ok"]
    shown = await page.message("Fix the login [high]")
    assert shown["content"] == "Fix the login [high] -> nobody (1h) by alice"
    assert shown["answers"] == "/task create" and shown["bot"]
    await page.post(
        "command", {"text": '/task create title:"a priority: b" priority:Low estimate:3'}
    )
    await page.message("a priority: b [low] -> nobody (3h)")
    await page.post("command", {"text": "/task create title:x priority:high assignee:@bob"})
    await page.message("x [high] -> bob (1h)")
    state = await page.state()
    assert state["user"] == "alice" and state["channel"] == "general" and state["bot_ready"]
    assert {
        "usage": "/task create title: priority: [assignee:] [estimate:]",
        "description": "Create a task",
    } in state["commands"]
    assert (await page.state(str(state["version"]))) == {"version": state["version"]}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("/nope", "unknown command /nope; the bot has /announce, /echo, /feedback"),
        ("/task", "/task needs a subcommand: show, create"),
        ("/task delete id:T-1", "/task has no subcommand 'delete'; it has show, create"),
        ("/task create title:x colour:red", "/task create has no option 'colour'"),
        ("/task create title:x", "missing required option 'priority'"),
        ("/task create title:x priority:mid", "must be one of the choices, not 'mid'"),
        ("/task create title:x priority:low estimate:many", "'estimate' takes a number"),
        ("/task create title:x priority:low assignee:carol", "no such member 'carol'"),
        ('/echo text:"open', "a quoted value has no closing quote"),
        ("task create", "a slash command starts with /"),
    ],
)
async def test_what_discord_would_refuse_is_one_line_on_the_page(
    page: Page, text: str, error: str
) -> None:
    answer = await page.post("command", {"text": text}, status=400)
    assert error in answer["error"] and "\n" not in answer["error"]
    assert not page.client.sent  # nothing reached the bot


async def test_buttons_ephemeral_answers_and_modals(page: Page) -> None:
    await page.post("command", {"text": "/status"})
    status = await page.message("Status")
    assert status["embeds"][0]["fields"] == [{"name": "queue", "value": "2", "inline": True}]
    button = status["rows"][0][0]
    assert button == {
        "kind": "button",
        "custom_id": "confirm",
        "label": "Confirm",
        "style": 3,
        "disabled": False,
        "url": "",
    }
    await page.post("button", {"message_id": status["id"], "custom_id": "confirm"})
    confirmed = await page.message("confirmed")
    assert confirmed["edited"] and confirmed["rows"] == []
    assert page.server.store.get(int(status["id"])).content == "confirmed"

    await page.post("command", {"text": "/think"})
    thought = await page.message("thought")
    assert thought["ephemeral"]

    await page.post("command", {"text": "/feedback"})
    modal = await page.server.wait_until(lambda: page.client.view()["modals"], what="a modal")
    assert modal[0]["title"] == "Feedback"
    field = modal[0]["fields"][0]
    assert field["label"] == "Comment" and field["required"]
    ident = modal[0]["interaction_id"]
    empty = {"interaction_id": ident, "values": {field["custom_id"]: ""}}
    assert "required" in (await page.post("modal", empty, status=400))["error"]
    filled = {"interaction_id": ident, "values": {field["custom_id"]: "nice"}}
    await page.post("modal", filled)
    await page.message("thanks: nice")
    assert page.client.view()["modals"] == []


async def test_a_select_menu_and_unknown_messages(page: Page) -> None:
    await page.post("command", {"text": "/pick"})
    menu = (await page.message("pick colours"))["rows"][0][0]
    assert menu["kind"] == "select" and menu["max_values"] == 2
    message_id = (await page.message("pick colours"))["id"]
    picked = {"message_id": message_id, "custom_id": "colour", "values": ["red", "blue"]}
    await page.post("select", picked)
    await page.message("picked red,blue")
    gone = {"message_id": "1", "custom_id": "confirm"}
    assert (await page.post("button", gone, status=404))["error"] == "Unknown Message"


async def test_parse_slash_reads_mentions_and_booleans(page: Page) -> None:
    guild = page.server.guild
    bob = guild.users[-1]
    commands = page.client.commands()
    name, values = parse_slash(
        f"/task   create priority:high title: spaced  out  assignee:<@{bob.id}>", commands, guild
    )
    assert name == "task create"
    assert values == {"priority": "high", "title": "spaced  out", "assignee": bob.id}
    _, values = parse_slash(
        '/task create title:see https://x.org/a Note: "b" priority:low', commands, guild
    )
    assert values == {"title": 'see https://x.org/a Note: "b"', "priority": "low"}
    _, values = parse_slash(r'/echo text:"say \"hi\" role:x"', commands, guild)
    assert values == {"text": 'say "hi" role:x'}


async def test_an_answer_too_late_reads_did_not_respond(page: Page) -> None:
    page.server.ack_deadline_s = 0.1  # the bot answers /late after 0.3 s: too late
    await page.post("command", {"text": "/late seconds:0.3"})
    handle = next(iter(page.client.sent.values()))
    await page.server.wait_until(lambda: handle.rejected, what="the late answer refused")
    state = await page.state()
    assert state["waiting"] == [{"what": "/late", "state": "did not respond"}]
    assert page.server.messages() == []  # nothing was posted


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("/task show id:T-1", ["T-1", "T-10", "T-11"]),  # the bot's autocomplete
        ("/task show id:", ["T-1", "T-2", "T-10", "T-11"]),
        ("/task create title:x priority:h", ["high"]),  # the option's choices
        ("/task create title:x priority:", ["low", "high"]),
        ("/task show id:T-1 ", []),  # moved on
        ('/task show id:"T-1"', []),
        ("/task create title:x", []),  # no suggestions for a title
        ("/nope id:T", []),
        ("/task", []),
    ],
)
async def test_suggestions_come_from_the_bot_or_the_choices(
    page: Page, text: str, names: list[str]
) -> None:
    answer = await page.post("complete", {"text": text})
    assert [choice["name"] for choice in answer["choices"]] == names
    assert not page.client.sent  # not shown as the person's interactions


def test_mentions_are_shown_as_discords_client_shows_them() -> None:
    server = LocalDiscordServer()
    channel = server.add_text_channel("swarm")
    person = server.add_user("you")
    text = f"see <#{channel.id}>, <@{person.id}> and <#42>"
    assert shown_mentions(text, server.world) == "see #swarm, @you and <#42>"
