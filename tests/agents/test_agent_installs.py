"""tools/install_agents.py and the live tests' locator (tests/agents/live.py), without npm or
PyPI: a CLI already at its pin is kept, another version is named, a missing one skips (fails in
CI); with no Python new enough, Debian 13's unpacked by tools/debian_python.py is taken, or the
line says why not (without apt's network: its parts that decide)."""

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


def _no_python_new_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine whose Pythons are all 3.11: none on the PATH (nor apt-get), none under pyenv;
    the private Debian Python's folder ``tmp_path/private`` (returned), empty."""
    from tools import install_agents

    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setattr(install_agents, "OWN", (3, 11))
    monkeypatch.setattr(install_agents, "PRIVATE", tmp_path / "private")
    return tmp_path / "private"


def test_with_no_python_new_enough_the_private_debian_one_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # tools/debian_python.py made it before (a stand-in here that passes its check): found
    # there, said, nothing downloaded
    from tools.install_agents import _python

    private = _no_python_new_enough(tmp_path, monkeypatch)
    python = _fake_cli(private / "root" / "usr" / "bin" / "python3.13", "3.13.5")
    assert _python((3, 12)) == (
        str(python),
        f"its venv made by Debian 13's python3.13 in {private}: no 3.12+ on the PATH or under "
        "pyenv",
    )
    said = f"debian-python: Python 3.13.5 at {python}: already there\n"
    assert capfd.readouterr().out == said


def test_when_the_private_python_cannot_be_made_the_line_says_why_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.install_agents import _python

    _no_python_new_enough(tmp_path, monkeypatch)
    with pytest.raises(RuntimeError) as refused:
        _python((3, 12))
    said = str(refused.value)
    assert "\n" not in said
    assert said.startswith("it needs Python 3.12 or later, and none runs here (python3.12 to")
    why = "and Debian 13's could not be unpacked (apt-get is not on the PATH: Debian's packages"
    assert why in said
    assert said.endswith("`pyenv install 3.12`, or the distribution's python3.12 where it has "
                         "one), then `make agents`")  # fmt: skip
    assert not (tmp_path / "private" / "root").exists()


def test_the_debian_python_tool_says_in_one_line_what_it_lacks(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "debian_python.py"), "--dest", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env={"PATH": str(tmp_path)},
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "debian-python: failed: apt-get is not on the PATH: Debian's packages are unpacked "
        "with apt and dpkg (a Debian or Ubuntu machine)\n"
    )


def test_the_debian_pythons_apt_state_is_its_own(tmp_path: Path) -> None:
    # apt-get reads and writes only under the tool's folder: no list, cache, status, log, pin
    # or lock of the system's (an empty status: every package missing, the closure downloaded)
    from tools.debian_python import apt_options

    options = apt_options(tmp_path)
    settings = dict(word.split("=", 1) for word in options[1::2])
    assert options[::2] == ["-o"] * len(settings)
    paths = {k: v for k, v in settings.items() if k.startswith("Dir::")}
    assert {k for k, v in paths.items() if v != "/dev/null"} == {
        "Dir::Etc::sourcelist", "Dir::State::Lists", "Dir::State::status",
        "Dir::State::extended_states", "Dir::Cache", "Dir::Log",
    }  # fmt: skip
    assert all(v == "/dev/null" or Path(v).is_relative_to(tmp_path) for v in paths.values())
    assert settings["Debug::NoLocking"] == "1"


def test_the_unpacked_python_is_pointed_at_its_own_loader_and_pip_wheels(tmp_path: Path) -> None:
    from tools.debian_python import Failed, loader, point_wheels

    with pytest.raises(Failed, match="no dynamic loader"):
        loader(tmp_path)
    libs = tmp_path / "usr" / "lib" / "x86_64-linux-gnu"
    libs.mkdir(parents=True)
    (libs / "ld-linux-x86-64.so.2").touch()
    assert loader(tmp_path) == libs / "ld-linux-x86-64.so.2"
    stdlib = tmp_path / "usr" / "lib" / "python3.13"
    stdlib.mkdir()
    data = stdlib / "_sysconfigdata__linux_x86_64-linux-gnu.py"
    data.write_text("build_time_vars = {'WHEEL_PKG_DIR': '/usr/share/python-wheels/'}\n")
    (stdlib / "_sysconfigdata__x86_64-linux-gnu.py").symlink_to(data.name)
    assert point_wheels(tmp_path) == 1
    wheels = f"{tmp_path}/usr/share/python-wheels/"
    assert data.read_text() == f"build_time_vars = {{'WHEEL_PKG_DIR': '{wheels}'}}\n"
