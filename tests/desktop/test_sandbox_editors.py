"""An editor window (``kind = "gui"``: Cursor, VS Code) runs its command unwrapped, so it
cannot be sandboxed: its own ``sandbox = true`` is refused by ``swarm desktop up`` in one
line (said by ``swarm doctor`` and ``swarm agents explain`` too), and a ``[desktop]
sandbox = true`` default covers terminal agents only, which the three commands say for each
editor it leaves unsandboxed. Real agents files, real CLI runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from automation.launch.sandbox import EDITOR_REFUSED, EDITOR_UNSANDBOXED
from tests.helpers import run_cli


def _agents(tmp_path: Path, desktop_default: bool, own: bool) -> Path:
    """Term (a terminal agent) and Ed (an editor window)."""
    lines = [
        "[desktop]",
        *(["sandbox = true"] if desktop_default else []),
        "",
        "[desktop.agent.Ed]",
        'kind = "gui"',
        'app = "vscode"',
        'command = "code ."',
        "",
    ]
    for name in ("Term", "Ed"):
        (tmp_path / name).mkdir(exist_ok=True)
        lines += ["[[agent]]", f'id = "{name}"', 'role = "dev"', 'delivery = "inbox"',
                  f'workspace = "{tmp_path / name}"']  # fmt: skip
        lines += ["sandbox = true", ""] if own and name == "Ed" else [""]
    path = tmp_path / "agents.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_desktop_up_refuses_an_editor_that_asks_for_a_sandbox(tmp_path: Path) -> None:
    home, config = tmp_path / "home", _agents(tmp_path, desktop_default=False, own=True)
    up = run_cli(home, "desktop", "up", "--headless", config=config, timeout=60)
    assert up.code != 0
    said = [line for line in up.err.splitlines() if line.strip()]
    assert said == [f"swarm: error: Ed: {EDITOR_REFUSED}"], up.err
    assert not (home / "doors").exists()  # nothing started, no door opened
    doctor = run_cli(home, "doctor", config=config, timeout=60)
    assert f"Ed: {EDITOR_REFUSED}" in doctor.out, doctor.out
    explained = run_cli(home, "agents", "explain", "Ed", config=config)
    assert explained.code == 0, explained.err
    assert f"  {EDITOR_REFUSED}" in explained.out.splitlines(), explained.out
    assert "sandboxed (bubblewrap)" not in explained.out


def test_the_desktop_default_sandboxes_terminal_agents_and_says_editors_are_not(
    tmp_path: Path,
) -> None:
    home, config = tmp_path / "home", _agents(tmp_path, desktop_default=True, own=False)
    shown = run_cli(home, "agents", "explain", "Term", "--json", config=config)
    assert shown.code == 0 and json.loads(shown.out).get("sandbox"), shown.out
    explained = run_cli(home, "agents", "explain", "Ed", config=config)
    assert explained.code == 0, explained.err
    assert f"  {EDITOR_UNSANDBOXED}" in explained.out.splitlines(), explained.out
    assert "sandboxed (bubblewrap)" not in explained.out
    doctor = run_cli(home, "doctor", config=config, timeout=60)
    assert f"Ed: {EDITOR_UNSANDBOXED}" in doctor.out, doctor.out
    assert "runs Term sandboxed" in doctor.out, doctor.out
    up = run_cli(home, "desktop", "up", config=config, timeout=60)  # no display: it stops
    assert up.out.splitlines()[0] == f"Ed: {EDITOR_UNSANDBOXED}", (up.out, up.err)
    assert EDITOR_REFUSED not in up.err


def test_the_default_follows_each_windows_kind_own_or_the_sections(tmp_path: Path) -> None:
    """``[desktop] kind = "gui"`` makes every agent an editor but the one whose own table
    says ``kind = "terminal"``: only that one takes the sandbox default."""
    from core.agents_file import load_agents

    config = tmp_path / "agents.toml"
    config.write_text(
        '[desktop]\nkind = "gui"\napp = "vscode"\nsandbox = true\n\n'
        '[desktop.agent.Term]\nkind = "terminal"\n\n'
        '[[agent]]\nid = "Term"\nrole = "dev"\n\n[[agent]]\nid = "Ed"\nrole = "dev"\n',
        encoding="utf-8",
    )
    fenced = {agent.id: agent.sandbox is not None for agent in load_agents(config)}
    assert fenced == {"Term": True, "Ed": False}


def test_a_refused_editor_keeps_swarms_own_hooks_and_is_shown_unsandboxed(
    tmp_path: Path,
) -> None:
    """An editor asking for a sandbox runs unsandboxed (its window is not wrapped): its
    hooks are swarm's own, not its door's (which its CLI could not reach), from ``agents
    hooks install`` and at ``swarm run``'s start; ``swarm agents`` says the sandbox was
    refused instead of showing it fenced."""
    from automation.launch.sandbox import stale_hooks
    from core.agents_file import load_agents

    home, config = tmp_path / "home", _agents(tmp_path, desktop_default=False, own=True)
    text = config.read_text().replace('id = "Ed"', 'id = "Ed"\ncli = "claude-code"')
    config.write_text(text)
    done = run_cli(home, "agents", "hooks", "install", "--agent", "Ed", config=config)
    assert done.code == 0, done.err
    assert f"Ed: {EDITOR_REFUSED}" in done.out, done.out
    settings = (tmp_path / "Ed" / ".claude" / "settings.local.json").read_text()
    assert "bot.cli.hook --agent Ed" in settings and "/run/swarm/swarm" not in settings
    agents = [dataclasses.replace(a, hooks=True) for a in load_agents(config)]
    assert [a.id for a in agents if a.sandbox_refused] == ["Ed"]
    assert stale_hooks(home, agents, 5.0) == []
    assert (
        "/run/swarm/swarm" not in (tmp_path / "Ed" / ".claude" / "settings.local.json").read_text()
    )
    shown = run_cli(home, "agents", "--json", config=config)
    assert shown.code == 0, shown.err
    sandbox = {row["id"]: row["sandbox"] for row in json.loads(shown.out)}
    assert sandbox == {"Term": "-", "Ed": "refused (editor window)"}, sandbox
