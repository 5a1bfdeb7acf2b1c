"""A Claude Code ``PermissionRequest`` answered from Telegram, end to end: the test
executable ``claude`` (tests/fake_claude.py) runs the hooks ``swarm agents hooks install``
wrote; the real bot posts the prompt in the local Telegram with the agent's own option
labels; an admin's press reaches the waiting hook once, which prints Claude Code's
decision JSON; the message then says who chose what."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.telegram.markup import label
from core.clis.claude_code.permissions import suggestion_label
from core.event_kinds import EventKind
from core.history.events import EventFilter
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.agents.test_agent_hooks import SUGGESTIONS, Desk
from tests.telegram.conftest import World, bot_message, buttons

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


async def test_a_press_in_telegram_answers_the_waiting_hook(world: World, desk: Desk) -> None:
    agent = desk.ask_to_run_make_test()
    try:
        post = await bot_message(world, lambda m: "· Agent-1 asks (hook)" in m.text)
        assert "command: make test" in post.text
        kept = suggestion_label(SUGGESTIONS[0])
        labels = [b["text"] for b in post.buttons()]
        assert len(labels) == 3 and labels[1] == label(kept)  # the request's own words
        first, second = buttons(post)[1], buttons(post)[2]
        pressed = await world.server.press(world.admin, post, first)
        late = await world.server.press(world.admin, post, second)  # before the edit lands
        answers = [await world.server.answer_of(pressed), await world.server.answer_of(late)]
        out, err = await asyncio.to_thread(agent.communicate, timeout=60)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.communicate()
    assert agent.returncode == 0, err
    assert json.loads(out) == {
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "allow", "updatedPermissions": SUGGESTIONS},
        }
    }
    assert answers[0].startswith("✅") and "already answered" in answers[1]
    assert "chosen by telegram:boss_person" in post.text and buttons(post) == []
    flt = EventFilter(kinds=(EventKind.PROMPT_DECIDED,))
    assert len(await world.service.history.find(flt)) == 1
