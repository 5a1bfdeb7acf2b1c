"""The real Codex CLI (pinned) does a small task inside swarm's bubblewrap sandbox in its
no-prompt mode (``--dangerously-bypass-approvals-and-sandbox``: its own sandbox off, swarm's
is the boundary), started by ``swarm desktop up --headless`` with ``sandbox = true`` as a user
starts it. Its shell writes a file in its worktree and reports ``swarm task start`` through
its door (by path: its login shell's PATH leaves the door's folder out); swarm's MCP tools,
which a Codex agent gets by default, report ``done`` through the same door; no dialog on its
pane and no item in "Needs you". From inside its shell, swarm's database and a key planted in
the user's ``~/.ssh`` cannot be read."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents import sandbox_live as box
from tests.agents.live import LocalModel, require_binary
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig

pytestmark = pytest.mark.xdist_group("codex-live")

NO_PROMPT = "--dangerously-bypass-approvals-and-sandbox"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[SandboxRig, LocalModel]]:
    binary = require_binary("codex")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    made = SandboxRig(tmp_path, sandbox=True)
    model = LocalModel(tmp_path, box.script(made, sandboxed=True))
    box.setup_codex(made, model)
    box.use_command(made, "codex", f"{binary} {NO_PROMPT}")
    try:
        yield made, model
    finally:
        box.stop(made, model)


@pytest.mark.timeout(240)
def test_codex_in_its_no_prompt_mode_does_a_task_in_the_sandbox_unasked(
    rig: tuple[SandboxRig, LocalModel],
) -> None:
    made, model = rig
    tally = box.Tally()
    box.start(made, "codex", "? for shortcuts", tally)
    box.wait_mcp(made, "codex", model, tally)
    box.do_task(made, "codex", tally)
    assert (tally.dialogs, tally.items) == ([], []), tally
    work = made.ws["Agent-1"]
    assert (work / "made-here.txt").read_text() == "made\n"
    seen = (work / "seen.txt").read_text()
    assert "db=hidden" in seen and "ssh=hidden" in seen and "SECRET" not in seen, seen
    assert "T-1 [in_progress]" in seen, seen  # the shell's report, through the door
    shown = made.swarm("task", "show", "T-1").stdout
    assert "status:      done" in shown and "in-bwrap" in shown, shown  # its MCP report
