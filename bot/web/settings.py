"""The dashboard's settings: where it listens, whether it runs, who may read ``/metrics``."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from core.errors import ConfigError
from core.github.settings import WEBHOOK_SECRET
from core.settings.envvars import Setting, defaults, read_fields, text

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
WILDCARDS = ("0.0.0.0", "::")
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.:-]{0,252})")
OFF_WORDS = frozenset({"off", "0", "no", "false"})
ON_WORDS = frozenset({"on", "1", "yes", "true", ""})
METRICS_MODES = ("local", "open", "token")


def _limit(low: float, high: float, whole: bool) -> Callable[[str, str], float]:
    """A number within ``[low, high]`` (``whole``: an int); a one-line ConfigError otherwise."""

    def parse(name: str, raw: str) -> float:
        value_text = raw.strip()
        try:
            value = float(int(value_text)) if whole else float(value_text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high:
            kind = "a whole number" if whole else "a number"
            raise ConfigError(
                f"{name} must be {kind} from {low:g} to {high:g}, not {value_text[:40]!r}"
            )
        return int(value) if whole else value

    return parse


def _switch(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word not in OFF_WORDS | ON_WORDS:
        raise ConfigError(f"{name} must be on or off, not {word!r}")
    return word not in OFF_WORDS


def _metrics(name: str, raw: str) -> str:
    mode = raw.strip().lower()
    if mode not in METRICS_MODES:
        raise ConfigError(f"{name} must be one of {', '.join(METRICS_MODES)}, not {mode!r}")
    return mode


def _port(name: str, raw: str) -> int:
    port = raw.strip()
    if not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{name} must be a port number 0-65535 (0: off), not {port!r}")
    return int(port)


def _hosts(name: str, raw: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    bad = [h for h in hosts if not _HOST_NAME.fullmatch(h)]
    if bad:
        raise ConfigError(f"{name} must be host names separated by commas, not {bad[0]!r}")
    return hosts


WEB: tuple[Setting, ...] = (
    Setting("SWARM_WEB", "enabled", True, _switch, "serve the dashboard with swarm run (on/off)"),
    Setting("SWARM_WEB_HOST", "host", DEFAULT_HOST, text, "the address the dashboard listens on"),
    Setting("SWARM_WEB_PORT", "port", DEFAULT_PORT, _port, "the dashboard's port (0: off)"),
    Setting("SWARM_WEB_METRICS", "metrics", "token", _metrics, "who may read /metrics"),
    Setting(
        "SWARM_WEB_HOSTS",
        "hosts",
        (),
        _hosts,
        "more host names served, beyond localhost and the host",
        unset="(none: localhost and the host)",
    ),
    Setting(
        "SWARM_WEB_BODY_MAX",
        "body_max",
        1_048_576,  # a task's details are 100,000 characters
        _limit(1024, 100 * 1_048_576, True),
        "bytes of the largest request body",
    ),
    Setting(
        "SWARM_WEB_MAX_CONNECTIONS",
        "max_connections",
        100,
        _limit(1, 10_000, True),
        "connections served at once",
    ),
    Setting(
        "SWARM_WEB_IDLE_TIMEOUT",
        "idle_timeout",
        5.0,
        _limit(0.1, 600, False),
        "seconds a connection may stay silent: before its request, between requests",
    ),
    Setting(
        "SWARM_WEB_HEADER_TIMEOUT",
        "header_timeout",
        2.0,
        _limit(0.1, 60, False),
        "seconds a request's line and headers may take from its first byte",
    ),
    Setting(
        "SWARM_MCP_MAX_CALLS",
        "mcp_calls",
        8,
        _limit(1, 1000, True),
        "/mcp requests one agent may have in progress at once",
    ),
    Setting(
        "SWARM_MCP_MAX_WAITS",
        "mcp_waits",
        2,
        _limit(0, 1000, True),
        "ask_human calls of one agent waiting for an answer at once",
    ),
)
_DEFAULT = defaults(WEB)


@dataclass(frozen=True)
class WebSettings:
    """``SWARM_WEB`` (on/off), ``SWARM_WEB_HOST``, ``SWARM_WEB_PORT`` (0: off) and
    ``SWARM_WEB_METRICS`` (``local``: ``/metrics`` without a token only on localhost;
    ``open``: always without a token; ``token``: always with one). The port's limits:
    ``SWARM_WEB_BODY_MAX`` (bytes of a request body), ``SWARM_WEB_MAX_CONNECTIONS``,
    ``SWARM_WEB_IDLE_TIMEOUT`` (seconds a connection may stay silent, and a body may take),
    ``SWARM_WEB_HEADER_TIMEOUT`` (seconds a request's line and headers may take) and
    ``SWARM_WEB_HOSTS`` (more host names served, beyond localhost and ``host``). Each agent's
    share of ``/mcp``: ``SWARM_MCP_MAX_CALLS`` requests in progress at once, of which
    ``SWARM_MCP_MAX_WAITS`` ``ask_human`` calls waiting for an answer."""

    host: str = _DEFAULT["host"]
    port: int = _DEFAULT["port"]
    enabled: bool = _DEFAULT["enabled"]  # SWARM_WEB on, and a port (0: off)
    metrics: str = _DEFAULT["metrics"]
    body_max: int = _DEFAULT["body_max"]
    max_connections: int = _DEFAULT["max_connections"]
    idle_timeout: float = _DEFAULT["idle_timeout"]
    header_timeout: float = _DEFAULT["header_timeout"]
    hosts: tuple[str, ...] = _DEFAULT["hosts"]
    mcp_calls: int = _DEFAULT["mcp_calls"]
    mcp_waits: int = _DEFAULT["mcp_waits"]
    # SWARM_GITHUB_WEBHOOK_SECRET: POST /api/v1/github/webhook checks its HMAC (None: off)
    github_webhook_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebSettings:
        """Read ``WEB`` (the ``SWARM_WEB*`` variables) and the GitHub webhook's secret; a bad
        value is a one-line ConfigError."""
        values = read_fields(WEB, env)
        values["enabled"] = values["enabled"] and values["port"] != 0
        return cls(**values, github_webhook_secret=WEBHOOK_SECRET.read(env))

    @property
    def local(self) -> bool:
        """True when bound to the loopback interface only."""
        return is_loopback(self.host)

    @property
    def metrics_open(self) -> bool:
        """True when ``/metrics`` answers without a token."""
        return self.metrics == "open" or (self.metrics == "local" and self.local)

    def serves_host(self, host: str) -> bool:
        """True when a request whose ``Host`` names ``host`` (without the port) is served:
        localhost, the loopback addresses, ``SWARM_WEB_HOST``, ``SWARM_WEB_HOSTS``, and any
        IP address when bound to all interfaces. A name an attacker controls (DNS
        rebinding) is none of these."""
        name = host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
        if name in ("localhost", self.host.lower(), *self.hosts) or is_loopback(name):
            return True
        if self.host in WILDCARDS:
            try:
                ipaddress.ip_address(name)
            except ValueError:
                return False
            return True
        return False

    @property
    def url(self) -> str:
        """The dashboard's address."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def is_loopback(host: str) -> bool:
    """``localhost``, ``127.x`` and ``::1``; anything else (``0.0.0.0``, a name) is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
