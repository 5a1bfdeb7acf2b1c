"""``/inbox``: what needs a person ("Needs you", ``core/inbox/needs.py``), oldest first, with
a row of buttons per item: Reply (a form) for a question; Approve / Reject for a gate, a plan
or a held item; the options of a prompt; Hand on, Reassign (a menu of the agents to give it
to), Nudge, Cancel for a stalled or limited agent's task, Reassign or Cancel for a stranded
task; Retry / Dismiss for a failed delivery; Raise budget (a form asking the amount) /
Cancel for a task's or a campaign's spent budget (a daily one has none: the agents file
holds it). Listing is
for users, every button for admins (decisions); the custom id carries the action and the
item's reference, so a button survives restarts, and a second press is told who acted."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.discordbot.access import Access
from bot.discordbot.context import Bot, SlashCommand, actor
from bot.discordbot.prompt_posts import LABEL_LIMIT
from core.errors import NotFound, SwarmError
from core.formats.text import flat, one_line, shorten
from core.inbox.needs import Need
from core.inbox.spend import BUDGET

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

MAX_ITEMS = 5  # a row of buttons each: Discord's 5 rows
MAX_BUTTONS = 5  # per row
LINE_LIMIT = 300  # characters of an item's text in the list
LABELS = {  # action → the button's word, its style
    "reply": ("Reply", discord.ButtonStyle.primary),
    "approve": ("Approve", discord.ButtonStyle.success),
    "reject": ("Reject", discord.ButtonStyle.danger),
    "retry": ("Retry", discord.ButtonStyle.primary),
    "dismiss": ("Dismiss", discord.ButtonStyle.secondary),
    "handon": ("Hand on", discord.ButtonStyle.primary),
    "reassign": ("Reassign", discord.ButtonStyle.primary),
    "nudge": ("Nudge", discord.ButtonStyle.secondary),
    "cancel": ("Cancel", discord.ButtonStyle.danger),
    "raise": ("Raise budget", discord.ButtonStyle.primary),
    "accept": ("Accept as done", discord.ButtonStyle.success),
    "fail": ("Fail", discord.ButtonStyle.danger),
    "allow": ("Allow host", discord.ButtonStyle.success),
    "deny": ("Deny host", discord.ButtonStyle.danger),
}
_ACTIONS = "|".join([*LABELS, "option"])


class NeedButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"swarm:need:(?P<action>{_ACTIONS}):(?P<ref>[A-Z]-\d{{1,18}})(?::(?P<index>\d{{1,2}}))?",
):
    """One action on one item of the queue (``option``: a prompt's option, by its index);
    the custom id carries them."""

    needed = Access.admin

    def __init__(
        self, action: str, ref: str, row: int | None = None, index: int = 0, label: str = ""
    ) -> None:
        word, style = LABELS.get(action, ("", discord.ButtonStyle.primary))
        option = f":{index}" if action == "option" else ""
        super().__init__(
            discord.ui.Button(
                label=shorten(label, LABEL_LIMIT) or f"{word} {ref}",
                style=style,
                custom_id=f"swarm:need:{action}:{ref}{option}",
                row=row,
            )
        )
        self.action = action
        self.ref = ref
        self.index = index

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> NeedButton:
        """Rebuild the button from its custom id."""
        return cls(match["action"], match["ref"], index=int(match["index"] or 0))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Answer the item (Reply opens a form); say what was done, or why not (ephemeral)."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        if not await bot.authorize(interaction, f"button {self.action}", self.needed, self.ref):
            return
        if self.action == "reply":
            await interaction.response.send_modal(ReplyModal(self.ref))
            return
        if self.action == "raise":
            await self._raise_form(interaction, bot)
            return
        if self.action == "reassign":
            await self._agent_menu(interaction, bot)
            return
        service, who = bot.service, actor(interaction)
        try:
            if self.action == "approve":
                answered = await service.inbox.approve(self.ref, who)
            elif self.action == "reject":
                answered = await service.inbox.reject(self.ref, who)
            elif self.action == "option":
                answered = await service.inbox.approve(self.ref, who, await self._key(service))
            else:
                answered = await service.inbox.act(self.ref, self.action, who)
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)
            return
        await interaction.response.send_message(f"✅ {one_line(answered.text)}")

    async def _agent_menu(self, interaction: discord.Interaction, bot: Bot) -> None:
        """Which agent: a menu of the others than the holder, only the presser sees it."""
        try:
            need = await bot.service.inbox.item(self.ref)
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)
            return
        view = discord.ui.View(timeout=900)
        view.add_item(AgentMenu(self.ref, [a for a in bot.service.agents if a != need.agent]))
        await interaction.response.send_message(
            f"Reassign {self.ref} to:", view=view, ephemeral=True
        )

    async def _raise_form(self, interaction: discord.Interaction, bot: Bot) -> None:
        """The form asking the new budget, saying what was spent."""
        try:
            need = await bot.service.inbox.item(self.ref)
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)
            return
        budget = need.extra.get("budget", {})
        await interaction.response.send_modal(
            RaiseModal(self.ref, str(budget.get("name", "")), float(budget.get("cost_usd", 0)))
        )

    async def _key(self, service: SwarmService) -> str:
        """The key of the prompt's option this button chooses."""
        prompt = await service.inbox.prompt(int(self.ref.partition("-")[2]))
        if self.index >= len(prompt.options):
            raise NotFound(f"{self.ref} has no option {self.index + 1}")
        return prompt.options[self.index].key


class AgentMenu(discord.ui.Select[Any]):
    """The agent a Reassign gives the item's task(s) to (Discord's 25 options at most)."""

    def __init__(self, ref: str, agents: list[str]) -> None:
        options = [discord.SelectOption(label=a, value=a) for a in agents[:25]]
        super().__init__(custom_id=f"swarm:reassign:{ref}", placeholder="agent", options=options)
        self.ref = ref

    async def callback(self, interaction: discord.Interaction) -> None:
        """Reassign to the agent picked (admins, as the button); say what was done."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        if not await bot.authorize(interaction, "button reassign", Access.admin, self.ref):
            return
        try:
            answered = await bot.service.inbox.act(
                self.ref, "reassign", actor(interaction), self.values[0]
            )
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)
            return
        await interaction.response.send_message(f"✅ {one_line(answered.text)}")


class ReplyModal(discord.ui.Modal):
    """The answer to a question, typed in a form."""

    answer: discord.ui.TextInput[ReplyModal] = discord.ui.TextInput(
        label="Answer", style=discord.TextStyle.paragraph, max_length=4000
    )

    def __init__(self, ref: str) -> None:
        super().__init__(title=f"Reply to {ref}", timeout=900)
        self.ref = ref

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Answer the question (the answer goes to its agent)."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        try:
            question = await bot.service.inbox.reply(
                self.ref, self.answer.value, actor(interaction)
            )
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)
            return
        await interaction.response.send_message(
            f"✅ {self.ref} answered: queued for {question.agent or 'nobody'}"
        )


class RaiseModal(discord.ui.Modal):
    """A spent budget's new amount, typed in a form (dollars, above what was spent)."""

    dollars: discord.ui.TextInput[RaiseModal] = discord.ui.TextInput(
        label="New budget in dollars", style=discord.TextStyle.short, max_length=20
    )

    def __init__(self, ref: str, name: str, spent: float) -> None:
        super().__init__(title=shorten(f"Raise {name}'s budget ({ref})", 45), timeout=900)
        self.dollars.placeholder = f"more than the ${spent:.2f} spent"
        self.ref = ref

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Raise the budget; a text that is no number is refused in one line."""
        bot: Bot = interaction.client  # type: ignore[assignment]
        typed = self.dollars.value.strip()
        try:
            dollars = float(typed.removeprefix("$").replace(",", ""))
        except ValueError:
            shown = one_line(shorten(typed, 40))
            await interaction.response.send_message(
                f"⚠️ {self.ref}: {shown!r} is not a number of dollars", ephemeral=True
            )
            return
        try:
            answered = await bot.service.inbox.act(
                self.ref, "raise", actor(interaction), dollars=dollars
            )
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)
            return
        await interaction.response.send_message(f"✅ {one_line(answered.text)}")


def need_line(need: Need) -> str:
    """``**A-2** alert · Agent-3: Agent-3 stalled ...`` (one line, the text bounded); a
    budget with no button says where it is raised (the agents file)."""
    text = discord.utils.escape_markdown(shorten(flat(need.text), LINE_LIMIT))
    line = f"**{need.ref}** {need.kind} · {one_line(need.concerns)}: {text}"
    if need.kind == BUDGET and not need.actions:
        line += f" · {discord.utils.escape_markdown(one_line(need.hint))}"
    return line


def inbox_view(found: list[Need]) -> discord.ui.View | None:
    """A row of buttons per item shown (the first ``MAX_ITEMS``); None: nothing to press."""
    view = discord.ui.View(timeout=None)
    for row, need in enumerate(found[:MAX_ITEMS]):
        for item in _buttons(need, row)[:MAX_BUTTONS]:
            view.add_item(item)
    return view if view.children else None


def _buttons(need: Need, row: int) -> list[discord.ui.Item[Any]]:
    if need.kind == "prompt":
        if not need.actions:
            return []
        return [
            NeedButton("option", need.ref, row, index, f"{need.ref}: {one_line(o.label)}")
            for index, o in enumerate(need.options[:MAX_BUTTONS])
        ]
    return [NeedButton(action, need.ref, row) for action in need.actions if action in LABELS]


def inbox_text(found: list[Need]) -> str:
    """The list: the first ``MAX_ITEMS`` items, and how many more wait."""
    if not found:
        return "✅ nothing needs you"
    lines = [f"✋ {len(found)} item(s) need you, oldest first:"]
    lines += [need_line(n) for n in found[:MAX_ITEMS]]
    if len(found) > MAX_ITEMS:
        lines.append(f"… and {len(found) - MAX_ITEMS} more: swarm inbox, or the dashboard")
    return "\n".join(lines)[:2000]


def register(bot: Bot) -> None:
    """Add ``/inbox``."""
    for command in InboxCommands(bot).commands():
        bot.tree.add_command(command)


class InboxCommands:
    """``/inbox``, built by :meth:`commands` from a method bound to this object."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def commands(self) -> list[SlashCommand]:
        """The one command."""
        return [
            app_commands.Command(
                name="inbox",
                description="What needs a person, with its actions",
                callback=self.inbox,
            )
        ]

    async def inbox(self, interaction: discord.Interaction) -> None:
        """The queue, oldest first, with a row of buttons per item shown."""
        found = await self.bot.service.inbox.needs()
        view = inbox_view(found)
        if view is None:
            await interaction.response.send_message(inbox_text(found))
            return
        await interaction.response.send_message(inbox_text(found), view=view)
