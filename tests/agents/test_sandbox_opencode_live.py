"""The real opencode (pinned) does a small task inside swarm's bubblewrap sandbox in its
no-prompt mode, started by ``swarm desktop up --headless`` with ``sandbox = true`` and ``mcp =
true`` as a user starts it: every permission allowed by ``OPENCODE_PERMISSION`` in the
agent's ``[desktop.agent.Agent-1.env]`` (opencode 1.18.33 merges that JSON over its config's
``permission``; nothing is written to the person's ``opencode.json``). Its shell writes a file
in its worktree, reads outside it (swarm's database, a key in ``~/.ssh``: opencode's
``external_directory`` permission, which its build agent asks by default) and reports ``swarm
task start`` through its door; swarm's MCP ``report`` tool reports ``done``; no dialog on its
pane and no item in "Needs you"; neither file could be read from inside.

One opencode for the module: the test runs in the one fixture that starts it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from tests.agents import sandbox_live as box
from tests.agents.launch import OPENCODE_OFFLINE
from tests.agents.live import LocalModel, require_binary
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig

pytestmark = pytest.mark.xdist_group("opencode-live")

PERMISSION = '{"*": "allow"}'  # every permission, every pattern: nothing asked
READY = "Ask anything"


def setup_opencode(rig: SandboxRig, model: LocalModel) -> None:
    """The person's ``~/.config/opencode/opencode.json`` (localmodel as its provider, no
    update nor share; no ``permission`` block) and the agent's ``OPENCODE_PERMISSION`` in
    the agents file; opencode kept offline (tests/agents/launch.py's variables)."""
    provider = {
        "npm": "@ai-sdk/openai-compatible",
        "name": "localmodel",
        "options": {"baseURL": model.url + "/v1", "apiKey": "sk-local"},
        "models": {"local-model": {"name": "Local model"}},
    }
    config = {"autoupdate": False, "share": "disabled", "model": "local/local-model",
              "provider": {"local": provider}}  # fmt: skip
    folder = rig.user / ".config" / "opencode"
    folder.mkdir(parents=True)
    (folder / "opencode.json").write_text(json.dumps(config), encoding="utf-8")
    rig.env.update({**OPENCODE_OFFLINE, "TERM": "xterm-256color"})
    with rig.config.open("a", encoding="utf-8") as agents:
        agents.write(
            f"\n[desktop.agent.Agent-1.env]\nOPENCODE_PERMISSION = {json.dumps(PERMISSION)}\n"
        )


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxRig, LocalModel]]:
    binary = require_binary("opencode")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    root = tmp_path_factory.mktemp("opencode").resolve()
    made = SandboxRig(root, sandbox=True)
    model = LocalModel(root, box.script(made, sandboxed=True))
    box.use_command(made, "opencode", str(binary), mcp=True)
    setup_opencode(made, model)
    try:
        yield made, model
    finally:
        box.stop(made, model)


@pytest.mark.timeout(300)
def test_opencode_with_every_permission_allowed_does_a_task_in_the_sandbox_unasked(
    rig: tuple[SandboxRig, LocalModel],
) -> None:
    made, model = rig
    tally = box.Tally()
    box.start(made, "opencode", READY, tally)
    box.wait_mcp(made, "opencode", model, tally, timeout=150)
    box.do_task(made, "opencode", tally)
    assert (tally.dialogs, tally.items) == ([], []), tally
    work = made.ws["Agent-1"]
    assert (work / "made-here.txt").read_text() == "made\n"
    seen = (work / "seen.txt").read_text()
    assert "db=hidden" in seen and "ssh=hidden" in seen and "SECRET" not in seen, seen
    assert "T-1 [in_progress]" in seen, seen  # the shell's report, through the door
    shown = made.swarm("task", "show", "T-1").stdout
    assert "status:      done" in shown and "in-bwrap" in shown, shown  # its MCP report
    assert "Permission required" not in box.screen(made)
