"""``swarm agents mcp install``: the MCP server in each agent's workspace for Claude Code,
Cursor, Codex CLI, Gemini CLI and opencode, merged with the user's files; twice is once;
``--remove`` takes only ours out. The installed entry starts a working server (spawned by
the SDK's client)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client

from core.agents import _workspace_files as workspace_files
from tests.helpers import run_cli, write_agents
from tests.mcp.conftest import text

DOCS: dict[str, Any] = {"command": "npx", "args": ["-y", "docs-mcp"]}
THEIRS: dict[str, Any] = {"mcpServers": {"docs": DOCS}, "x": 1}
CODEX = 'model = "o3"\n\n[mcp_servers.docs]\ncommand = "npx"\nargs = ["-y", "docs-mcp"]\n'


def desk(tmp_path: Path) -> tuple[Path, Path, dict[str, Path]]:
    """A home, an agents file, and each agent's own workspace folder."""
    home = tmp_path / "home"
    home.mkdir()
    ws = {name: tmp_path / name.lower() for name in ("Agent-1", "Agent-2")}
    for folder in ws.values():
        folder.mkdir()
    config = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": name, "role": "dev", "delivery": "inbox", "workspace": str(folder)}
            for name, folder in ws.items()
        ],
    )
    return home, config, ws


async def test_install_twice_keeps_theirs_and_remove_gives_the_files_back(tmp_path: Path) -> None:
    home, config, ws = desk(tmp_path)
    claude, cursor = ws["Agent-2"] / ".mcp.json", ws["Agent-2"] / ".cursor" / "mcp.json"
    codex = ws["Agent-2"] / ".codex" / "config.toml"
    cursor.parent.mkdir()
    codex.parent.mkdir()
    mine = json.dumps(THEIRS, indent=4)  # their own formatting
    for path, content in ((claude, mine), (cursor, mine), (codex, CODEX)):
        path.write_text(content, encoding="utf-8")
    files = 2 * len(workspace_files.mcp_files(None))  # two agents of no known CLI: every file
    first = run_cli(home, "agents", "mcp", "install", config=config)
    assert first.code == 0 and first.out.count("MCP server added") == files, first
    assert first.out.endswith(
        "Agent-1, Agent-2: add mcp = true to their agents-file entries so "
        "that their prompts name the MCP tools instead of the shell commands\n"
    )
    installed = {p: p.read_bytes() for p in (claude, cursor, codex)}
    again = run_cli(home, "agents", "mcp", "install", config=config)
    assert again.code == 0 and again.out.count("already installed") == files
    assert {p: p.read_bytes() for p in installed} == installed  # idempotent
    for path in (claude, cursor):
        servers = json.loads(path.read_text())["mcpServers"]
        assert servers["docs"] == DOCS
        assert servers["swarm"]["args"] == ["-I", "-m", "bot.cli", "mcp"]  # isolated
        assert servers["swarm"]["env"]["SWARM_AGENT"] == "Agent-2"
    parsed = tomllib.loads(codex.read_text())
    assert parsed["model"] == "o3" and parsed["mcp_servers"]["docs"]["command"] == "npx"
    assert parsed["mcp_servers"]["swarm"]["env"] == {
        "SWARM_AGENT": "Agent-2",
        "SWARM_HOME": str(home),
        "SWARM_CONFIG": str(config),
    }
    await _installed_server_works(home, ws["Agent-1"])
    removed = run_cli(home, "agents", "mcp", "install", "--remove", config=config)
    assert removed.code == 0 and removed.out.count("restored as it was before install") == files
    assert (claude.read_text(), cursor.read_text(), codex.read_text()) == (mine, mine, CODEX)
    assert sorted(p.name for p in ws["Agent-1"].iterdir()) == []  # made by install: gone


async def _installed_server_works(home: Path, folder: Path) -> None:
    """Claude Code's entry, as written, starts ``swarm mcp`` as the agent it names."""
    entry = json.loads((folder / ".mcp.json").read_text())["mcpServers"]["swarm"]
    params = StdioServerParameters(
        command=entry["command"], args=entry["args"], env=entry["env"], cwd=str(folder)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        said = await session.call_tool("my_task", {})
        assert text(said) == "Agent-1 holds no task now: a task comes as a prompt"


def test_remove_after_the_user_edited_takes_only_ours_out(tmp_path: Path) -> None:
    home, config, ws = desk(tmp_path)
    assert run_cli(home, "agents", "mcp", "install", "--agent", "agent-1", config=config).code == 0
    claude = ws["Agent-1"] / ".mcp.json"
    settings = json.loads(claude.read_text())
    settings["mcpServers"]["docs"] = DOCS
    claude.write_text(json.dumps(settings))
    codex = ws["Agent-1"] / ".codex" / "config.toml"
    codex.write_text('model = "o3"\n\n' + codex.read_text())
    done = run_cli(
        home, "agents", "mcp", "install", "--remove", "--agent", "Agent-1", config=config
    )
    assert done.code == 0, done.err
    assert json.loads(claude.read_text()) == {"mcpServers": {"docs": DOCS}}
    assert codex.read_text() == 'model = "o3"\n'
    assert not (ws["Agent-1"] / ".cursor").exists()  # untouched since install: restored
    assert not (ws["Agent-2"] / ".mcp.json").exists()  # --agent: only that one


def test_a_server_of_theirs_named_swarm_and_a_broken_file_are_left_alone(tmp_path: Path) -> None:
    home, config, ws = desk(tmp_path)
    own = {"mcpServers": {"swarm": {"command": "their-swarm", "args": []}}}
    claude = ws["Agent-1"] / ".mcp.json"
    claude.write_text(json.dumps(own))
    broken = ws["Agent-2"] / ".mcp.json"
    broken.write_text("{oops")
    kept = run_cli(home, "agents", "mcp", "install", "--agent", "Agent-1", config=config)
    assert kept.code == 0 and "kept your own server named swarm" in kept.out
    assert json.loads(claude.read_text()) == own
    refused = run_cli(home, "agents", "mcp", "install", "--agent", "Agent-2", config=config)
    assert refused.code == 2 and refused.err.count("\n") == 1 and "not JSON" in refused.err
    assert broken.read_text() == "{oops"


def test_removing_a_top_level_file_never_removes_the_workspace(tmp_path: Path) -> None:
    from core.clis import mcp_files

    home, folder = tmp_path / "home", tmp_path / "empty-workspace"
    folder.mkdir()
    server = mcp_files.Server("/usr/bin/python3", ("-m", "bot.cli", "mcp"), {"SWARM_AGENT": "A"})
    claude = mcp_files.JsonFile(Path(".mcp.json"), "mcpServers")  # Claude Code's
    assert mcp_files.install_json(home, folder, claude, server).what == "added"
    assert mcp_files.remove_json(home, folder, claude).what == "restored"
    assert folder.is_dir() and not any(folder.iterdir())
