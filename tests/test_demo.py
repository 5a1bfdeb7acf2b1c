"""``swarm demo`` (the README's first command) plays its scenario and exits 0."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import run_cli


@pytest.mark.timeout(180)
def test_demo_runs_the_scenario_through_discord(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "unused-home", "demo", timeout=170)
    assert result.code == 0, result.out + result.err
    assert "bot ready, slash commands synced" in result.out
    assert "you> /task create title:Write the API tests role:qa after:T-2,T-3" in result.out
    assert "#swarm | ✅ T-4 done by Agent-4" in result.out
    assert "summary: 5/5 tasks done, 0 failed" in result.out
    if shutil.which("Xvfb"):
        assert "(desktop driver)" in result.out
        shot = re.search(r"screenshot of the eight agent windows: (\S+)", result.out)
        assert shot is not None
        with Image.open(shot.group(1)) as image:
            assert image.size == (1920, 1080)
        Path(shot.group(1)).unlink()
    else:
        assert "inbox files (no Xvfb here" in result.out
