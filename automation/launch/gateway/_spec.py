"""The spec of a gateway process: for each agent, its model route (socket, upstream,
vendor, the name of the environment variable that holds the person's key) and its egress
route (socket, allow-list); and the folder its records go to. A JSON file swarm writes; the
keys are never in it, only the names of the variables that hold them.

```json
{"records": "/home/me/.swarm/gateway",
 "agents": [{"agent": "alice",
             "model": {"socket": "/run/s/alice.model", "upstream": "https://api.anthropic.com",
                       "vendor": "anthropic", "key_env": "ANTHROPIC_API_KEY"},
             "egress": {"socket": "/run/s/alice.egress", "allow": ["github.com:443"]}}]}
```
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from automation.launch.gateway._allow import AllowList, AllowListError
from automation.launch.gateway._model import ModelRoute, Vendor
from automation.launch.gateway._proxy import EgressRoute

log = logging.getLogger(__name__)
MAX_SPEC_BYTES = 1024 * 1024
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")


class SpecError(ValueError):
    """A spec that is not as ``_spec`` says, in one line naming where."""


@dataclass(frozen=True)
class ModelEntry:
    """An agent's model route as the spec gives it (the key by its variable's name)."""

    socket: Path
    upstream: str
    vendor: Vendor
    key_env: str | None


@dataclass(frozen=True)
class Spec:
    """A gateway process's agents and records folder."""

    records: Path
    models: dict[str, ModelEntry] = field(default_factory=dict)
    egress: dict[str, tuple[Path, tuple[str, ...]]] = field(default_factory=dict)

    def model_routes(self, env: Mapping[str, str]) -> list[ModelRoute]:
        """The model routes, each with its key from ``env`` (None: the variable is unset)."""
        return [
            ModelRoute(agent, m.socket, m.upstream, m.vendor,
                       env.get(m.key_env) if m.key_env else None)
            for agent, m in self.models.items()
        ]  # fmt: skip

    def egress_routes(self) -> list[EgressRoute]:
        """The egress routes."""
        return [EgressRoute(a, sock, AllowList(allow)) for a, (sock, allow) in self.egress.items()]


class LiveAllow:
    """The allow-lists of a spec file as it is now, for the proxy to ask at each request: the
    file read again when it was replaced or changed (a ``stat`` per request otherwise). What
    cannot change in a running process (the agents, sockets, upstreams, keys' names, the
    records) is compared with what it started on: a spec changed there keeps the allow-lists
    it had, and says so once (swarm restarts the process for such a change)."""

    def __init__(self, path: Path, spec: Spec) -> None:
        self.path = path
        self.spec = spec
        self._stamp = _stamp(path)
        self._lists: dict[str, AllowList] | None = None  # None: the spec's own

    def __call__(self) -> dict[str, AllowList] | None:
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return self._lists
        self._stamp = stamp
        try:
            found = read_spec(self.path)
        except SpecError as exc:
            log.warning("the spec could not be read again, the allow-lists kept: %s", exc)
            return self._lists
        if not _same_but_allow(self.spec, found):
            log.warning("%s changed beyond its allow-lists: the process runs on as it started "
                        "until it is restarted", self.path)  # fmt: skip
            return self._lists
        self._lists = {agent: AllowList(allow) for agent, (_, allow) in found.egress.items()}
        log.info("allow-lists read again: %s", "; ".join(
            f"{agent}: {', '.join(allow) or 'none'}" for agent, (_, allow) in found.egress.items()
        ))  # fmt: skip
        return self._lists


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def _same_but_allow(old: Spec, new: Spec) -> bool:
    """Whether ``new`` differs from ``old`` in its allow-lists at most."""
    sockets = {agent: socket for agent, (socket, _) in old.egress.items()}
    return (old.records, old.models, sockets) == (
        new.records, new.models, {agent: socket for agent, (socket, _) in new.egress.items()}
    )  # fmt: skip


def read_spec(path: Path) -> Spec:
    """The spec in ``path``, or SpecError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(f"{path}: longer than {MAX_SPEC_BYTES} bytes")
    try:
        return parse_spec(json.loads(raw))
    except ValueError as exc:
        raise SpecError(f"{path}: {exc}") from None


def parse_spec(raw: Any) -> Spec:
    """A spec from its JSON, or SpecError."""
    if not isinstance(raw, dict) or not isinstance(raw.get("agents"), list):
        raise SpecError('a spec is {"records": FOLDER, "agents": [...]}')
    spec = Spec(_path(raw.get("records"), "records"))
    for n, entry in enumerate(raw["agents"]):
        where = f"agents[{n}]"
        if not isinstance(entry, dict) or set(entry) - {"agent", "model", "egress"}:
            raise SpecError(f"{where}: an object of agent, model, egress")
        agent = _agent(entry.get("agent"), where)
        if agent in spec.models or agent in spec.egress:
            raise SpecError(f"{where}: agent {agent!r} twice")
        if entry.get("model") is not None:
            spec.models[agent] = _model(entry["model"], f"{where}.model")
        if entry.get("egress") is not None:
            spec.egress[agent] = _egress(entry["egress"], f"{where}.egress")
    return spec


def _agent(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 200 or not value.isprintable():
        raise SpecError(f"{where}: agent must be a printable name")
    return value


def _path(value: Any, where: str) -> Path:
    if not isinstance(value, str) or not value.startswith("/") or "\0" in value:
        raise SpecError(f"{where}: an absolute path")
    return Path(value)


def _model(raw: Any, where: str) -> ModelEntry:
    if not isinstance(raw, dict) or set(raw) - {"socket", "upstream", "vendor", "key_env"}:
        raise SpecError(f"{where}: an object of socket, upstream, vendor, key_env")
    upstream = raw.get("upstream")
    if not _plain_url(upstream):
        raise SpecError(
            f"{where}: upstream must be an http(s) URL without credentials, query or fragment"
        )
    try:
        vendor = Vendor(raw.get("vendor"))
    except ValueError:
        names = ", ".join(v.value for v in Vendor)
        raise SpecError(f"{where}: vendor is one of {names}") from None
    key_env = raw.get("key_env")
    if key_env is not None and not (isinstance(key_env, str) and _ENV_NAME.fullmatch(key_env)):
        raise SpecError(f"{where}: key_env is the name of an environment variable")
    return ModelEntry(_path(raw.get("socket"), f"{where}.socket"), str(upstream), vendor, key_env)


def _plain_url(value: Any) -> bool:
    if not isinstance(value, str) or not value.isascii() or not value.isprintable() or " " in value:
        return False
    try:
        url = urlsplit(value)
        url.port  # noqa: B018  (a port that is no number raises here)
    except ValueError:
        return False
    plain = not (url.username or url.password or url.query or url.fragment or "@" in url.netloc)
    return url.scheme in ("http", "https") and bool(url.hostname) and plain


def _egress(raw: Any, where: str) -> tuple[Path, tuple[str, ...]]:
    if not isinstance(raw, dict) or set(raw) - {"socket", "allow"}:
        raise SpecError(f"{where}: an object of socket, allow")
    allow = raw.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
        raise SpecError(f"{where}: allow is a list of host, host:port or address:port")
    try:
        AllowList(allow)
    except AllowListError as exc:
        raise SpecError(f"{where}: {exc}") from None
    return _path(raw.get("socket"), f"{where}.socket"), tuple(allow)
