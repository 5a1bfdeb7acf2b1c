"""``swarm mcp`` at start and when its database cannot be opened: one-line errors, and a
server that stays up and acts as its token's agent once the database is there."""

from __future__ import annotations

from pathlib import Path

from core.access import _tokens as tokens
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import run_cli
from tests.mcp.conftest import error, given, stdio_session, text


def test_without_an_agent_or_with_an_unknown_one_it_does_not_start(home: Path) -> None:
    nobody = run_cli(home, "mcp")
    assert nobody.code == 2 and nobody.err.startswith("swarm: error: swarm mcp needs to know")
    assert nobody.err.count("\n") == 1 and nobody.out == ""
    unknown = run_cli(home, "mcp", agent="Agent-42")
    assert unknown.code == 2 and unknown.err == (
        "swarm: error: SWARM_AGENT: unknown agent 'Agent-42': agents are Agent-1, Agent-2, "
        "Agent-3, Agent-4, Agent-5, Agent-6, Agent-7, Agent-8\n"
    )
    bad = run_cli(home, "mcp", env={"SWARM_MCP_TOKEN": "swt_not-a-token"})
    assert bad.code == 2 and bad.err == f"swarm: error: {_bad_token()}\n"


def _bad_token() -> str:
    from bot.mcp.identity import BAD_TOKEN

    return BAD_TOKEN


async def test_a_database_that_cannot_be_opened_is_one_line_and_the_server_stays_up(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    home = blocker / "home"  # SWARM_HOME inside a file: nothing can be opened there
    token = tokens.new_token()
    async with stdio_session(home, SWARM_MCP_TOKEN=token) as mcp:
        said = error(await mcp.call_tool("my_task", {}))
        assert said == f"cannot use {home} as the swarm's home (SWARM_HOME): File exists"
        blocker.unlink()  # the home can be made now: the next call opens the database
        assert error(await mcp.call_tool("my_task", {})) == _bad_token()
        settings = Settings.from_env({"SWARM_HOME": str(home)})
        service = await SwarmService.open(settings)
        try:
            await service.store.update(
                tokens.create, token, "mcp", tokens.Role.agent, service.clock.now(), None, "Agent-5"
            )
            ref = await given(service, "Agent-5", "Tidy the docs")
            assert text(await mcp.call_tool("my_task", {})).startswith(f"{ref} [assigned")
            assert text(await mcp.call_tool("report", {"action": "start"})).startswith(
                f"{ref} [in_progress"
            )
            (token_id,) = [r["id"] for r in await service.store.read(tokens.rows)]
            await service.store.update(tokens.revoke, token_id, service.clock.now())
            assert error(await mcp.call_tool("report", {"action": "done"})) == _bad_token()
        finally:
            await service.close()
