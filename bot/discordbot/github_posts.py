"""A pull request whose CI failed past ``SWARM_CI_RETRIES`` as one Discord post: the failing
check's name and log tail (fenced: quoted material) and three buttons, retry, take over and
close. A press by a swarm admin decides it (``links.decide_ci``: once; audited); a second
press is told who chose what, ephemerally. The post is edited when the choice is made
(``posts`` key ``github-ci:<task id>``). What the choice means on GitHub (a comment, the PR
closed) is done by the GitHub loop at its next tick (docs/github.md).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discordbot.access import Access
from bot.discordbot.context import FRONT_END, actor
from bot.discordbot.prompt_posts import fenced
from core.coordinator.urgent_posts import ci_key
from core.errors import SwarmError
from core.formats.text import escape_controls, one_line, shorten
from core.github import links
from core.models import task_ref
from core.posts.queries import Post

if TYPE_CHECKING:
    from bot.discordbot.context import Bot

TAIL_CHARS = 1200  # of the log's end in the post (the post stays under Discord's 2000)
STYLES = {
    "retry": discord.ButtonStyle.success,
    "takeover": discord.ButtonStyle.primary,
    "close": discord.ButtonStyle.danger,
}


def ci_text(data: dict[str, Any], task_id: int, decided: links.CiDecision | None) -> str:
    """The post: which PR, which check, past how many retries; the log's tail; then the
    choice, once made."""
    ref = task_ref(task_id)
    check = one_line(shorten(escape_controls(str(data.get("check") or "CI")), 100))
    pr = f"PR #{data.get('pr')} (issue #{data.get('issue')})"
    if decided is None:
        head = (
            f"🛑 {ref} · {pr}: CI failed past {data.get('retries')} retries "
            f"(check {check}); an admin chooses:"
        )
    else:
        head = f"✅ {decided.text}"
    tail = escape_controls(str(data.get("tail") or "(no log)"), keep="\n")[-TAIL_CHARS:]
    body = f"check: {check}\n{tail}"
    return f"{one_line(shorten(head, 400))}\n{fenced(body)}"


class CiButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"swarm:ghci:(?P<action>retry|takeover|close):(?P<task>\d{1,18})",
):
    """Retry, take over or close; the custom id carries the action and the task."""

    needed = Access.admin

    def __init__(self, action: str, task_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=links.CI_ACTIONS[action].capitalize(),
                style=STYLES[action],
                custom_id=f"swarm:ghci:{action}:{task_id}",
            )
        )
        self.action = action
        self.task_id = task_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> CiButton:
        """Rebuild the button from its custom id."""
        return cls(match["action"], int(match["task"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Make the choice, once; edit the post to say who chose what."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        details = f"{links.CI_ACTIONS[self.action]} {task_ref(self.task_id)}"
        if not await bot.authorize(interaction, "button github-ci", self.needed, details):
            return
        try:
            decided = await bot.service.github.decide_ci(
                self.task_id, self.action, actor(interaction)
            )
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)
            return
        data = await bot.service.github.ci_exhausted(self.task_id)
        text = ci_text(data, self.task_id, decided)
        await interaction.response.edit_message(content=text, view=None)
        message = interaction.message
        if message is not None:  # the notifier finds the post up to date: no second edit
            post = Post(ci_key(self.task_id), str(message.id), shown=text)
            await bot.service.posts.keep_post(FRONT_END, post)


def ci_buttons(task_id: int) -> discord.ui.View:
    """Retry, Take over, Close."""
    view = discord.ui.View(timeout=None)
    for action in links.CI_ACTIONS:
        view.add_item(CiButton(action, task_id))
    return view
