"""The MCP servers a protocol host passes in ``session/new`` (``automation.protocol.acp_driver``):
what swarm's server needs to reach the store comes from the agent's environment, as the CLIs
that give their servers their whole environment would give it; a sandboxed agent's is its
door's ``swarm mcp``, given none of it (``automation.protocol.session``)."""

from __future__ import annotations

import sys
from pathlib import Path

from automation.launch import hooks
from automation.protocol.acp_driver import _mcp_server
from automation.protocol.session import through_door
from core.models import Agent, Sandbox

ENTRY = {
    "name": "swarm",
    "command": "/usr/bin/python3",
    "args": ["-m", "bot.cli", "mcp"],
    "env": {"SWARM_AGENT": "Agent-2", "SWARM_HOME": "/srv/swarm"},
}
AGENT_ENV = {
    "SWARM_DATABASE_URL": "postgresql://swarm@/swarm?host=/run/pg",
    "PGPASSFILE": "/srv/pgpass",
    "SWARM_AGENT": "Agent-9",
    "SWARM_HOME": "/elsewhere",
    "HOME": "/home/agent",
    "OPENAI_API_KEY": "sk-not-for-the-server",
}


def test_swarms_server_gets_the_store_settings_of_the_agents_environment() -> None:
    """Codex (codex-acp) gives a session's server only HOME, PATH, LANG, TERM and its
    ``env``: the database URL and libpq's variables are in that ``env``."""
    server = _mcp_server(ENTRY, AGENT_ENV)
    env = {variable.name: variable.value for variable in server.env}
    assert env["SWARM_DATABASE_URL"] == AGENT_ENV["SWARM_DATABASE_URL"]
    assert env["PGPASSFILE"] == "/srv/pgpass"
    assert (server.name, server.command, server.args) == (
        "swarm", "/usr/bin/python3", ["-m", "bot.cli", "mcp"],
    )  # fmt: skip


def test_the_entrys_own_settings_win_and_nothing_else_is_passed() -> None:
    """The entry says which agent and home the server is for; the agent's other variables
    (its model's key, its HOME) are the CLI's to give."""
    env = {v.name: v.value for v in _mcp_server(ENTRY, AGENT_ENV).env}
    assert (env["SWARM_AGENT"], env["SWARM_HOME"]) == ("Agent-2", "/srv/swarm")
    assert "OPENAI_API_KEY" not in env and "HOME" not in env
    assert _mcp_server({"name": "x", "command": "x"}, {}).env == []


DOOR_ENTRY = {"name": "swarm", "command": "/run/swarm/swarm", "args": ["mcp"], "env": {}}


def test_a_sandboxed_agents_door_server_gets_none_of_swarms_variables() -> None:
    """The door's ``swarm mcp`` runs inside the sandbox: the host's database URL and libpq's
    variables would cross into it with ``session/new``; the door serves the agent outside,
    where they are."""
    server = _mcp_server(DOOR_ENTRY, AGENT_ENV)
    assert (server.command, server.args, server.env) == ("/run/swarm/swarm", ["mcp"], [])
    planted = {**DOOR_ENTRY, "command": "/run/swarmish/swarm"}  # not the door's folder
    assert {v.name for v in _mcp_server(planted, AGENT_ENV).env} >= {"SWARM_DATABASE_URL"}


def test_a_sandboxed_protocol_agent_is_given_its_doors_server(tmp_path: Path) -> None:
    """``desktop up --protocol``: an agent that wants MCP gets swarm's server in its session;
    a sandboxed one its door's, by its path inside (swarm's Python is not in there)."""
    reach = hooks.Reach(tmp_path, ("SWARM_HOME=/srv/swarm",))
    team = [Agent("Out", "dev", cli="codex"), Agent("In", "dev", cli="codex", sandbox=Sandbox()),
            Agent("Quiet", "dev", cli="gemini", sandbox=Sandbox())]  # fmt: skip
    servers = hooks.mcp_for(reach, team)
    (outside,) = servers("Out")
    env = outside["env"]
    assert outside["command"] == sys.executable and isinstance(env, dict), outside
    assert env["SWARM_AGENT"] == "Out"
    assert servers("In") == [{"name": "swarm", **DOOR_ENTRY}]
    assert servers("Quiet") == []  # no mcp = true, and its CLI does not report by MCP


def test_only_the_doors_server_passes_into_a_sandboxed_session() -> None:
    """A server of the outside (swarm's Python, the home in its env) is left out of a
    sandboxed agent's session: inside it names a program that is not there."""
    outside = {**ENTRY, "name": "outside"}
    assert through_door("In", [outside, DOOR_ENTRY]) == [DOOR_ENTRY]
    assert through_door("In", [{"name": "x", "command": "/run/swarm-not/swarm"}]) == []
