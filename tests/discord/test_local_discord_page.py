"""The page of ``swarm run --local-discord`` in a real browser (Debian's Chromium driven by
Playwright, as the dashboard's browser tests): typing, pressing, a form, and an agent's
hostile text shown as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.discord.local_run import local_run
from tests.web.test_browser import contains, has_count, has_text, until

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


async def send(page: Any, text: str) -> None:
    """Type a command into the page's input and press Enter."""
    await page.locator("#command").fill(text)
    await page.locator("#command").press("Enter")


@pytest.mark.timeout(90)
@pytest.mark.asyncio(loop_scope="session")
async def test_the_page_drives_the_bot_and_shows_hostile_text_as_text(
    browser: Any, tmp_path: Path
) -> None:
    dialogs: list[str] = []
    async with local_run(tmp_path) as run:
        page = await browser.new_page()
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        try:
            await page.goto(run.url)
            await until(lambda: has_text(page, "#bot", "bot connected"), "the bot", 15)
            await until(lambda: page.locator("#commands li").count(), "the command list")
            await send(page, f"/task create title:{HOSTILE} Fix role:backend")
            feed = page.locator("#feed")
            await until(lambda: contains(feed, "assigned to Agent-1"), "the card", 15)
            assert await page.locator("#command").input_value() == ""  # sent: cleared
            shown = await feed.text_content() or ""
            assert f"T-1 · {HOSTILE} Fix" in shown and "its card follows in #swarm" in shown
            assert await page.locator("#feed script, #feed img").count() == 0

            await page.locator("#feed button", has_text="Done").first.click()
            await until(lambda: contains(feed, "T-1 is now done"), "the button's answer")
            assert await page.locator("#feed .ephemeral", has_text="T-1 is now done").count()

            await send(page, "/task create title:x colour:red")
            await until(lambda: contains(page.locator("#error"), "has no option 'colour'"), "error")
            assert await page.locator("#command").input_value() != ""  # kept to correct

            await send(page, "/task create title:With a form details_form:true")
            await until(lambda: page.locator("#modal").is_visible(), "the form")
            assert await page.locator("#modal-title").text_content() == "Task details"
            await page.locator("#modal-fields textarea").fill(HOSTILE)
            await page.locator("#modal-send").click()
            await until(lambda: contains(feed, "With a form"), "the task from the form")
            assert await page.locator("#modal").is_hidden()

            await page.locator("#command").fill("/task create title:Third agent:Age")
            choices = page.locator("#choices li")
            await until(lambda: has_count(choices, 1), "the bot's suggestion of an agent")
            await choices.first.click()
            assert await page.locator("#command").input_value() == (
                "/task create title:Third agent:Agent-1 "
            )

            await page.locator("#commands li", has_text="/task create").first.click()
            assert (await page.locator("#command").input_value()).startswith("/task create ")
        finally:
            await page.close()
        assert await run.stop() == 0
    assert dialogs == []  # no script of the text ran
