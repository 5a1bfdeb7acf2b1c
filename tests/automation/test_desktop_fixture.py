"""The desktop fixture skips without Xvfb, unless SWARM_REQUIRE_XVFB=1 makes that a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = "tests/automation/test_screen_checks.py::test_the_virtual_screen_is_detected"


@pytest.mark.parametrize(("require", "outcome"), [("", "1 skipped"), ("1", "1 error")])
def test_without_xvfb_the_desktop_tests_skip_unless_required(require: str, outcome: str) -> None:
    path = str(Path(sys.executable).parent)  # the venv only: no Xvfb, xsel or xdotool
    env = {**os.environ, "PATH": path, "SWARM_REQUIRE_XVFB": require}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", PROBE],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert outcome in done.stdout, done.stdout
    assert "Xvfb, xsel, xdotool not installed" in done.stdout
