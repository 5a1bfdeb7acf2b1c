"""/workflow list|run and /campaign show (the Approve / Reject buttons on its waiting gates are
:mod:`bot.discordbot.gates`')."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice

from bot.discordbot.campaign_posts import CampaignPosts, campaign_message
from bot.discordbot.context import Bot, actor
from bot.discordbot.render import code_block_chunks
from core.errors import InvalidInput, SwarmError
from core.formats.text import one_line, shorten
from core.models import task_ref
from core.workflows import Workflow, WorkflowBook
from core.workflows.expand import as_text
from core.workflows.model import Var

log = logging.getLogger(__name__)
MODAL_FIELDS = 5  # Discord's limit of text inputs in a modal
MORE_LABEL = "other variables (NAME=VALUE lines)"


def parse_var_text(text: str) -> dict[str, str]:
    """``"version=1.4; modules=api,cli"`` as a dict (``;`` or a new line between pairs)."""
    values: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in re.split(r"[;\n]", text))):
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"variables: {pair!r} is not NAME=VALUE")
        values[name.strip()] = value.strip()
    return values


class VariablesModal(discord.ui.Modal):
    """One text input per variable, then the run. A workflow with more variables than a
    modal holds gets four inputs and a fifth, multi-line one with ``NAME=VALUE`` lines for
    the others (defaults filled in), parsed like the ``variables`` option."""

    def __init__(self, flows: WorkflowBook, flow: Workflow, dry_run: bool) -> None:
        super().__init__(title=shorten(f"Run {flow.name}", 45), timeout=600)
        self.flows = flows
        self.flow = flow
        self.dry_run = dry_run
        self.fields: dict[str, discord.ui.TextInput[VariablesModal]] = {}
        variables = list(flow.vars.values())
        own = variables if len(variables) <= MODAL_FIELDS else variables[: MODAL_FIELDS - 1]
        for var in own:
            field: discord.ui.TextInput[VariablesModal] = discord.ui.TextInput(
                label=shorten(var.name, 45),
                required=var.required,
                max_length=4000,
                default=_default_text(var),
                placeholder=shorten(_hint(var), 100),
            )
            self.add_item(field)
            self.fields[var.name] = field
        self.others = variables[len(own) :]
        self.more: discord.ui.TextInput[VariablesModal] | None = None
        if self.others:
            self.more = discord.ui.TextInput(
                label=MORE_LABEL,
                style=discord.TextStyle.paragraph,
                required=False,
                max_length=4000,
                default=_more_text(self.others),
                placeholder=shorten(f"one NAME=VALUE per line: {_names(self.others)}", 100),
            )
            self.add_item(self.more)

    def given(self) -> dict[str, str]:
        """The values typed (empty ones left out); InvalidInput for a line of the last
        input that is not ``NAME=VALUE`` or names a variable not listed there."""
        given = {name: f.value for name, f in self.fields.items() if f.value.strip()}
        if self.more is None:
            return given
        allowed = {var.name for var in self.others}
        for name, value in parse_var_text(self.more.value).items():
            if name not in allowed:
                where = "has its own field" if name in self.fields else "is not a variable"
                raise InvalidInput(
                    f"{MORE_LABEL}: {name!r} {where} (listed there: {_names(self.others)})"
                )
            if value:
                given[name] = value
        return given

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Run (or preview) the workflow with the values typed; errors answer ephemerally."""
        try:
            await _run_or_preview(interaction, self.flows, self.flow, self.given(), self.dry_run)
        except SwarmError as exc:
            await interaction.response.send_message(f"⚠️ {one_line(str(exc))}", ephemeral=True)


def _more_text(variables: list[Var]) -> str:
    lines = [
        f"{var.name}={as_text(var.default) if var.default is not None else ''}" for var in variables
    ]
    return shorten("\n".join(lines), 4000)


def _names(variables: list[Var]) -> str:
    return ", ".join(var.name + ("*" if var.required else "") for var in variables)


def _default_text(var: Var) -> str | None:
    return None if var.default is None else shorten(as_text(var.default), 4000)


def _hint(var: Var) -> str:
    kind = "comma-separated list" if var.type == "list" else var.type
    return f"{kind}: {var.description}" if var.description else kind


async def _run_or_preview(
    interaction: discord.Interaction,
    flows: WorkflowBook,
    flow: Workflow,
    given: dict[str, str],
    dry_run: bool,
) -> None:
    plan = await flows.plan(flow, given)
    notes = "".join(f"{note}\n" for note in plan.notes)  # e.g. the captain stands in
    if dry_run:
        lines = [
            f"{p.spec.ref} [{p.kind}] {p.spec.title}"
            + (f" (after {', '.join(map(str, p.spec.after))})" if p.spec.after else "")
            for p in plan.tasks
        ]
        await _send(
            interaction,
            f"{notes}{flow.name}: {len(plan.tasks)} tasks would be created\n" + "\n".join(lines),
        )
        return
    result = await flows.run(plan, actor(interaction))
    await _send(
        interaction,
        f"{notes}{result.campaign} started: {len(result.task_ids)} tasks "
        f"({task_ref(result.task_ids[0])}..{task_ref(result.task_ids[-1])})",
    )


def register(bot: Bot) -> None:
    """Add /workflow list|run and /campaign show."""
    bot.tree.add_command(WorkflowGroup(bot))
    bot.tree.add_command(CampaignGroup(bot))


class WorkflowGroup(app_commands.Group, name="workflow", description="Reusable task graphs"):
    """``/workflow list|run``, holding the workflow service of the bot's swarm."""

    def __init__(self, bot: Bot) -> None:
        super().__init__()
        self.flows = bot.service.workflows

    @app_commands.command(name="list", description="The workflows that can be run")
    async def list_(self, interaction: discord.Interaction) -> None:
        lines = [
            f"{name}: " + (f"INVALID: {flow}" if isinstance(flow, Exception) else flow.description)
            for name, flow in self.flows.catalog()
        ]
        await _send(interaction, "\n".join(lines) or "no workflows")

    @app_commands.command(
        name="run", description="Create a workflow's tasks, grouped in a campaign"
    )
    @app_commands.describe(
        name="the workflow",
        variables="NAME=VALUE pairs separated by ; (without: a form asks)",
        dry_run="only show the task graph; create nothing",
    )
    async def run(
        self,
        interaction: discord.Interaction,
        name: str,
        variables: str = "",
        dry_run: bool = False,
    ) -> None:
        flow = self.flows.find(name)
        if not variables.strip() and flow.vars:
            await interaction.response.send_modal(VariablesModal(self.flows, flow, dry_run))
            return
        await _run_or_preview(interaction, self.flows, flow, parse_var_text(variables), dry_run)

    @run.autocomplete("name")
    async def names(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        """The workflows whose name holds what was typed."""
        return [
            Choice(name=n, value=n)
            for n, _ in self.flows.available()
            if current.lower() in n.lower()
        ][:25]


class CampaignGroup(
    app_commands.Group, name="campaign", description="Groups of tasks followed to the end"
):
    """``/campaign show``: a campaign's message, which the notifier keeps up to date."""

    def __init__(self, bot: Bot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(
        name="show", description="Progress of a campaign, kept up to date; gates to approve"
    )
    async def show(self, interaction: discord.Interaction, id: str) -> None:
        campaign = await self.bot.service.workflows.campaign(id)
        embed, view, shown = campaign_message(campaign, time.time())
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        await interaction.response.send_message(embed=embed, **kwargs)
        if campaign.state() == "open":  # the notifier edits it from now on
            message = await interaction.original_response()
            await CampaignPosts(self.bot).follow(campaign, message, shown)


async def _send(
    interaction: discord.Interaction, text: str, view: discord.ui.View | None = None
) -> None:
    """The text in code blocks (split to fit); the view on the last piece."""
    pieces = code_block_chunks(shorten(text, 20_000))
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        kwargs: dict[str, Any] = {"view": view} if last and view is not None else {}
        if index == 0:
            await interaction.response.send_message(piece, **kwargs)
        else:
            await interaction.followup.send(piece, **kwargs)
