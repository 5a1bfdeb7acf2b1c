"""Delivery straight into tmux panes (issue 39): real tmux, no display, the scripted agent
CLI (tests/apps/term_chat.py: prompt_toolkit, bracketed paste) in each pane, recording
every message it receives."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from automation import pane_input
from automation.inbox.files import INBOX_TIME_LIMIT_S
from automation.routes import build_deliverer
from automation.tmux.delivery import TmuxDeliverer, TmuxOptions, paste_text, tmux_key
from core.agents_file import load_agents
from core.clis import panes
from core.coordinator.node import DeliveryNode
from core.coordinator.scheduler import Scheduler
from core.delivery._killswitch import KillSwitch
from core.errors import ConfigError
from core.models import Agent, TaskSpec
from core.protocols import ManualClock, Parcel
from core.service.swarm import SwarmService
from core.settings import Settings
from core.tmux import capture, pane_age_s
from tests.helpers import write_agents
from tests.tmux_server import Tmux, wait_text

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = TmuxOptions(land_timeout_s=60.0, confirm_timeout_s=30.0)
PIECES = (
    "\tindented;with a tab; and 'single' \"double\" `back` quotes $(not run) && echo x",
    "Unicode: café Straße ½ ≠ ¼ → ✓ 你好，世界 한국어 😀 👩‍💻",
    "    spaces kept   ",
    "```python\ndef f(x):\n\treturn x * 2\n```",
)


def long_text(name: str, size: int = 100_000) -> str:
    """About ``size`` characters over many lines, ending on a line of its own."""
    lines, n = [f"[{name}] the long prompt"], 0
    while sum(len(line) + 1 for line in lines) < size:
        lines.append(f"{n:05d} {PIECES[n % len(PIECES)]}")
        n += 1
    lines.append(f"end of {name}'s prompt")
    return "\n".join(lines)


class Chat:
    """One pane running the scripted agent CLI, and what it received."""

    def __init__(self, tmux: Tmux, folder: Path, name: str, size: str = "120x40") -> None:
        """Start the program in its pane (``wait_ready`` waits for its prompt)."""
        self.tmux, self.name = tmux, name
        self.out, self.ready = folder / f"{name}.jsonl", folder / f"{name}.ready"
        self.out.touch()
        root = shlex.quote(str(ROOT))
        command = (
            f"cd {root} && exec env -u DISPLAY PYTHONPATH={root} "
            f"{shlex.quote(sys.executable)} -m tests.apps.term_chat {shlex.quote(str(self.out))} "
            f"--name {name} --ready {shlex.quote(str(self.ready))}"
        )
        tmux.window("agents", name, command, size)
        self.agent = Agent(
            id=name, role="dev", delivery="tmux", app="terminal", tmux=f"agents:{name}",
            tmux_socket=str(tmux.socket), clear=("ctrl+e", "ctrl+u"),
        )  # fmt: skip

    def wait_ready(self, deadline: float) -> None:
        """Until the program has drawn its prompt."""
        while not self.ready.exists():
            assert time.monotonic() < deadline, f"{self.name} never drew its prompt"
            time.sleep(0.02)

    def received(self) -> list[str]:
        """The messages it received, in order."""
        lines = self.out.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["text"] for line in lines]


def chats(tmux: Tmux, folder: Path, count: int) -> list[Chat]:
    """``count`` panes, their programs started at once, each at its prompt."""
    started = [Chat(tmux, folder, f"Agent-{n}") for n in range(1, count + 1)]
    deadline = time.monotonic() + 30
    for chat in started:
        chat.wait_ready(deadline)
    return started


def buffers(tmux: Tmux) -> list[str]:
    """The tmux server's paste buffers, by name."""
    done = subprocess.run(["tmux", "-S", str(tmux.socket), "list-buffers", "-F", "#{buffer_name}"],
                          capture_output=True, text=True, timeout=10, check=True)  # fmt: skip
    return done.stdout.split()


def parcel(n: int, agent: Agent, text: str, **extra: object) -> Parcel:
    return Parcel(n, agent, text, "test", **extra)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing here may need a display."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


@pytest.fixture
def tmux_deliverer(home: Path) -> Iterator[TmuxDeliverer]:
    deliverer = TmuxDeliverer(home, KillSwitch(home), OPTIONS)
    yield deliverer
    deliverer.close()


@pytest.mark.timeout(240)
async def test_parallel_deliveries_arrive_once_each_whole(
    tmux: Tmux, tmp_path: Path, tmux_deliverer: TmuxDeliverer
) -> None:
    four = chats(tmux, tmp_path, 4)
    texts = [long_text(chat.name) for chat in four]
    receipts = await asyncio.gather(
        *(
            tmux_deliverer.deliver(parcel(n, c.agent, t))
            for n, (c, t) in enumerate(zip(four, texts, strict=True))
        )
    )
    assert [(r.ok, r.method, r.reason) for r in receipts] == [(True, "tmux", None)] * 4
    for chat, text in zip(four, texts, strict=True):
        assert chat.received() == [text]
    assert len(texts[0]) >= 100_000 and "\t" in texts[0] and ";" in texts[0]
    # short ones too, one after the other into one pane: in order, each once
    one = four[0]
    short = ["hello", 'say "hi"; then\tstop', "two\nlines"]
    for n, text in enumerate(short, 10):
        assert (await tmux_deliverer.deliver(parcel(n, one.agent, text))).ok
    assert one.received() == [texts[0], *short]
    assert buffers(tmux) == []  # each delivery's buffer deleted


@pytest.mark.timeout(240)
async def test_a_pane_killed_mid_delivery_fails_that_delivery_only(
    tmux: Tmux, tmp_path: Path, tmux_deliverer: TmuxDeliverer
) -> None:
    four = chats(tmux, tmp_path, 4)
    texts = [long_text(chat.name, 20_000) for chat in four]
    victim = four[2]

    async def kill_once_pasted() -> None:
        await asyncio.to_thread(wait_text, tmux.ref(victim.agent.tmux or ""), "end of", 60)
        tmux.run("kill-window", "-t", victim.agent.tmux or "")

    killer = asyncio.create_task(kill_once_pasted())
    receipts = await asyncio.gather(
        *(
            tmux_deliverer.deliver(parcel(n, c.agent, t))
            for n, (c, t) in enumerate(zip(four, texts, strict=True))
        )
    )
    await killer
    dead = receipts[2]
    assert (dead.ok, dead.retryable) == (False, False)
    assert "tmux pane agents:Agent-3 is gone" in (dead.reason or "")
    assert victim.received() == []
    for n in (0, 1, 3):
        assert receipts[n].ok and four[n].received() == [texts[n]]
    assert buffers(tmux) == []


def pane_agent(tmux: Tmux, window: str, cli: str) -> Agent:
    """Agent-1 on the pane ``agents:<window>``, read with ``cli``'s rules."""
    return Agent(
        id="Agent-1", role="dev", delivery="tmux", app="terminal", tmux=f"agents:{window}",
        tmux_socket=str(tmux.socket), cli=cli, clear=("ctrl+e", "ctrl+u"),
    )  # fmt: skip


@pytest.mark.timeout(120)
async def test_a_pane_showing_a_dialog_gets_nothing_pasted(
    tmux: Tmux, tmp_path: Path, tmux_deliverer: TmuxDeliverer
) -> None:
    saved = panes("claude-code") / "claude-code-2.1.328-permission-dialog.txt"
    got = tmp_path / "got.txt"
    command = f"cat {shlex.quote(str(saved))}; stty raw -echo; exec cat > {shlex.quote(str(got))}"
    tmux.window("agents", "cc", f"sh -c {shlex.quote(command)}", "130x45")
    ref = tmux.ref("agents:cc")
    shown = wait_text(ref, "4. No")
    agent = pane_agent(tmux, "cc", "claude-code")
    receipt = await tmux_deliverer.deliver(parcel(1, agent, "do the thing"))
    assert (receipt.ok, receipt.retryable) == (False, True)
    assert receipt.reason == "a dialog is open: Do you want to proceed?"
    # the person's to answer, not the message's fault: it waits without using a try (three
    # tries used up on a Claude Code agent whose every task's report asked, and a broadcast
    # failed for good: bench/day_real.py)
    assert receipt.deferred
    press = await tmux_deliverer.deliver(parcel(2, agent, "", reset=("text:/clear", "enter")))
    assert not press.ok and "a dialog is open" in (press.reason or "")
    await asyncio.sleep(0.3)
    assert got.read_bytes() == b""  # not a key, not a byte
    assert wait_text(ref, "4. No") == shown


# Claude Code at its input (screen 1); at the first byte it gets (the paste) it shows screen 2
# (a permission dialog, as when the turn under way calls a tool), at a lone Enter screen 1;
# every byte is recorded
SHOWS_AT_THE_PASTE = r"""
import os, sys, tty
first_screen, second_screen, out = sys.argv[1:4]
def show(path):
    text = open(path, encoding="utf-8").read().replace("\n", "\r\n")
    sys.stdout.write("\x1b[2J\x1b[H" + text)
    sys.stdout.flush()
show(first_screen)
tty.setraw(0)
with open(out, "ab") as got:
    data = os.read(0, 1)
    show(second_screen)
    while data:
        got.write(data)
        got.flush()
        if data == b"\r":  # the submit key alone (a paste's lines end in \r too)
            show(first_screen)
        data = os.read(0, 4096)
"""


def at_the_paste(tmux: Tmux, folder: Path, second: list[str]) -> tuple[Agent, Path]:
    """Claude Code's real screen at its input in pane ``agents:cc``, ``second`` shown from
    the first byte it gets; the agent, and the file of the bytes it got."""
    first = panes("claude-code") / "claude-code-2.1.328-idle-start.txt"
    (folder / "second.txt").write_text("\n".join(second), encoding="utf-8")
    (folder / "program.py").write_text(SHOWS_AT_THE_PASTE, encoding="utf-8")
    got = folder / "got.bin"
    argv = [sys.executable, str(folder / "program.py"), str(first), str(folder / "second.txt"),
            str(got)]  # fmt: skip
    tmux.window("agents", "cc", " ".join(shlex.quote(a) for a in argv), "130x45")
    wait_text(tmux.ref("agents:cc"), "? for shortcuts")
    return pane_agent(tmux, "cc", "claude-code"), got


@pytest.mark.timeout(120)
async def test_a_dialog_that_opens_after_the_paste_gets_no_submit_key(
    tmux: Tmux, tmp_path: Path, tmux_deliverer: TmuxDeliverer
) -> None:
    """A permission dialog that opens between the paste and the submit key (the turn under
    way called a tool): Enter would take its highlighted option, "1. Yes", for the person
    (it did, and the delivery was recorded delivered). The pane is read again just before
    the key: the dialog is open, so the key is not pressed and the delivery fails, to be
    retried once the dialog is answered (its text is left in the input: a retry submits it,
    never pastes it again)."""
    saved = panes("claude-code") / "claude-code-2.1.328-permission-dialog.txt"
    agent, got = at_the_paste(tmux, tmp_path, saved.read_text(encoding="utf-8").split("\n"))
    receipt = await tmux_deliverer.deliver(parcel(1, agent, "broadcast: read the guidelines"))
    assert (receipt.ok, receipt.retryable) == (False, True)
    assert receipt.reason == (
        "a dialog is open: Do you want to proceed? (opened after the paste: the submit key "
        "not pressed)"
    )
    await asyncio.sleep(0.5)
    sent = got.read_bytes()
    assert b"broadcast: read the guidelines" in sent  # the paste went in before the dialog
    assert b"\r" not in sent, sent  # but no Enter after it


@pytest.mark.timeout(120)
async def test_a_prompt_that_quotes_a_dialog_is_submitted(
    tmux: Tmux, tmp_path: Path, tmux_deliverer: TmuxDeliverer
) -> None:
    """The pasted text shows in the input as a dialog would ("Do you want to proceed?" and
    numbered options on lines of their own): it is the prompt's own text, not a dialog that
    opened, and it is submitted."""
    quoted = "a screen to explain:\nDo you want to proceed?\n1. Yes\n2. No"
    rule = "─" * 120
    box = [rule, "❯ a screen to explain:", "  Do you want to proceed?", "  1. Yes", "  2. No", rule]
    agent, got = at_the_paste(tmux, tmp_path, ["", *box, "  ⏸ manual mode on"])
    receipt = await tmux_deliverer.deliver(parcel(1, agent, quoted))
    assert receipt.ok, receipt
    deadline = time.monotonic() + 10
    while not got.read_bytes().endswith(b"\r"):  # the submit key, after the paste
        assert time.monotonic() < deadline, got.read_bytes()
        await asyncio.sleep(0.02)


@pytest.mark.timeout(120)
async def test_a_cli_not_yet_at_its_input_gets_nothing_pasted(
    tmux: Tmux, tmp_path: Path, tmux_deliverer: TmuxDeliverer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Gemini CLI still starting (its pane blank, the terminal not yet raw): a paste would
    land in the terminal's echo, and the CLI's first screen would then look like a taken
    prompt (the desktop driver counted one delivered that Gemini never got). Nothing is
    sent. While the pane's process is young, its CLI is starting: the delivery is deferred
    (no try used, no "input unseen" hold). Once it is older (``STARTING_S``, made 1 s here),
    the same screen is a CLI away from its input: a failure retried with a try."""
    monkeypatch.setattr(pane_input, "STARTING_S", 1.0)
    got = tmp_path / "got.txt"
    command = f"sleep 30; exec cat > {shlex.quote(str(got))}"
    tmux.window("agents", "starting", f"sh -c {shlex.quote(command)}", "120x40")
    agent = pane_agent(tmux, "starting", "gemini")
    starting = await tmux_deliverer.deliver(parcel(1, agent, "do the thing"))
    assert (starting.ok, starting.deferred) == (False, True), starting
    assert starting.reason == "its CLI is still starting: its input is not on its pane yet"
    deadline = time.monotonic() + 30
    while (pane_age_s(tmux.ref("agents:starting")) or 0.0) < 1.0:  # no longer young
        assert time.monotonic() < deadline, "the pane's process never got 1 s old"
        await asyncio.sleep(0.05)
    away = await tmux_deliverer.deliver(parcel(1, agent, "do the thing"))
    assert (away.ok, away.deferred, away.retryable) == (False, False, True), away
    assert away.reason == "its input is not on its pane"
    assert "do the thing" not in "".join(capture(tmux.ref("agents:starting")).lines)


@pytest.mark.timeout(120)
async def test_a_retry_never_pastes_twice(tmux: Tmux, tmp_path: Path, home: Path) -> None:
    (chat,) = chats(tmux, tmp_path, 1)
    quick = TmuxDeliverer(home, KillSwitch(home), replace(OPTIONS, confirm_timeout_s=0.5))
    try:
        # the submit key did nothing (F5): the text stays in the input; the retry submits it
        text = "first line\nsecond line; with 'quotes'\tand a tab"
        stuck = await quick.deliver(parcel(1, replace(chat.agent, submit="f5"), text))
        assert (stuck.ok, stuck.reason) == (
            False,
            "submit not seen: the input still holds the text",
        )
        retried = await quick.deliver(parcel(1, chat.agent, text, is_retry=True))
        assert retried.ok
        assert chat.received() == [text]
        # a submit that took effect after the deadline: the retry counts it, pastes nothing
        late = TmuxDeliverer(home, KillSwitch(home), replace(OPTIONS, confirm_timeout_s=0.0))
        try:
            await late.deliver(parcel(2, chat.agent, "the second message, sent once"))
            wait_text(tmux.ref(chat.agent.tmux or ""), "[2] received")
            again = await late.deliver(
                parcel(2, chat.agent, "the second message, sent once", is_retry=True)
            )
        finally:
            late.close()
        assert again.ok
        assert chat.received() == [text, "the second message, sent once"]
    finally:
        quick.close()


@pytest.mark.timeout(120)
async def test_a_reset_and_pressed_keys_go_through_tmux(
    tmux: Tmux, tmp_path: Path, tmux_deliverer: TmuxDeliverer
) -> None:
    (chat,) = chats(tmux, tmp_path, 1)
    ref = tmux.ref(chat.agent.tmux or "")
    tmux.run("send-keys", "-t", ref.target, "-l", "a draft left in the input")
    wait_text(ref, "a draft left")
    reset = await tmux_deliverer.deliver(parcel(1, chat.agent, "", reset=("text:/clear", "enter")))
    assert reset.ok
    wait_text(ref, "[1] received")
    assert chat.received() == ["/clear"]  # the draft was cleared first
    pressed = await tmux_deliverer.press_keys(chat.agent, ["2", "enter"])
    assert (pressed.ok, pressed.method, pressed.reason) == (True, "tmux", None)
    wait_text(ref, "[2] received")
    assert chat.received() == ["/clear", "2"]
    bad = await tmux_deliverer.press_keys(chat.agent, ["win+r"])
    assert (bad.ok, bad.retryable) == (False, False) and "bad key" in (bad.reason or "")
    assert chat.received() == ["/clear", "2"]


@pytest.mark.timeout(180)
async def test_the_scheduler_delivers_through_tmux_without_a_display(
    tmux: Tmux, tmp_path: Path, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    one, two = chats(tmux, tmp_path, 2)
    path = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "Agent-1", "role": "dev", "delivery": "tmux", "tmux": "agents:Agent-1",
             "tmux_socket": str(tmux.socket)},
            {"id": "Agent-2", "role": "ops", "app": "terminal", "tmux": "agents:Agent-2",
             "tmux_socket": str(tmux.socket)},
            {"id": "Agent-3", "role": "qa"},
        ],
    )  # fmt: skip
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(path)})
    service = await SwarmService.open(settings, ManualClock())
    with caplog.at_level(logging.INFO):
        deliverer = build_deliverer(settings, list(service.agents.values()), service.kill_switch)
    try:
        warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert warned == [
            "no display (DISPLAY is not set): the desktop agents with a tmux pane get their "
            f"messages through tmux (Agent-2); 1 agents as files in {settings.inbox_dir}"
        ]
        agents = service.agents
        assert [deliverer.method_for(agents[a]) for a in agents] == ["tmux", "tmux", "inbox"]
        dev = await service.tasks.create(TaskSpec("Ship the login page", role="dev"), "me")
        ops = await service.tasks.create(TaskSpec("Rotate the keys", role="ops"), "me")
        await Scheduler(service, deliverer).run_burst()
        deliveries = await service.messages.deliveries()
        assert {(d.task_id, d.state.value) for d in deliveries} == {
            (dev.id, "delivered"), (ops.id, "delivered")
        }  # fmt: skip
        (got1,), (got2,) = one.received(), two.received()
        assert "Ship the login page" in got1 and "Rotate the keys" in got2
    finally:
        deliverer.close()
        await service.close()


def test_agents_file_delivery_tmux(tmp_path: Path) -> None:
    path = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev", "delivery": "tmux", "tmux": "swarm:1"}],
    )
    (agent,) = load_agents(path)
    assert (agent.delivery, agent.app, agent.clear, agent.submit) == (
        "tmux", "terminal", ("ctrl+e", "ctrl+u"), "enter"
    )  # fmt: skip
    write_agents(path, [{"id": "A", "role": "dev", "delivery": "tmux"}])
    with pytest.raises(ConfigError, match='delivery = "tmux" needs a tmux pane'):
        load_agents(path)


def test_keys_and_text_as_tmux_takes_them() -> None:
    assert [tmux_key(k) for k in ("enter", "ctrl+u", "2", "shift+tab", "alt+f4", ";")] == [
        "Enter", "C-u", "2", "BTab", "M-F4", "\\;"
    ]  # fmt: skip
    assert paste_text("a\x1b[201~b\r\nc\td\x07") == ("a[201~b\nc\td", 2)
    assert os.environ.get("DISPLAY") is None


def test_the_time_limit_is_the_slowest_route_an_agent_uses(tmp_path: Path) -> None:
    """A coordinator or node whose agents all get files waits a file's time for a delivery,
    not the tmux route's (its lease check said "the lease (9 s) must be longer than one
    delivery's time limit (30.5 s)" for a desktop node without a display)."""
    settings = Settings.from_env({"SWARM_HOME": str(tmp_path)})
    files = [Agent("A", "dev", delivery="inbox"), Agent("B", "dev", delivery="inbox")]
    routing = build_deliverer(settings, files, KillSwitch(tmp_path))
    try:
        assert routing.time_limit_s == INBOX_TIME_LIMIT_S
        routing.use_agents([*files, Agent("C", "dev", delivery="tmux", tmux="swarm:c")])
        tmux = routing.route("tmux")
        assert tmux is not None and routing.time_limit_s == tmux.time_limit_s
        routing.use_agents([Agent("C", "dev", delivery="tmux", tmux="swarm:c")])
        assert routing.time_limit_s == tmux.time_limit_s  # files' 30 s not counted
    finally:
        routing.close()


@pytest.mark.timeout(240)
async def test_the_scheduler_delivers_to_different_panes_at_once_in_order_per_agent(
    tmux: Tmux, tmp_path: Path, home: Path
) -> None:
    """Two messages to each of four tmux agents: the first four are all claimed before any
    receipt (made at once; one at a time before: claim, receipt, claim...), each agent's
    second only after its first's receipt, and every pane gets its two once, in order."""
    four = chats(tmux, tmp_path, 4)
    path = write_agents(
        tmp_path / "agents.toml",
        [{"id": c.name, "role": "dev", "delivery": "tmux", "tmux": f"agents:{c.name}",
          "tmux_socket": str(tmux.socket)} for c in four],
    )  # fmt: skip
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(path)})
    service = await SwarmService.open(settings, ManualClock())
    deliverer = build_deliverer(settings, list(service.agents.values()), service.kill_switch)
    try:
        for n in (1, 2):
            for chat in four:
                await service.messages.send(chat.name, f"message {n} for {chat.name}", "me")
        await Scheduler(service, deliverer).run_burst()
        for chat in four:
            got = chat.received()
            assert len(got) == 2 and "message 1 for" in got[0] and "message 2 for" in got[1]
            assert all(chat.name in text for text in got)
        events = await service.history.events(limit=1000)
        order = [
            (e.kind, e.agent)
            for e in events
            if e.kind in ("delivery.claimed", "delivery.delivered")
        ]
        assert len(order) == 16, order
        assert {kind for kind, _ in order[:4]} == {"delivery.claimed"}  # all four at once
        for chat in four:
            mine = [kind for kind, agent in order if agent == chat.name]
            assert mine == ["delivery.claimed", "delivery.delivered"] * 2, order
        assert {d.state.value for d in await service.messages.deliveries()} == {"delivered"}
        assert all(d.attempts == 1 for d in await service.messages.deliveries())
    finally:
        deliverer.close()
        await service.close()


@pytest.mark.timeout(240)
async def test_a_stop_lets_every_delivery_in_flight_end_with_its_receipt(
    tmux: Tmux, tmp_path: Path, home: Path
) -> None:
    """A stop while four panes' deliveries are made at once: each ends with its receipt,
    nothing more is claimed (the second messages wait queued), none is left delivering."""
    four = chats(tmux, tmp_path, 4)
    path = write_agents(
        tmp_path / "agents.toml",
        [{"id": c.name, "role": "dev", "delivery": "tmux", "tmux": f"agents:{c.name}",
          "tmux_socket": str(tmux.socket)} for c in four],
    )  # fmt: skip
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(path)})
    service = await SwarmService.open(settings, ManualClock())
    deliverer = build_deliverer(settings, list(service.agents.values()), service.kill_switch)
    try:
        for n in (1, 2):
            for chat in four:
                await service.messages.send(chat.name, f"message {n} for {chat.name}", "me")
        scheduler = Scheduler(service, deliverer)
        stop = asyncio.Event()
        running = asyncio.create_task(scheduler.run(stop))
        deadline = time.monotonic() + 30
        while len(scheduler.flights) < 4:
            assert time.monotonic() < deadline and not running.done(), scheduler.flights
            await asyncio.sleep(0.005)
        stop.set()
        async with asyncio.timeout(30):  # not the worker left waiting for its time limit
            await running
        states = sorted((d.agent, d.state.value) for d in await service.messages.deliveries())
        assert states == sorted(
            [(c.name, "delivered") for c in four] + [(c.name, "queued") for c in four]
        )
        assert [len(chat.received()) for chat in four] == [1, 1, 1, 1]
        assert scheduler.flights == {}
    finally:
        deliverer.close()
        await service.close()


def typed_inputs(four: list[Chat]) -> int:
    """How many of the panes show text typed in their input line right now (the lowest line
    with the prompt ``>``; a sent message's stays above it)."""
    typed = 0
    for chat in four:
        read = capture(chat.tmux.ref(f"agents:{chat.name}"))
        lines = [line for line in read.lines if line.startswith(">")]
        typed += bool(lines and lines[-1][1:].strip())
    return typed


@pytest.mark.timeout(240)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_node_delivers_to_its_tmux_agents_at_once(
    tmux: Tmux, tmp_path: Path, home: Path, database_url: str
) -> None:
    """A delivery node's batch for four tmux panes: pasted at once (while each waits its
    second before the submit key, several inputs hold their text; one at a time before,
    never two), each once."""
    four = chats(tmux, tmp_path, 4)
    path = write_agents(
        tmp_path / "agents.toml",
        [{"id": c.name, "role": "dev", "delivery": "tmux", "tmux": f"agents:{c.name}",
          "tmux_socket": str(tmux.socket), "node": "desk-1"} for c in four],
    )  # fmt: skip
    settings = Settings.from_env(
        {"SWARM_HOME": str(home), "SWARM_CONFIG": str(path), "SWARM_DATABASE_URL": database_url}
    )
    service = await SwarmService.open(settings)
    deliverer = TmuxDeliverer(home, KillSwitch(home), replace(OPTIONS, settle_s=1.0))
    try:
        for chat in four:
            await service.messages.send(chat.name, f"hello {chat.name}", "me")
        node = DeliveryNode(service, deliverer, "desk-1", lease_s=120)
        step = asyncio.create_task(node.step())
        most = 0
        while not step.done():
            most = max(most, await asyncio.to_thread(typed_inputs, four))
            await asyncio.sleep(0.02)
        assert await step == 4 and node.delivered == 4
        assert most >= 2, "the panes were typed into one at a time"
        for chat in four:
            (got,) = chat.received()
            assert f"hello {chat.name}" in got
    finally:
        deliverer.close()
        await service.close()


@pytest.mark.timeout(120)
async def test_an_input_no_rule_finds_is_never_taken_for_the_transcript(
    tmux: Tmux, tmp_path: Path, home: Path
) -> None:
    """A program whose input line sits above a footer of three lines (opencode's start
    screen, a CLI with no rule file): the paste lands where swarm does not look, so the try
    fails "paste not seen"; a retry must not read the unsubmitted text on screen as the
    transcript and count it delivered (it did before: the prompt sat in the input, never
    sent, recorded as delivered)."""
    out = tmp_path / "taken.txt"
    footer = "\\n".join(["", "", "", "footer one", "footer two", "footer three"])
    program = f"printf '{footer}\\033[5A\\r> '; exec cat > {shlex.quote(str(out))}"
    tmux.window("agents", "odd", f"bash -c {shlex.quote(program)}", "120x40")
    wait_text(tmux.ref("agents:odd"), "footer three", 10)
    agent = Agent(
        id="Odd", role="dev", delivery="tmux", app="terminal", cli="no-such-cli",
        tmux="agents:odd", tmux_socket=str(tmux.socket), clear=("ctrl+e", "ctrl+u"),
    )  # fmt: skip
    quick = replace(OPTIONS, land_timeout_s=0.25, confirm_timeout_s=1.0)  # the paste: at once
    deliverer = TmuxDeliverer(home, KillSwitch(home), quick, rule_sets=())
    try:
        text = "a prompt that is never submitted here"
        receipts = [
            await deliverer.deliver(parcel(1, agent, text, is_retry=n > 0)) for n in range(3)
        ]
    finally:
        deliverer.close()
    assert out.read_text(encoding="utf-8") == ""  # cat got no line: nothing was submitted
    assert [r.ok for r in receipts] == [False, False, False], receipts


# Gemini CLI's real screens: at work (its spinner) from the start until ends_s after the
# first Enter it ignores (busy_s at most), then at its input. What is typed shows in its input
# line; an Enter during the turn is ignored (the text stays), an Enter after it sends the text
# (recorded) and empties the input
BUSY_THEN_IDLE = r"""
import os, select, sys, time, tty
working, idle, out = sys.argv[1], sys.argv[2], sys.argv[3]
busy_s, ends_s = float(sys.argv[4]), float(sys.argv[5])
screens = {p: open(p, encoding="utf-8").read().split("\n") for p in (working, idle)}
until, typed = time.monotonic() + busy_s, ""
def show():
    busy = time.monotonic() < until
    lines = list(screens[working if busy else idle])
    at = max(i for i, line in enumerate(lines) if "Type your message" in line)
    if typed:
        lines[at] = " >   " + typed.split("\n")[0]
    sys.stdout.write("\x1b[2J\x1b[H" + "\r\n".join(lines))
    sys.stdout.flush()
    return busy
show()
tty.setraw(0)
shown_busy = True
while True:
    ready, _, _ = select.select([0], [], [], 0.1)
    if not ready:
        if shown_busy and time.monotonic() >= until:
            shown_busy = show()
        continue
    data = os.read(0, 4096).decode(errors="replace")
    for part in data.replace("\x1b[200~", "").replace("\x1b[201~", "").split("\r"):
        typed += part
    if data.endswith("\r") and data.strip("\r") == "" and typed:
        if time.monotonic() >= until:
            with open(out, "a", encoding="utf-8") as got:
                got.write(typed + "\n")
            typed = ""
        else:  # ignored: the turn ends soon after
            until = min(until, time.monotonic() + ends_s)
    shown_busy = show()
"""


@pytest.mark.timeout(120)
async def test_a_text_typed_while_a_turn_runs_counts_only_once_it_leaves_the_input(
    tmux: Tmux, tmp_path: Path, tmux_deliverer: TmuxDeliverer
) -> None:
    """A prompt typed while the agent's last turn still runs, into a CLI that ignores the
    submit key during a turn (the text stays in its input): the turn's spinner was taken for
    the prompt taken, and it was recorded delivered while it sat unsent. Work seen before the
    key says nothing of the text: once the turn ends with the text still in its input, the
    key is pressed again and the text is sent, once. (The pinned Gemini CLI queues such a
    prompt instead: tests/agents/test_gemini_live.py.)"""
    folder = panes("gemini")
    program = tmp_path / "program.py"
    program.write_text(BUSY_THEN_IDLE, encoding="utf-8")
    got = tmp_path / "got.txt"
    argv = [sys.executable, str(program), str(folder / "gemini-0.61.0-working.txt"),
            str(folder / "gemini-0.61.0-idle-start.txt"), str(got), "6", "1"]  # fmt: skip
    tmux.window("agents", "gm", " ".join(shlex.quote(a) for a in argv), "120x40")
    wait_text(tmux.ref("agents:gm"), "esc to cancel")
    agent = pane_agent(tmux, "gm", "gemini")
    receipt = await tmux_deliverer.deliver(parcel(1, agent, "next task: T-6"))
    assert receipt.ok, receipt
    assert got.read_text(encoding="utf-8") == "next task: T-6\n"
