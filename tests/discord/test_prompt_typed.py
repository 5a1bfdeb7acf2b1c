"""A terminal agent's permission prompt answered from Discord, end to end: the agent-like
program (tests/apps/agent_term.py, prompt_toolkit) runs in a real xterm inside tmux on the
session's Xvfb; its permission prompt, classified from the pane's text, becomes the bot's post
in the local Discord; an admin's press decides it, and the desktop driver types the chosen
option's key into the xterm: the program records the key it received."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from automation.desktop.gui import GuiDriver
from core.agent_state import AgentState
from core.agents._text_rules import load_rule_sets
from core.coordinator.prompt_keys import PromptKeys
from core.dialogs import answer_keys as prompt_typing
from core.dialogs import permissions as prompts
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.apps import launchers
from tests.apps import test_tmux_agent as tmux_app
from tests.apps.test_tmux_agent import NAME, TmuxAgent, state_after
from tests.discord.conftest import World
from tests.discord.test_notifier import edited_to

pytestmark = pytest.mark.timeout(180)
tmux_agent = tmux_app.tmux_agent  # the program in xterm in tmux (a fixture)
driver = tmux_app.driver  # the desktop driver on the session's Xvfb (a fixture)


@pytest.fixture
async def service(tmux_agent: TmuxAgent, home: object) -> AsyncIterator[SwarmService]:
    """The bot's service over the program's agents file (replaces the conftest's)."""
    env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(tmux_agent.agents_file)}
    svc = await SwarmService.open(Settings.from_env(env))
    yield svc
    await svc.close()


async def test_a_press_in_discord_types_the_option_into_the_terminal_agent(
    world: World,
    tmux_agent: TmuxAgent,
    driver: GuiDriver,
) -> None:
    rule_sets, _ = load_rule_sets(world.service.settings.home)
    text = TextWatcher(world.service, rule_sets)
    keys = PromptKeys(world.service, driver, text, retry_s=0.0)
    try:
        await state_after(text, tmux_agent, "agent-term")
        tmux_agent.command("ask")
        observed = await state_after(text, tmux_agent, "3. No, and tell Claude")
        assert observed.state is AgentState.WAITING
        (prompt,) = await world.service.store.read(prompts.open_prompts, NAME)

        post = await world.server.wait_for_message(
            lambda m: f"{NAME} asks (text)" in m.content and bool(m.custom_ids()),
            channel=world.channel,
            timeout_s=30,
        )
        assert "Do you want to proceed?" in post.content
        press = await world.server.click_button(world.admin, post, f"swarm:prompt:{prompt.id}:1")
        assert (await press.wait_callback()).type == 7  # decided: the post edited
        assert await keys.fire() == 1  # the coordinator's timer types the decided key
        launchers.wait_until(  # the program records the key once its dialog went
            lambda: tmux_agent.records()[-1] == {"key": "2"}, 10, "option 2 was not received"
        )
        typed_at, typed, result = await world.service.store.read(
            prompt_typing.typed_state, prompt.id
        )
        assert typed_at is not None and (typed, result) == ("2", "the prompt left the pane")
        await edited_to(world.server, post, "chosen by discord:boss")
        deadline = time.monotonic() + 10
        while (await text.tick())[0].state is not AgentState.IDLE:  # "chose 2", its prompt
            assert time.monotonic() < deadline, "the program did not go back to its prompt"
    finally:
        await text.close()
