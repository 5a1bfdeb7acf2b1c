"""The dashboard's settings: where it listens, whether it runs, who may read ``/metrics``."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
WILDCARDS = ("0.0.0.0", "::")
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.:-]{0,252})")
OFF_WORDS = frozenset({"off", "0", "no", "false"})
ON_WORDS = frozenset({"on", "1", "yes", "true", ""})
METRICS_MODES = ("local", "open", "token")
BODY_MAX = 1_048_576  # bytes: the largest request body (a task's details are 100,000 characters)
MAX_CONNECTIONS = 100
IDLE_TIMEOUT_S = 5.0
MCP_CALLS = 8  # /mcp requests one agent may have in progress at once
MCP_WAITS = 2  # ask_human calls of one agent waiting for an answer at once
# name: (default, minimum, maximum, whole)
LIMITS: dict[str, tuple[float, float, float, bool]] = {
    "SWARM_WEB_BODY_MAX": (BODY_MAX, 1024, 100 * 1_048_576, True),
    "SWARM_WEB_MAX_CONNECTIONS": (MAX_CONNECTIONS, 1, 10_000, True),
    "SWARM_WEB_IDLE_TIMEOUT": (IDLE_TIMEOUT_S, 0.1, 600, False),
    "SWARM_MCP_MAX_CALLS": (MCP_CALLS, 1, 1000, True),
    "SWARM_MCP_MAX_WAITS": (MCP_WAITS, 0, 1000, True),
}


@dataclass(frozen=True)
class WebSettings:
    """``SWARM_WEB`` (on/off), ``SWARM_WEB_HOST``, ``SWARM_WEB_PORT`` (0: off) and
    ``SWARM_WEB_METRICS`` (``local``: ``/metrics`` without a token only on localhost;
    ``open``: always without a token; ``token``: always with one). The port's limits:
    ``SWARM_WEB_BODY_MAX`` (bytes of a request body), ``SWARM_WEB_MAX_CONNECTIONS``,
    ``SWARM_WEB_IDLE_TIMEOUT`` (seconds a connection may take to send a whole request) and
    ``SWARM_WEB_HOSTS`` (more host names served, beyond localhost and ``host``). Each agent's
    share of ``/mcp``: ``SWARM_MCP_MAX_CALLS`` requests in progress at once, of which
    ``SWARM_MCP_MAX_WAITS`` ``ask_human`` calls waiting for an answer."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    enabled: bool = True
    metrics: str = "local"
    body_max: int = BODY_MAX
    max_connections: int = MAX_CONNECTIONS
    idle_timeout: float = IDLE_TIMEOUT_S
    hosts: tuple[str, ...] = ()
    mcp_calls: int = MCP_CALLS
    mcp_waits: int = MCP_WAITS
    # SWARM_GITHUB_WEBHOOK_SECRET: POST /api/v1/github/webhook checks its HMAC (None: off)
    github_webhook_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebSettings:
        """Read the ``SWARM_WEB*`` variables; a bad value is a one-line ConfigError."""
        switch = (env.get("SWARM_WEB") or "").strip().lower()
        if switch not in OFF_WORDS | ON_WORDS:
            raise ConfigError(f"SWARM_WEB must be on or off, not {switch!r}")
        host = (env.get("SWARM_WEB_HOST") or "").strip() or DEFAULT_HOST
        metrics = (env.get("SWARM_WEB_METRICS") or "").strip().lower() or "local"
        if metrics not in METRICS_MODES:
            raise ConfigError(
                f"SWARM_WEB_METRICS must be one of {', '.join(METRICS_MODES)}, not {metrics!r}"
            )
        port = _port(env.get("SWARM_WEB_PORT"))
        hosts = tuple(
            h.strip().lower() for h in (env.get("SWARM_WEB_HOSTS") or "").split(",") if h.strip()
        )
        bad = [h for h in hosts if not _HOST_NAME.fullmatch(h)]
        if bad:
            raise ConfigError(
                f"SWARM_WEB_HOSTS must be host names separated by commas, not {bad[0]!r}"
            )
        return cls(
            host=host,
            port=port,
            enabled=switch not in OFF_WORDS and port != 0,
            metrics=metrics,
            body_max=int(_limit(env, "SWARM_WEB_BODY_MAX")),
            max_connections=int(_limit(env, "SWARM_WEB_MAX_CONNECTIONS")),
            idle_timeout=_limit(env, "SWARM_WEB_IDLE_TIMEOUT"),
            mcp_calls=int(_limit(env, "SWARM_MCP_MAX_CALLS")),
            mcp_waits=int(_limit(env, "SWARM_MCP_MAX_WAITS")),
            hosts=hosts,
            github_webhook_secret=(env.get("SWARM_GITHUB_WEBHOOK_SECRET") or "").strip() or None,
        )

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


def _limit(env: Mapping[str, str], name: str) -> float:
    """The number ``env[name]`` within its ``LIMITS``; a one-line ConfigError otherwise."""
    default, low, high, whole = LIMITS[name]
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(int(text)) if whole else float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{name} must be {kind} from {low:g} to {high:g}, not {text[:40]!r}")
    return value


def _port(raw: str | None) -> int:
    text = (raw or "").strip()
    if not text:
        return DEFAULT_PORT
    if not text.isdigit() or int(text) > 65535:
        raise ConfigError(f"SWARM_WEB_PORT must be a port number 0-65535 (0: off), not {text!r}")
    return int(text)
