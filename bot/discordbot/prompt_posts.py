"""An agent's permission prompt as one Discord post: its text (fenced: quoted material) and a
button per option. A press by a swarm admin decides it (``prompts.decide``: once; audited);
a second press, or a press after another front end decided, is told who decided, ephemerally.
The notifier (``core/coordinator/urgent_posts.py``) posts it and edits it when the prompt is
decided or closed (``posts`` key ``prompt:N``).

A text longer than the post holds shows its head and its tail, the cut marked between them
and said above the fence, and the whole text is attached (``R-7.txt``): what an admin allows
is what they can read.
"""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discordbot.access import Access
from bot.discordbot.context import FRONT_END, actor
from core.coordinator.urgent_posts import prompt_key
from core.dialogs.permissions import Prompt
from core.errors import NotFound, SwarmError
from core.formats.text import head_tail, one_line, shorten
from core.inbox.needs import prompt_ref
from core.models import task_ref
from core.posts.queries import Post

if TYPE_CHECKING:
    from bot.discordbot.context import Bot

log = logging.getLogger(__name__)
MAX_OPTION_BUTTONS = 25  # Discord's limit of components in one message
TEXT_LIMIT = 1500  # characters of the prompt's text in the post (the post stays under 2000)
LABEL_LIMIT = 80  # Discord's limit of a button's label
_TICKS = re.compile(r"`(?=`)")  # a backtick another follows: ``` could close our fence


def fenced(text: str, more: str = "") -> str:
    """``text`` in a code block it cannot close early (quoted material, never markdown): a
    zero-width space after each backtick followed by another, so no run of them is left. At
    most ``TEXT_LIMIT`` characters: its head and tail with the cut marked (``more``: where
    the rest is)."""
    limit = TEXT_LIMIT
    for _ in range(8):  # the spaces lengthen a text of backticks: cut more until it fits
        body = _TICKS.sub("`\u200b", head_tail(text, limit, more))
        if len(body) <= TEXT_LIMIT:
            break
        limit = limit * TEXT_LIMIT // len(body) - 1
    return f"```\n{body or ' '}\n```"


def attachment_name(prompt: Prompt) -> str:
    """The file the whole text of a long prompt is attached as."""
    return f"{prompt_ref(prompt.id)}.txt"


def is_cut(prompt: Prompt) -> bool:
    """True when the post cannot hold the prompt's whole text."""
    return len(prompt.text) > TEXT_LIMIT


def prompt_text(prompt: Prompt) -> str:
    """The post: who asks, where from, the prompt's text; then how it ended, if it did."""
    ref = prompt_ref(prompt.id)
    on = f" on {task_ref(prompt.task_id)}" if prompt.task_id is not None else ""
    if prompt.decided_at is not None:
        chosen = next((o.label for o in prompt.options if o.key == prompt.decision), "")
        head = (
            f"✅ {ref} · {prompt.agent}{on}: {prompt.decision}. {chosen!r} "
            f"chosen by {prompt.decided_by}"
        )
    elif prompt.closed_at is not None:
        head = f"⌛ {ref} · {prompt.agent}{on}: closed without a decision ({prompt.closed_why})"
    else:
        head = f"✋ {ref} · {prompt.agent}{on} asks ({prompt.source.value}); an admin chooses:"
    head = one_line(shorten(head, 300))
    if not is_cut(prompt):
        return f"{head}\n{fenced(prompt.text)}"
    whole = f"📎 {len(prompt.text):,} characters: the middle is cut below; read it all in "
    whole += f"{attachment_name(prompt)} (attached) or with swarm inbox show {ref}"
    return f"{head}\n{whole}\n{fenced(prompt.text, f': all of it in {attachment_name(prompt)}')}"


class PromptButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"swarm:prompt:(?P<prompt>\d{1,18}):(?P<index>\d{1,2})",
):
    """One option of one prompt; the custom id carries both (so it survives restarts)."""

    needed = Access.admin

    def __init__(self, prompt_id: int, index: int, label: str = "", count: int = 1) -> None:
        style = (
            discord.ButtonStyle.success
            if index == 0
            else discord.ButtonStyle.danger
            if index == count - 1
            else discord.ButtonStyle.primary
        )
        super().__init__(
            discord.ui.Button(
                label=shorten(one_line(label), LABEL_LIMIT) or str(index + 1),
                style=style,
                custom_id=f"swarm:prompt:{prompt_id}:{index}",
            )
        )
        self.prompt_id = prompt_id
        self.index = index

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> PromptButton:
        """Rebuild the button from its custom id."""
        return cls(int(match["prompt"]), int(match["index"]), item.label or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        """Decide the prompt with this option, once; edit the post to say who chose what."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        ref = prompt_ref(self.prompt_id)
        details = f"{ref} option {self.index + 1}"
        if not await bot.authorize(interaction, "button prompt", self.needed, details):
            return
        try:
            prompt = await bot.service.inbox.prompt(self.prompt_id)
            if self.index >= len(prompt.options):
                raise NotFound(f"{ref} has no option {self.index + 1}")
            key = prompt.options[self.index].key
            await bot.service.inbox.decide_prompt(self.prompt_id, key, actor(interaction))
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)
            return
        prompt = await bot.service.inbox.prompt(self.prompt_id)
        text = prompt_text(prompt)
        await interaction.response.edit_message(content=text, view=None)
        message = interaction.message
        if message is not None:  # the notifier finds the post up to date: no second edit
            post = Post(prompt_key(prompt.id), str(message.id), shown=text)
            await bot.service.posts.keep_post(FRONT_END, post)


def option_buttons(prompt: Prompt) -> discord.ui.View:
    """A button per option (at most ``MAX_OPTION_BUTTONS``), in the prompt's order."""
    view = discord.ui.View(timeout=None)
    shown = prompt.options[:MAX_OPTION_BUTTONS]
    for index, option in enumerate(shown):
        view.add_item(PromptButton(prompt.id, index, option.label, len(shown)))
    return view


def whole_text(prompt: Prompt) -> dict[str, Any]:
    """``file=``: the whole text of a prompt the post cuts, as a text file; else nothing."""
    if not is_cut(prompt):
        return {}
    data = io.BytesIO(prompt.text.encode("utf-8", "backslashreplace"))
    return {"file": discord.File(data, filename=attachment_name(prompt))}
