"""The real Gemini CLI (pinned) does a small task inside swarm's bubblewrap sandbox in its
no-prompt mode (``--approval-mode yolo``; its own sandbox is off unless asked for), started by
``swarm desktop up --headless`` with ``sandbox = true`` and ``mcp = true`` as a user starts
it. Its shell writes a file in its worktree and reports ``swarm task start`` through its door;
swarm's MCP tools report ``done`` through the same door; no dialog on its pane and no item in
"Needs you". From inside its shell, swarm's database and a key planted in the user's
``~/.ssh`` cannot be read; the debug log swarm names at launch is written from inside.

In its default approval mode (each test starts its own CLI: the mode is its command's),
swarm's report policy lets the model's ``task start`` and ``task done`` through the door's
``/run/swarm/swarm`` run unasked, while a ``touch`` still asks."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clis.logs import log_path
from tests.agents import sandbox_live as box
from tests.agents.live import LocalModel, require_binary
from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig, assign

pytestmark = pytest.mark.xdist_group("gemini-live")

NO_PROMPT = "--approval-mode yolo"
READY = "Type your message or @path/to/file"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[SandboxRig, LocalModel]]:
    binary = require_binary("gemini")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    made = SandboxRig(tmp_path, sandbox=True)
    model = LocalModel(tmp_path, box.script(made, sandboxed=True))
    box.setup_gemini(made, model)
    box.use_command(made, "gemini", f"{binary} {NO_PROMPT}", mcp=True)
    try:
        yield made, model
    finally:
        box.stop(made, model)


@pytest.mark.timeout(300)
def test_gemini_in_its_no_prompt_mode_does_a_task_in_the_sandbox_unasked(
    rig: tuple[SandboxRig, LocalModel],
) -> None:
    made, model = rig
    tally = box.Tally()
    box.start(made, "gemini", READY, tally)
    box.wait_mcp(made, "gemini", model, tally, timeout=150)
    box.do_task(made, "gemini", tally)
    assert (tally.dialogs, tally.items) == ([], []), tally
    work = made.ws["Agent-1"]
    assert (work / "made-here.txt").read_text() == "made\n"
    seen = (work / "seen.txt").read_text()
    assert "db=hidden" in seen and "ssh=hidden" in seen and "SECRET" not in seen, seen
    assert "T-1 [in_progress]" in seen, seen  # the shell's report, through the door
    shown = made.swarm("task", "show", "T-1").stdout
    assert "status:      done" in shown and "in-bwrap" in shown, shown  # its MCP report
    assert "Error writing to debug log" not in box.screen(made)
    assert log_path(made.home, "Agent-1").stat().st_size > 0  # written from inside
    _through_the_gateway(made, model)


def _through_the_gateway(made: SandboxRig, model: LocalModel) -> None:
    """Issue 78: its model only through swarm's gateway (its network its own, by default
    for Gemini CLI): localmodel saw every model request with the key in the vendor's header,
    put there outside, and the gateway's usage records equal localmodel's own counts."""
    asked = [r for r in model.requests() if r["usage"] is not None]
    assert asked and all("x-goog-api-key" in {h.lower() for h in r["headers"]} for r in asked)
    records = made.home / "gateway" / "Agent-1" / "records" / "usage.jsonl"
    booked = [json.loads(line)["usage"] for line in records.read_text().splitlines()]
    booked = [b for b in booked if b is not None]
    assert len(booked) == len(asked), (booked, asked)
    assert sum(b["output"] for b in booked) == sum(r["usage"]["output"] for r in asked)
    theirs = [r["usage"] for r in asked]  # booked into the ledger as swarm run books them
    assert box.booked_from_wire(made) == {
        kind: sum(u[kind] or 0 for u in theirs) for kind in ("input", "output", "cache_read")
    }


DOOR = "/run/swarm/swarm"  # core.sandbox.DOOR_SWARM, as the model's command names it
REPORTS = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "report the start"
steps = [{{ text = "Starting.", shell = "{DOOR} task start T-1 --note by-policy" }},
         {{ text = "start reported" }}]

[[turns]]
match = "report the end"
steps = [{{ text = "Ending.", shell = "{DOOR} task done T-1 --note by-policy" }},
         {{ text = "end reported" }}]

[[turns]]
match = "touch a file"
steps = [{{ text = "Touching.", shell = "touch asked-for.txt" }}, {{ text = "touched" }}]
"""


@pytest.fixture
def default_mode(tmp_path: Path) -> Iterator[tuple[SandboxRig, LocalModel]]:
    """Gemini CLI sandboxed in its default approval mode (it asks before a shell command)."""
    binary = require_binary("gemini")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    made = SandboxRig(tmp_path, sandbox=True)
    model = LocalModel(tmp_path, REPORTS)
    box.setup_gemini(made, model)
    box.use_command(made, "gemini", str(binary))
    try:
        yield made, model
    finally:
        box.stop(made, model)


@pytest.mark.timeout(300)
def test_swarms_report_policy_runs_the_doors_reports_unasked_and_a_touch_still_asks(
    default_mode: tuple[SandboxRig, LocalModel],
) -> None:
    made, _ = default_mode
    tally = box.Tally()
    box.start(made, "gemini", READY, tally)
    asyncio.run(assign(made, "reported by policy"))
    for prompt, said in (
        ("report the start", "start reported"),
        ("report the end", "end reported"),
    ):
        box.send(made, prompt)
        box.until(made, "gemini", said, tally, timeout=120)  # a dialog here fails it
    assert (tally.dialogs, box.inbox(made)) == ([], []), tally
    shown = made.swarm("task", "show", "T-1").stdout
    assert "status:      done" in shown and "by-policy" in shown, shown
    box.send(made, "touch a file")
    deadline = time.monotonic() + 120
    while box.dialog(made, "gemini") is None:
        assert time.monotonic() < deadline, box.screen(made)
        time.sleep(0.3)
    assert not (made.ws["Agent-1"] / "asked-for.txt").exists()
