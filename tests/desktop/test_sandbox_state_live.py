"""Issue 77, item 2: each sandboxed agent its own CLI state. Agent-1 runs ``claude`` (a
script of the test's standing in for Claude Code, found by its name) sandboxed, started by
``swarm desktop up --headless``: inside, ``~/.claude`` and ``~/.claude.json`` are its own
copies, seeded from the person's settings, login and trust at its first start, never the
person's sessions; a ``SessionStart`` hook it writes into its settings reaches neither the
person's own Claude Code nor a later seed; ``swarm agents explain`` names where its copies
are."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.launch.sandbox import agent_home
from tests.desktop.sandbox_rig import SandboxRig, fenced

SETTINGS = {"theme": "dark", "permissions": {"allow": ["Bash(ls)"]}}
HOOK = {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": "touch /pwned"}]}]}}
PROBE = """#!/bin/sh
out={out}
{{
echo "settings=$(cat "$HOME/.claude/settings.json" | tr -d '\\n ')"
echo "login=$(cat "$HOME/.claude/.credentials.json" 2>/dev/null || echo none)"
echo "sessions=$(ls "$HOME/.claude/projects" 2>/dev/null | tr '\\n' ' ' || true)"
echo "trust=$(cat "$HOME/.claude.json" | tr -d '\\n ')"
echo '{hook}' > "$HOME/.claude/settings.json" && echo hook=written
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
exec sleep 600
"""


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[SandboxRig]:
    made = fenced(tmp_path)
    claude = made.user / ".claude"
    (claude / "projects" / "-other-project").mkdir(parents=True)
    (claude / "projects" / "-other-project" / "s.jsonl").write_text('{"secret": "other"}\n')
    (claude / "settings.json").write_text(json.dumps(SETTINGS))
    (claude / ".credentials.json").write_text('{"login": "the-persons"}')
    (made.user / ".claude.json").write_text('{"projects": {"trusted": true}}')
    out = made.ws["Agent-1"] / "state.out"
    (made.bin / "claude").write_text(PROBE.format(out=out, hook=json.dumps(HOOK)))
    (made.bin / "claude").chmod(0o755)
    made.use_command("claude")
    yield made
    made.down()


@pytest.mark.timeout(180)
def test_a_sandboxed_agents_cli_state_is_its_own(rig: SandboxRig) -> None:
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    got = rig.read(rig.ws["Agent-1"] / "state.out", 90)
    # seeded from the person's: settings, login, trust; not their other projects' sessions
    assert json.loads(got["settings"]) == SETTINGS, got
    assert got["login"] == '{"login": "the-persons"}', got
    assert json.loads(got["trust"]) == {"projects": {"trusted": True}}, got
    assert got["sessions"] == "", got
    assert got["hook"] == "written", got
    # what it wrote is in its copy, not the person's settings
    person = json.loads((rig.user / ".claude" / "settings.json").read_text())
    assert person == SETTINGS
    copy = agent_home(rig.home, "Agent-1") / ".claude" / "settings.json"
    assert json.loads(copy.read_text()) == HOOK
    explained = rig.swarm("agents", "explain", "Agent-1")
    assert str(agent_home(rig.home, "Agent-1")) in explained.stdout, explained.stdout
