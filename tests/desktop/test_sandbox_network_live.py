"""Issue 78: a sandboxed agent's network is its own. Agent-1, a Claude Code agent (its
``sandbox_network`` not said: ``"model"``) started by ``swarm desktop up --headless`` (real
bubblewrap, real tmux, the gateway process as swarm starts it), tries from its pane what an
agent that wants out tries: the host's loopback services (a listener standing for swarm's
dashboard, PostgreSQL, another agent's model server), an abstract Unix socket of the host's
(named as X11's display socket is), a host its allow-list does not name, a relay through a
port of its own, the host's loopback through the proxy. Only its model (through the relay and
the gateway, the person's key put on the wire outside) and the one host it is allowed are
reached; each refusal is recorded outside, naming the agent and the host."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from os.path import realpath
from pathlib import Path

import pytest

from tests.agents.live import LocalModel
from tests.desktop.sandbox_rig import SandboxRig, fenced

KEY = "anthropic-SECRET-key-77"
# each line: NAME=what happened (bash's /dev/tcp for TCP, swarm's Python for a Unix socket)
PROBE = """\
out="$1"
tcp() {{ timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf '%b' \\"$2\\" >&3 && \
head -c 200 <&3 | head -1" 2>/dev/null || echo refused; }}
{{
echo "loopback=$(tcp {loopback} 'ping\\n')"
echo "model=$(tcp 4180 'GET /v1/models HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n')"
echo "denied=$(tcp 4181 'CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n')"
echo "host_loopback=$(tcp 4181 'CONNECT 127.0.0.1:{loopback} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')"
echo "allowed=$(tcp 4181 'CONNECT 127.0.0.1:{allowed} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')"
{python} -I -S -c 'import socket; s = socket.socket(socket.AF_INET); \
s.bind(("127.0.0.1", 4999)); s.listen(1); import time; time.sleep(20)' &
sleep 0.5
echo "relay=$(tcp 4181 'CONNECT 127.0.0.1:4999 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')"
echo "abstract=$({python} -I -S -c 'import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\\0{abstract}"); print("reached")
except OSError as exc:
    print(type(exc).__name__)')"
echo "env=$(env | tr '\\n' ' ')"
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


def _listen_tcp() -> tuple[socket.socket, int]:
    """A loopback TCP service of the host's, answering ``pong`` to whoever connects."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"pong\n")

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def _listen_abstract(name: str) -> socket.socket:
    """An abstract Unix socket of the host's (as an X server's ``@/tmp/.X11-unix/X0``)."""
    server = socket.socket(socket.AF_UNIX)
    server.bind("\0" + name)
    server.listen(4)
    return server


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[SandboxRig, dict[str, object]]]:
    made = fenced(tmp_path)
    model = LocalModel(tmp_path, 'default = [{ text = "hi" }]\n')
    loopback, loop_port = _listen_tcp()
    allowed, allow_port = _listen_tcp()
    abstract = f"/tmp/.X11-unix/X{allow_port}"
    x11 = _listen_abstract(abstract)
    claude = made.bin / "claude"  # Claude Code by its name: its pane a shell for the probe
    claude.write_text("#!/bin/sh\nexec bash --norc --noprofile\n")
    claude.chmod(0o755)
    made.use_command(str(claude))
    text = made.config.read_text(encoding="utf-8").replace(
        "sandbox = true\n", f'sandbox = true\nsandbox_allow = ["127.0.0.1:{allow_port}"]\n', 1
    )
    # its model and key as docs/configuration.md gives them: the agents file's env table
    # (before, only swarm's own environment's were seen: the tmux route's gateway went to
    # the public API with no key, found by the replayed day)
    text += f'\n[desktop.agent.Agent-1.env]\nANTHROPIC_BASE_URL = "{model.url}"\n'
    text += 'ANTHROPIC_API_KEY = "$MY_LLM_KEY"\n'
    made.config.write_text(text, encoding="utf-8")
    made.env.update(MY_LLM_KEY=KEY)
    facts: dict[str, object] = {"loopback": loop_port, "allowed": allow_port,
                                "abstract": abstract, "model": model}  # fmt: skip
    try:
        yield made, facts
    finally:
        made.down()
        model.stop()
        for server in (loopback, allowed, x11):
            server.close()


@pytest.mark.timeout(180)
def test_a_sandboxed_agent_reaches_its_model_and_its_allowed_host_only(
    rig: tuple[SandboxRig, dict[str, object]],
) -> None:
    box, facts = rig
    up = box.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    script, out = box.ws["Agent-1"] / "net.sh", box.ws["Agent-1"] / "net.out"
    script.write_text(PROBE.format(python=realpath(sys.executable), **facts))
    sent = box.tmux("send-keys", "-t", "swarm-Agent-1", f"bash {script} {out}", "Enter")
    assert sent.returncode == 0, sent.stderr
    got = box.read(out, 90)
    # its model, through the relay and the gateway, with the key put on the wire outside
    assert got["model"].split()[1:2] == ["200"], got
    model = facts["model"]
    assert isinstance(model, LocalModel)
    listed = [r for r in model.requests() if r["path"] == "/v1/models"]
    assert listed and "x-api-key" in {h.lower() for h in listed[-1]["headers"]}, listed
    assert KEY not in got["env"] and "ANTHROPIC_API_KEY=" not in got["env"], got["env"]
    # the one host it is allowed, through the proxy
    assert got["allowed"].split()[1:2] == ["200"], got
    # nothing else: the host's loopback, directly or through the proxy, a relay through a
    # port of its own, a denied name, the host's abstract socket
    assert got["loopback"] == "refused", got
    for name in ("denied", "host_loopback", "relay"):
        assert got[name].split()[1:2] == ["403"], (name, got)
    assert got["abstract"] == "ConnectionRefusedError", got
    # each refusal recorded outside, naming the agent and the host
    records = box.home / "gateway" / "Agent-1" / "records" / "refusals.jsonl"
    refused = [json.loads(line) for line in records.read_text().splitlines()]
    hosts = {(r["agent"], r["host"]) for r in refused}
    assert {("Agent-1", "example.com"), ("Agent-1", "127.0.0.1")} <= hosts, refused
    # said where a person looks: agents explain, the roster, doctor (a warning once down)
    explained = box.swarm("agents", "explain", "Agent-1").stdout
    assert "network: its own; its model only through swarm's gateway" in explained, explained
    assert f"127.0.0.1:{facts['allowed']}" in explained, explained
    assert "its proxy refused example.com:443: 1x, last " in explained, explained
    roster = json.loads(box.swarm("agents", "--json").stdout)
    assert roster[0]["sandbox"] == "bwrap, model via gateway", roster
    assert "Agent-1: network: its own" in box.swarm("doctor").stdout
    box.swarm("desktop", "down", "--headless")
    assert "its gateway is not running" in box.swarm("doctor").stdout
    # the teeth: outside the sandbox the same services answer
    with socket.create_connection(("127.0.0.1", int(str(facts["loopback"]))), 5) as direct:
        assert direct.recv(5) == b"pong\n"
    with socket.socket(socket.AF_UNIX) as probe:
        probe.connect("\0" + str(facts["abstract"]))
