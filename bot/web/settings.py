"""The dashboard's settings: where it listens, whether it runs, who may read ``/metrics``."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
OFF_WORDS = frozenset({"off", "0", "no", "false"})
ON_WORDS = frozenset({"on", "1", "yes", "true", ""})
METRICS_MODES = ("local", "open", "token")


@dataclass(frozen=True)
class WebSettings:
    """``SWARM_WEB`` (on/off), ``SWARM_WEB_HOST``, ``SWARM_WEB_PORT`` (0: off) and
    ``SWARM_WEB_METRICS`` (``local``: ``/metrics`` without a token only on localhost;
    ``open``: always without a token; ``token``: always with one)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    enabled: bool = True
    metrics: str = "local"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebSettings:
        """Read the ``SWARM_WEB*`` variables; a bad value is a one-line ConfigError."""
        switch = (env.get("SWARM_WEB") or "").strip().lower()
        if switch not in OFF_WORDS | ON_WORDS:
            raise ConfigError(f"SWARM_WEB must be on or off, not {switch!r}")
        host = (env.get("SWARM_WEB_HOST") or "").strip() or DEFAULT_HOST
        metrics = (env.get("SWARM_WEB_METRICS") or "").strip().lower() or "local"
        if metrics not in METRICS_MODES:
            raise ConfigError(f"SWARM_WEB_METRICS must be one of {', '.join(METRICS_MODES)}, "
                              f"not {metrics!r}")
        port = _port(env.get("SWARM_WEB_PORT"))
        return cls(host=host, port=port, enabled=switch not in OFF_WORDS and port != 0,
                   metrics=metrics)

    @property
    def local(self) -> bool:
        """True when bound to the loopback interface only."""
        return is_loopback(self.host)

    @property
    def metrics_open(self) -> bool:
        """True when ``/metrics`` answers without a token."""
        return self.metrics == "open" or (self.metrics == "local" and self.local)

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


def _port(raw: str | None) -> int:
    text = (raw or "").strip()
    if not text:
        return DEFAULT_PORT
    if not text.isdigit() or int(text) > 65535:
        raise ConfigError(f"SWARM_WEB_PORT must be a port number 0-65535 (0: off), not {text!r}")
    return int(text)
