"""Issue 78: a sandboxed agent's model gateway that died is started again by the next
``swarm desktop up`` while the agent's session is kept (its running sandbox's relay reaches
the new process on the same sockets), said on the agent's line; an edited ``sandbox_allow``
is read by the running gateway (the same process) and the new host is reached at once.
Real bubblewrap, real tmux, the gateway as swarm starts it."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents.live import LocalModel
from tests.desktop.sandbox_rig import SandboxRig, fenced
from tests.desktop.test_sandbox_network_live import _listen_tcp

KEY = "anthropic-SECRET-key-78"
PROBE = """\
out="$1"
tcp() {{ timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf '%b' \\"$2\\" >&3 && \
head -c 200 <&3 | head -1" 2>/dev/null || echo refused; }}
{{
echo "model=$(tcp 4180 'GET /v1/models HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n')"
echo "allowed=$(tcp 4181 'CONNECT 127.0.0.1:{allowed} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')"
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[SandboxRig, LocalModel, int]]:
    made = fenced(tmp_path)
    model = LocalModel(tmp_path, 'default = [{ text = "hi" }]\n')
    allowed, allow_port = _listen_tcp()
    claude = made.bin / "claude"  # Claude Code by its name: its pane a shell for the probe
    claude.write_text("#!/bin/sh\nexec bash --norc --noprofile\n")
    claude.chmod(0o755)
    made.use_command(str(claude))
    made.env.update(ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY=KEY)
    try:
        yield made, model, allow_port
    finally:
        made.down()
        model.stop()
        allowed.close()


def _probe(box: SandboxRig, allowed: int, name: str) -> dict[str, str]:
    script, out = box.ws["Agent-1"] / f"{name}.sh", box.ws["Agent-1"] / f"{name}.out"
    script.write_text(PROBE.format(allowed=allowed))
    sent = box.tmux("send-keys", "-t", "swarm-Agent-1", f"bash {script} {out}", "Enter")
    assert sent.returncode == 0, sent.stderr
    return box.read(out, 60)


def _up(box: SandboxRig) -> dict[str, object]:
    up = box.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    found: dict[str, object] = json.loads(up.stdout)[0]
    return found


def _gateway_pid(box: SandboxRig) -> int:
    return int((box.home / "gateway" / "Agent-1" / "gateway.pid").read_text().split()[0])


@pytest.mark.timeout(240)
def test_a_kept_sandbox_gets_its_gateway_back_and_its_new_allow_list(
    rig: tuple[SandboxRig, LocalModel, int],
) -> None:
    box, model, allowed = rig
    assert _up(box)["action"] == "started"
    before = _probe(box, allowed, "before")
    assert before["model"].split()[1:2] == ["200"], before
    assert before["allowed"].split()[1:2] == ["403"], before
    # the gateway dies: the kept session's next up starts it again on the same sockets
    dead = _gateway_pid(box)
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{dead}/cmdline").exists():
        time.sleep(0.05)
    assert "its gateway is not running" in box.swarm("doctor").stdout
    again = _up(box)
    assert again["action"] == "kept", again
    assert any("started again" in str(n) for n in again["notes"]), again  # type: ignore[attr-defined]
    revived = _gateway_pid(box)
    assert revived != dead
    back = _probe(box, allowed, "back")
    assert back["model"].split()[1:2] == ["200"], back
    assert len([r for r in model.requests() if r["path"] == "/v1/models"]) == 2
    # sandbox_allow edited: the same gateway reads it, the host is reached at once
    text = box.config.read_text(encoding="utf-8").replace(
        "sandbox = true\n", f'sandbox = true\nsandbox_allow = ["127.0.0.1:{allowed}"]\n', 1
    )
    box.config.write_text(text, encoding="utf-8")
    reloaded = _up(box)
    assert any("new allow-list" in str(n) for n in reloaded["notes"]), reloaded  # type: ignore[attr-defined]
    assert _gateway_pid(box) == revived
    opened = _probe(box, allowed, "opened")
    assert opened["allowed"].split()[1:2] == ["200"], opened


@pytest.mark.timeout(180)
def test_a_kept_protocol_host_gets_its_gateway_back(tmp_path: Path) -> None:
    box = fenced(tmp_path, protocol=True)
    script = box.ws["Agent-1"] / "probe.sh"  # the rig's ACP agent runs it: nothing to probe
    script.write_text("true\n")
    box.env.update(PROBE_SCRIPT=str(script), PROBE_OUT="-", PROBE_PID=str(os.getpid()))
    try:
        up = box.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--protocol",
                       "--agents", "1")  # fmt: skip
        assert up.returncode == 0, up.stdout + up.stderr
        dead = _gateway_pid(box)
        os.kill(dead, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{dead}/cmdline").exists():
            time.sleep(0.05)
        again = box.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--protocol",
                          "--agents", "1")  # fmt: skip
        assert again.returncode == 0, again.stdout + again.stderr
        found = json.loads(again.stdout)[0]
        assert found["action"] == "kept", found
        assert any("started again" in n for n in found["notes"]), found
        assert _gateway_pid(box) != dead
    finally:
        box.down()
