"""Issue 78, item 3: ``gateway = true`` for an unsandboxed agent. Agent-1, a Claude Code agent
by its command (a shell standing for it, to ask from its pane), not sandboxed, started by
``swarm desktop up --headless``: its base URL names a loopback port of swarm's relay before
its command, which leads to its gateway; its environment has its own credential (which the
gateway asks of every request at that port: another local process without it is refused),
not the person's key; a model request from its pane reaches localmodel with the key put on
the wire outside; the gateway's record is booked as ``swarm run``'s watch books it, equal to
localmodel's count; the relay ends with its command."""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from os.path import realpath
from pathlib import Path

import pytest

from core.agents_file import load_agents
from tests.agents.live import LocalModel
from tests.agents.sandbox_live import booked_from_wire
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig

KEY = "anthropic-person-key-unsandboxed-31"
ASK = """\
import json, os, sys, urllib.request
base, out = os.environ["ANTHROPIC_BASE_URL"], sys.argv[1]
body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
request = urllib.request.Request(base + "/v1/messages", json.dumps(body).encode(), {
    "content-type": "application/json", "anthropic-version": "2023-06-01",
    "authorization": "Bearer " + os.environ.get("ANTHROPIC_AUTH_TOKEN", "")})
with urllib.request.urlopen(request, timeout=30) as answer:
    status = answer.status
with open(out + ".part", "w") as f:
    f.write(json.dumps({"status": status, "env": dict(os.environ)}))
os.rename(out + ".part", out)
"""


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[SandboxRig, LocalModel]]:
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed")
    made = SandboxRig(tmp_path, sandbox=False)
    model = LocalModel(tmp_path, 'default = [{ text = "hi" }]\n')
    claude = made.bin / "claude"  # Claude Code by its name: its pane a shell for the probe
    claude.write_text("#!/bin/sh\nexec bash --norc --noprofile\n")
    claude.chmod(0o755)
    made.use_command(str(claude))
    text = made.config.read_text(encoding="utf-8")
    made.config.write_text(text.replace("sandbox = false\n", "gateway = true\n", 1))
    made.env.update(ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY=KEY)
    try:
        yield made, model
    finally:
        made.down()
        model.stop()


@pytest.mark.timeout(120)
def test_an_unsandboxed_agent_reaches_its_model_through_its_gateway(
    rig: tuple[SandboxRig, LocalModel],
) -> None:
    box, model = rig
    agents = {a.id: a for a in load_agents(box.config)}
    assert agents["Agent-1"].gateway and not agents["Agent-2"].gateway
    up = box.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    script, out = box.ws["Agent-1"] / "ask.py", box.ws["Agent-1"] / "ask.out"
    script.write_text(ASK)
    line = f"{realpath(sys.executable)} -I {script} {out}"
    assert box.tmux("send-keys", "-t", "swarm-Agent-1", line, "Enter").returncode == 0
    deadline = time.monotonic() + 60
    while not out.exists():
        assert time.monotonic() < deadline, box.tmux("capture-pane", "-p", "-t", "swarm-Agent-1")
        time.sleep(0.1)
    got = json.loads(out.read_text())
    assert got["status"] == 200, got
    env = got["env"]
    assert KEY not in env.values() and "ANTHROPIC_API_KEY" not in env, env
    token = (box.home / "gateway" / "Agent-1" / "agent-token").read_text()
    assert env["ANTHROPIC_AUTH_TOKEN"] == token and KEY not in token, env
    assert env["ANTHROPIC_BASE_URL"].startswith("http://127.0.0.1:"), env
    asked = [r for r in model.requests() if r["path"] == "/v1/messages"]
    assert len(asked) == 1 and "x-api-key" in {h.lower() for h in asked[0]["headers"]}, asked
    assert "authorization" not in {h.lower() for h in asked[0]["headers"]}, asked
    theirs = asked[0]["usage"]
    assert booked_from_wire(box) == {
        kind: theirs[kind] or 0 for kind in ("input", "output", "cache_read")
    }
    # another local process at its port, without the agent's credential: refused there
    port = int(env["ANTHROPIC_BASE_URL"].rsplit(":", 1)[1])
    for credential in ({}, {"authorization": "Bearer swarm-gateway-holds-the-key"}):
        assert _status(port, credential) == 401
    assert len([r for r in model.requests() if r["path"] == "/v1/messages"]) == 1
    # the relay ends with its command: the pane's shell gone, its port closed
    box.tmux("kill-session", "-t", "swarm-Agent-1")
    deadline = time.monotonic() + 10
    while _listening(port):
        assert time.monotonic() < deadline, f"the relay still listens on {port}"
        time.sleep(0.2)


def _status(port: int, headers: dict[str, str]) -> int:
    """The status of a model request sent straight to ``port`` with ``headers``."""
    body = json.dumps({"model": "m", "max_tokens": 5, "messages": []}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/messages", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
