"""The user config file is read by every command, ``swarm hook`` included (at every tool call
of every agent): its usual keys (the core's, Discord's) are known without importing every
part's declarations (``bot.settings_index``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.settings_index import every_setting

ROOT = Path(__file__).resolve().parents[2]
LOADS = """
import sys
from bot.config import Config
Config.load()
print("bot.settings_index" in sys.modules)
"""


def test_a_user_file_with_discords_keys_loads_without_the_whole_index(tmp_path: Path) -> None:
    """Before: ``discord_token`` in the file imported every part's settings (some 20 ms of
    imports at every hook call: ``SWARM_DISCORD_TOKEN`` was looked up in the whole index)."""
    folder = tmp_path / "config" / "swarm"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text('discord_token = "x"\nguild_id = "1"\nlease = "60"\n')
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(ROOT),
           "SWARM_HOME": str(tmp_path / "home")}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", LOADS], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_no_setting_is_declared_with_and_without_its_swarm_prefix() -> None:
    """A file's ``key`` is the first of ``SWARM_KEY`` and ``KEY`` that is declared: the cheap
    look (core and Discord) may find one before the whole index, so never both."""
    names = set(every_setting())
    assert sorted(n for n in names if f"SWARM_{n}" in names) == []
