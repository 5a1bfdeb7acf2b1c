"""The ``core.protocols.Route`` seam: each route class is one (checked by mypy and at run
time), and the registry (``automation.routes``) sends each agent's deliveries, answers, keys
and stops by its route: files written, a real pane's turn stopped with its CLI's key, a
window refused where its point is another's, a host out of reach said in one line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from messages import parcel

from automation.desktop.gui import GuiDriver
from automation.desktop.route import GuiRoute
from automation.desktop.virtual_desktop import XServer
from automation.inbox.files import InboxDeliverer
from automation.inbox.route import InboxRoute
from automation.protocol.delivery import ProtocolDeliverer
from automation.protocol.route import ProtocolRoute
from automation.routes import build_deliverer, build_routes
from automation.tmux.delivery import TmuxDeliverer
from automation.tmux.route import TmuxRoute
from automation.turn_stop import can_stop, stop_turn
from core.delivery._killswitch import KillSwitch
from core.models import Agent, Receipt
from core.protocols import Route, Stop
from core.settings import Settings
from tests.tmux_server import Tmux, wait_text

CANNOT = "has no way to stop a turn: stop it where it runs"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A home of the test's own."""
    return Settings(home=tmp_path / "home", config_path=tmp_path / "agents.toml")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """A private tmux server whose pane ``agents:a`` shows each key it gets (``cat -v``)."""
    server = Tmux(tmp_path / "tmux.sock")
    server.window("agents", "a", "stty -icanon -echo; exec cat -v")
    try:
        yield server
    finally:
        server.stop()


def test_each_route_class_is_a_route(settings: Settings) -> None:
    kill = KillSwitch(settings.home)
    routes: list[Route] = [  # mypy checks each against the protocol
        ProtocolRoute(ProtocolDeliverer(settings.home)),
        TmuxRoute(TmuxDeliverer(settings.home, kill)),
        GuiRoute(GuiDriver(settings.home, kill)),
        InboxRoute(InboxDeliverer(settings.inbox_dir)),
    ]
    try:
        assert all(isinstance(route, Route) for route in routes)
        assert [route.name for route in routes] == ["protocol", "tmux", "gui", "inbox"]
    finally:
        for route in routes:
            route.close()


async def test_an_inbox_agent_gets_a_file_and_refuses_answers_keys_and_stops(
    settings: Settings,
) -> None:
    agent = Agent("A", "dev", delivery="inbox")
    routing = build_deliverer(settings, [agent], KillSwitch(settings.home))
    try:
        assert routing.method_for(agent) == "inbox"
        assert await routing.deliver(parcel(1, agent, "by file")) == Receipt.delivered("inbox")
        answered = await routing.answer(agent, "r-1", "allow")
        pressed = await routing.press_keys(agent, ["1"])
        stopped = await routing.stop_turn(agent)
    finally:
        routing.close()
    files = list((settings.inbox_dir / "A").iterdir())
    assert [f.read_text("utf-8") for f in files] == ["by file"]
    assert (answered.ok, answered.retryable, answered.reason) == (
        False, False, "A is not a protocol agent"
    )  # fmt: skip
    assert (pressed.ok, pressed.reason) == (False, "no desktop driver for this agent")
    assert stopped == Stop.cannot("", f"its route (inbox files) {CANNOT}")
    assert not can_stop(agent)


async def test_a_pane_agent_is_stopped_by_its_clis_interrupt_key(
    settings: Settings, tmux: Tmux
) -> None:
    """A desktop agent with a pane, without a display: the registry stops its turn through
    the pane (Claude Code's Escape shows as ``^[``) and answers its prompts with keys."""
    agent = Agent("A", "dev", delivery="gui", cli="claude-code", tmux="agents:a",
                  tmux_socket=str(tmux.socket))  # fmt: skip
    assert can_stop(agent)
    stopped = await stop_turn(settings, agent, KillSwitch(settings.home))
    assert stopped == Stop(
        True, "escape in its tmux pane", "Claude Code's interrupt key pressed (escape in its "
        "tmux pane)"
    )  # fmt: skip
    assert "^[" in "".join(wait_text(tmux.ref("agents:a"), "^["))
    routing = build_routes(settings, KillSwitch(settings.home))
    try:
        routing.use_agents([agent])
        assert routing.method_for(agent) == "tmux"
        answered = await routing.answer(agent, "r-1", "allow")
        assert (answered.ok, answered.reason) == (False, "A is not a protocol agent")
        assert (await routing.press_keys(agent, ["y"])).ok
    finally:
        routing.close()
    wait_text(tmux.ref("agents:a"), "^[y")


async def test_a_pane_agent_whose_cli_is_unknown_is_not_stopped(
    settings: Settings, tmux: Tmux
) -> None:
    agent = Agent("A", "dev", delivery="tmux", tmux="agents:a", tmux_socket=str(tmux.socket))
    stopped = await stop_turn(settings, agent, KillSwitch(settings.home))
    assert stopped == Stop.cannot(
        "", 'its CLI is not known (cli = "..." in the agents file): no key'
    )


async def test_a_protocol_agent_whose_host_is_gone_is_said_not_stopped(
    settings: Settings,
) -> None:
    agent = Agent("P", "dev", delivery="protocol", cli="claude-code")
    routing = build_routes(settings, KillSwitch(settings.home))
    try:
        routing.use_agents([agent])
        assert routing.method_for(agent) == "protocol" and routing.can_stop(agent)
        stopped = await routing.stop_turn(agent)
        answered = await routing.answer(agent, "r-1", "allow")
        pressed = await routing.press_keys(agent, ["1"])
    finally:
        routing.close()
    assert (stopped.done, stopped.failed, stopped.how) == (False, True, "the host's cancel")
    assert stopped.said.startswith("not stopped: ") and "\n" not in stopped.said
    assert (answered.ok, answered.method) == (False, "protocol")
    assert (pressed.ok, pressed.reason) == (False, "a protocol agent takes no keys")


async def test_a_window_whose_point_is_anothers_is_refused_and_cannot_be_stopped(
    xserver: XServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """On a display: the desktop route refuses an agent whose input point lies in another
    agent's window (said once at start), before anything is typed."""
    first = Agent("A", "dev", input=(100, 100), watch=(0, 0, 400, 400))
    inside = Agent("B", "dev", input=(200, 200), watch=(500, 0, 400, 400))
    with caplog.at_level(logging.WARNING):
        routing = build_deliverer(settings, [first, inside], KillSwitch(settings.home))
    try:
        assert [routing.method_for(a) for a in (first, inside)] == ["gui", "gui"]
        assert not routing.parallel(inside)
        delivered = await routing.deliver(parcel(1, inside, "never typed"))
        pressed = await routing.press_keys(inside, ["1"])
        stopped = await routing.stop_turn(first)
    finally:
        routing.close()
    refused = Receipt.failed("input point inside A's window", "gui", retryable=False)
    assert delivered == pressed == refused
    assert stopped == Stop.cannot("", f"its route (a window with no tmux pane) {CANNOT}")
    said = [r.getMessage() for r in caplog.records if "not delivered to until" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("B: input point (200, 200) lies inside A's")


async def test_a_window_with_a_pane_is_stopped_through_its_pane(
    xserver: XServer, settings: Settings, tmux: Tmux
) -> None:
    """On a display a desktop agent's prompts go to its window, its stop to its pane."""
    agent = Agent("A", "dev", cli="claude-code", input=(100, 100), tmux="agents:a",
                  tmux_socket=str(tmux.socket))  # fmt: skip
    routing = build_deliverer(settings, [agent], KillSwitch(settings.home))
    try:
        assert routing.method_for(agent) == "gui"
        stopped = await routing.stop_turn(agent)
    finally:
        routing.close()
    assert (stopped.done, stopped.how) == (True, "escape in its tmux pane")
    wait_text(tmux.ref("agents:a"), "^[")
