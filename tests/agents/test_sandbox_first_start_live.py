"""A sandboxed CLI keeps what it writes at its first start. The pinned Claude Code, started
twice in swarm's sandbox (``automation.launch.sandbox._wrap``, as ``desktop up`` wraps it) from a
fresh home with no ``~/.claude.json``: the file it writes at its first start is the agent's
own copy (``$SWARM_HOME/sandboxes/Agent-1/home/.claude.json``, made ``{}`` before the
sandbox binds it at the person's path; the person's home gets none), so the second start is
not a first start again. Before, the file was written in the sandbox's own home and lost
with it, and the second start said its configuration file was missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from automation.launch.sandbox import agent_home, close_doors
from tests.agents.launch import CLAUDE_KEY
from tests.agents.live import LocalModel, require_binary
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.xdist_group("claude-code-live")
REPO = Path(__file__).resolve().parents[2]


WRAP = """
import json, os, sys
from pathlib import Path
from automation.launch.sandbox import wrap
from core.clis import by_name
from core.models import Sandbox
work, home, binary = (Path(a) for a in sys.argv[1:])
argv = wrap("Agent-1", Sandbox(), by_name("claude-code"), work, [str(binary), "-p", "say hi"],
            dict(os.environ), home)
print(json.dumps(argv))
"""


def _start(binary: Path, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Claude Code run once in the sandbox ``desktop up`` makes for it (its door opened by a
    child, as by ``desktop up``, and closed after)."""
    work, home = root / "ws", root / "home"
    made = subprocess.run([sys.executable, "-c", WRAP, str(work), str(home), str(binary)],
                          env={**env, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    argv = json.loads(made.stdout)
    try:
        return subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
    finally:
        close_doors(home, ["Agent-1"])


@pytest.mark.timeout(300)
def test_claude_codes_first_start_state_is_kept_across_sandboxed_starts(tmp_path: Path) -> None:
    binary = require_binary("claude-code")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    user = tmp_path / "user"
    for folder in (user, tmp_path / "home"):
        folder.mkdir()
    subprocess.run(["git", "init", "-q", str(tmp_path / "ws")], check=True, timeout=30)
    model = LocalModel(tmp_path, 'default = [{ text = "hello from localmodel" }]\n')
    env = {
        "PATH": os.environ["PATH"], "HOME": str(user), "LANG": "C.UTF-8", "TERM": "xterm",
        "SWARM_HOME": str(tmp_path / "home"),
        "ANTHROPIC_BASE_URL": model.url, "ANTHROPIC_API_KEY": CLAUDE_KEY,
        "DISABLE_AUTOUPDATER": "1",
    }  # fmt: skip
    state = agent_home(tmp_path / "home", "Agent-1") / ".claude.json"  # its own copy
    try:
        first = _start(binary, tmp_path, env)
        assert first.returncode == 0 and "hello from localmodel" in first.stdout, first.stderr
        assert state.exists(), "the first start's state was written inside and lost"
        started = json.loads(state.read_text())["firstStartTime"]
        second = _start(binary, tmp_path, env)
        assert second.returncode == 0 and "hello from localmodel" in second.stdout, second
        assert "configuration file" not in second.stderr, second.stderr
        assert json.loads(state.read_text())["firstStartTime"] == started  # one first start
        assert (state.stat().st_mode & 0o777) == 0o600
        assert not (user / ".claude.json").exists()  # the person's home: nothing of its
    finally:
        model.stop()
