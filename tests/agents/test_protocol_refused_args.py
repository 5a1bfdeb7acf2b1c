"""Issue 79, item 5: a CLI that refuses its arguments says why in its own words. The pinned
codex-acp given Codex's own no-prompt flag (``--dangerously-bypass-approvals-and-sandbox``,
which codex-acp does not take) by ``swarm desktop up --protocol`` from an agents file as a
user writes it: ``desktop up`` fails in one line holding codex-acp's own error, not the
connection's end alone (before: ``ConnectionError('Connection closed')``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import cli_zygote
from tests.agents.launch import SETUPS
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_protocol_live import AGENT, SCRIPT, work_folder
from tests.helpers import ROOT

pytestmark = pytest.mark.xdist_group("codex-live")
FLAG = "--dangerously-bypass-approvals-and-sandbox"


@pytest.mark.timeout(180)
def test_a_refused_argument_is_said_in_the_clis_own_words(tmp_path: Path) -> None:
    binary = require_binary("codex")
    work = work_folder(tmp_path)
    model = LocalModel(tmp_path, SCRIPT)
    try:
        setup = SETUPS["codex"](binary, tmp_path / "home", work, model.url)
        home, config = tmp_path / "swarm", tmp_path / "agents.toml"
        home.mkdir()
        command = " ".join([*setup.argv, FLAG])
        config.write_text(
            f'[[agent]]\nid = "{AGENT}"\nrole = "dev"\nworkspace = "{work}"\ncli = "codex"\n'
            f"\n[desktop]\ncommand = {json.dumps(command)}\n",
            encoding="utf-8",
        )
        env = {**setup.env, "SWARM_HOME": str(home), "SWARM_CONFIG": str(config),
               "PYTHONPATH": str(ROOT)}  # fmt: skip
        try:
            up = cli_zygote.run(["desktop", "up", "--protocol"], env, work, 240)
            assert up.returncode == 2, up.stdout + up.stderr
            assert "unexpected argument" in up.stderr and FLAG in up.stderr, up.stderr
            assert len(up.stderr.strip().splitlines()) == 1, up.stderr
        finally:
            cli_zygote.run(["desktop", "down", "--headless"], env, work, 120)
    finally:
        model.stop()
