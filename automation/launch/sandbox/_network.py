"""A sandboxed agent's network (``sandbox_network``):

- ``"model"``: a network namespace of its own. Its CLI reaches its model API through swarm's
  gateway outside (``automation.launch.gateway``): inside, its base URL variable names a
  loopback port where the relay listens, and its key variable a placeholder; the gateway
  puts the person's key on the wire. Other hosts only through swarm's egress proxy, as
  ``sandbox_allow`` lists them (``HTTP_PROXY``/``HTTPS_PROXY`` inside). No host loopback, no
  abstract socket of the host's (X11, D-Bus): they are the namespace's.
- ``"none"``: its own namespace, its own loopback only.
- ``"open"``: the host's network, as before ``sandbox_network`` took words.

Not said: ``"model"`` where its CLI has a gateway set-up (``AgentCli.model_wire``), else
``"open"``, said where it starts. One gateway process per agent, its spec, pid, log and
records in ``$SWARM_HOME/gateway/AGENT/``; its two sockets and the relay beside the agent's
door (``$SWARM_HOME/doors/AGENT/``, bound read-only at ``/run/swarm`` in its sandbox alone:
a socket's path has at most 107 bytes, and the door's folder is the shortest swarm has).
An allow-list changed is written into the running gateway's spec (it reads it again: no
restart); a gateway that died is started again on its spec and sockets (``refresh`` for a
sandbox ``desktop up`` keeps, ``Gateways`` for ``swarm run``'s watch).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import shlex
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from automation.launch import gateway
from core.clis import AgentCli, by_name
from core.clis.base import ModelWire
from core.errors import InvalidInput, InvalidState
from core.models import Agent, Sandbox
from core.privacy import files
from core.sandbox import DOOR_AT, door_folder, running_door

log = logging.getLogger(__name__)
MODEL_PORT = 4180  # inside its own namespace: nothing else listens there
EGRESS_PORT = 4181
PLACEHOLDER = "swarm-gateway-holds-the-key"  # a credential's value inside
# an unsandboxed agent's own credential (``gateway = true``): the gateway's variable, its file
TOKEN_ENV, TOKEN_FILE = "GATEWAY_AGENT_TOKEN", "agent-token"
MODEL_SOCKET, EGRESS_SOCKET, RELAY = "model.sock", "egress.sock", "relay.py"
# what the gateway process is given of swarm's environment besides the key
TAIL_BYTES = 64 * 1024  # of its refusals file read for ``agents explain``
SPEC_FILE, PID_FILE = "spec.json", "gateway.pid"
ENDED_FILE = "ended"  # written by desktop down: a gateway = true gateway not watched since
GATEWAY_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR")


@dataclass(frozen=True)
class Network:
    """What an agent's sandbox gets for its network: its own namespace or the host's, the
    variables set and unset inside, the relay put before its command, one line saying it."""

    mode: str
    own: bool = False  # a namespace of its own
    setenv: tuple[tuple[str, str], ...] = ()
    unsetenv: tuple[str, ...] = ()
    relay: tuple[str, ...] = ()
    said: str = ""
    gateway: str = ""  # what was done to its gateway: started, kept, reloaded, restarted
    args: tuple[str, ...] = ()  # put right after its CLI's program (``ModelWire.args``)


def mode_of(box: Sandbox, cli: AgentCli | None) -> str:
    """The agent's network: ``box.network``, else ``"model"`` where its CLI has a gateway
    set-up, else ``"open"``."""
    if box.network:
        return box.network
    return "model" if cli is not None and cli.model_wire is not None else "open"


def line(box: Sandbox, cli: AgentCli | None) -> str:
    """The agent's network in one line (``agents explain``)."""
    mode = mode_of(box, cli)
    if mode == "none":
        return "network: none (its own loopback only)"
    if mode == "open":
        if box.network:
            return 'network: the host\'s (sandbox_network = "open")'
        title = cli.title if cli else "its CLI"
        return (f"network: the host's, its loopback services and abstract sockets too ({title} "
                'has no gateway set-up in swarm yet; "none" cuts it)')  # fmt: skip
    hosts = ", ".join(box.allow) or "none (sandbox_allow)"
    return (f"network: its own; its model only through swarm's gateway (the person's key kept "
            f"outside), other hosts through swarm's proxy: {hosts}")  # fmt: skip


def folder_of(home: Path, agent: str) -> Path:
    """The agent's gateway folder in swarm's home (spec, pid file, log, records)."""
    return home / "gateway" / agent


def check(agent: str, box: Sandbox, cli: AgentCli | None) -> None:
    """InvalidInput in one line for a network that cannot be had: ``"model"`` for a CLI
    without a gateway set-up, a ``sandbox_allow`` entry the proxy would not take."""
    if mode_of(box, cli) != "model":
        return
    if cli is None or cli.model_wire is None:
        title = cli.title if cli is not None else "its command"
        raise InvalidInput(
            f'{agent}: sandbox_network = "model" but {title} has no gateway set-up in swarm '
            'yet: "open" (the host\'s network) or "none"'
        )
    try:
        gateway.AllowList(box.allow)
    except gateway.AllowListError as exc:
        raise InvalidInput(f"{agent}: sandbox_allow: {exc}") from None


def prepare(
    home: Path, agent: str, box: Sandbox, cli: AgentCli | None, env: Mapping[str, str]
) -> Network:
    """The agent's network, its gateway started (or kept) for ``"model"``."""
    mode = mode_of(box, cli)
    if mode == "open":
        return Network(mode, said='network: the host\'s (sandbox_network = "open")')
    if mode == "none":
        return Network(mode, own=True, said="network: none (its own loopback only)")
    check(agent, box, cli)
    assert cli is not None and cli.model_wire is not None
    wire = cli.model_wire
    key_env = next((name for name in wire.keys if env.get(name)), None)
    done = _start(home, agent, _spec(home, agent, wire, env, key_env, box.allow), env, key_env)
    files.write_file(door_folder(home, agent) / RELAY, gateway.RELAY.read_bytes())
    _write_files(home, agent, wire)
    inside = f"http://127.0.0.1:{MODEL_PORT}{wire.suffix}"
    proxy = f"http://127.0.0.1:{EGRESS_PORT}"
    setenv = [(wire.base_url, inside), *_proxies(proxy)]
    unset = tuple(dict.fromkeys([*cli.credentials, *wire.keys]))
    if key_env is not None:  # the person's key stays outside; the CLI holds a placeholder
        setenv.append((wire.token, PLACEHOLDER))
    listen = [f"{MODEL_PORT}:{DOOR_AT}/{MODEL_SOCKET}", f"{EGRESS_PORT}:{DOOR_AT}/{EGRESS_SOCKET}"]
    prefix = (os.path.realpath(sys.executable), "-I", "-S", f"{DOOR_AT}/{RELAY}",
              *(w for pair in listen for w in ("--listen", pair)), "--")  # fmt: skip
    login = "its key kept outside" if key_env else "its own login inside (no key configured)"
    hosts = ", ".join(box.allow) or "none"
    said = f"network: its model through swarm's gateway ({login}; {done}); other hosts: {hosts}"
    args = _args(wire, inside, DOOR_AT)
    return Network(mode, True, tuple(setenv), (*wire.overrides, *(unset if key_env else ())),
                   prefix, said, gateway=done, args=args)  # fmt: skip


GATEWAY_DONE = {
    "started": "its model gateway was not running: started again (its sandbox's relay "
    "reaches it on the same sockets)",
    "restarted": "its model gateway restarted: its upstream or key changed",
    "reloaded": "its model gateway reads its new allow-list (no restart)",
}


def refresh(
    home: Path, agent: str, box: Sandbox, cli: AgentCli | None, env: Mapping[str, str]
) -> str | None:
    """For an agent whose sandbox runs on (kept by ``desktop up``): its gateway started when
    it is not running, its allow-list reloaded or the gateway restarted when its spec
    changed; a line saying what was done, None when nothing was."""
    if mode_of(box, cli) != "model":
        return None
    return GATEWAY_DONE.get(prepare(home, agent, box, cli, env).gateway)


def unsandboxed(home: Path, agent: str, cli: AgentCli | None, env: Mapping[str, str]) -> Network:
    """An unsandboxed agent's model through swarm's gateway (``gateway = true``): its gateway
    started (or kept) on a model socket beside its door, and swarm's relay before its
    command on a free loopback port of the host's (any local process can reach that port:
    the gateway asks each request for the agent's own credential); its base URL there, its
    key variables unset and its token variable holding its own credential, which the gateway
    asks of every request (a placeholder with no key configured: its own login passes)."""
    if cli is None or cli.model_wire is None:
        raise InvalidInput(f"{agent}: gateway = true but its CLI has no gateway set-up in swarm")
    wire = cli.model_wire
    key_env = next((name for name in wire.keys if env.get(name)), None)
    model = _model_route(home, agent, wire, env, key_env)
    token = _agent_token(home, agent) if key_env else PLACEHOLDER
    if key_env:  # its port is the host's: a request without its own credential is refused
        model["token_env"] = TOKEN_ENV
    spec: dict[str, object] = {"records": str(folder_of(home, agent) / "records"),
                               "agents": [{"agent": agent, "model": model}]}  # fmt: skip
    _start(home, agent, spec, {**env, TOKEN_ENV: token}, key_env, (TOKEN_ENV,) if key_env else ())
    with socket.socket() as probe:  # a free port, taken again by the relay at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inside = f"http://127.0.0.1:{port}{wire.suffix}"
    listen = f"{port}:{door_folder(home, agent) / MODEL_SOCKET}"
    relay = (os.path.realpath(sys.executable), "-I", "-S", str(gateway.RELAY), "--listen",
             listen, "--")  # fmt: skip
    setenv = [(wire.base_url, inside), *([(wire.token, token)] if key_env else [])]
    unset = tuple(dict.fromkeys([*cli.credentials, *wire.keys])) if key_env else ()
    unset = (*wire.overrides, *unset)
    _write_files(home, agent, wire)
    args = _args(wire, inside, str(door_folder(home, agent)))
    login = "its key kept outside" if key_env else "its own login (no key configured)"
    said = f"model: through swarm's gateway at 127.0.0.1:{port} ({login})"
    return Network("gateway", False, tuple(setenv), unset, relay, said, args=args)


def _write_files(home: Path, agent: str, wire: ModelWire) -> None:
    """The files its CLI's wire names (``ModelWire.files``), beside its door's relay."""
    for name, text in wire.files:
        files.write_file(door_folder(home, agent) / name, text.encode())


def _args(wire: ModelWire, url: str, door: str) -> tuple[str, ...]:
    """``wire.args`` with the base URL inside, its token's name and its files' folder."""
    return tuple(
        a.replace("{url}", url).replace("{token}", wire.token).replace("{door}", door)
        for a in wire.args
    )


def _agent_token(home: Path, agent: str) -> str:
    """The credential an unsandboxed agent sends its gateway in place of the key: made once,
    kept in its gateway folder (0600), so a kept gateway and a restarted CLI agree."""
    path = folder_of(home, agent) / TOKEN_FILE
    files.make_dirs(path.parent)
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        token = f"swarm-agent-{secrets.token_hex(24)}"
        files.write_file(path, token.encode())
        return token


def gateway_command(command: Sequence[str], net: Network, cli: AgentCli | None) -> list[str]:
    """``command`` started through ``net``'s relay, with its variables set and unset (by
    ``env``: the tmux server's and the host's environment hold the person's key)."""
    unset = [word for name in net.unsetenv for word in ("-u", name)]
    given = [f"{name}={value}" for name, value in net.setenv]
    return [*net.relay, "env", *unset, *given, *with_args(command, net, cli)]


def with_args(command: Sequence[str], net: Network, cli: AgentCli | None) -> list[str]:
    """``command`` with ``net.args`` right after its CLI's program (or its protocol
    adapter's), in an argv or in a ``/bin/sh -c LINE``'s line; as it is when it has none or
    names no such program (a wrapper: its CLI then reaches no model, said by its errors)."""
    if not net.args or cli is None:
        return list(command)
    if len(command) == 3 and list(command[:2]) == ["/bin/sh", "-c"]:
        return [*command[:2], shlex.join(with_args(shlex.split(command[2]), net, cli))]
    names = {*cli.programs, *([cli.protocol_adapter] if cli.protocol_adapter else [])}
    for at, word in enumerate(command):
        if os.path.basename(word) in names:
            return [*command[: at + 1], *net.args, *command[at + 1 :]]
    return list(command)


def _proxies(url: str) -> list[tuple[str, str]]:
    """The proxy variables every HTTP client reads, loopback left direct (the relay)."""
    direct = "127.0.0.1,localhost"
    return [(name, url) for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")] + [
        ("NO_PROXY", direct), ("no_proxy", direct)
    ]  # fmt: skip


def _spec(
    home: Path,
    agent: str,
    wire: ModelWire,
    env: Mapping[str, str],
    key_env: str | None,
    allow: Sequence[str],
) -> dict[str, object]:
    """The gateway's spec for ``agent``: its upstream is what its person configured (the
    CLI's base URL variable outside, less the CLI's own suffix), else the public API."""
    net = door_folder(home, agent)
    model = _model_route(home, agent, wire, env, key_env)
    egress = {"socket": str(net / EGRESS_SOCKET), "allow": list(allow)}
    return {"records": str(folder_of(home, agent) / "records"),
            "agents": [{"agent": agent, "model": model, "egress": egress}]}  # fmt: skip


def _model_route(
    home: Path, agent: str, wire: ModelWire, env: Mapping[str, str], key_env: str | None
) -> dict[str, object]:
    """The spec's model route of ``agent``: its socket beside its door, its upstream."""
    given = (env.get(name) for name in (*wire.overrides, wire.base_url))
    upstream = (next((url for url in given if url), None) or wire.upstream).rstrip("/")
    if wire.suffix and upstream.endswith(wire.suffix):
        upstream = upstream[: -len(wire.suffix)]
    return {"socket": str(door_folder(home, agent) / MODEL_SOCKET), "upstream": upstream,
            "vendor": wire.vendor, "key_env": key_env}  # fmt: skip


def _start(
    home: Path,
    agent: str,
    spec: dict[str, object],
    env: Mapping[str, str],
    key: str | None,
    more: Sequence[str] = (),
) -> str:
    """The agent's gateway running on ``spec``, given ``key`` and the variables ``more``
    names of ``env``: ``kept`` when it runs on the same spec, ``reloaded`` when only its
    allow-list changed (the running process reads its spec file again at its next
    connection: no stream is cut), else ``restarted`` or ``started``. InvalidState in one
    line when it does not come up."""
    where = folder_of(home, agent)
    files.make_dirs(where)
    files.make_dirs(door_folder(home, agent))
    (where / ENDED_FILE).unlink(missing_ok=True)
    text = json.dumps(spec, indent=2, sort_keys=True) + "\n"
    spec_file, pid_file = where / SPEC_FILE, where / PID_FILE
    before = _read_text(spec_file)
    running = gateway.gateway_pid(pid_file) is not None
    if running and before == text:
        return "kept"
    if running and before is not None and _fixed(before) == _fixed(text):
        _replace(spec_file, text)
        return "reloaded"
    if running:
        asyncio.run(gateway.stop_gateway(pid_file))
    _replace(spec_file, text)
    _run(home, agent, env, key, more)
    return "restarted" if running else "started"


def _run(
    home: Path, agent: str, env: Mapping[str, str], key: str | None, more: Sequence[str] = ()
) -> None:
    """Start the gateway on the agent's spec file, given ``env``'s ``GATEWAY_ENV``, the key
    ``key`` names and the variables ``more`` names; InvalidState in one line when it does not
    come up."""
    where = folder_of(home, agent)
    given = {name: env[name] for name in GATEWAY_ENV if name in env}
    if key is not None:
        given[key] = env[key]
    given.update({name: env[name] for name in more})
    try:
        asyncio.run(
            gateway.start_gateway(where / SPEC_FILE, where / PID_FILE, where / "gateway.log", given)
        )
    except gateway.GatewayStartError as exc:
        raise InvalidState(f"{agent}'s model gateway: {exc}") from None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _fixed(text: str) -> object:
    """A spec's text less its allow-lists: what a running gateway cannot take in live."""
    try:
        spec = json.loads(text)
        for entry in spec["agents"]:
            entry.get("egress", {}).pop("allow", None)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return spec


def _replace(path: Path, text: str) -> None:
    """Write ``path`` whole by a rename (a reader sees the old spec or the new, never half)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    files.write_file(temporary, text.encode())
    os.replace(temporary, path)


def revive(home: Path, agent: str, env: Mapping[str, str]) -> str | None:
    """Start ``agent``'s gateway again on the spec it last ran on (same sockets: the relay of
    its running sandbox reaches it again), when it is not running; None when it runs or was
    never started, else a line saying what was done. The key is ``env``'s variable the spec
    names: when ``env`` lacks it the gateway is not started (a line says why)."""
    where = folder_of(home, agent)
    if running(home, agent) or not (where / SPEC_FILE).is_file():
        return None
    try:
        spec = gateway.read_spec(where / SPEC_FILE)
    except gateway.SpecError as exc:
        return f"its model gateway is not running and its spec cannot be read: {exc}"
    key = next((m.key_env for m in spec.models.values() if m.key_env), None)
    if key is not None and not env.get(key):
        return f"its model gateway is not running: {key} is not set here to give it"
    token = any(m.token_env for m in spec.models.values())  # gateway = true: its credential
    given = {**env, TOKEN_ENV: _agent_token(home, agent)} if token else env
    try:
        _run(home, agent, given, key, (TOKEN_ENV,) if token else ())
    except InvalidState as exc:
        return f"its model gateway is not running and did not start again: {exc}"
    return "its model gateway was not running: started again"


def sync_allow(home: Path, agent: str, allow: Sequence[str]) -> bool:
    """``allow`` written into ``agent``'s gateway spec when it lists other hosts (the running
    gateway reads it at its next connection); True when written. A list the proxy would not
    take is not written (said in the log)."""
    spec_file = folder_of(home, agent) / SPEC_FILE
    before = _read_text(spec_file)
    try:
        spec = json.loads(before or "")
        entries = [e for e in spec["agents"] if isinstance(e.get("egress"), dict)]
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    if all(e["egress"].get("allow") == list(allow) for e in entries):
        return False
    try:
        gateway.AllowList(allow)
    except gateway.AllowListError as exc:
        log.warning("%s: sandbox_allow not given to its gateway: %s", agent, exc)
        return False
    for entry in entries:
        entry["egress"]["allow"] = list(allow)
    _replace(spec_file, json.dumps(spec, indent=2, sort_keys=True) + "\n")
    return True


@dataclass(frozen=True)
class Gateways:
    """The sandboxed agents' gateways of one swarm home, as ``swarm run``'s gateway watch sees
    them (``core.watch.gateways.GatewayProbe``); ``env``: where a gateway started again gets
    its key and ``GATEWAY_ENV`` (``swarm run``'s environment)."""

    home: Path
    env: Mapping[str, str]

    def watched(self, agent: Agent) -> bool:
        """A gateway of its own started by ``desktop up`` (its spec written) and not ended by
        ``desktop down``: sandboxed with ``sandbox_network = "model"`` (its door runs), or
        unsandboxed with ``gateway = true`` (no end written since its start)."""
        where, box = folder_of(self.home, agent.id), agent.sandbox
        started = (where / SPEC_FILE).is_file()
        if box is None:
            return agent.gateway and started and not (where / ENDED_FILE).exists()
        if mode_of(box, by_name(agent.cli)) != "model":
            return False
        return started and running_door(self.home, agent.id) is not None

    def running(self, agent: str) -> bool:
        """Whether its gateway runs."""
        return running(self.home, agent)

    def revive(self, agent: str) -> str | None:
        """:func:`revive`."""
        return revive(self.home, agent, self.env)

    def sync_allow(self, agent: str, allow: Sequence[str]) -> bool:
        """:func:`sync_allow`."""
        return sync_allow(self.home, agent, allow)

    def refusals(self, agent: str) -> Path:
        """Its proxy's refusals file."""
        return folder_of(self.home, agent) / "records" / gateway.REFUSALS_FILE


def stop(home: Path, agent: str) -> bool:
    """End ``agent``'s gateway (``desktop down``), and say it ended where one was started,
    so that ``swarm run`` watches it no more; True when one ran."""
    where = folder_of(home, agent)
    if (where / SPEC_FILE).is_file():
        files.write_file(where / ENDED_FILE, b"")
    pid_file = where / PID_FILE
    if gateway.gateway_pid(pid_file) is None:
        return False
    return asyncio.run(gateway.stop_gateway(pid_file))


def running(home: Path, agent: str) -> bool:
    """Whether ``agent``'s gateway runs."""
    return gateway.gateway_pid(folder_of(home, agent) / PID_FILE) is not None


def refused(home: Path, agent: str, shown: int = 5) -> list[str]:
    """The hosts ``agent``'s proxy refused, the latest ``shown``, a line each with how many
    times, when last and why (from the end of its refusals file: at most ``TAIL_BYTES``)."""
    path = folder_of(home, agent) / "records" / gateway.REFUSALS_FILE
    try:
        with path.open("rb") as stream:
            stream.seek(max(0, path.stat().st_size - TAIL_BYTES))
            text = stream.read().decode("ascii", errors="replace")
    except OSError:
        return []
    seen: dict[tuple[str, object], tuple[int, float, str]] = {}
    for line in text.splitlines()[1:] if len(text) >= TAIL_BYTES else text.splitlines():
        try:
            one = json.loads(line)
            key, at, why = (str(one["host"]), one.get("port")), float(one["at"]), str(one["reason"])
        except (ValueError, KeyError, TypeError):
            continue
        count = seen.pop(key, (0, 0.0, ""))[0]
        seen[key] = (count + 1, at, why)  # re-inserted: the latest last
    return [
        f"{host}{'' if port is None else f':{port}'}: {count}x, last "
        f"{time.strftime('%H:%M:%S', time.localtime(at))} ({why})"
        for (host, port), (count, at, why) in list(seen.items())[-shown:]
    ]
