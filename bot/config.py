"""The configuration, read once: the environment, ``.env`` and the user config file over the
defaults.

``Config.load()`` takes one snapshot of ``os.environ`` over the ``.env`` file of the current
folder over the user config file (``bot/config_file.py``), remembers where each value came
from, and nothing else reads the environment after it. Each section
is parsed from that snapshot when first used, so ``swarm task done`` pays only for the core
section and is not stopped by a bad Discord or watcher setting it never uses;
``Config.check()`` parses them all (``swarm run`` calls it before it starts anything). A
bad value is a one-line ConfigError naming the variable. Tests and the demo pass their own
mapping, or whole sections, instead of patching the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from core.settings import Settings

if TYPE_CHECKING:
    from automation.desktop.gui_options import GuiOptions
    from bot.discordbot.settings import DiscordSettings
    from bot.slack.settings import SlackSettings
    from bot.telegram.settings import TelegramSettings
    from bot.web.settings import WebSettings
    from core.ai import AISettings
    from core.github.settings import GitHubSettings
    from core.watch.settings import WatchSettings

T = TypeVar("T")
SECTIONS = ("core", "discord", "ai", "watch", "gui", "web", "github", "telegram", "slack")


class Config:
    """Settings of every part, by section: core, discord, ai, watch, gui, web, github,
    telegram, slack."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        agents_file: str | Path | None = None,
        sources: Mapping[str, str] | None = None,
        user_tables: Mapping[str, Mapping[str, Any]] | None = None,
        **sections: Any,
    ) -> None:
        unknown = set(sections) - set(SECTIONS)
        if unknown:
            raise TypeError(f"unknown config section(s): {', '.join(sorted(unknown))}")
        self.env: Mapping[str, str] = dict(env)
        self.agents_file = agents_file
        self.sources: Mapping[str, str] = dict(sources or {})  # name → env, .env, user config
        # the user config file's tables by name (``[desktop]``), as written there
        self.user_tables: Mapping[str, Mapping[str, Any]] = dict(user_tables or {})
        self._sections: dict[str, Any] = dict(sections)

    @classmethod
    def load(cls, agents_file: str | Path | None = None, user_file: Path | None = None) -> Config:
        """The process's configuration: the environment over ``.env`` over the user config
        file (``user_file``, default: ``user_config_path()``), read here, once."""
        from bot.config_file import layered_environment, read_user_tables, user_config_path

        user_file = user_file or user_config_path()
        env, sources = layered_environment(Path(".env"), user_file)
        tables = read_user_tables(user_file)
        return cls(env, agents_file=agents_file, sources=sources, user_tables=tables)

    def replace(self, **sections: Any) -> Config:
        """The same configuration with some sections given (tests, the demo, benchmarks)."""
        return Config(
            self.env,
            agents_file=self.agents_file,
            sources=self.sources,
            user_tables=self.user_tables,
            **{**self._sections, **sections},
        )

    def check(self) -> Config:
        """Parse every section now, and the price file, so a bad value stops a start-up
        before anything runs."""
        from core.costs import prices

        for name in SECTIONS:
            getattr(self, name)
        prices.check(self.core.prices_file)
        return self

    @property
    def core(self) -> Settings:
        """State folder, agents file, leases, retries, limits."""
        return self._section(
            "core",
            lambda: replace(
                Settings.from_env(self.env, self.agents_file), swarm_program=swarm_program()
            ),
        )

    @property
    def discord(self) -> DiscordSettings:
        """Token, guild, channels, who may command the bot."""
        from bot.discordbot.settings import DISCORD, DiscordSettings
        from core.settings.envvars import read_fields

        return self._section("discord", lambda: DiscordSettings(**read_fields(DISCORD, self.env)))

    @property
    def telegram(self) -> TelegramSettings:
        """Token, chat, who may decide, the Bot API server (``SWARM_NOTIFY``: Discord's)."""
        from bot.telegram.settings import TELEGRAM, TelegramSettings, notify_level
        from core.settings.envvars import read_fields

        return self._section(
            "telegram",
            lambda: TelegramSettings(
                **read_fields(TELEGRAM, self.env), notify=notify_level(self.env)
            ),
        )

    @property
    def slack(self) -> SlackSettings:
        """Slack's tokens, channel, admins and API (``SWARM_NOTIFY`` as Discord's)."""
        from bot.discordbot.settings import DISCORD
        from bot.slack.settings import SLACK, SlackSettings
        from core.errors import ConfigError
        from core.settings.envvars import read_fields

        def parse() -> SlackSettings:
            (setting,) = (s for s in DISCORD if s.name == "SWARM_NOTIFY")
            try:
                notify = setting.read(self.env)
            except ConfigError:  # the Discord section says it, and stops swarm run
                notify = setting.default
            return SlackSettings(**read_fields(SLACK, self.env), notify=notify)

        return self._section("slack", parse)

    @property
    def ai(self) -> AISettings:
        """Model endpoint, models, prices, budget."""
        from core.ai import AISettings

        return self._section("ai", lambda: AISettings.from_env(self.env))

    @property
    def watch(self) -> WatchSettings:
        """Watch interval, stall and nudge rules, the daily summary."""
        from core.watch.settings import WatchSettings

        return self._section("watch", lambda: WatchSettings.from_env(self.env))

    @property
    def gui(self) -> GuiOptions:
        """The desktop driver's tunables."""
        from automation.desktop.gui_options import GuiOptions

        return self._section("gui", lambda: GuiOptions.from_env(self.env))

    @property
    def web(self) -> WebSettings:
        """The dashboard's address, switch and ``/metrics`` access."""
        from bot.web.settings import WebSettings

        return self._section("web", lambda: WebSettings.from_env(self.env))

    @property
    def github(self) -> GitHubSettings:
        """The repository, its token, the label, the poll interval, the CI retries."""
        from core.github.settings import GitHubSettings

        return self._section("github", lambda: GitHubSettings.from_env(self.env))

    @property
    def actor(self) -> str:
        """Who is acting when nobody says (``SWARM_AGENT``, else ``cli``)."""
        from core.settings import AGENT

        return AGENT.read(self.env) or "cli"

    def _section(self, name: str, parse: Callable[[], T]) -> T:
        if name not in self._sections:
            self._sections[name] = parse()
        return self._sections[name]


def swarm_program() -> str:
    """How an agent's shell runs this installation's swarm, by absolute path: the ``swarm``
    script beside this Python (a virtualenv's, pipx's), else ``python -m bot.cli``; a shell
    that never activated the virtualenv (Codex's, a login shell) finds it all the same."""
    import shlex
    import sys

    script = Path(sys.executable).absolute().parent / "swarm"
    if script.is_file():
        return shlex.quote(str(script))
    return shlex.join([str(Path(sys.executable).absolute()), "-I", "-m", "bot.cli"])
