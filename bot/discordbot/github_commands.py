"""/github status and /github import: the GitHub loop from Discord (docs/github.md)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discordbot.access import ADMIN_ONLY
from bot.discordbot.context import Bot, actor
from core.github.settings import GitHubSettings

NOT_SET = "GitHub is not configured: set SWARM_GITHUB_REPO and GITHUB_TOKEN (docs/github.md)"


def register(bot: Bot, settings: GitHubSettings) -> None:
    """Add the ``/github`` group."""
    bot.tree.add_command(GitHubGroup(bot, settings))


class GitHubGroup(app_commands.Group, name="github", description="Labelled issues → tasks → PRs"):
    """``/github status|import``, holding the bot and the GitHub settings."""

    def __init__(self, bot: Bot, settings: GitHubSettings) -> None:
        super().__init__()
        self.bot = bot
        self.settings = settings

    @app_commands.command(name="status", description="The token, its access, the rate limit left")
    async def status(self, interaction: discord.Interaction) -> None:
        from core.github.status import check

        await interaction.response.defer(thinking=True)
        verdict = await check(self.settings)
        lines = [f"GitHub: {verdict.state}: {verdict.detail}"]
        if self.settings.repo:
            for link in await self.bot.service.github.links(self.settings.repo, 10):
                pr = f", PR #{link.pr}" if link.pr else ""
                lines.append(f"#{link.issue} → T-{link.task_id}: {link.shown or 'queued'}{pr}")
        await interaction.followup.send("\n".join(lines)[:1900])

    @app_commands.command(
        name="import", description="Look at GitHub now (issues, checks, reviews)", extras=ADMIN_ONLY
    )
    async def import_(self, interaction: discord.Interaction) -> None:

        if not self.settings.enabled:
            await interaction.response.send_message(NOT_SET, ephemeral=True)
            return
        who = actor(interaction)
        await self.bot.service.github.look_now(who, "discord", str(interaction.id))
        await interaction.response.send_message(
            f"The GitHub loop looks at {self.settings.repo} now (within a few seconds): new "
            "labelled issues become tasks, CI and reviews of open PRs are read."
        )
