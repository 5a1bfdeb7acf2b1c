"""``swarm demo --front-end telegram``: the demo played in the local Telegram by the real
bot, as a person runs it; the page's address printed, every task done, each card edited in
place to done."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli

PAGE = re.compile(r"local Telegram at (http://127\.0\.0\.1:\d+/chat/#\S+): bot ready")


@pytest.mark.timeout(150)
def test_the_demo_plays_in_the_local_telegram(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path / "unused-home",
        "demo",
        "--front-end",
        "telegram",
        "--inbox",
        timeout=140,
        env={"TMPDIR": str(tmp_path)},
    )
    assert result.code == 0, result.out + result.err
    assert PAGE.search(result.out), result.out
    # the bot's answer after the command (a card's post may be printed between the two)
    asked = result.out.find("you> /task Write the API tests\n")
    # (its mark is the task's state when the answer is drawn: 🆕, or 📨 once assigned)
    assert 0 <= asked < result.out.find(" T-4 created: its message follows"), result.out
    assert "you> /broadcast Demo kick-off" in result.out
    assert "  bot> 📣 queued for 8 agent(s)" in result.out
    assert re.search(r"  Agent-\d\$ swarm task done T-5 --note 'finished by demo", result.out)
    assert re.search(r"telegram \(edited\) \| ✅ T-4 · Write the API tests — done by Agent-\d",
                     result.out)  # fmt: skip
    assert "summary: 5/5 tasks done, 0 failed" in result.out
    assert "your own Telegram bot:     docs/telegram.md" in result.out
    assert "Discord:   off" in result.out  # the demo's own chat only
    assert list(tmp_path.iterdir()) == []  # nothing left behind without --keep


def test_the_demo_without_localtelegram_names_the_package(tmp_path: Path) -> None:
    hide = (
        "import sys; sys.modules['localtelegram'] = None; "  # as if it were not installed
        "from bot.cli.main import main; sys.exit(main(['demo', '--front-end', 'telegram']))"
    )
    env = {**os.environ, "SWARM_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", hide], env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "swarm: error: swarm demo --front-end telegram needs the localtelegram package: in "
        "the swarm repository run make, or pip install ./packages/localtelegram "
        "'swarm[telegram]'\n"
    )
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []  # nothing started
