"""GitHub settings from an environment mapping; the token and the webhook secret are never
printed (``repr=False``; ``bot.config_file.SECRETS`` hides them in ``swarm config show``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.errors import ConfigError
from core.settings import env_number

GITHUB_API = "https://api.github.com"
WEBHOOK_POLL_S = 900.0  # with a webhook: a safety poll every 15 minutes
REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
LABEL_NAME = re.compile(r"^[^\x00-\x1f,]{1,50}$")
HOW_TO_CONNECT = (
    "set SWARM_GITHUB_REPO=owner/name and GITHUB_TOKEN (a fine-grained token with "
    "Issues, Pull requests and Contents: read and write) in the environment, .env or "
    "[github] of the user config file"
)


@dataclass(frozen=True)
class GitHubSettings:
    """Which repository, with which token, which label makes an issue a task, how often."""

    repo: str | None = None  # owner/name
    token: str | None = field(default=None, repr=False)
    label: str = "swarm"
    api_url: str = GITHUB_API
    git_url: str | None = None  # where the repository's git lives (default: from api_url)
    poll_s: float = 60.0  # issues, checks and reviews are polled this often (ETags)
    tick_s: float = 2.0  # the local database is looked at this often (done tasks → PR)
    ci_retries: int = 2  # failed CI sends the task back this many times, then asks a person
    webhook_secret: str | None = field(default=None, repr=False)
    base: str | None = None  # the PRs' base branch (default: the repository's default)
    draft: bool = False  # open PRs as drafts until CI is green

    @property
    def enabled(self) -> bool:
        """True when a repository is configured (the token is checked when used)."""
        return self.repo is not None

    @property
    def owner(self) -> str:
        """The repository's owner (``require`` first)."""
        return (self.repo or "/").split("/", 1)[0]

    @property
    def name(self) -> str:
        """The repository's name (``require`` first)."""
        return (self.repo or "/").split("/", 1)[1]

    @property
    def clone_url(self) -> str:
        """The repository's HTTPS git URL (no credentials in it, ever)."""
        return f"{self.git_root}/{self.repo}.git"

    @property
    def git_root(self) -> str:
        """``SWARM_GITHUB_GIT_URL``, else github.com for the public API, else the API's root."""
        if self.git_url:
            return self.git_url.rstrip("/")
        if self.api_url.rstrip("/") == GITHUB_API:
            return "https://github.com"
        return self.api_url.rstrip("/")

    @property
    def poll_every(self) -> float:
        """Seconds between polls: ``poll_s``; with a webhook (its secret set) GitHub says when
        to look, and a poll only every ``WEBHOOK_POLL_S`` catches a lost delivery."""
        return max(self.poll_s, WEBHOOK_POLL_S) if self.webhook_secret else self.poll_s

    @property
    def graphql_url(self) -> str:
        """GitHub's GraphQL endpoint: ``/graphql`` beside the public API, ``/api/graphql`` on
        GitHub Enterprise (whose REST API is ``/api/v3``)."""
        root = self.api_url.rstrip("/")
        if root.endswith("/api/v3"):
            return root.removesuffix("/v3") + "/graphql"
        return f"{root}/graphql"

    def require(self) -> None:
        """ConfigError saying what to set when swarm cannot talk to the repository."""
        pairs = (("SWARM_GITHUB_REPO", self.repo), ("GITHUB_TOKEN", self.token))
        missing = [name for name, value in pairs if not value]
        if missing:
            raise ConfigError(f"{', '.join(missing)} not set: {HOW_TO_CONNECT}")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitHubSettings:
        """Read SWARM_GITHUB_*, GITHUB_TOKEN and SWARM_CI_RETRIES."""
        return cls(
            repo=_repo(env),
            token=(env.get("GITHUB_TOKEN") or "").strip() or None,
            label=_label(env),
            api_url=_url(env, "SWARM_GITHUB_API_URL") or GITHUB_API,
            git_url=_url(env, "SWARM_GITHUB_GIT_URL"),
            poll_s=env_number(
                env, "SWARM_GITHUB_POLL", 60.0, minimum=1, what="a number of seconds"
            ),
            ci_retries=int(env_number(env, "SWARM_CI_RETRIES", 2, minimum=0, whole=True)),
            webhook_secret=(env.get("SWARM_GITHUB_WEBHOOK_SECRET") or "").strip() or None,
            base=(env.get("SWARM_GITHUB_BASE") or "").strip() or None,
            draft=_flag(env, "SWARM_GITHUB_DRAFT"),
        )


def require_library() -> None:
    """ConfigError naming the extra to install when the GitHub client library is missing."""
    import importlib.util

    missing = [m for m in ("gidgethub", "httpx") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"GitHub needs {' and '.join(missing)}: pip install 'swarm[github]' (or the "
            "github extra of your install)"
        )


def _repo(env: Mapping[str, str]) -> str | None:
    raw = (env.get("SWARM_GITHUB_REPO") or "").strip().removesuffix(".git")
    if not raw:
        return None
    if not REPO_NAME.match(raw) or raw.split("/")[1] in {".", ".."}:
        raise ConfigError(f"SWARM_GITHUB_REPO must be owner/name, got {raw[:80]!r}")
    return raw


def _label(env: Mapping[str, str]) -> str:
    raw = (env.get("SWARM_GITHUB_LABEL") or "").strip() or "swarm"
    if not LABEL_NAME.match(raw):
        raise ConfigError(
            f"SWARM_GITHUB_LABEL must be a label name (1-50 characters, no comma), got {raw[:80]!r}"
        )
    return raw


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip().rstrip("/")
    if not raw:
        return None
    if not re.match(r"^https?://[^\s/@]+(/\S*)?$", raw):
        raise ConfigError(f"{name} must be an http(s) URL without credentials, got {raw[:80]!r}")
    return raw


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in {"", "0", "false", "no", "off"}:
        return False
    if raw in {"1", "true", "yes", "on"}:
        return True
    raise ConfigError(f"{name} must be on or off, got {raw[:20]!r}")
