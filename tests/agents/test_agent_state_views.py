"""How agent states read in the CLI tables, ``swarm status`` and Discord's ``/agents``."""

from __future__ import annotations

from typing import Any

from bot.cli.format import agents_table, status_text
from bot.discordbot.render import agents_text


def agent(name: str, state: str, evidence: str, **more: Any) -> dict[str, Any]:
    row = {
        "id": name,
        "role": "dev",
        "state": state,
        "evidence": evidence,
        "alerts": [],
        "paused": False,
        "tasks": [],
        "done": 0,
        "failed": 0,
        "last_report_at": None,
        "node": None,
    }
    return row | more


ROWS = [
    agent("Agent-1", "working", "hook: PreToolUse Bash", tasks=["T-3"]),
    agent("Agent-2", "stalled", "Agent-2 stalled: no activity for 12 min on T-4", paused=True),
    agent("Agent-3", "unknown", "", alerts=["unreachable"]),
    agent("Agent-4", "waiting", "prompt 7 open: Allow Bash: rm -rf \x1b[2Jbuild"),
]


def test_the_agents_table_shows_the_state_its_marks_and_the_evidence() -> None:
    lines = agents_table(ROWS).splitlines()
    assert lines[0].split() == [
        "AGENT", "ROLE", "STATE", "TASK", "DONE", "FAILED", "LAST", "REPORT", "EVIDENCE",
    ]  # fmt: skip
    assert "stalled, paused" in lines[2] and "no activity for 12 min" in lines[2]
    assert "unknown, unreachable" in lines[3]
    assert "\x1b" not in lines[4] and "\\x1b[2Jbuild" in lines[4]


def test_status_says_when_every_agent_is_limited() -> None:
    overview: dict[str, Any] = {
        "tasks": {"ready": 2},
        "deliveries": {},
        "input_paused": None,
        "agents": ROWS[:1],
        "limited": {"agents": [{"agent": "Agent-1", "until": 2e9}], "all": True, "until": 2e9},
    }
    text = status_text(overview)
    assert "limits:     every agent is limited until " in text and "ready tasks wait" in text
    overview["limited"] = {"agents": [{"agent": "Agent-1", "until": 2e9}], "all": False}
    assert "Agent-1 until " in status_text(overview) and "every agent" not in status_text(overview)
    overview["limited"] = {"agents": [], "all": False, "until": None}
    assert "limits:" not in status_text(overview)


def test_discord_agents_lists_each_state_with_its_evidence() -> None:
    text = agents_text(ROWS)
    table, evidence = text.split("\n\n")
    assert "stalled, paused" in table
    assert evidence.splitlines()[0] == "Agent-1: hook: PreToolUse Bash"
    assert "\x1b" not in evidence and len(evidence.splitlines()) == 3  # Agent-3 has none
