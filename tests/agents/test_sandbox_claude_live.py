"""Issue 67: the real Claude Code (pinned) does a task inside its bubblewrap sandbox. ``swarm
desktop up --headless`` starts it in Agent-1's worktree with ``sandbox = true``; localmodel
answers the prompt with a Bash call that writes a file and reports ``swarm task done`` (its
door's ``swarm``); the task is done in swarm's database and the file is in the worktree, while
Claude Code saw none of the home but its own folders (what it made there is its tmpfs's).
Its hooks (``desktop up`` writes them as its door's ``swarm hook``) reach swarm from inside:
the Bash call's permission is asked through swarm and approved there (``swarm approve``, a
person outside), and its ``Stop`` leaves it idle by its hook.

Issue 78: its network is its own (``sandbox_network`` not said: ``"model"``, Claude Code has a
gateway set-up). It reaches localmodel only through swarm's gateway: inside, its base URL is
the relay's loopback port and its credential a placeholder, the person's key nowhere in its
environment; localmodel sees the key in ``x-api-key`` (put there by the gateway), and the
gateway's usage records equal localmodel's own counts."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents import sandbox_live
from tests.agents.launch import CLAUDE_KEY
from tests.agents.live import LocalModel, require_binary
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig, assign

pytestmark = pytest.mark.xdist_group("claude-code-live")

SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "Write the title"
steps = [{ text = '{"title": "Scripted session"}' }]

[[turns]]
match = "do the sandboxed task"
steps = [
  { text = "Doing it.", shell = "SHELL" },
  { text = "sandboxed task reported" },
]
""".replace(
    "SHELL", "ls -A ~ > home-seen.txt; env > env-seen.txt; swarm task done T-1 --note in-bwrap"
)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[SandboxRig, LocalModel]]:
    binary = require_binary("claude-code")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    made = SandboxRig(tmp_path, sandbox=True)
    model = LocalModel(tmp_path, SCRIPT)
    work = made.ws["Agent-1"]
    (made.user / ".claude").mkdir()
    state = {
        "hasCompletedOnboarding": True,
        "customApiKeyResponses": {"approved": [CLAUDE_KEY[-20:]], "rejected": []},
        "projects": {str(work): {"hasTrustDialogAccepted": True, "allowedTools": []}},
    }
    (made.user / ".claude.json").write_text(json.dumps(state), encoding="utf-8")
    (made.user / ".claude" / "settings.json").write_text("{}", encoding="utf-8")
    made.env.update(ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY=CLAUDE_KEY,
                    DISABLE_AUTOUPDATER="1", TERM="xterm-256color")  # fmt: skip
    text = made.config.read_text().replace(
        'command = "bash --norc --noprofile"', f'command = "{binary} --permission-mode default"'
    )
    text = text.replace("sandbox = true", 'sandbox = true\ncli = "claude-code"')  # claude.exe
    made.config.write_text(text)
    try:
        yield made, model
    finally:
        made.swarm("desktop", "down", "--headless")
        made.tmux("kill-server")
        model.stop()


def _screen(rig: SandboxRig) -> str:
    return rig.tmux("capture-pane", "-p", "-t", "swarm-Agent-1").stdout


def _wait(rig: SandboxRig, words: tuple[str, ...], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = _screen(rig)
        for word in words:
            if word in screen:
                return word
        time.sleep(0.3)
    panes = rig.tmux("list-panes", "-a", "-F", "#{pane_dead} #{pane_current_command}")
    raise AssertionError(f"none of {words} on the screen ({panes}):\n{_screen(rig)}")


def _prompt(rig: SandboxRig, timeout: float) -> str:
    """The first prompt swarm opened (its ref), or the screen's words if the task ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = json.loads(rig.swarm("inbox", "--json").stdout or "[]")
        refs = [str(i.get("ref")) for i in items if str(i.get("ref", "")).startswith("R-")]
        if refs:
            return refs[0]
        time.sleep(0.5)
    raise AssertionError(f"swarm opened no prompt for the Bash call:\n{_screen(rig)}")


def _hooked(rig: SandboxRig, words: str, timeout: float = 30) -> dict[str, object]:
    """Agent-1's explanation once it holds ``words`` (its hooks' evidence)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = json.loads(rig.swarm("agents", "explain", "Agent-1", "--json").stdout)
        if words in json.dumps(shown) or time.monotonic() > deadline:
            return dict(shown)
        time.sleep(0.5)


@pytest.mark.timeout(240)
def test_claude_code_does_a_task_inside_its_sandbox(
    rig: tuple[SandboxRig, LocalModel],
) -> None:
    box, _model = rig
    done = box.swarm("desktop", "up", "--headless", "--agents", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = (box.ws["Agent-1"] / ".claude" / "settings.local.json").read_text()
    assert "/run/swarm/swarm hook --agent Agent-1" in hooks, hooks
    _wait(box, ("? for shortcuts",), 90)
    asyncio.run(assign(box, "sandboxed"))
    box.tmux("send-keys", "-t", "swarm-Agent-1", "-l", "do the sandboxed task T-1")
    time.sleep(0.5)
    box.tmux("send-keys", "-t", "swarm-Agent-1", "Enter")
    ref = _prompt(box, 90)  # its PermissionRequest hook, through its door
    asking = _hooked(box, "PermissionRequest")
    assert asking["state"] == "waiting" and "hook: PermissionRequest Bash" in json.dumps(asking)
    decided = box.swarm("approve", ref)
    assert decided.returncode == 0, decided.stdout + decided.stderr
    _wait(box, ("sandboxed task reported",), 90)
    shown = box.swarm("task", "show", "T-1").stdout
    assert "status:      done" in shown and "in-bwrap" in shown, shown
    seen = (box.ws["Agent-1"] / "home-seen.txt").read_text().split()
    real = set(os.listdir(box.user))  # .ssh among them; what it made in its tmpfs home is not
    assert ".ssh" in real and set(seen) & real <= {".claude", ".claude.json"}, (seen, real)
    # nothing was typed into its dialog: the hook's answer let the Bash call run
    idle = _hooked(box, "hook: Stop")
    assert idle["state"] == "idle" and "hook: Stop" in json.dumps(idle), idle
    _through_the_gateway(box, _model)


def _through_the_gateway(box: SandboxRig, model: LocalModel) -> None:
    """The key stayed outside; every model request went through the gateway with it."""
    inside = (box.ws["Agent-1"] / "env-seen.txt").read_text()
    assert CLAUDE_KEY not in inside, "the person's key is inside the sandbox"
    assert "ANTHROPIC_BASE_URL=http://127.0.0.1:4180\n" in inside, inside
    assert "ANTHROPIC_AUTH_TOKEN=swarm-gateway-holds-the-key\n" in inside, inside
    asked = [r for r in model.requests() if r["path"] == "/v1/messages"]
    assert asked and all("x-api-key" in {h.lower() for h in r["headers"]} for r in asked)
    assert not any("authorization" in {h.lower() for h in r["headers"]} for r in asked)
    records = box.home / "gateway" / "Agent-1" / "records" / "usage.jsonl"
    booked = [json.loads(line) for line in records.read_text().splitlines()]
    theirs = [r["usage"] for r in asked if r["usage"] is not None]
    assert len(booked) == len(asked) and theirs, (booked, asked)
    assert sum(b["usage"]["output"] for b in booked) == sum(u["output"] for u in theirs)
    assert sandbox_live.booked_from_wire(box) == {  # as swarm run's watch books them
        kind: sum(u[kind] or 0 for u in theirs) for kind in ("input", "output", "cache_read")
    }
