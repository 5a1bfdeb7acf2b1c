"""The dashboard in a real browser: Debian's Chromium driven by Playwright (nothing is
downloaded), uvicorn in a background thread, the CLI in other processes on the same home."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image, ImageDraw

from core.agents_file import load_agents
from core.watch.frames import save_frame
from tests.conftest import skip_or_fail
from tests.helpers import run_cli, write_agents
from tests.web.live import LiveDashboard

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the session, with a fresh profile folder (the async API on
    the session's loop: the sync one would keep a loop running under every later test)."""
    if shutil.which(CHROMIUM) is None:
        skip_or_fail("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    profile = tempfile.mkdtemp(prefix="swarm-chromium-")
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def swarm_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A home and agents file (two desktop agents, one inbox agent); Agent-1 has a frame
    written the way the watcher writes it."""
    root = tmp_path_factory.mktemp("web")
    home, agents_file = root / "home", root / "agents.toml"
    write_agents(
        agents_file,
        [
            {
                "id": "Agent-1",
                "role": "integration",
                "input": [240, 480],
                "watch": [20, 40, 440, 380],
            },
            {"id": "Agent-2", "role": "qa", "delivery": "inbox"},
            {"id": "Agent-3", "role": "web", "input": [720, 480], "watch": [500, 40, 440, 380]},
        ],
    )
    from automation.watch import thumbnail

    window = Image.new("RGB", (440, 380), "#1e1e1e")
    ImageDraw.Draw(window).text((20, 20), "Agent-1 is typing...", fill="#ffffff")
    agent = next(a for a in load_agents(agents_file) if a.id == "Agent-1")
    assert save_frame(home, agent, thumbnail(window)) is not None
    yield home, agents_file


@pytest.fixture(scope="session")
def dashboard(swarm_home: tuple[Path, Path]) -> Iterator[LiveDashboard]:
    """The dashboard on a free port over that home."""
    home, agents_file = swarm_home
    live = LiveDashboard({"SWARM_HOME": str(home), "SWARM_CONFIG": str(agents_file)})
    live.start()
    yield live
    live.stop()


@pytest.mark.asyncio(loop_scope="session")
async def test_the_board_live_the_kill_switch_and_an_agent_thumbnail(
    browser: Any, dashboard: LiveDashboard, swarm_home: tuple[Path, Path], tmp_path: Path
) -> None:
    home, agents_file = swarm_home
    page = await browser.new_page()
    await page.goto(dashboard.url + "/")
    assert page.url.startswith(dashboard.url + "/login")
    await page.fill("#token", dashboard.admin_token)
    await page.click("#login")
    await page.wait_for_selector("body[data-page=board]", timeout=5000)
    assert await page.locator("#count-ready").inner_text() == "0"

    added = await asyncio.to_thread(
        run_cli,
        home,
        "task",
        "add",
        "Typed in another terminal",
        "--priority",
        "high",
        config=agents_file,
    )
    assert added.code == 0, added.err
    ref = added.out.split()[0]
    card = await page.wait_for_selector(f"#col-ready #task-{ref}", timeout=1000)
    assert card is not None and "Typed in another terminal" in await card.inner_text()
    await page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
    assert (tmp_path / "board.png").stat().st_size > 0

    await page.click(f"#task-{ref} a.ref")  # the task's page: its history
    history = await page.wait_for_selector(".history", timeout=5000)
    assert history is not None and f"{ref} created by cli" in await history.inner_text()
    await page.go_back()
    await page.wait_for_selector("body[data-live=yes]", timeout=5000)

    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.click("#pause-input")
    await page.wait_for_selector("#input-state.paused", timeout=5000)
    status = await asyncio.to_thread(run_cli, home, "status", config=agents_file)
    assert "input:      PAUSED" in status.out, status.out

    await page.goto(dashboard.url + "/agents")
    assert await page.wait_for_selector("#agent-Agent-1 img.thumb", timeout=5000) is not None
    await page.wait_for_function(
        "document.querySelector('#agent-Agent-1 img.thumb').naturalWidth > 0", timeout=5000
    )
    assert "inbox agent: no window" in await page.locator("#agent-Agent-2").inner_text()
    assert await page.locator("#agent-Agent-3 img.thumb").count() == 0  # no frame yet
    await page.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_needs_you_is_answered_in_place_and_follows_other_processes(
    browser: Any, dashboard: LiveDashboard, swarm_home: tuple[Path, Path]
) -> None:
    from core.agent_state import Signal
    from core.models import TaskSpec
    from core.tasks import prompts
    from core.tasks.prompts import PromptOption
    from core.workflows import Workflow, WorkflowService

    home, agents_file = swarm_home
    page = await browser.new_page()
    await page.goto(dashboard.url + "/login?next=/")
    await page.fill("#token", dashboard.admin_token)
    await page.click("#login")
    await page.wait_for_selector("body[data-live=yes]", timeout=5000)
    before = int(await page.locator("#needs-count").inner_text())

    async def setup(service: Any) -> tuple[str, str, str]:
        task = await service.create_task(TaskSpec("Pick a database", agent="Agent-2"), "cli")
        await service.queue.assign_batch()
        options = [
            PromptOption(k, label) for k, label in (("1", "Yes"), ("2", "Always"), ("3", "No"))
        ]
        prompt = await service.write(
            "Agent-1", prompts.open_prompt, "Agent-1", Signal.HOOK, "Bash(make <all>)", options
        )
        flows = WorkflowService(service)
        flow = Workflow("ship").step("ok", "Approve shipping", gate=True).check()
        (gate,) = (await flows.run(await flows.plan(flow, {}), "cli")).task_ids
        return task.ref, f"R-{prompt.id}", f"T-{gate}"

    task, prompt, gate = await asyncio.to_thread(dashboard.call, setup)
    asked = await asyncio.to_thread(
        run_cli, home, "ask", task, "Which database?", config=agents_file, agent="Agent-2"
    )
    assert asked.code == 0, asked.err
    question = "Q-" + asked.out.split("question ")[1].split()[0]
    for ref in (question, prompt, gate):  # live: written by another process and another loop
        await page.wait_for_selector(f"#needs #need-{ref}", timeout=5000)
    await page.wait_for_function(
        f"document.getElementById('needs-count').textContent === '{before + 3}'", timeout=5000
    )
    assert "Bash(make <all>)" in await page.locator(f"#need-{prompt} .need-text").inner_text()

    await page.fill(f"#need-{question} input[name=text]", "Postgres 16")
    await page.press(f"#need-{question} input[name=text]", "Enter")
    await page.wait_for_selector(f"#need-{question}", state="detached", timeout=5000)
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.click(f"#need-{prompt} button[data-option='2']")
    await page.wait_for_selector(f"#need-{prompt}", state="detached", timeout=5000)
    decided = await asyncio.to_thread(dashboard.call, lambda s: s.prompt(int(prompt[2:])))
    assert (decided.decision, decided.decided_by) == ("2", "web:browser")
    shown = await asyncio.to_thread(run_cli, home, "task", "show", task, config=agents_file)
    assert "Postgres 16" in shown.out, shown.out

    approved = await asyncio.to_thread(run_cli, home, "approve", gate, config=agents_file)
    assert approved.out == f"{gate} approved\n", approved.err
    await page.wait_for_selector(f"#need-{gate}", state="detached", timeout=5000)
    await page.wait_for_function(
        f"document.getElementById('needs-count').textContent === '{before}'", timeout=5000
    )
    await page.click("#needs-link")
    await page.wait_for_selector("body[data-page=needs] #needs", timeout=5000)
    await page.close()
