"""Every event icon renders in the dashboard's History and Activity, not as an empty box
(issue 41, item 8), also where no emoji font is installed (as on this machine).

Chromium says which fonts drew an element's text (DevTools' ``CSS.getPlatformFontsForNode``);
each icon must be drawn by a font that has its glyph: the dashboard's own icon font (a web
font, cut from Noto Emoji by ``tools/icon_font.py``), or a system font fontconfig says covers
it (on a desktop with an emoji font, that one)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.event_kinds import SHOWN, EventKind
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.store.tables import insert_event
from tests.helpers import write_agents
from tests.web.live import LiveDashboard
from tests.web.test_browser import open_page

ICONS = sorted({e.icon.replace("\ufe0f", "") for e in SHOWN.values()} - {"•"})


@pytest.fixture(scope="module")
def icons_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDashboard]:
    root = tmp_path_factory.mktemp("icons")
    agents_file = root / "agents.toml"
    write_agents(agents_file, [{"id": "Agent-1", "role": "dev", "delivery": "inbox"}])
    live = LiveDashboard({"SWARM_HOME": str(root / "home"), "SWARM_CONFIG": str(agents_file)})
    live.start()
    yield live
    live.stop()


def covers(family: str, char: str) -> bool:
    """Whether fontconfig knows ``family`` to have a glyph for ``char``."""
    found = subprocess.run(
        ["fc-list", f":charset={ord(char):x}", "family"], capture_output=True, text=True
    ).stdout
    return any(family in line.split(",") for line in found.splitlines())


async def _every_icon(service: SwarmService) -> str:
    """A task whose history holds one event of each kind with an icon: its ref."""
    task = await service.tasks.create(TaskSpec("icons"), "cli")

    def write(conn: Conn) -> None:
        for kind, entry in SHOWN.items():
            if entry.icon != "•":
                insert_event(conn, 0, EventKind(kind), f"{kind} happened", task_id=task.id)

    await service.store.update(write)
    return task.ref


async def fonts_of(page: Any, cdp: Any, selector: str) -> list[tuple[str, bool]]:
    """The fonts Chromium drew the element of ``selector`` with: each one's family, and
    whether it is the page's own (a web font: the dashboard's icon font, ``icons.woff2``)."""
    root = (await cdp.send("DOM.getDocument"))["root"]["nodeId"]
    node = (await cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector}))["nodeId"]
    fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})
    return [(f["familyName"], f["isCustomFont"]) for f in fonts["fonts"]]


@pytest.mark.asyncio(loop_scope="session")
async def test_every_event_icon_is_drawn_by_a_font_that_has_it(
    browser: Any,
    icons_home: LiveDashboard,
    tmp_path: Path,
) -> None:
    live = icons_home
    ref = await asyncio.to_thread(live.call, _every_icon)
    for path, rows in ((f"/tasks/{ref}", ".history li"), (f"/activity?task={ref}", "#activity li")):
        page = await open_page(browser, live, path)
        assert await page.locator(rows).count() >= len(ICONS)
        # each icon alone in an element styled as the rows' text, to see which font drew it
        await page.evaluate(
            """([rows, icons]) => {
                const holder = document.querySelector(rows).parentElement;
                icons.forEach((icon, n) => {
                    const li = document.createElement("li");
                    li.id = "icon-" + n;
                    li.textContent = icon;
                    holder.append(li);
                });
                return document.fonts.ready.then(() => true);
            }""",
            [rows, ICONS],
        )
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("DOM.enable")
        await cdp.send("CSS.enable")
        wrong = {}
        for n, icon in enumerate(ICONS):
            used = await fonts_of(page, cdp, f"#icon-{n}")
            if not all(own or covers(family, icon) for family, own in used):
                wrong[icon] = used
        shot = tmp_path / f"{rows.split()[0].strip('.#')}.png"
        await page.screenshot(path=str(shot), full_page=True)
        assert wrong == {}, f"{path}: drawn by fonts without the glyph: {wrong}"
        await page.close()
