"""Issue 79, item 5: a CLI installed in a Python virtual environment (Aider with ``pip
install`` in a venv, pipx's installs) starts sandboxed with no extra key: the sandbox shows
the venv its program lies in, and the Python it was made from, read-only. The program here
is a console script of a package installed in a real venv (as pip writes one), found on the
agent's PATH by a link (as pipx's ``~/.local/bin``), started by ``swarm desktop up
--headless``; it imports its package and writes what it found in the worktree."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.desktop.sandbox_rig import SandboxRig, fenced

SCRIPT = """#!{python}
import sys
from venvtool import main
sys.exit(main())
"""
PACKAGE = """import pathlib, time
def main():
    pathlib.Path("venv.out").write_text(f"imported {__name__} from {__file__}")
    time.sleep(600)
"""


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[SandboxRig]:
    made = fenced(tmp_path)
    venv = tmp_path / "tools" / "venvtool-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)  # fmt: skip
    (site,) = venv.glob("lib/python3*/site-packages")
    (site / "venvtool").mkdir()
    (site / "venvtool" / "__init__.py").write_text(PACKAGE)
    program = venv / "bin" / "venvtool"
    program.write_text(SCRIPT.format(python=venv / "bin" / "python"))
    program.chmod(0o755)
    (made.bin / "venvtool").symlink_to(program)  # on its PATH by a link, as pipx's
    made.use_command("venvtool")
    yield made
    made.down()


@pytest.mark.timeout(180)
def test_a_cli_in_a_venv_starts_sandboxed_with_its_packages(rig: SandboxRig) -> None:
    up = rig.swarm("desktop", "up", "--headless", "--json", "--no-hooks", "--agents", "1")
    assert up.returncode == 0, up.stdout + up.stderr
    out = rig.ws["Agent-1"] / "venv.out"
    for _ in range(300):
        if out.exists():
            break
        pane = rig.tmux("capture-pane", "-p", "-t", "swarm-Agent-1").stdout
        assert "No module named" not in pane, pane
        subprocess.run(["sleep", "0.1"], check=True)
    assert out.read_text().startswith("imported venvtool from "), out.read_text()
