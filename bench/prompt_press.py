"""Permission prompts from Discord: a button press → the decision recorded, p50/p99.

Run: .venv/bin/python bench/prompt_press.py [--prompts 200]
``swarm run`` as the composition root builds it (scheduler, notifier, buttons) against the
local Discord, with the scheduler kept busy by a stream of tasks. Each round an agent's
prompt is opened (as its hook reports it), the bot posts it with its buttons, and the admin
presses one: timed from the press until the decision is in the database (read as another
front end would), and until the press's answer (the post edited). The baseline, in the same
run and under the same load, is the decision made through the service directly (what
``swarm approve R-7`` and the dashboard call). Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from localdiscord import LocalDiscordServer, RecordedMessage, UserSpec

from bench.bot_latency import BusyAgents, background_load, coordinator, percentile
from core.agent_state import Signal
from core.dialogs import permissions as prompts
from core.models import PromptOption
from core.service.swarm import SwarmService

OPTIONS = (PromptOption("1", "Yes"), PromptOption("2", "Always"), PromptOption("3", "No"))
WAIT_S = 10.0


async def open_prompt(service: SwarmService, round_: int) -> int:
    """An agent's prompt, as its hook would report it; its id."""
    agent = f"Agent-{round_ % 8 + 1}"
    text = f"Bash(make test-{round_})"
    found = await service.store.write(agent, prompts.open_prompt, agent, Signal.HOOK, text, OPTIONS)
    return found.id


async def decided(service: SwarmService, prompt_id: int, started: float) -> float:
    """Seconds from ``started`` until the prompt's decision is in the database."""
    while (await service.inbox.prompt(prompt_id)).decided_at is None:
        if time.perf_counter() - started > WAIT_S:
            raise TimeoutError(f"prompt {prompt_id} was not decided in {WAIT_S} s")
        await asyncio.sleep(0.0005)
    return time.perf_counter() - started


async def posted(server: LocalDiscordServer, service: SwarmService, count: int) -> list[int]:
    """Open ``count`` prompts and wait for their posts (before the load starts: under a
    flood of tasks the notifier posts their cards first, in event order)."""
    ids = [await open_prompt(service, round_) for round_ in range(count)]
    for prompt_id in ids:
        await server.wait_for_message(_post_of(prompt_id), timeout_s=60)
    return ids


def _post_of(prompt_id: int) -> Callable[[RecordedMessage], bool]:
    return lambda m: m.content.startswith(f"✋ R-{prompt_id} ") and bool(m.components)


async def press_round(
    server: LocalDiscordServer, service: SwarmService, boss: UserSpec, prompt_id: int
) -> tuple[float, float]:
    """Press one posted prompt's button: (press → recorded, press → post edited), seconds."""
    post = next(m for m in server.messages() if m.content.startswith(f"✋ R-{prompt_id} "))
    started = time.perf_counter()
    handle = await server.click_button(boss, post, f"swarm:prompt:{prompt_id}:{prompt_id % 3}")
    recorded = await decided(service, prompt_id, started)
    await handle.wait_callback()
    return recorded, time.perf_counter() - started


async def direct_round(service: SwarmService, round_: int) -> float:
    """The baseline: the same decision through the service (CLI, dashboard)."""
    prompt_id = await open_prompt(service, round_)
    started = time.perf_counter()
    await service.inbox.decide_prompt(prompt_id, OPTIONS[round_ % 3].key, "bench")
    return time.perf_counter() - started


async def measure(count: int, home: Path) -> dict[str, list[float] | int]:
    """``count`` presses and ``count`` direct decisions, alternated, under load."""
    async with (
        LocalDiscordServer(heartbeat_interval_s=5.0) as server,
        coordinator(server, home, BusyAgents) as (service, boss),
    ):
        ids = await posted(server, service, count)
        stop = asyncio.Event()
        load = asyncio.create_task(background_load(service, stop))
        pressed, edited, direct = [], [], []
        try:
            for round_, prompt_id in enumerate(ids):
                recorded, answered = await press_round(server, service, boss, prompt_id)
                pressed.append(recorded)
                edited.append(answered)
                direct.append(await direct_round(service, count + round_))
        finally:
            stop.set()
            created = await load
        done = (await service.status())["tasks"]["done"]
    return {"pressed": pressed, "edited": edited, "direct": direct, "load": created, "done": done}


def ms(values: list[float], q: float) -> str:
    """The q-th percentile in milliseconds."""
    return f"{percentile(values, q) * 1000:.1f} ms"


async def main() -> None:
    """Run the measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        found = await measure(args.prompts, Path(tmp))
        seconds = time.perf_counter() - started
    pressed, edited, direct = found["pressed"], found["edited"], found["direct"]
    assert isinstance(pressed, list) and isinstance(edited, list) and isinstance(direct, list)
    print(
        f"{args.prompts} prompts posted and pressed in the local Discord in {seconds:.1f} s "
        f"while the scheduler ran {found['done']} tasks to done ({found['load']} created)"
    )
    print(f"press -> decision recorded: p50 {ms(pressed, 0.5)}, p99 {ms(pressed, 0.99)}")
    print(
        f"press -> post edited (the press's answer): p50 {ms(edited, 0.5)}, p99 {ms(edited, 0.99)}"
    )
    print(
        f"baseline, the decision through the service (swarm approve, dashboard): "
        f"p50 {ms(direct, 0.5)}, p99 {ms(direct, 0.99)}; the Discord press costs "
        f"{percentile(pressed, 0.5) / percentile(direct, 0.5):.1f}x at p50, "
        f"{percentile(pressed, 0.99) / percentile(direct, 0.99):.1f}x at p99"
    )


if __name__ == "__main__":
    asyncio.run(main())
