"""swarm's MCP server in Gemini CLI's ``.gemini/settings.json`` and opencode's
``opencode.json``: merged with the user's settings and servers, twice is once, only the
agent's CLI's file when its CLI is known, ``remove`` takes only ours out (the file back byte
for byte while still as install wrote it), the file's mode kept."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from core.agents import _workspace_files as workspace_files
from core.clis import CLIS, mcp_files
from core.errors import InvalidState
from tests.helpers import run_cli, write_agents

SERVER = mcp_files.Server(
    "/usr/bin/python3", ("-m", "bot.cli", "mcp"), {"SWARM_AGENT": "A", "SWARM_HOME": "/h"}
)
GEMINI_OWN: dict[str, Any] = {
    "theme": "GitHub",
    "mcpServers": {"docs": {"command": "npx", "args": ["-y", "docs-mcp"]}},
}
OPENCODE_OWN: dict[str, Any] = {
    "$schema": "https://opencode.ai/config.json",
    "model": "local/m",
    "mcp": {"docs": {"type": "local", "command": ["npx", "-y", "docs-mcp"], "enabled": True}},
}
CASES = [
    (Path(".gemini") / "settings.json", "gemini", "mcpServers", GEMINI_OWN),
    (Path("opencode.json"), "opencode", "mcp", OPENCODE_OWN),
]


@pytest.mark.parametrize(("relative", "kind", "key", "own"), CASES)
def test_install_keeps_theirs_and_remove_gives_the_file_back(
    tmp_path: Path, relative: Path, kind: str, key: str, own: dict[str, Any]
) -> None:
    home, folder = tmp_path / "home", tmp_path / "ws"
    path = folder / relative
    path.parent.mkdir(parents=True)
    mine = json.dumps(own, indent=4)  # their own formatting
    path.write_text(mine, encoding="utf-8")
    path.chmod(0o600)
    (change,) = workspace_files.install_mcp(home, folder, kind, SERVER)
    assert (change.path, change.what) == (path, "added")
    installed = path.read_bytes()
    settings = json.loads(installed)
    assert {k: v for k, v in settings.items() if k != key} == {
        k: v for k, v in own.items() if k != key
    }
    assert settings[key]["docs"] == own[key]["docs"]
    assert mcp_files.is_ours(settings[key]["swarm"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [c.what for c in workspace_files.install_mcp(home, folder, kind, SERVER)] == [
        "already installed"
    ]
    assert path.read_bytes() == installed
    removed = {c.path: c.what for c in workspace_files.remove_mcp(home, folder)}
    assert removed[path] == "restored"  # by path: two CLIs may both name a settings.json
    assert path.read_text(encoding="utf-8") == mine


def test_the_entries_are_in_each_clis_shape(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    workspace_files.install_mcp(tmp_path / "home", folder, "gemini", SERVER)
    workspace_files.install_mcp(tmp_path / "home", folder, "opencode", SERVER)
    gemini = json.loads((folder / ".gemini" / "settings.json").read_text())
    assert gemini == {
        "mcpServers": {
            "swarm": {
                "command": "/usr/bin/python3",
                "args": ["-m", "bot.cli", "mcp"],
                "env": {"SWARM_AGENT": "A", "SWARM_HOME": "/h"},
                "trust": True,
            }
        }
    }
    opencode = json.loads((folder / "opencode.json").read_text())
    assert opencode == {
        "mcp": {
            "swarm": {
                "type": "local",
                "command": ["/usr/bin/python3", "-m", "bot.cli", "mcp"],
                "environment": {"SWARM_AGENT": "A", "SWARM_HOME": "/h"},
                "enabled": True,
            }
        }
    }
    assert sorted(p.name for p in folder.iterdir()) == [".gemini", "opencode.json"]


@pytest.mark.parametrize(("relative", "kind", "key", "own"), CASES)
def test_remove_after_the_user_edited_takes_only_ours_out(
    tmp_path: Path, relative: Path, kind: str, key: str, own: dict[str, Any]
) -> None:
    home, folder = tmp_path / "home", tmp_path / "ws"
    folder.mkdir()
    workspace_files.install_mcp(home, folder, kind, SERVER)
    path = folder / relative
    settings = json.loads(path.read_text())
    settings[key]["docs"] = own[key]["docs"]
    settings["added"] = 1
    path.write_text(json.dumps(settings))
    changes = {c.path: c.what for c in workspace_files.remove_mcp(home, folder)}
    assert changes[path] == "removed"
    assert json.loads(path.read_text()) == {key: {"docs": own[key]["docs"]}, "added": 1}


@pytest.mark.parametrize(("relative", "kind", "key", "own"), CASES)
def test_a_server_of_theirs_named_swarm_is_kept_and_a_broken_file_refused(
    tmp_path: Path, relative: Path, kind: str, key: str, own: dict[str, Any]
) -> None:
    home, folder = tmp_path / "home", tmp_path / "ws"
    path = folder / relative
    path.parent.mkdir(parents=True)
    theirs = {key: {"swarm": {"type": "local", "command": ["their-swarm"]}}}
    path.write_text(json.dumps(theirs))
    assert [c.what for c in workspace_files.install_mcp(home, folder, kind, SERVER)] == ["kept"]
    assert json.loads(path.read_text()) == theirs
    path.write_text("{oops")
    with pytest.raises(InvalidState, match="not JSON"):
        workspace_files.install_mcp(home, folder, kind, SERVER)
    assert path.read_text() == "{oops"


def test_an_agent_of_a_known_cli_gets_only_its_file(tmp_path: Path) -> None:
    written = {}
    for cli in CLIS:
        if cli.mcp is None:
            continue
        folder = tmp_path / cli.name
        folder.mkdir()
        workspace_files.install_mcp(tmp_path / "home", folder, cli.name, SERVER)
        written[cli.name] = sorted(
            str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
        )
    assert written == {
        cli.name: [str(path) for path in cli.mcp.files] for cli in CLIS if cli.mcp is not None
    }
    assert (
        written.items()
        >= {
            "claude-code": [".mcp.json"],
            "codex": [".codex/config.toml"],
            "gemini": [".gemini/settings.json"],
            "opencode": ["opencode.json"],
        }.items()
    )
    # Aider reads no MCP server; Mistral Vibe's are in its config.toml (a workspace's
    # .vibe/config.toml only once the user trusted that folder): not written yet
    assert [cli.name for cli in CLIS if cli.mcp is None] == ["aider", "mistral-vibe"]
    codex = tomllib.loads((tmp_path / "codex" / ".codex" / "config.toml").read_text())
    assert codex["mcp_servers"]["swarm"]["default_tools_approval_mode"] == "approve"
    assert codex["mcp_servers"]["swarm"]["startup_timeout_sec"] == 60  # a fleet's start
    # Codex passes its servers no variable of the agent's environment it is not told to
    assert "SWARM_DATABASE_URL" in codex["mcp_servers"]["swarm"]["env_vars"]
    # its workspace-write sandbox lets the shell's swarm write swarm's home (issue 53, item 1)
    home = str((tmp_path / "home").absolute())
    assert codex["sandbox_workspace_write"] == {"writable_roots": [home]}


def test_a_sandbox_table_of_the_users_own_is_kept_as_it_is(tmp_path: Path) -> None:
    """Codex reads one ``[sandbox_workspace_write]``: the user's stays whole, none of ours."""
    path = tmp_path / ".codex" / "config.toml"
    path.parent.mkdir()
    theirs = "[sandbox_workspace_write]\nnetwork_access = true\n"
    path.write_text(theirs)
    assert [
        c.what for c in workspace_files.install_mcp(tmp_path / "home", tmp_path, "codex", SERVER)
    ] == ["added"]
    parsed = tomllib.loads(path.read_text())
    assert parsed["sandbox_workspace_write"] == {"network_access": True}
    assert "swarm" in parsed["mcp_servers"]
    workspace_files.remove_mcp(tmp_path / "home", tmp_path)
    assert path.read_text() == theirs


def test_swarm_agents_mcp_install_writes_each_agents_clis_file(tmp_path: Path) -> None:
    """``cli = "gemini"``: only .gemini/settings.json; ``"opencode"``: only opencode.json;
    ``"aider"``: nothing (it reads no MCP server), said so."""
    home = tmp_path / "home"
    home.mkdir()
    folders = {cli: tmp_path / cli for cli in ("gemini", "opencode", "aider")}
    for folder in folders.values():
        folder.mkdir()
    config = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": cli, "role": "dev", "delivery": "inbox", "workspace": str(f), "cli": cli}
            for cli, f in folders.items()
        ],
    )
    done = run_cli(home, "agents", "mcp", "install", config=config)
    assert done.code == 0, done.err
    assert "aider: aider reads no MCP server: nothing to do" in done.out
    assert [p.name for p in folders["gemini"].iterdir()] == [".gemini"]
    assert [p.name for p in folders["opencode"].iterdir()] == ["opencode.json"]
    assert list(folders["aider"].iterdir()) == []


def test_codex_acps_session_servers_go_on_its_command_line_their_tools_approved() -> None:
    """codex-acp asks before each call of a server its session names (issue 79): swarm's
    goes as ``-c`` pairs that Codex reads as one ``[mcp_servers.swarm]`` table, its tools
    approved, its values quoted (a quote or a backslash in a path stays one string)."""
    from core.clis.codex.mcp import FORWARDED_ENV, STARTUP_TIMEOUT_S, session_args

    odd = '/srv/a "b"\\c/python'
    server = {"name": "swarm", "command": odd, "args": ["-I", "-m", "bot.cli", "mcp"],
              "env": {"SWARM_AGENT": "A", "SWARM_HOME": "/srv/x y"}}  # fmt: skip
    args = session_args([server])
    assert args[::2] == ("-c",) * 6
    pairs = [a.split("=", 1) for a in args[1::2]]
    table = tomllib.loads("\n".join(f"{k.removeprefix('mcp_servers.swarm.')} = {v}"
                                    for k, v in pairs))  # fmt: skip
    assert table == {
        "command": odd,
        "args": ["-I", "-m", "bot.cli", "mcp"],
        "env": {"SWARM_AGENT": "A", "SWARM_HOME": "/srv/x y"},
        "env_vars": list(FORWARDED_ENV),
        "default_tools_approval_mode": "approve",
        "startup_timeout_sec": STARTUP_TIMEOUT_S,
    }
    assert all(k.startswith("mcp_servers.swarm.") for k, _ in pairs)
    door = session_args([{"name": "swarm", "command": "/run/swarm/swarm", "args": ["mcp"]}])
    assert "mcp_servers.swarm.env={}" in door
