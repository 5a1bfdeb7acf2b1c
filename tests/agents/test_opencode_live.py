"""The real opencode (pinned in tools/install_agents.py) in tmux against localmodel.

Started ONCE for the module with its own HOME: a ``local`` provider through
``@ai-sdk/openai-compatible`` on localmodel's Chat Completions API, no model list fetch, no
update, no LSP download, no mouse, no default plugins (else it installs ``@opencode-ai/plugin``
from the npm registry into its config folder at start). Skipped with the reason when the
binary is missing or another version (a failure under ``SWARM_REQUIRE_AGENTS=1``: see
tests/agents/live.py). ``SWARM_SAVE_PANES=1`` saves the panes it reaches as the fixtures
``panes/opencode/opencode-VERSION-*.txt``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents.deliveries import SHAPES, count_deliveries
from tests.agents.live import LiveCLI, LocalModel, base_env, require_binary, save_pane, start

pytestmark = pytest.mark.xdist_group("opencode-live")  # one worker starts it, once

CLI = "opencode"
READY = "Ask anything"  # the empty input's placeholder on its start screen
WORKING = "esc interrupt"
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "say hello"
text = "hello from localmodel"

[[turns]]
match = "make a file"
steps = [{ text = "Creating it.", shell = "touch made-by-localmodel.txt" }, { text = "file made" }]

[[turns]]
match = "take your time"
steps = [{ text = "slowly, piece by piece", delay = 3 }]
"""
OFFLINE = {
    "OPENCODE_DISABLE_MODELS_FETCH": "1", "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1", "OPENCODE_DISABLE_MOUSE": "1",
    "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
}  # fmt: skip


def _config(url: str) -> dict[str, object]:
    provider = {
        "npm": "@ai-sdk/openai-compatible",
        "name": "localmodel",
        "options": {"baseURL": url + "/v1", "apiKey": "sk-local"},
        "models": {"local-model": {"name": "Local model"}},
    }
    return {"autoupdate": False, "share": "disabled", "model": "local/local-model",
            "provider": {"local": provider}}  # fmt: skip


@pytest.fixture(scope="module")
def opencode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCLI]:
    """opencode in tmux (120x40) against localmodel, at its input."""
    binary = require_binary(CLI)
    root = tmp_path_factory.mktemp("opencode").resolve()
    work, home = root / "work", root / "home"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True, timeout=30)
    config = home / ".config" / "opencode"
    config.mkdir(parents=True)
    model = LocalModel(root, SCRIPT)
    (config / "opencode.json").write_text(json.dumps(_config(model.url)), encoding="utf-8")
    live = start("opencode", root, model, [str(binary)], {**base_env(home), **OFFLINE}, work)
    try:
        live.wait(READY, timeout=60)
        yield live
    finally:
        live.tmux.stop()
        model.stop()


def _idle(live: LiveCLI, timeout: float = 60.0) -> None:
    """Wait until no turn is under way (its status line has no "esc interrupt")."""
    live.wait("ctrl+p commands")
    deadline = time.monotonic() + timeout
    while WORKING in live.screen():
        assert time.monotonic() < deadline, f"opencode stayed busy: {live.screen()}"
        time.sleep(0.1)


def test_starts_at_its_input(opencode: LiveCLI) -> None:
    screen = opencode.screen()
    assert "Build · Local model localmodel" in screen
    assert "1.18.33" in screen
    save_pane(opencode, CLI, "idle-start")


def test_a_pasted_prompt_is_answered(opencode: LiveCLI) -> None:
    _idle(opencode)
    opencode.send("say hello")
    opencode.wait("hello from localmodel", timeout=60)
    request = opencode.model.wait_request("say hello")
    assert (request["path"], request["status"]) == ("/v1/chat/completions", 200)
    assert request["outcome"] == "turn step 1: text 'hello from localmodel'"
    _idle(opencode)
    save_pane(opencode, CLI, "answer")


def test_a_slow_answer_shows_it_working(opencode: LiveCLI) -> None:
    _idle(opencode)
    opencode.send("take your time")
    opencode.wait(WORKING)
    save_pane(opencode, CLI, "working")
    opencode.wait("slowly, piece by piece", timeout=60)


def test_a_scripted_shell_command_runs_without_asking(opencode: LiveCLI) -> None:
    """opencode's build agent runs a shell command in its folder unasked."""
    _idle(opencode)
    opencode.send("make a file")
    opencode.wait("$ touch made-by-localmodel.txt", timeout=60)
    opencode.wait("file made", timeout=60)
    assert (opencode.root / "work" / "made-by-localmodel.txt").is_file()


async def test_swarms_tmux_deliveries_are_each_taken_once_whole(
    opencode: LiveCLI, tmp_path: Path
) -> None:
    """One prompt of each shape (lines, tabs, quotes, 2 KB) through swarm's own tmux
    deliverer: each taken once, whole, none recorded delivered that the CLI never took."""
    _idle(opencode)
    tally = await count_deliveries(opencode, CLI, SHAPES, tmp_path)
    assert tally.summary()["taken"] == tally.summary()["whole"] == SHAPES, tally.summary()
    assert (tally.lost, tally.false_delivered, tally.doubled) == ([], [], []), tally.summary()
