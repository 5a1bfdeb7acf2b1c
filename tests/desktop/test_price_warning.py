"""Issue 79, item 5: a model without a price is one warning at ``swarm desktop up``: the
agent, its model and what to do, under the agent's line; none for the CLI's priced default,
a model ``SWARM_PRICES`` prices, a wrapper whose model swarm cannot tell, or a CLI that gives
each turn's cost itself (the real ``swarm`` command, real tmux, the scripted agent CLI as
``claude``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clis import by_name
from core.costs import prices
from core.costs.agent_model import Chosen, model_of, price_warning
from tests.conftest import skip_or_fail
from tests.desktop.rig import DesktopRig

UNPRICED = "claude-nonesuch-9"


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DesktopRig]:
    """Three Claude Code agents: Agent-1 on a model with no price, Agent-2 on the CLI's
    default, Agent-3 on a model the person's price file lists."""
    if shutil.which("tmux") is None:
        skip_or_fail("tmux is not installed (apt-get install tmux)")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "TMUX_PANE"):
        monkeypatch.delenv(name, raising=False)
    made = DesktopRig(None, tmp_path / "rig", agents=3)
    price_file = tmp_path / "prices.toml"
    price_file.write_text('[models."house-model"]\ninput = 1.0\noutput = 2.0\n')
    made.env["SWARM_PRICES"] = str(price_file)
    with made.config.open("a", encoding="utf-8") as f:
        f.write(f'\n[desktop.agent.Agent-1]\ncommand = "claude --model {UNPRICED}"\n'
                '\n[desktop.agent.Agent-3]\ncommand = "claude --model=house-model"\n')  # fmt: skip
    yield made
    made.swarm("desktop", "down", "--headless")
    made.stop()


@pytest.mark.timeout(180)
def test_desktop_up_says_once_which_agents_model_has_no_price(rig: DesktopRig) -> None:
    done = rig.swarm("desktop", "up", "--headless")
    assert done.returncode == 0, done.stdout + done.stderr
    warned = [line for line in done.stdout.splitlines() if "no price for its model" in line]
    assert len(warned) == 1, done.stdout
    assert f"no price for its model '{UNPRICED}' (its --model)" in warned[0]
    assert "SWARM_PRICES" in warned[0] and "swarm costs prices" in warned[0]
    lines = done.stdout.splitlines()
    heads = [line for line in lines[: lines.index(warned[0])] if not line.startswith(" ")]
    assert heads[-1].startswith("Agent-1 "), done.stdout  # under its agent's line
    again = rig.swarm("desktop", "up", "--headless")  # kept sessions: said again, once
    assert again.stdout.count("no price for its model") == 1, again.stdout


def test_the_model_is_read_from_flags_env_config_or_default_and_a_wrapper_tells_none(
    tmp_path: Path,
) -> None:
    claude, codex = by_name("claude-code"), by_name("codex")
    assert claude is not None and codex is not None
    table = prices.table(None)
    assert model_of(claude, ["claude"], {}, None) == Chosen(
        "claude-opus-5-5", "Claude Code's default"
    )
    assert model_of(claude, ["env", "A=1", "claude"], {"ANTHROPIC_MODEL": "m"}, None) == Chosen(
        "m", "$ANTHROPIC_MODEL"
    )
    assert model_of(claude, ["./run-claude.sh", "--model", "x"], {}, None) is None
    (tmp_path / "config.toml").write_text('model = "gpt-9-house"\n')
    said = model_of(codex, ["codex"], {}, tmp_path)
    assert said == Chosen("gpt-9-house", f"its config in {tmp_path}")
    assert price_warning(codex, said, table, "tmux") is not None
    assert model_of(codex, ["codex", "-m", "gpt-5"], {}, tmp_path) == Chosen("gpt-5", "its -m")
    assert price_warning(codex, Chosen("gpt-5", "its -m"), table, "tmux") is None
    assert price_warning(codex, None, table, "tmux") is None  # not known: not guessed
    odd = Chosen("claude-odd", "its --model")
    assert price_warning(claude, odd, table, "tmux") is not None
    assert price_warning(claude, odd, table, "protocol") is None  # its own cost per turn
    opencode = by_name("opencode")
    assert opencode is not None
    assert price_warning(opencode, Chosen("local/local-model", "its -m"), table, "tmux") is None
