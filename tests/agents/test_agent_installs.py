"""tools/install_agents.py and the live tests' locator (tests/agents/live.py), without npm or
PyPI: a CLI already at its pin is kept, another version is named, a missing one skips (fails in
CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agents.live import find_binary, require_binary
from tests.helpers import ROOT
from tools.install_agents import PINS

INSTALLER = ROOT / "tools" / "install_agents.py"


def _fake_cli(path: Path, says: str) -> Path:
    """An executable that prints ``says`` for ``--version``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{says}'\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def _install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(INSTALLER), *args], capture_output=True, text=True, timeout=60
    )


def test_the_installer_keeps_a_cli_already_at_its_pin(tmp_path: Path) -> None:
    package = tmp_path / "node_modules" / "@openai" / "codex"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"version": "0.169.0"}), encoding="utf-8")
    _fake_cli(tmp_path / "node_modules" / ".bin" / "codex", "codex-cli 0.169.0")
    (tmp_path / "node_modules" / "@zed-industries" / "codex-acp").mkdir(parents=True)  # extra
    done = _install("--dest", str(tmp_path), "codex")
    assert (done.returncode, done.stdout) == (0, "agents: codex 0.169.0: already there\n")


def test_the_installer_refuses_an_unknown_cli_in_one_line(tmp_path: Path) -> None:
    done = _install("--dest", str(tmp_path), "cursor")
    assert done.returncode == 2
    known = ", ".join(sorted(pin.cli for pin in PINS))  # aider, claude-code, codex, ...
    assert done.stderr.splitlines()[-1].endswith(f"unknown CLI cursor (known: {known})")


def test_another_version_is_named_and_skips_or_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _fake_cli(tmp_path / "codex", "codex-cli 0.1.0")
    monkeypatch.setenv("SWARM_CODEX_BIN", str(fake))
    binary, reason = find_binary("codex")
    assert binary is None
    hint = "(make agents, or set SWARM_CODEX_BIN)"
    assert reason == f"SWARM_CODEX_BIN={fake} is codex 0.1.0, not 0.169.0 {hint}"
    monkeypatch.delenv("SWARM_REQUIRE_AGENTS", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"is codex 0\.1\.0"):
        require_binary("codex")
    monkeypatch.setenv("SWARM_REQUIRE_AGENTS", "1")
    with pytest.raises(pytest.fail.Exception, match="SWARM_REQUIRE_AGENTS=1 makes this a failure"):
        require_binary("codex")


def test_a_missing_binary_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARM_AIDER_BIN", str(tmp_path / "nowhere" / "aider"))
    assert find_binary("aider") == (
        None,
        "aider 0.86.2 is not installed (make agents, or set SWARM_AIDER_BIN)",
    )


def test_a_cli_that_needs_a_newer_python_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mistral Vibe's pin on a machine whose Pythons are all too old: none on the PATH, none
    # under pyenv; the line names what was looked for and what to do
    from tools.install_agents import _python

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    with pytest.raises(RuntimeError) as refused:
        _python((3, 99))
    said = str(refused.value)
    assert said.startswith("it needs Python 3.99 or later, and none runs here (python3.99 to")
    assert f"under {tmp_path / 'pyenv' / 'versions'}" in said
    tail = "`pyenv install 3.99`, or the distribution's python3.99 where it has one), then "
    assert said.endswith(tail + "`make agents`")
