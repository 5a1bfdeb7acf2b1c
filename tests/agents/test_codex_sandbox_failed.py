"""The pinned Codex whose own sandbox cannot run (it runs inside a bwrap that allows no user
namespace: its shell's bwrap fails), read by swarm's text watcher: one ``sandbox-failed``
alert for that agent, in ``swarm inbox --json``, with Codex's own line and what would allow
it; another Codex whose prompt and answer quote the same line gets none.

Both are started ONCE for the module against localmodel; with ``SWARM_SAVE_PANES=1`` the
failing pane is saved as core/clis/codex/panes/codex-<version>-sandbox-failed.txt."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.agents._text_rules import load_rule_sets, sandbox_failure
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.agents.launch import launch, stop
from tests.agents.live import LiveCLI, save_pane
from tests.helpers import run_cli, write_agents

pytestmark = pytest.mark.xdist_group("codex-live")

FAILED = "bwrap: Creating new namespace failed"
SCRIPT = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "make a file"
steps = [{{ text = "Creating it.", shell = "touch made-by-localmodel.txt" }}, {{ text = "done" }}]

[[turns]]
match = "explain"
text = "It said:\\n└ {FAILED}: ENOSPC\\nthat is all"
"""
NO_USERNS = ["--dev-bind", "/", "/", "--unshare-user", "--disable-userns", "--"]


@pytest.fixture(scope="module")
def clis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveCLI, LiveCLI]]:
    """A: Codex whose sandbox failed on its command; B: Codex quoting that line."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("no bwrap to start Codex without user namespaces")
    root = tmp_path_factory.mktemp("codex-sandbox")
    boxed = launch("codex", root / "a", SCRIPT, wrap=[bwrap, *NO_USERNS])
    quoting = None
    try:
        quoting = launch("codex", root / "b", SCRIPT)
        boxed.send("make a file")
        boxed.wait("Worked for", timeout=60)
        save_pane(boxed, "codex", "sandbox-failed")
        quoting.send(f"explain └ {FAILED}: ENOSPC")
        quoting.wait("that is all", timeout=60)
        yield boxed, quoting
    finally:
        stop(boxed)
        if quoting is not None:
            stop(quoting)


@pytest.fixture
async def watched(
    clis: tuple[LiveCLI, LiveCLI], home: Path, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[TextWatcher]:
    """swarm's text watcher over both panes, agents A (failed) and B (quoting)."""
    agents: list[dict[str, object]] = [
        {"id": name, "role": "dev", "tmux": live.target, "tmux_socket": str(live.tmux.socket),
         "cli": "codex"}
        for name, live in zip("AB", clis, strict=True)
    ]  # fmt: skip
    config = write_agents(tmp_path / "agents.toml", agents)
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    service = await SwarmService.open(settings, clock)
    text = TextWatcher(service, load_rule_sets(None)[0])
    try:
        yield text
    finally:
        await text.close()
        await service.close()


def test_the_saved_pane_matches_the_sandbox_rule() -> None:
    codex = {rs.cli: rs for rs in load_rule_sets(None)[0]}["codex"]
    pane = Path(__file__).parents[2] / "core/clis/codex/panes/codex-0.169.0-sandbox-failed.txt"
    found = sandbox_failure(codex, pane.read_text(encoding="utf-8").split("\n"))
    assert found is not None and found.rule == "sandbox-exec", found
    assert found.line.startswith(f"└ {FAILED}"), found


@pytest.mark.timeout(180)
async def test_one_alert_opens_for_the_failed_agent_alone_and_inbox_lists_it(
    watched: TextWatcher, clis: tuple[LiveCLI, LiveCLI], home: Path, tmp_path: Path
) -> None:
    quoted = [x.strip() for x in clis[1].screen().split("\n") if FAILED in x]
    assert len(quoted) == 2 and quoted[1].startswith(f"└ {FAILED}"), quoted  # prompt, answer
    first = await watched.tick()
    again = await watched.tick()  # still shown: no second alert
    assert {o.agent for o in first} == {"A", "B"} and len(again) == 2
    listed = run_cli(home, "inbox", "--json", config=tmp_path / "agents.toml")
    assert listed.code == 0, listed.err
    items = [i for i in json.loads(listed.out) if "sandbox" in json.dumps(i)]
    assert len(items) == 1, items
    text = json.dumps(items[0])
    assert '"A"' in text or "A's own sandbox" in text, items
    assert FAILED in items[0]["text"] and "danger-full-access" in items[0]["text"], items
    assert "B's" not in text, items
