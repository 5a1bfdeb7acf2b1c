"""``swarm demo --front-end slack``: the demo played in the local Slack by the real app
(slack-bolt over Socket Mode), as a person runs it; the page's address printed, every task
done, each card edited in place to done."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import run_cli

PAGE = re.compile(r"local Slack at (http://127\.0\.0\.1:\d+/\?user=U\w+&channel=C\w+): app ready")


@pytest.mark.timeout(150)
def test_the_demo_plays_in_the_local_slack(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path / "unused-home",
        "demo",
        "--front-end",
        "slack",
        "--inbox",
        timeout=140,
        env={"TMPDIR": str(tmp_path)},
    )
    assert result.code == 0, result.out + result.err
    assert PAGE.search(result.out), result.out
    # the answer's mark is the task's state when it is drawn: 🆕, or 📨 once assigned
    assert re.search(r"you> /swarm task Write the API tests\n  bot> (🆕|📨) \*T-4\* created",
                     result.out), result.out  # fmt: skip
    assert "you> /swarm broadcast Demo kick-off" in result.out
    assert re.search(r"  Agent-\d\$ swarm task done T-5 --note 'finished by demo", result.out)
    assert re.search(r"slack \(edited\) \| ✅ \*T-4\* · Write the API tests — done by Agent-\d",
                     result.out)  # fmt: skip
    assert "summary: 5/5 tasks done, 0 failed" in result.out
    assert "your own Slack bot:        docs/slack.md" in result.out
    assert list(tmp_path.iterdir()) == []
