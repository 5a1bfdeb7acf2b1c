"""A prompt that comes to a protocol agent's host while a turn runs waits a moment for the
turn's end before it is refused as busy (issue 50, item 8): a task's next prompt comes once
the agent reported the last from inside its turn, which ends a moment later. Refused, it
waited for swarm to write that end before going again (up to a second more)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from core.hosts import host as host_module
from core.hosts.host import Host, Journal
from core.hosts.turns import Ended


class Driver:
    """An agent whose turns end when told (``ends[text]`` set), its first update at once."""

    session = "session-1"
    process = None

    def __init__(self, host: Host) -> None:
        self.host = host
        self.ends: dict[str, asyncio.Event] = {}
        self.prompts: list[str] = []

    async def prompt(self, text: str) -> Ended:
        self.prompts.append(text)
        self.host.on_update("agent_message_chunk", text="on it")
        await self.ends.setdefault(text, asyncio.Event()).wait()
        return Ended("end_turn")


@pytest.fixture
async def host(tmp_path: Path) -> Any:
    journal = Journal(tmp_path / "journal.jsonl")
    made = Host("Agent-1", journal)
    made.driver = Driver(made)  # type: ignore[assignment]
    try:
        yield made
    finally:
        await journal.close()


async def test_a_prompt_during_a_turn_that_ends_a_moment_later_is_taken_then(
    host: Host,
) -> None:
    driver: Any = host.driver
    assert (await host.prompt(1, "first"))["ok"]
    second = asyncio.create_task(host.prompt(2, "second"))
    await asyncio.sleep(0.2)
    assert not second.done() and driver.prompts == ["first"]  # held, not refused
    driver.ends.setdefault("first", asyncio.Event()).set()
    answer = await asyncio.wait_for(second, 5)
    assert answer["ok"] and driver.prompts == ["first", "second"]


async def test_a_turn_that_outlasts_the_wait_refuses_the_prompt_as_busy(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(host_module, "TURN_END_WAIT_S", 0.3)
    driver: Any = host.driver
    assert (await host.prompt(1, "first"))["ok"]
    answer = await asyncio.wait_for(host.prompt(2, "second"), 5)
    assert answer == {"ok": False, "reason": "a turn is running (delivery 1)", "busy": True}
    assert driver.prompts == ["first"]
    again = await asyncio.wait_for(host.prompt(1, "first"), 1)  # its own delivery: at once
    assert again == {"ok": True, "again": True}
    driver.ends.setdefault("first", asyncio.Event()).set()
