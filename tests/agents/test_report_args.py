"""What lets an agent's CLI run swarm's own report commands without asking a person (issue 64,
item 6), added to the command ``swarm desktop up`` starts on every route (its tmux session's,
its window's, its protocol host's): Claude Code's allow rules for the agent's ``swarm``
command as its prompts name it; nothing for a CLI that needs none."""

from __future__ import annotations

import shlex

from core.clis import with_report_args

SWARM = "SWARM_HOME=/srv/team /opt/venv/bin/swarm"


def test_claude_code_is_given_its_allow_rules_at_the_end_of_its_command() -> None:
    line = with_report_args("claude --permission-mode default", SWARM)
    words = shlex.split(line)
    assert words[:3] == ["claude", "--permission-mode", "default"]
    assert words[3] == "--allowedTools"
    assert words[4:] == [
        f"Bash({SWARM} task start:*)", f"Bash({SWARM} task done:*)",
        f"Bash({SWARM} task note:*)", f"Bash({SWARM} task fail:*)", f"Bash({SWARM} ask:*)",
        f"Bash({SWARM} send:*)", "mcp__swarm",
    ]  # fmt: skip


def test_a_cli_that_needs_none_and_a_command_swarm_does_not_know_are_left_as_they_are() -> None:
    """Codex and opencode ask for no report at their defaults; Gemini CLI and Qwen Code have no
    rule that spares a report and still asks for what rides on it (docs/agents.md)."""
    known = ("codex --ask-for-approval on-request", "gemini", "opencode", "qwen")
    for command in (*known, "my-agent --flag", "a 'b"):
        assert with_report_args(command, SWARM) == command
