"""GitHub settings from an environment mapping; the token and the webhook secret are never
printed (``repr=False``; ``bot.config_file.SECRETS`` hides them in ``swarm config show``)."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.errors import ConfigError
from core.settings.envvars import Setting, count, defaults, read_fields, seconds, text

GITHUB_API = "https://api.github.com"
WEBHOOK_POLL_S = 900.0  # with a webhook: a safety poll every 15 minutes
REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
LABEL_NAME = re.compile(r"^[^\x00-\x1f,]{1,50}$")
HOW_TO_CONNECT = (
    "set SWARM_GITHUB_REPO=owner/name and GITHUB_TOKEN (a fine-grained token with "
    "Issues, Pull requests and Contents: read and write) in the environment, .env or "
    "[github] of the user config file"
)


def _repo(name: str, raw: str) -> str | None:
    repo = raw.strip().removesuffix(".git")
    if not repo:
        return None
    if not REPO_NAME.match(repo) or repo.split("/")[1] in {".", ".."}:
        raise ConfigError(f"{name} must be owner/name, got {repo[:80]!r}")
    return repo


def _label(name: str, raw: str) -> str:
    label = raw.strip()
    if not LABEL_NAME.match(label):
        raise ConfigError(
            f"{name} must be a label name (1-50 characters, no comma), got {label[:80]!r}"
        )
    return label


def _url(name: str, raw: str) -> str:
    url = raw.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/@]+(/\S*)?$", url):
        raise ConfigError(f"{name} must be an http(s) URL without credentials, got {url[:80]!r}")
    return url


def _flag(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in {"0", "false", "no", "off"}:
        return False
    if word in {"1", "true", "yes", "on"}:
        return True
    raise ConfigError(f"{name} must be on or off, got {word[:20]!r}")


WEBHOOK_SECRET = Setting(
    "SWARM_GITHUB_WEBHOOK_SECRET",
    "webhook_secret",
    None,
    text,
    "GitHub's webhook deliveries are checked with this secret",
    secret=True,
    unset="(not set: no webhook)",
)
GITHUB: tuple[Setting, ...] = (
    Setting(
        "SWARM_GITHUB_REPO",
        "repo",
        None,
        _repo,
        "the repository (owner/name) whose labelled issues become tasks",
        unset="(none: GitHub off)",
    ),
    Setting("GITHUB_TOKEN", "token", None, text, "GitHub token", secret=True, unset="(not set)"),
    Setting("SWARM_GITHUB_LABEL", "label", "swarm", _label, "the label that makes an issue a task"),
    Setting("SWARM_GITHUB_API_URL", "api_url", GITHUB_API, _url, "GitHub's REST API"),
    Setting(
        "SWARM_GITHUB_GIT_URL",
        "git_url",
        None,
        _url,
        "where the repository's git lives",
        unset="{0.git_root}",
    ),
    Setting("SWARM_GITHUB_POLL", "poll_s", 60.0, seconds(1, 3600), "seconds between two polls"),
    WEBHOOK_SECRET,
    Setting(
        "SWARM_GITHUB_BASE",
        "base",
        None,
        text,
        "the pull requests' base branch",
        unset="(the repository's default branch)",
    ),
    Setting("SWARM_GITHUB_DRAFT", "draft", False, _flag, "open pull requests as drafts"),
    Setting(
        "SWARM_CI_RETRIES",
        "ci_retries",
        2,
        count(0, 20),
        "failed CI sends the task back this many times",
    ),
)
_DEFAULT = defaults(GITHUB)


@dataclass(frozen=True)
class GitHubSettings:
    """Which repository, with which token, which label makes an issue a task, how often."""

    repo: str | None = _DEFAULT["repo"]  # owner/name
    token: str | None = field(default=_DEFAULT["token"], repr=False)
    label: str = _DEFAULT["label"]
    api_url: str = _DEFAULT["api_url"]
    git_url: str | None = _DEFAULT["git_url"]  # default: from api_url
    poll_s: float = _DEFAULT["poll_s"]  # issues, checks and reviews are polled (ETags)
    tick_s: float = 2.0  # the local database is looked at this often (done tasks → PR)
    ci_retries: int = _DEFAULT["ci_retries"]  # then it asks a person
    webhook_secret: str | None = field(default=_DEFAULT["webhook_secret"], repr=False)
    base: str | None = _DEFAULT["base"]
    draft: bool = _DEFAULT["draft"]  # drafts until CI is green

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
        """Read ``GITHUB``: SWARM_GITHUB_*, GITHUB_TOKEN and SWARM_CI_RETRIES."""
        return cls(**read_fields(GITHUB, env))


def require_library() -> None:
    """ConfigError naming the extra to install when the GitHub client library is missing."""

    missing = [m for m in ("gidgethub", "httpx") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"GitHub needs {' and '.join(missing)}: pip install 'swarm[github]' (or the "
            "github extra of your install)"
        )
