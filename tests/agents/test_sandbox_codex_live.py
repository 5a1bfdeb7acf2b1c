"""The real Codex CLI (pinned) does a small task inside swarm's bubblewrap sandbox in its
no-prompt mode (``--dangerously-bypass-approvals-and-sandbox``: its own sandbox off, swarm's
is the boundary), started by ``swarm desktop up --headless`` with ``sandbox = true`` as a user
starts it. Its shell writes a file in its worktree and reports ``swarm task start`` through
its door (by path: its login shell's PATH leaves the door's folder out); swarm's MCP tools,
which a Codex agent gets by default, report ``done`` through the same door; no dialog on its
pane and no item in "Needs you". From inside its shell, swarm's database and a key planted in
the user's ``~/.ssh`` cannot be read.

Issue 78: its model only through swarm's gateway (its network its own, by default for Codex):
its process holds a placeholder, not the person's key, and names swarm's provider on its
command line; localmodel saw every model request with a credential (put there outside); the
gateway's records, booked into the ledger as ``swarm run``'s watch books them, equal
localmodel's own counts."""

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
    _through_the_gateway(made, model)


def _codex_environ() -> dict[str, str]:
    """The environment of the Codex process that names swarm's provider (``-c``)."""
    for proc in Path("/proc").iterdir():
        try:
            words = (proc / "cmdline").read_bytes().split(b"\0")
            if b'model_provider="swarm_gateway"' not in words or b"codex" not in words[0]:
                continue
            pairs = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
    raise AssertionError("no Codex process names swarm's gateway provider")


def _through_the_gateway(made: SandboxRig, model: LocalModel) -> None:
    inside = _codex_environ()
    assert box.CODEX_KEY not in inside.values(), "the person's key is inside the sandbox"
    assert inside["OPENAI_API_KEY"] == "swarm-gateway-holds-the-key", inside
    assert "CODEX_API_KEY" not in inside
    asked = [r for r in model.requests() if r["path"] == "/v1/responses"]
    assert asked and all("authorization" in {h.lower() for h in r["headers"]} for r in asked)
    theirs = [r["usage"] for r in asked if r["usage"] is not None]
    booked = box.booked_from_wire(made)
    assert theirs and booked == {
        kind: sum(u[kind] or 0 for u in theirs) for kind in ("input", "output", "cache_read")
    }, (booked, theirs)
