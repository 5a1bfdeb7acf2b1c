"""A sandboxed protocol agent reports by swarm's MCP tools: the real Gemini CLI (ACP,
``--acp``) and Claude Code (stream-json), pinned, each in its no-prompt mode with ``sandbox =
true`` and ``mcp = true``, started by ``swarm workspaces init`` and ``swarm desktop up
--protocol`` as a user starts them, against localmodel through swarm's gateway. Their session
names their door's ``swarm mcp`` (ACP's ``mcpServers``, Claude Code's ``--mcp-config``), by its
path inside; the CLI starts it in the sandbox. The task's shell writes a file and reports
``swarm task start`` through the door; the model's MCP ``report`` says ``done``, recorded as
the agent's; nothing reaches "Needs you" (``small_task``, shared with codex-acp and opencode).

Each CLI is started once for the module."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.sandbox import DOOR_SWARM
from tests.agents.launch import CLAUDE_KEY, _git
from tests.agents.live import LocalModel, base_env, require_binary
from tests.agents.test_costs_known_live import AGENT, Rig
from tests.agents.test_protocol_live import Swarm
from tests.agents.test_sandbox_codex_acp_noprompt_live import (
    NOTE,
    PROBE,
    PROMPT,
    SCRIPT,
    small_task,
    up_protocol,
)
from tests.agents.test_sandbox_codex_acp_noprompt_live import swarm as swarm  # its parts
from tests.conftest import skip_or_fail
from tests.helpers import ROOT

pytestmark = pytest.mark.xdist_group("protocol-mcp-live")
# each CLI's no-prompt mode (swarm's sandbox is the boundary: docs/agents.md)
NO_PROMPT = {"gemini": "--approval-mode yolo", "claude-code": "--dangerously-skip-permissions"}


def _gemini(home: Path, url: str) -> dict[str, str]:
    """Gemini CLI's settings (an API key on localmodel, folder trust off, quiet)."""
    settings = {
        "security": {"folderTrust": {"enabled": False},
                     "auth": {"selectedType": "gemini-api-key"}},
        "general": {"disableAutoUpdate": True},
        "privacy": {"usageStatisticsEnabled": False},
    }  # fmt: skip
    (home / ".gemini").mkdir()
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    return {"GOOGLE_GEMINI_BASE_URL": url, "GEMINI_API_KEY": "local"}


def _claude(home: Path, url: str, work: Path) -> dict[str, str]:
    """Claude Code's state (onboarding done, the key approved, the worktree trusted) and its
    bypass mode's warning skipped; ``IS_SANDBOX=1`` for that mode as root."""
    state = {
        "hasCompletedOnboarding": True,
        "customApiKeyResponses": {"approved": [CLAUDE_KEY[-20:]], "rejected": []},
        "projects": {str(work): {"hasTrustDialogAccepted": True, "allowedTools": []}},
    }
    (home / ".claude").mkdir()
    (home / ".claude.json").write_text(json.dumps(state), encoding="utf-8")
    quiet = {"skipDangerousModePermissionPrompt": True}
    (home / ".claude" / "settings.json").write_text(json.dumps(quiet), encoding="utf-8")
    return {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": CLAUDE_KEY,
            "DISABLE_AUTOUPDATER": "1", "IS_SANDBOX": "1"}  # fmt: skip


@pytest.fixture(scope="module", params=["gemini", "claude-code"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    cli = str(request.param)
    binary = require_binary(cli)
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    made = Rig(cli, tmp_path_factory.mktemp(f"{cli}-protocol-mcp").resolve())
    made.repo.mkdir()
    _git(made.repo, commit=True)
    home = made.root / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("SECRET-KEY\n", encoding="utf-8")
    probe = PROBE.format(home=made.home, user=home, swarm=DOOR_SWARM)
    model = LocalModel(made.root, SCRIPT.format(prompt=PROMPT, probe=probe, note=NOTE))
    own = _gemini(home, model.url) if cli == "gemini" else _claude(home, model.url, made.worktree)
    command = f"{binary} {NO_PROMPT[cli]}"
    made.config.write_text(
        f'[[agent]]\nid = "{AGENT}"\nrole = "dev"\ncli = "{cli}"\nsandbox = true\nmcp = true\n'
        f"\n[desktop]\ncommand = {json.dumps(command)}\n",
        encoding="utf-8",
    )
    made.env = {**base_env(home), **own, "SWARM_HOME": str(made.home),
                "SWARM_CONFIG": str(made.config), "PYTHONPATH": str(ROOT)}  # fmt: skip
    yield from up_protocol(made, model)


@pytest.mark.timeout(300)
async def test_a_sandboxed_protocol_agent_reports_done_by_its_doors_mcp_server(
    rig: Rig, swarm: Swarm
) -> None:
    await small_task(rig, swarm)
