"""The real opencode (pinned) over ACP (``opencode acp``, the protocol route) does a small task
inside swarm's bubblewrap sandbox in its no-prompt mode: ``OPENCODE_PERMISSION`` allowing
every permission in the agent's ``[desktop.agent.A.env]``, as on the tmux route
(tests/agents/test_sandbox_opencode_live.py). Started by ``swarm workspaces init`` and
``swarm desktop up --protocol`` as a user starts it, against localmodel. Its shell writes a
file in its worktree, reads outside it (opencode's ``external_directory``, a permission
request at its defaults) and reports ``swarm task start`` through its door; with ``mcp =
true`` its session's MCP server is its door's ``swarm mcp``, whose ``report`` says ``done``;
no permission request reaches "Needs you"; swarm's database and a key planted in the person's
``~/.ssh`` cannot be read from its shell.

One opencode for the module: the test runs in the one fixture that starts it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from core.sandbox import DOOR_SWARM
from tests.agents.launch import OPENCODE_OFFLINE, _git
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
from tests.agents.test_sandbox_opencode_live import PERMISSION
from tests.conftest import skip_or_fail
from tests.helpers import ROOT

pytestmark = pytest.mark.xdist_group("opencode-live")


def _person(made: Rig, model: LocalModel) -> dict[str, str]:
    """The person's HOME (a key in ``~/.ssh``, opencode's config naming its provider's URL
    and key by ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` as the recipe does, no
    ``permission`` block) and environment (those two naming localmodel: its own network's
    gateway leads there)."""
    home = made.root / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("SECRET-KEY\n", encoding="utf-8")
    provider = {
        "npm": "@ai-sdk/openai-compatible",
        "name": "localmodel",
        "options": {"baseURL": "{env:OPENAI_BASE_URL}", "apiKey": "{env:OPENAI_API_KEY}"},
        "models": {"local-model": {"name": "Local model"}},
    }
    config = {"autoupdate": False, "share": "disabled", "model": "local/local-model",
              "provider": {"local": provider}}  # fmt: skip
    (home / ".config" / "opencode").mkdir(parents=True)
    (home / ".config" / "opencode" / "opencode.json").write_text(json.dumps(config))
    return {**base_env(home), **OPENCODE_OFFLINE, "OPENAI_BASE_URL": model.url + "/v1",
            "OPENAI_API_KEY": "sk-local"}  # fmt: skip


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    binary = require_binary("opencode")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    made = Rig("opencode", tmp_path_factory.mktemp("opencode-acp-noprompt").resolve())
    made.repo.mkdir()
    _git(made.repo, commit=True)
    probe = PROBE.format(home=made.home, user=made.root / "home", swarm=DOOR_SWARM)
    model = LocalModel(made.root, SCRIPT.format(prompt=PROMPT, probe=probe, note=NOTE))
    person = _person(made, model)
    made.config.write_text(
        f'[[agent]]\nid = "{AGENT}"\nrole = "dev"\ncli = "opencode"\nsandbox = true\nmcp = true\n'
        f"\n[desktop]\ncommand = {json.dumps(str(binary))}\n"
        f"\n[desktop.agent.{AGENT}.env]\nOPENCODE_PERMISSION = {json.dumps(PERMISSION)}\n",
        encoding="utf-8",
    )
    made.env = {**person, "SWARM_HOME": str(made.home), "SWARM_CONFIG": str(made.config),
                "PYTHONPATH": str(ROOT)}  # fmt: skip
    yield from up_protocol(made, model)


@pytest.mark.timeout(300)
async def test_opencode_acp_with_every_permission_allowed_does_a_task_in_the_sandbox_unasked(
    rig: Rig, swarm: Swarm
) -> None:
    await small_task(rig, swarm)
