"""The MCP servers a protocol host passes in ``session/new`` (``automation.protocol.acp_driver``):
what swarm's server needs to reach the store comes from the agent's environment, as the CLIs
that give their servers their whole environment would give it."""

from __future__ import annotations

from automation.protocol.acp_driver import _mcp_server

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
