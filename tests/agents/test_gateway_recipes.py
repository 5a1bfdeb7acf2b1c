"""docs/agents.md's recipes for pointing each CLI at your own gateway (issue 53, item 9),
run as written: each snippet in a fresh ``HOME`` with the user's four variables pointing at
``localmodel``, then the pinned CLI started with nothing else (no setting of the live tests),
one prompt, the server's answer on its screen."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.agents.launch import CLIS, stop
from tests.agents.live import BASE_PATH, LiveCLI, LocalModel, base_env, require_binary, start

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "agents.md"
RECIPE = re.compile(r"<!-- recipe: ([a-z-]+) -->\n```bash\n(.*?)```", re.S)
COMMAND = {"claude-code": "claude", "codex": "codex", "gemini": "gemini",
           "opencode": "opencode", "aider": "aider"}  # fmt: skip
READY = {"claude-code": "shift+tab to cycle", "codex": "? for shortcuts",
         "gemini": "Type your message or @path/to/file", "opencode": "Ask anything",
         "aider": ">"}  # fmt: skip
KEY = "sk-my-gateway-key-0123456789abcdef"
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "say hello"
text = "hello through the gateway"
"""


def recipes() -> dict[str, str]:
    """The snippets of docs/agents.md, by CLI."""
    return dict(RECIPE.findall(DOC.read_text(encoding="utf-8")))


def submit(live: LiveCLI, text: str) -> None:
    """Paste ``text`` and press Enter until the server gets it (an Enter pressed as soon as
    Gemini CLI shows its input is sometimes not taken: tests/agents/test_gemini_live.py)."""
    live.send(text)
    for _ in range(10):
        if live.model.asked_within(text, 1.0):
            return
        live.keys("Enter")
    raise AssertionError(f"{text!r} was never submitted: {live.screen()}")


def test_every_cli_has_one_recipe() -> None:
    assert sorted(recipes()) == sorted(CLIS)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("cli", CLIS)
def test_the_recipe_points_the_cli_at_the_server(cli: str, tmp_path: Path) -> None:
    binary = require_binary(cli)  # skipped (or failed, SWARM_REQUIRE_AGENTS=1) when missing
    home, work, bins = tmp_path / "home", tmp_path / "work", tmp_path / "bin"
    for folder in (home, work, bins):
        folder.mkdir()
    (bins / COMMAND[cli]).symlink_to(binary)
    git = ["git", "-c", "user.name=me", "-c", "user.email=me@example.invalid", "-C", str(work)]
    subprocess.run([*git, "init", "-q"], check=True, timeout=30)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "start"], check=True, timeout=30)
    recipe = tmp_path / "recipe.sh"
    recipe.write_text(recipes()[cli], encoding="utf-8")
    model = LocalModel(tmp_path, SCRIPT)
    env = {**base_env(home), "PATH": f"{bins}:{BASE_PATH}", "GATEWAY_URL": model.url,
           "MY_LLM_KEY": KEY, "MODEL": "my-model", "WORK": str(work)}  # fmt: skip
    argv = ["bash", "-c", f'set -e; . "{recipe}"; exec {COMMAND[cli]}']
    live = start(cli.replace("-", ""), tmp_path, model, argv, env, work)
    try:
        live.wait(READY[cli], timeout=90)
        submit(live, "say hello")
        live.wait("hello through the gateway", timeout=90)
        asked = model.wait_request("say hello")
        assert asked["status"] == 200, asked
    finally:
        stop(live)
        _end_left_behind(home)


def _end_left_behind(home: Path) -> None:
    """End what the CLI left running from its HOME after its pane went (Codex's background
    ``codex app-server``, started unless ``daemon_auto_start = false``, outlives it)."""
    subprocess.run(["pkill", "-KILL", "-f", str(home)], check=False, timeout=10)
