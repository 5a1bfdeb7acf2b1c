"""The file reservations' pre-commit check inside a sandbox. swarm's own Python and home are
not in an agent's sandbox, so the hook runs the check through the agent's door
(``/run/swarm/swarm reservations check-commit``), passing the index git staged into: a commit
in a sandboxed pane that touches another agent's exclusive reservation is refused as it is
outside, ``git commit -a`` included; one that touches nothing reserved goes through. A
worktree's hook written before the check went through the door (it skipped the check inside:
"swarm: ... is gone: file reservations not checked") is rewritten by ``desktop up``, which
says so; the rig starts from such a hook."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.desktop.sandbox_rig import SandboxRig
from tests.workspaces.old_hooks import write_old_hook

PROBE = """\
out="$1"
commit() {{ git -c user.name=a -c user.email=a@a commit -q "$@" > c.log 2>&1; \
echo "$? $(tr '\\n' ' ' < c.log)"; }}
{{
mkdir -p src notes
echo x > notes/plan.txt; git add notes/plan.txt
echo "docs=$(commit -m docs)"
echo y > src/app.py; git add src/app.py
echo "src=$(commit -m src)"
echo "skipped=$(commit --no-verify -m src-anyway)"
echo z >> src/app.py
echo "all=$(commit -a -m change)"
echo end=1
}} > "$out.part" 2>&1
mv "$out.part" "$out"
"""


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[SandboxRig]:
    for tool in ("tmux", "bwrap", "git"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed")
    made = SandboxRig(tmp_path, sandbox=True)
    command = [f"SWARM_HOME={made.home}", f"SWARM_CONFIG={made.config}", sys.executable,
               "-m", "bot.cli.main"]  # fmt: skip
    old = write_old_hook(made.ws["Agent-1"], command, "Agent-1")
    assert "/run/swarm/swarm" not in old.read_text()
    yield made
    made.swarm("desktop", "down", "--headless")
    made.tmux("kill-server")


@pytest.mark.timeout(180)
def test_a_sandboxed_commit_on_another_agents_reservation_is_refused(rig: SandboxRig) -> None:
    held = rig.swarm("reserve", "src/**", "--agent", "Agent-2", "--ttl", "1h")
    assert held.returncode == 0, held.stderr
    done = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    said = next(o["hooks"] for o in json.loads(done.stdout) if o["agent"] == "Agent-1")
    assert any("reservations now checked by its door" in line for line in said), said
    script, out = rig.ws["Agent-1"] / "commits.sh", rig.ws["Agent-1"] / "commits.out"
    script.write_text(PROBE.format())
    assert (
        rig.tmux("send-keys", "-t", "swarm-Agent-1", f"sh {script} {out}", "Enter").returncode == 0
    )
    got = rig.read(out, timeout=90)
    assert got["docs"].startswith("0"), got  # nothing reserved: committed
    assert got["src"].startswith("1 ") and "commit refused" in got["src"], got
    assert "Agent-2" in got["src"] and "not checked" not in got["src"], got
    assert got["skipped"].startswith("0"), got  # the person's escape hatch stays
    assert got["all"].startswith("1 ") and "commit refused" in got["all"], got  # commit -a
