"""The agents page's Stop in a real browser: confirmed, pressed into a real tmux pane (its
Escape seen on the pane's screen), its answer in the toast; a route that cannot stop says so
in the toast's one line."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from core.tmux import PaneRef, capture
from tests.conftest import skip_or_fail
from tests.helpers import write_agents
from tests.tmux_server import Tmux, wait_text
from tests.web.live import LiveDashboard
from tests.web.test_browser import contains, open_page, until


@pytest.fixture(scope="module")
def stoppable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveDashboard, PaneRef]]:
    """A dashboard over P (Claude Code in a pane running ``cat``) and I (inbox files)."""
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (apt-get install tmux)")
    root = tmp_path_factory.mktemp("stop")
    tmux = Tmux(root / "tmux.sock")
    tmux.window("agents", "P", "echo ready; exec cat")
    ref = tmux.ref("agents:P")
    wait_text(ref, "ready")
    agents_file = write_agents(
        root / "agents.toml",
        [
            {"id": "P", "role": "dev", "cli": "claude-code", "delivery": "tmux",
             "tmux": "agents:P", "tmux_socket": str(tmux.socket)},
            {"id": "I", "role": "dev", "delivery": "inbox"},
        ],
    )  # fmt: skip
    live = LiveDashboard({"SWARM_HOME": str(root / "home"), "SWARM_CONFIG": str(agents_file)})
    live.start()
    try:
        yield live, ref
    finally:
        live.stop()
        tmux.stop()


def pane_text(ref: PaneRef) -> str:
    read = capture(ref)
    assert read.ok, read
    return "\n".join(read.lines)


@pytest.mark.asyncio(loop_scope="session")
async def test_stop_is_confirmed_pressed_into_the_pane_and_answered_in_the_toast(
    browser: Any,
    stoppable: tuple[LiveDashboard, PaneRef],
) -> None:
    live, ref = stoppable
    page = await open_page(browser, live, "/agents")
    asked: list[str] = []

    async def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    assert await page.locator("#agent-I button.stop").count() == 0  # inbox files: none
    await page.click("#agent-P button.stop")
    toast = page.locator("#toast")
    await until(lambda: contains(toast, "interrupt key pressed"), "the answer in the toast")
    assert await toast.inner_text() == (
        "P: Claude Code's interrupt key pressed (escape in its tmux pane)"
    )
    assert asked == ["Stop P's running turn now (its task stays P's)?"]
    assert "^[" in pane_text(ref)
    await page.close()
