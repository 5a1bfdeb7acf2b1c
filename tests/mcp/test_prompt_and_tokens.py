"""An agent with ``mcp = true`` is told to use the tools in its prompts; ``swarm web token
create --agent A`` makes the token ``/mcp`` and ``SWARM_MCP_TOKEN`` take."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agents_file import load_agents
from core.coordinator.scheduler import Scheduler
from core.errors import ConfigError
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer, run_cli


async def test_the_prompt_of_an_mcp_agent_names_the_tools(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "agents.toml"
    config.write_text(
        '[[agent]]\nid = "Agent-1"\nrole = "dev"\nmcp = true\n\n'
        '[[agent]]\nid = "Agent-2"\nrole = "dev"\n',
        encoding="utf-8",
    )
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    service = await SwarmService.open(settings)
    try:
        for agent in ("Agent-1", "Agent-2"):
            await service.tasks.create(TaskSpec(f"Task of {agent}", agent=agent), "cli")
        deliverer = RecordingDeliverer()
        await Scheduler(service, deliverer).run_burst()
    finally:
        await service.close()
    (tools,), (shell,) = deliverer.for_agent("Agent-1"), deliverer.for_agent("Agent-2")
    assert tools.text.endswith(
        "Report back with the swarm MCP tools: report (start when you begin, note, done, fail) "
        "on T-1, handoff_note, ask_human, message, reserve (files before you change them); "
        "my_task shows the task again. "
        f"If the tools are unavailable: SWARM_HOME={home} swarm task start|note|done|fail T-1"
    )
    assert f"SWARM_HOME={home} swarm task done T-N" in shell.text  # its role text lists them
    assert shell.text.count('--note "what you did"') == 1 and "MCP" not in shell.text  # once


def test_mcp_in_the_agents_file_is_true_or_false(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    path.write_text('[[agent]]\nid = "A"\nrole = "dev"\nmcp = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="agent A: mcp must be true or false"):
        load_agents(path)


def test_token_create_for_an_agent(home: Path) -> None:
    made = run_cli(home, "web", "token", "create", "--agent", "agent-3")
    assert made.code == 0 and made.out.startswith("swt_")
    assert (
        made.err == "token 1 (Agent-3's MCP token, 'Agent-3'): shown once, only its hash is kept\n"
    )
    listed = run_cli(home, "web", "token", "list")
    assert "agent:Agent-3" in listed.out
    for args, said in (
        (("--agent", "Agent-3", "--role", "admin"), "give either --role admin|viewer"),
        (("--agent", "Agent-42"), "unknown agent 'Agent-42'"),
    ):
        refused = run_cli(home, "web", "token", "create", *args)
        assert refused.code == 2 and said in refused.err and refused.err.count("\n") == 1
