"""A stop ends a protocol turn within its bound (issue 79, item 2): the real host, as ``swarm
desktop up --protocol`` starts it, running ``hostile_acp`` (an ACP agent told by its prompt
how to behave). A prompt whose agent stays silent is answered after ``ACCEPT_S``, not held
for the model's first word; a cancel is answered once the turn ended: by the agent, or, from
an agent that does not answer it within ``CANCEL_ANSWER_S``, by the host, whose turn end
says so; the agent's late answer is dropped and the next prompt goes through. The CLIs
themselves: tests/agents/test_protocol_stop_live.py."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from automation.protocol import launch
from automation.protocol.host import ACCEPT_S, CANCEL_ANSWER_S
from core.hosts import client, wire
from core.hosts.replies import Cancelled, Taken
from tests.agents.test_host_hostile import AGENT, AGENT_SCRIPT, entries_until, of_type

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("hostile-cancel")]
BOUND_S = 10.0  # generous: a loaded machine's answer, far under the silences below
_deliveries = iter(range(1, 10_000))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A swarm home with the hostile agent's host running."""
    root = tmp_path_factory.mktemp("cancel")
    made = root / "home"
    made.mkdir()
    with warnings.catch_warnings():  # the host outlives its Popen, as after desktop up
        warnings.simplefilter("ignore", ResourceWarning)
        command = [sys.executable, str(AGENT_SCRIPT)]
        asyncio.run(launch.start(made, AGENT, command, root, dict(os.environ), wait_s=30))
        gc.collect()
    try:
        yield made
    finally:
        asyncio.run(launch.stop(made, AGENT))


async def silent_turn(home: Path, text: str) -> tuple[int, int]:
    """A prompt whose agent says nothing: answered (in flight) within the bound; the
    journal's number before it, and its delivery."""
    before = (await client.hello(home, AGENT)).seq
    delivery = next(_deliveries)
    started = time.monotonic()
    taken = await client.prompt(home, AGENT, delivery, text, wait_s=60)
    assert isinstance(taken, Taken) and not taken.ended, taken
    assert time.monotonic() - started < ACCEPT_S + BOUND_S
    return before, delivery


def turn_ends(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["delivery"], e["stop_reason"], (e.get("meta") or {}).get("ended_by"))
            for e in of_type(entries, wire.TURN_END)]  # fmt: skip


async def test_a_cancel_the_agent_answers_ends_the_turn_as_the_agent_said(home: Path) -> None:
    before, delivery = await silent_turn(home, "wait 60")
    started = time.monotonic()
    cancelled = await client.cancel(home, AGENT)
    assert cancelled == Cancelled(running=True)  # the agent's own end: no by_host
    assert time.monotonic() - started < BOUND_S
    entries = await entries_until(home, before, (wire.TURN_END,))
    assert turn_ends(entries) == [(delivery, "cancelled", None)]
    assert not (await client.hello(home, AGENT)).busy


async def test_a_cancel_the_agent_does_not_answer_is_ended_by_the_host(home: Path) -> None:
    deaf_s = CANCEL_ANSWER_S + 4.0
    before, delivery = await silent_turn(home, f"deaf {deaf_s}")
    started = time.monotonic()
    cancelled = await client.cancel(home, AGENT)
    took = time.monotonic() - started
    assert cancelled == Cancelled(running=True, by_host=True)
    assert CANCEL_ANSWER_S <= took < CANCEL_ANSWER_S + BOUND_S, took
    assert not (await client.hello(home, AGENT)).busy  # the next prompt is taken now
    (end,) = of_type(await entries_until(home, before, (wire.TURN_END,)), wire.TURN_END)
    assert (end["delivery"], end["stop_reason"], end["meta"]["ended_by"]) == (
        delivery, "cancelled", "host",
    )  # fmt: skip
    assert "did not answer its cancel within" in end["meta"]["why"]
    # the next prompt goes through; the deaf turn's late answer comes meanwhile (the agent
    # says nothing until it wrote it), dropped
    after = end["seq"]
    nxt = next(_deliveries)
    taken = await client.prompt(home, AGENT, nxt, "after-deaf 60; say next", wait_s=60)
    assert isinstance(taken, Taken), taken
    entries = await entries_until(home, after, (wire.TURN_END,))
    assert turn_ends(entries) == [(nxt, "end_turn", None)]
    assert "next" in "".join(str(e.get("text") or "") for e in of_type(entries, wire.UPDATE))


async def test_a_cancel_with_no_turn_running_says_so_at_once(home: Path) -> None:
    started = time.monotonic()
    assert await client.cancel(home, AGENT) == Cancelled(running=False)
    assert time.monotonic() - started < BOUND_S
