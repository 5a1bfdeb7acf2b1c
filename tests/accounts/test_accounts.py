"""Issue 51, item 1: an agent's account, named in the agents file or derived from its CLI and
a print of the credential in the launch environment (never the credential itself); the
agents file's ``account`` and ``daily_budget`` checked; ``swarm agents`` shows the account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.accounts.naming import account_of, by_account
from core.agents_file import load_agents
from core.errors import ConfigError
from core.models import Agent
from core.settings import Settings, credential_prints
from tests.helpers import run_cli

KEY = "sk-ant-test-0123456789abcdef"


def test_a_named_account_wins_else_the_cli_and_its_credentials_print() -> None:
    prints = credential_prints({"ANTHROPIC_API_KEY": KEY, "OPENAI_API_KEY": " "})
    assert set(prints) == {"ANTHROPIC_API_KEY"}  # a blank variable is no credential
    assert KEY not in json.dumps(prints) and len(prints["ANTHROPIC_API_KEY"]) == 12
    claude = Agent("A", "dev", cli="claude-code")
    assert account_of(claude, prints) == f"claude-code-{prints['ANTHROPIC_API_KEY']}"
    assert account_of(Agent("B", "dev", cli="codex"), prints) == "codex-default"
    assert account_of(Agent("C", "dev"), prints) == "own-C"  # no CLI: its own
    assert account_of(Agent("D", "dev", cli="codex", account="team"), prints) == "team"
    other = credential_prints({"ANTHROPIC_API_KEY": KEY + "x"})
    assert account_of(claude, other) != account_of(claude, prints)  # another key, another account


def test_the_settings_carry_the_prints_and_never_the_credential() -> None:
    settings = Settings.from_env({"SWARM_HOME": "/tmp/x", "GEMINI_API_KEY": KEY})
    assert KEY not in repr(settings)
    assert settings.credential_prints == credential_prints({"GEMINI_API_KEY": KEY})


def test_agents_of_one_account_are_grouped_in_file_order() -> None:
    agents = [Agent("A", "dev", cli="gemini"), Agent("B", "dev", account="x"),
              Agent("C", "dev", cli="gemini")]  # fmt: skip
    assert by_account(agents, {}) == {"gemini-default": ["A", "C"], "x": ["B"]}


def _file(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "agents.toml"
    path.write_text(f'[[agent]]\nid = "A"\nrole = "dev"\n{extra}\n', encoding="utf-8")
    return path


def test_the_agents_file_reads_account_and_daily_budget(tmp_path: Path) -> None:
    (agent,) = load_agents(_file(tmp_path, 'account = "anthropic-team"\ndaily_budget = 5'))
    assert (agent.account, agent.daily_budget) == ("anthropic-team", 5.0)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ('account = ""', "account must be 1-64 letters"),
        ("account = 3", "account must be 1-64 letters"),
        ('account = "a b"', "account must be 1-64 letters"),
        ("daily_budget = 0", "daily_budget must be a number of dollars above 0"),
        ("daily_budget = -1.5", "daily_budget must be a number of dollars above 0"),
        ("daily_budget = nan", "daily_budget must be a number of dollars above 0"),
        ("daily_budget = inf", "daily_budget must be a number of dollars above 0"),
        ('daily_budget = "5"', "daily_budget must be a number of dollars above 0"),
        ("daily_budget = true", "daily_budget must be a number of dollars above 0"),
    ],
)
def test_a_bad_account_or_budget_is_one_line_naming_the_agent(
    tmp_path: Path, extra: str, said: str
) -> None:
    with pytest.raises(ConfigError, match=said) as caught:
        load_agents(_file(tmp_path, extra))
    assert "agent A" in str(caught.value) and "\n" not in str(caught.value)


def test_swarm_agents_shows_each_agents_account(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "agents.toml"
    config.write_text(
        '[[agent]]\nid = "A"\nrole = "dev"\ncli = "claude-code"\ndelivery = "inbox"\n\n'
        '[[agent]]\nid = "B"\nrole = "dev"\naccount = "team"\ndaily_budget = 2.5\n'
        'delivery = "inbox"\n',
        encoding="utf-8",
    )
    env = {"ANTHROPIC_API_KEY": KEY}
    listed = run_cli(home, "agents", "--json", config=config, env=env)
    assert listed.code == 0, listed.err
    rows = {r["id"]: r for r in json.loads(listed.out)}
    derived = f"claude-code-{credential_prints({'ANTHROPIC_API_KEY': KEY})['ANTHROPIC_API_KEY']}"
    assert (rows["A"]["account"], rows["A"]["account_named"]) == (derived, False)
    assert (rows["B"]["account"], rows["B"]["daily_budget"]) == ("team", 2.5)
    assert rows["A"]["account_limit"] is None
    table = run_cli(home, "agents", config=config, env=env)
    assert "ACCOUNT" in table.out and derived in table.out and "team" in table.out
    assert KEY not in listed.out + listed.err + table.out + table.err
