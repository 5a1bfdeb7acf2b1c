"""The real Claude Code in tmux against localmodel, read by swarm's own text watcher.

Claude Code is started ONCE for the module (its own HOME, a trusted work folder, no
telemetry) against ``python -m localmodel`` on a free port; each test reads its live pane
through ``TextWatcher`` with the bundled rule files. The binary is found by
tests/agents/live.py (``SWARM_CLAUDE_BIN``, ``.cache/agents``, PATH) at its pinned version:
else skipped with the reason, a failure under ``SWARM_REQUIRE_AGENTS=1`` (CI).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.agent_state import AgentState
from core.agents.text_rules import load_rule_sets
from core.dialogs import permissions as prompts
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.agents.live import require_binary
from tests.helpers import write_agents
from tests.tmux_server import Tmux, wait_text

pytestmark = pytest.mark.xdist_group("claude-code-live")  # one worker starts it, once

KEY = "sk-ant-localmodel-test-key-0123456789"
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "make a file"
steps = [{ text = "Creating it.", shell = "touch made-by-localmodel.txt" }, { text = "file made" }]

[[turns]]
match = "limit me"
steps = [{ rate_limit = true, retry_after = 30, reset_in = 300, should_retry = false }]
"""


@dataclass
class LiveClaude:
    """The running Claude Code: its tmux server and pane."""

    tmux: Tmux
    target: str

    def send(self, text: str) -> None:
        """Paste ``text`` bracketed, then Enter half a second later (as a person would)."""
        self.tmux.run("set-buffer", "-b", "prompt", text)
        self.tmux.run("paste-buffer", "-p", "-d", "-b", "prompt", "-t", self.target)
        time.sleep(0.5)
        self.tmux.run("send-keys", "-t", self.target, "Enter")

    def wait(self, text: str, timeout: float = 20.0) -> list[str]:
        """The pane's lines once ``text`` shows."""
        return wait_text(self.tmux.ref(self.target), text, timeout)


def _home(root: Path, work: Path) -> Path:
    """A HOME where Claude Code starts at its input box: onboarded, key and folder trusted."""
    home = root / "home"
    (home / ".claude").mkdir(parents=True)
    state = {
        "hasCompletedOnboarding": True,
        "customApiKeyResponses": {"approved": [KEY[-20:]], "rejected": []},
        "projects": {str(work): {"hasTrustDialogAccepted": True, "allowedTools": []}},
    }
    (home / ".claude.json").write_text(json.dumps(state), encoding="utf-8")
    (home / ".claude" / "settings.json").write_text("{}", encoding="utf-8")
    return home


def _localmodel(root: Path) -> tuple[subprocess.Popen[str], str]:
    script = root / "script.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "localmodel", "--port", "0", "--script", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), f"localmodel did not start: {url!r}"
    return server, url


@pytest.fixture(scope="module")
def claude(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveClaude]:
    """Claude Code in tmux (120x40) against localmodel, at its input box."""
    binary = require_binary("claude-code")
    root = tmp_path_factory.mktemp("claude").resolve()
    work = root / "work"
    work.mkdir()
    home = _home(root, work)
    server, url = _localmodel(root)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "TERM": "xterm-256color",
        "LANG": "C.UTF-8", "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1", "IS_SANDBOX": "1",
    }  # fmt: skip
    command = " ".join(
        ["env", "-i", *(f"{k}={v}" for k, v in env.items()), str(binary),
         "--permission-mode", "default"]
    )  # fmt: skip
    tmux = Tmux(root / "tmux.sock")
    try:
        tmux.run("new-session", "-d", "-s", "cc", "-x", "120", "-y", "40", "-c", str(work),
                 command)  # fmt: skip
        live = LiveClaude(tmux, "cc:0")
        live.wait("? for shortcuts", timeout=30)
        yield live
    finally:
        tmux.stop()
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


@pytest.fixture
async def service(
    home: Path, tmp_path: Path, clock: ManualClock, claude: LiveClaude
) -> AsyncIterator[SwarmService]:
    """Agent A: the live Claude Code's pane, read with the claude-code rules."""
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev", "tmux": claude.target, "tmux_socket": str(claude.tmux.socket),
          "cli": "claude-code"}],
    )  # fmt: skip
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    svc = await SwarmService.open(settings, clock)
    yield svc
    await svc.close()


async def look(service: SwarmService) -> tuple[AgentState, str, float | None]:
    """One tick of swarm's text watcher over A's pane: its state, evidence and reset."""
    rule_sets, errors = load_rule_sets(service.settings.home)
    assert errors == []
    watcher = TextWatcher(service, rule_sets)
    try:
        (seen,) = await watcher.tick()
    finally:
        await watcher.close()
    return seen.state, seen.evidence, seen.until


async def test_idle_after_start(service: SwarmService) -> None:
    state, evidence, _ = await look(service)
    assert state is AgentState.IDLE, evidence
    assert "rule input" in evidence


async def test_a_bash_permission_dialog_is_waiting_with_its_options(
    service: SwarmService, claude: LiveClaude
) -> None:
    claude.send("make a file")
    claude.wait("Do you want to proceed?")
    state, evidence, _ = await look(service)
    assert state is AgentState.WAITING, evidence
    (prompt,) = await service.db.read(prompts.open_prompts, "A")
    assert [o.key for o in prompt.options] == ["1", "2", "3", "4"]
    assert (prompt.options[0].label, prompt.options[-1].label) == ("Yes", "No")
    assert "touch made-by-localmodel.txt" in prompt.text
    await asyncio.sleep(1)  # a key pressed as the dialog appears can be lost
    claude.tmux.run("send-keys", "-t", claude.target, "1")  # approve in the terminal
    claude.wait("file made", timeout=30)
    claude.wait("? for shortcuts")
    state, evidence, _ = await look(service)
    assert state is AgentState.IDLE, evidence


async def test_a_scripted_429_is_limited(service: SwarmService, claude: LiveClaude) -> None:
    claude.wait("? for shortcuts")  # at its input box
    claude.send("limit me")
    claude.wait("Request rejected (429)")
    state, evidence, until = await look(service)
    assert state is AgentState.LIMITED, evidence
    assert "rule rate-limited" in evidence and until is None  # no reset shown
