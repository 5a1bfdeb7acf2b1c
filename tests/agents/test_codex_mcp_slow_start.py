"""The real Codex CLI waits for a swarm MCP server that starts slowly, as a fleet's may.

``swarm mcp`` answered ``initialize`` in 1.6 s alone and in ~8 s each when 8 started at once
on two cores (2026-12-01, with a test run beside); a larger fleet, its CLIs starting beside,
takes longer. Codex gives up on a server that has not started by its default wait and goes on
without it for the session: its agent would have none of swarm's tools (reports by MCP are
Codex's default). Measured on Codex 0.169 with the table before: a server 20 s late was
waited for, one 30 s late never (its tools missing at every turn for 90 s). swarm's table
gives it ``startup_timeout_sec`` (``core.clis.codex.mcp.STARTUP_TIMEOUT_S``); here the server
is swarm's own, started 30 s late."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from core.agents import _workspace_files as workspace_files
from core.clis import mcp_files
from tests.agents.launch import launch, stop
from tests.agents.test_codex_reports import _warm_up
from tests.helpers import ROOT

pytestmark = pytest.mark.xdist_group("codex-live")
CLI, AGENT = "codex", "Codex-1"
LATE_S = 30  # past what Codex waits by default (20 s late was waited for), inside swarm's
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "warm up your tools"
steps = [{ tool = "my_task", input = {} }, { text = "tools ready" }]
"""


@pytest.mark.timeout(240)
def test_codex_waits_for_a_swarm_mcp_server_that_starts_late(tmp_path: Path) -> None:
    home, work = tmp_path / "swarm", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    config = tmp_path / "agents.toml"
    config.write_text(f'[[agent]]\nid = "{AGENT}"\nrole = "dev"\ncli = "{CLI}"\n', "utf-8")
    env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config), "SWARM_AGENT": AGENT}
    late = f"sleep {LATE_S}; exec {shlex.quote(sys.executable)} -m bot.cli mcp"
    server = mcp_files.Server("/bin/sh", ("-c", late), {**env, "PYTHONPATH": str(ROOT)})
    assert [c.what for c in workspace_files.install_mcp(home, work, CLI, server)] == ["added"]
    codex = launch(CLI, tmp_path / "codex", SCRIPT, work=work)
    try:
        _warm_up(codex)  # swarm's my_task answered: the server was waited for
        assert "timed out" not in codex.screen()
    finally:
        stop(codex)
