"""GET /api/v1/agents/{id}/screenshot: the agent's window at full resolution, for admins.

A real Tk window on the session's Xvfb, the real app over a real SQLite store, httpx.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops

from automation.desktop.screen import Grabber, Rect
from automation.desktop.virtual_desktop import display_env
from bot.web.app import create_app
from bot.web.settings import WebSettings
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import write_agents
from tests.web.conftest import acting_rows, bearer, make_token

BOX = (960, 540, 400, 300)


@pytest.fixture
def tk_window(shared_xvfb: Any, tmp_path: Path) -> Iterator[Any]:
    """A Tk window on BOX, with DISPLAY pointing at the Xvfb meanwhile."""
    from tests.apps.screen_windows import open_window

    with display_env(shared_xvfb):
        window = open_window(shared_xvfb, "tk-caret", BOX, tmp_path / "tk", "Shot-1")
        try:
            yield window
        finally:
            window.stop()


@pytest.fixture
async def shot_service(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SwarmService]:
    """Agent-1 watches the window; Agent-2 is an inbox agent (no window)."""
    x, y, width, height = BOX
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "Agent-1", "role": "dev", "input": [x + 100, y + 100],
          "watch": [x, y, width, height]},
         {"id": "Agent-2", "role": "dev", "delivery": "inbox"}],
    )  # fmt: skip
    env = {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    settings = Settings.from_env(env)
    service = await SwarmService.open(settings, clock)
    yield service
    await service.close()


@pytest.fixture
async def shot_client(shot_service: SwarmService) -> AsyncIterator[httpx.AsyncClient]:
    """httpx against the real app."""
    transport = httpx.ASGITransport(app=create_app(shot_service, WebSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http


async def test_an_admin_gets_the_window_at_full_resolution_never_cached(
    tk_window: Any, shot_service: SwarmService, shot_client: httpx.AsyncClient
) -> None:
    admin = await make_token(shot_service, "admin", "laptop")
    got = await shot_client.get("/api/v1/agents/agent-1/screenshot", headers=bearer(admin))
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.headers["cache-control"] == "no-store"
    image = Image.open(io.BytesIO(got.content))
    assert image.format == "PNG" and image.size == (400, 300)
    grabber = Grabber()
    try:
        screen = grabber.grab(Rect(*BOX))
    finally:
        grabber.close()
    box = ImageChops.difference(image.convert("RGB"), screen).getbbox()
    assert box is None or (box[2] - box[0] <= 4 and box[3] - box[1] <= 24)  # the caret, at most
    (row,) = await acting_rows(shot_service)
    assert (row.user_name, row.command, row.outcome) == (
        "laptop",
        "GET /api/v1/agents/agent-1/screenshot",
        "ok",
    )


async def test_viewers_are_refused_and_agents_without_a_window_say_why(
    tk_window: Any, shot_service: SwarmService, shot_client: httpx.AsyncClient
) -> None:
    viewer = await make_token(shot_service, "viewer", "wall")
    refused = await shot_client.get("/api/v1/agents/Agent-1/screenshot", headers=bearer(viewer))
    assert refused.status_code == 403 and "viewer token" in refused.json()["error"]
    assert (await shot_client.get("/api/v1/agents/Agent-1/screenshot")).status_code == 401
    admin = await make_token(shot_service, "admin", "laptop")
    inbox = await shot_client.get("/api/v1/agents/Agent-2/screenshot", headers=bearer(admin))
    assert inbox.status_code == 400
    assert inbox.json()["error"].startswith("Agent-2 has no watch region in the agents file")
    unknown = await shot_client.get("/api/v1/agents/Agent-9/screenshot", headers=bearer(admin))
    assert unknown.status_code == 404


async def test_an_admins_thumbnail_opens_the_screenshot_a_viewers_does_not(
    tk_window: Any, shot_service: SwarmService, shot_client: httpx.AsyncClient
) -> None:
    from automation.desktop.watch import screenshot_png, thumbnail
    from core.agents._frames import save_frame
    from tests.web.test_pages import login

    agent = shot_service.agents["Agent-1"]
    window = Image.open(io.BytesIO(screenshot_png(agent)))
    assert save_frame(shot_service.settings.home, agent, thumbnail(window)) is not None
    link = 'href="/api/v1/agents/Agent-1/screenshot"'
    await login(shot_client, await make_token(shot_service, "admin", "laptop"))
    page = (await shot_client.get("/agents")).text
    assert link in page and 'src="/agents/Agent-1/frame.png"' in page
    shot = await shot_client.get("/api/v1/agents/Agent-1/screenshot")  # with the login cookie
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/png"
    shot_client.cookies.clear()
    await login(shot_client, await make_token(shot_service, "viewer", "wall"))
    page = (await shot_client.get("/agents")).text
    assert link not in page and 'src="/agents/Agent-1/frame.png"' in page
