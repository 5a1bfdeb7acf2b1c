"""A delivery node reads its own tmux agents' panes (the TEXT signal) and types the decided
answers of their prompts on its desktop; the coordinator reads and types only its own
(PostgreSQL: the store the node and the coordinator share; real tmux panes)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from core.agent_state import AgentState, Signal
from core.agents import _signals as agent_signals
from core.agents._text_rules import load_rule_sets
from core.clis import panes
from core.coordinator.jobs import Watcher
from core.coordinator.node import DeliveryNode
from core.coordinator.prompt_keys import PromptKeys
from core.dialogs import answer_keys as prompt_typing
from core.dialogs import permissions as prompts
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.helpers import write_agents
from tests.tmux_server import Tmux, wait_text
from tests.watch.conftest import watch_settings
from tests.watch.test_text_signal import ASK, TmuxKeys, TmuxKeysDeliverer, show

pytestmark = [
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.timeout(120),
]


@pytest.fixture
async def shared(tmp_path: Path, tmux: Tmux, database_url: str) -> AsyncIterator[SwarmService]:
    """N (served by node desk-1) and C (the coordinator's), each in a tmux pane."""
    sock = str(tmux.socket)
    config = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "N", "role": "dev", "tmux": "swarm:n", "tmux_socket": sock, "node": "desk-1",
             "delivery": "inbox"},
            {"id": "C", "role": "dev", "tmux": "swarm:c", "tmux_socket": sock},
        ],
    )  # fmt: skip
    env = {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config),
           "SWARM_DATABASE_URL": database_url}  # fmt: skip
    service = await SwarmService.open(Settings.from_env(env))
    yield service
    await service.close()


async def until(check: Callable[[], Awaitable[object]], what: str) -> None:
    """Wait (10 s at most) until ``await check()`` is truthy."""
    deadline = time.monotonic() + 10
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_the_node_reads_its_agents_panes_and_types_their_answers(
    shared: SwarmService, tmux: Tmux, tmp_path: Path
) -> None:
    service, out = shared, tmp_path / "answer"
    tmux.window("swarm", "n", show(panes("claude-code") / "permission.txt", ASK.format(out=out)))
    tmux.window("swarm", "c", show(panes("codex") / "working.txt"))
    wait_text(tmux.ref("swarm:n"), "3. No, and tell Claude")
    wait_text(tmux.ref("swarm:c"), "esc to interrupt")
    rule_sets, _ = load_rule_sets(service.settings.home)
    node_text = TextWatcher(service, rule_sets, node="desk-1")
    node = DeliveryNode(
        service,
        TmuxKeysDeliverer(),
        "desk-1",
        watcher=Watcher(service, watch_settings(interval_s=0.1), node="desk-1", text=node_text),
        keys=PromptKeys(service, TmuxKeys(), node_text, node="desk-1"),
    )
    coordinator_text = TextWatcher(service, rule_sets)
    coordinator_presser = TmuxKeys()
    coordinator_keys = PromptKeys(service, coordinator_presser, coordinator_text)
    stop = asyncio.Event()
    running = asyncio.create_task(node.run(stop))
    try:
        assert [o.agent for o in await coordinator_text.tick()] == ["C"]  # never N's pane

        async def node_prompt() -> list[prompts.Prompt]:
            return await service.store.read(prompts.open_prompts, "N")

        await until(node_prompt, "the node opened no prompt for N")
        seen = await service.store.read(agent_signals.observations, None)
        assert seen["N"][Signal.TEXT].state is AgentState.WAITING
        assert seen["C"][Signal.TEXT].state is AgentState.WORKING
        (prompt,) = await node_prompt()
        assert prompt.source is Signal.TEXT and prompt.session == "swarm:n"

        await service.store.write("Ada", prompts.decide, prompt.id, "2")
        assert await coordinator_keys.fire() == 0  # not the coordinator's to type

        async def typed() -> float | None:
            return (await service.store.read(prompt_typing.typed_state, prompt.id))[0]

        await until(typed, "the node did not type N's answer")
        assert out.read_text() == "2\n"
        assert coordinator_presser.pressed == []
        _, keys, result = await service.store.read(prompt_typing.typed_state, prompt.id)
        assert (keys, result) == ("2", "the prompt left the pane")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 10)
        assert node.watcher is not None
        await node.watcher.close()
        await coordinator_text.close()
