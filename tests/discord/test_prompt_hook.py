"""A Claude Code ``PermissionRequest`` answered from Discord, end to end: a test executable
named ``claude`` (tests/fake_claude.py, on a temporary PATH) runs the hooks that ``swarm
agents hooks install`` wrote, with the JSON Claude Code's hooks reference documents; the real
bot posts the prompt in the local Discord; an admin's press reaches the waiting hook, which
prints Claude Code's decision JSON and exits 0. Without a press within
``SWARM_APPROVAL_WAIT`` the hook prints nothing (Claude Code's own dialog stays) and the post
says so."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from localdiscord import RecordedMessage

from core.clis.claude_code.permissions import suggestion_label
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.agents.test_agent_hooks import SUGGESTIONS, TOOL, Desk, payload
from tests.discord.conftest import World
from tests.discord.test_notifier import edited_to

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    """Two agents in their workspaces, swarm's hooks installed, ``claude`` on PATH."""
    made = Desk(tmp_path)
    assert made.cli("agents", "hooks", "install").code == 0
    return made


@pytest.fixture
async def service(desk: Desk) -> AsyncIterator[SwarmService]:
    """The bot's service over the desk's home and agents (replaces the conftest's)."""
    env = {"SWARM_HOME": str(desk.home), "SWARM_CONFIG": str(desk.config)}
    svc = await SwarmService.open(Settings.from_env(env))
    yield svc
    await svc.close()


def prompt_post(world: World, agent: str) -> Callable[[RecordedMessage], bool]:
    """A predicate: the bot's post of ``agent``'s open prompt (with its buttons)."""
    return lambda m: f"· {agent} asks (hook)" in m.content and bool(m.custom_ids())


def stop(agent: subprocess.Popen[str]) -> None:
    """Kill the hook if it still runs and reap it (a failed test leaves nothing behind)."""
    if agent.poll() is None:
        agent.kill()
        agent.communicate()


async def test_a_press_in_discord_answers_the_waiting_hook(world: World, desk: Desk) -> None:
    agent = desk.ask_to_run_make_test()
    try:
        post = await world.server.wait_for_message(
            prompt_post(world, "Agent-1"), channel=world.channel, timeout_s=30
        )
        assert "Allow Bash:\ndescription (the model's words): Run the tests\n" in post.content
        assert "\ncommand: make test\n```" in post.content
        ids = post.custom_ids()
        assert len(ids) == 3
        # two admins' presses at once (here: two clicks before the post changes)
        first = await world.server.click_button(world.admin, post, ids[1])
        second = await world.server.click_button(world.admin, post, ids[2])
        answers = [await first.wait_callback(), await second.wait_callback()]
        out, err = await asyncio.to_thread(agent.communicate, timeout=60)
    finally:
        stop(agent)
    assert agent.returncode == 0, err
    assert json.loads(out) == {  # Claude Code's PermissionRequest decision, "don't ask again"
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "allow", "updatedPermissions": SUGGESTIONS},
        }
    }
    assert [a.type for a in answers].count(7) == 1  # one press decided (the post edited)
    told = next(a for a in answers if a.type != 7)
    assert told.data["flags"] & 64
    assert told.data["content"].endswith("was already answered '2' by discord:boss")
    kept = suggestion_label(SUGGESTIONS[0])  # option 2: the request's one suggestion, in words
    await edited_to(world.server, post, f'2. "{kept}" chosen by discord:boss')
    row = next(r for r in await world.service.roster.rows() if r["id"] == "Agent-1")
    assert row["state"] == "working"
    assert row["evidence"].endswith(f'answered "{kept}" by discord:boss')


async def test_without_a_press_in_time_the_hook_returns_no_decision(
    world: World, desk: Desk
) -> None:
    body = payload(desk.ws["Agent-2"], "PermissionRequest", tool_name="Bash", tool_input=TOOL)
    agent = desk.start_claude("Agent-2", body, desk.agent_env(SWARM_APPROVAL_WAIT="1"))
    try:
        post = await world.server.wait_for_message(
            prompt_post(world, "Agent-2"), channel=world.channel, timeout_s=30
        )
        out, err = await asyncio.to_thread(agent.communicate, timeout=60)
    finally:
        stop(agent)
    assert (agent.returncode, out) == (0, ""), err  # no decision: Claude Code's dialog stays
    await edited_to(world.server, post, "closed without a decision (no answer within 1 s)")
    assert post.custom_ids() == []
