"""Deliveries into a real CLI through swarm's own tmux deliverer, counted from what the
model server received (tests/agents/test_*_live.py, bench/real_delivery.py).

For each prompt the model server's records say what the CLI took:

- **taken**: a model request whose latest prompt holds the prompt's marker;
- **whole**: that prompt holds the text sent, every word in order (whitespace runs as one
  space: Claude Code turns a tab into spaces and wraps a long paste in
  ``<pasted_content>`` tags, Aider appends its edit-format rules);
- **lost**: never taken (delivered or not); **false delivered**: the deliverer said
  delivered and the CLI never took it; **doubled**: taken in more turns than one (more main
  requests with its marker than the CLI makes for one prompt, measured on a first prompt);
- **turn start**: from the delivery's start to the first request with its marker.

A prompt is delivered as the scheduler would: the next once swarm reads the CLI idle (its
turn ended) and its screen is still; a failed attempt retried up to 3 times with
``is_retry``. A copy that came after its prompt's turn ended is still counted doubled: every
prompt's requests are counted again once the last prompt's turn is over.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automation.tmux.delivery import TmuxDeliverer
from core import clis
from core.delivery._killswitch import KillSwitch
from core.models import Agent, Receipt
from core.protocols import Parcel
from tests.agents.launch import agent_of
from tests.agents.live import LiveCLI, LocalModel, offers_tools, reading

ATTEMPTS = 3
PASTED_TAG = re.compile(r"</?pasted_content[^>]*>")
# the request paths of a CLI's turns (not its side requests: token counts, model lists)
MAIN_PATHS = {
    "claude-code": "/v1/messages",
    "codex": "/v1/responses",
    "gemini": ":streamGenerateContent",
    "aider": "/v1/chat/completions",
    "opencode": "/v1/chat/completions",
}
SHAPES = 5  # prompt_text's shapes


def prompt_text(n: int, marker: str) -> str:
    """The n-th prompt: its shape cycles through one line, lines, tabs, quotes, 2 KB."""
    shapes = (
        f"{marker} please reply briefly",
        f"{marker} first line\nsecond line\n\nfourth line after a blank one",
        f"{marker}\tcolumns\tseparated\tby tabs",
        f"{marker} quotes \"double\" and 'single'; semicolons; $HOME `ticks` \\ backslash",
        f"{marker} long: " + " ".join(f"word{k}" for k in range(300)),
    )
    return shapes[n % len(shapes)]


@dataclass
class Tally:
    """What happened to one CLI's prompts."""

    cli: str
    prompts: int = 0
    taken: int = 0
    whole: int = 0
    lost: list[str] = field(default_factory=list)
    false_delivered: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    retries: int = 0
    failures: list[str] = field(default_factory=list)
    turn_start_ms: list[float] = field(default_factory=list)
    per_turn: int = 1
    sent: dict[str, float] = field(default_factory=dict)  # each taken prompt's marker: start

    def count(
        self, marker: str, text: str, delivered: bool, found: list[dict[str, Any]], started: float
    ) -> bool:
        """Count a prompt from its model requests ``found`` (``text`` sent, ``delivered`` said
        by the deliverer, its turn start from ``started``, epoch seconds); False when lost."""
        if not found:
            self.lost.append(marker)
            if delivered:
                self.false_delivered.append(marker)
            return False
        self.taken += 1
        first = min(float(r.get("at", time.time())) for r in found)
        self.turn_start_ms.append((first - started) * 1000)
        self.whole += any(words(text) in words(str(r.get("prompt") or "")) for r in found)
        return True

    def summary(self) -> dict[str, Any]:
        """The figures as one JSON object."""
        times = sorted(self.turn_start_ms)
        return {
            "cli": self.cli, "prompts": self.prompts, "taken": self.taken, "whole": self.whole,
            "lost": len(self.lost), "false_delivered": len(self.false_delivered),
            "doubled": len(self.doubled), "retries": self.retries,
            "failures": self.failures[:5], "lost_markers": self.lost[:5],
            "turn_start_ms_p50": round(statistics.median(times)) if times else None,
            "turn_start_ms_p99": round(times[min(len(times) - 1, int(len(times) * 0.99))])
            if times else None,
        }  # fmt: skip


def main_requests(live: LiveCLI, cli: str, marker: str) -> list[dict[str, Any]]:
    """The CLI's turn requests whose latest prompt holds ``marker``: its conversation's
    (tools offered), not a side request that quotes the prompt (Codex's title after each
    prompt in tmux: counted as a copy, every prompt read "doubled" once a loaded machine let
    the calibration's settle end before it); Aider offers no tools: all of its."""
    found = requests_with(live.model, MAIN_PATHS[cli], marker)
    return found if cli == "aider" else [r for r in found if offers_tools(r)]


def requests_with(model: LocalModel, path: str, marker: str) -> list[dict[str, Any]]:
    """The model's requests on ``path`` whose latest prompt holds ``marker``."""
    return [
        r for r in model.requests()
        if path in r["path"] and "count_tokens" not in r["path"]
        and marker in str(r.get("prompt") or "")
    ]  # fmt: skip


async def deliver(deliverer: TmuxDeliverer, agent: Agent, n: int, text: str, tally: Tally) -> bool:
    """Deliver like the scheduler: up to ATTEMPTS tries; True when a receipt said delivered."""
    for attempt in range(ATTEMPTS):
        parcel = Parcel(n, agent, text, "bench", is_retry=attempt > 0)
        receipt: Receipt = await deliverer.deliver(parcel)
        if receipt.ok:
            return True
        tally.retries += attempt < ATTEMPTS - 1
        tally.failures.append(f"#{n}: {receipt.reason}")
        await asyncio.sleep(1.0)
    return False


def settle(live: LiveCLI, quiet_s: float = 0.8, timeout: float = 60.0) -> None:
    """Until the pane has not changed for ``quiet_s`` (the turn ended and was drawn)."""
    settle_pane(live.screen, quiet_s, timeout)


def settle_pane(read: Callable[[], str], quiet_s: float = 0.8, timeout: float = 60.0) -> None:
    """Until ``read()`` has not changed for ``quiet_s`` (or at ``timeout``)."""
    deadline = time.monotonic() + timeout
    last, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = read()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return


def turn_over(live: LiveCLI, cli: str, quiet_s: float = 0.3, timeout: float = 60.0) -> None:
    """Until swarm reads the pane idle (``cli``'s rules) and it has not changed for
    ``quiet_s``: the turn ended and was drawn, as the scheduler waits before the next
    prompt (or at ``timeout``)."""
    deadline = time.monotonic() + timeout
    last, since = live.screen(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = live.screen()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s and _reads_idle(live, cli, now):
            return


def _reads_idle(live: LiveCLI, cli: str, screen: str) -> bool:
    seen = reading(live, cli, screen)
    return seen is not None and seen.state.value == "idle"


def wait_taken(live: LiveCLI, cli: str, marker: str, timeout: float) -> list[dict[str, Any]]:
    """The turn requests with ``marker``, once there is one (or [] at ``timeout``)."""
    return wait_taken_by(live.model, MAIN_PATHS[cli], marker, timeout)


def wait_taken_by(
    model: LocalModel, path: str, marker: str, timeout: float
) -> list[dict[str, Any]]:
    """The model's requests on ``path`` with ``marker``, once there is one (or [] at
    ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = requests_with(model, path, marker)
        if found:
            return found
        time.sleep(0.1)
    return []


async def count_deliveries(live: LiveCLI, cli: str, prompts: int, home: Path) -> Tally:
    """Calibrate ``cli``'s requests per turn on a first prompt, then deliver ``prompts``
    prompts through a new ``TmuxDeliverer`` (its files in the folder ``home``) and count them."""
    deliverer = TmuxDeliverer(home, KillSwitch(home))
    agent = agent_of(live, cli)
    tally = Tally(cli)
    try:
        turn_over(live, cli)
        first = f"calibrate-{uuid.uuid4().hex[:8]}"
        await deliver(deliverer, agent, 0, f"{first} please reply briefly", tally)
        wait_taken(live, cli, first, 30)
        turn_over(live, cli)
        tally.per_turn = max(1, len(main_requests(live, cli, first)))
        tally.failures.clear()
        tally.retries = 0
        for n in range(1, prompts + 1):
            await one(deliverer, agent, live, n, tally)
    finally:
        deliverer.close()
    for marker, started in tally.sent.items():  # a copy taken after its turn's look
        if marker not in {d.split(":")[0] for d in tally.doubled}:
            doubled(live, tally, marker, started)
    return tally


async def one(deliverer: TmuxDeliverer, agent: Agent, live: LiveCLI, n: int, tally: Tally) -> None:
    """Deliver prompt ``n`` and count what the CLI did with it."""
    cli = tally.cli
    marker = f"m{n:04d}-{uuid.uuid4().hex[:6]}"
    text = prompt_text(n, marker)
    tally.prompts += 1
    started = time.time()
    delivered = await deliver(deliverer, agent, n, text, tally)
    found = wait_taken(live, cli, marker, 30 if delivered else 5)
    if not tally.count(marker, text, delivered, found, started):
        return
    tally.sent[marker] = started
    turn_over(live, cli)
    doubled(live, tally, marker, started)


def doubled(live: LiveCLI, tally: Tally, marker: str, started: float) -> None:
    """``marker`` counted doubled when more turn requests hold it than one turn makes."""
    asked = main_requests(live, tally.cli, marker)
    if len(asked) > tally.per_turn:  # each copy said, for the failure's message
        seen = [(round(float(r["at"]) - started, 2), r["status"], r["outcome"]) for r in asked]
        tally.doubled.append(f"{marker}: {seen}")


def words(text: str) -> str:
    """``text`` with its whitespace runs as one space (and no ``<pasted_content>`` tags)."""
    return " ".join(PASTED_TAG.sub(" ", text).split())


async def check_deliveries(live: LiveCLI, cli: str, home: Path) -> None:
    """One prompt of each shape through swarm's tmux deliverer: each taken once and whole,
    none recorded delivered that the CLI never took (AssertionError with the figures)."""
    tally = await count_deliveries(live, cli, SHAPES, home)
    shown = tally.summary()
    assert shown["taken"] == shown["whole"] == SHAPES, shown
    assert (tally.lost, tally.false_delivered, tally.doubled) == ([], [], []), (
        shown, tally.per_turn, tally.doubled
    )  # fmt: skip


async def check_reset(
    live: LiveCLI, cli: str, home: Path, idle: Callable[[LiveCLI], None], shown: str
) -> str:
    """swarm's reset between tasks (``reset_between_tasks``) through its tmux deliverer,
    between two prompts: the reset is typed, ``shown`` comes on screen and the pane reads
    idle a second later (a dialog would read waiting), and the next prompt is taken alone in
    a new conversation (no request of it holds the first prompt's marker). The screen after
    the reset, for the caller's own checks."""
    before = f"before-{uuid.uuid4().hex[:6]}"
    live.send(f"say hello {before}")
    assert wait_taken_by(live.model, MAIN_PATHS[cli], before, 60)
    idle(live)
    agent, own = agent_of(live, cli), clis.by_name(cli)
    assert own is not None, cli
    deliverer = TmuxDeliverer(home, KillSwitch(home))
    try:
        reset = await deliverer.deliver(Parcel(1, agent, "", "test", reset=own.reset))
        assert reset.ok, reset.reason
        live.wait(shown)
        await asyncio.sleep(1.0)  # a dialog would be on screen by now
        screen = live.screen()
        seen = reading(live, cli)
        assert seen is not None and seen.state.value == "idle", screen
        after = f"after-{uuid.uuid4().hex[:6]}"
        taken = await deliverer.deliver(Parcel(2, agent, f"say hello {after}", "test"))
    finally:
        deliverer.close()
    assert taken.ok, taken.reason
    found = wait_taken_by(live.model, MAIN_PATHS[cli], after, 60)
    assert found and all(before not in json.dumps(r["body"]) for r in found)
    idle(live)
    return screen
