"""``swarm completion``: the bash script really completes (bash runs the function), from the
real command tree, with task and agent ids from ``swarm __complete``."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import build_parser
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.conftest import skip_or_fail
from tests.helpers import cli_env, run_cli

CASES = [  # the words typed, the last one being completed -> what bash offers
    (["ta"], ["task"]),
    (["task", "d"], ["done", "depend", "diff"]),
    (["task", "add", "x", "--pri"], ["--priority"]),
    (["--as", "Agent-1", "task", "st"], ["start"]),  # a global option and its value skipped
    (["task", "done", "T-1", "--as", "Agent-2", "--no"], ["--note"]),
    (["export", "--what", ""], ["tasks", "events", "turns", "budgets"]),
    (["completion", ""], ["bash", "zsh", "fish"]),
    (["task", "done", ""], ["T-2", "T-1"]),  # from the database, newest first
    (["task", "depend", "T-2", "T-1", ""], ["T-2", "T-1"]),  # repeats
    (["send", "Agent-"], [f"Agent-{n}" for n in range(1, 9)]),
    (["send", "Agent-1", ""], []),  # the text: nothing to offer
    (["schedule", "remove", ""], []),  # S-3, not a task id
]


def complete(shell: str, script: Path, words: list[str], env: dict[str, str]) -> list[str]:
    """What ``shell`` offers for ``swarm WORDS`` (the last word is being completed): bash's
    COMPREPLY from the completion function, fish's ``complete -C``, and for zsh the
    candidates its ``_swarm`` hands to ``compadd`` (which keeps those with the prefix)."""
    programs = {
        "bash": (
            f'source {script}; COMP_WORDS=(swarm "$@"); COMP_CWORD={len(words)}; '
            "_swarm; printf '%s\\n' \"${COMPREPLY[@]}\""
        ),
        "zsh": f"compdef() {{ :; }}; source {script}; "
        'for w in $(_swarm_candidates "${@[-1]}" "${(@)@[1,-2]}"); do echo $w; done',
        "fish": f'source {script}; complete -C "$SWARM_TEST_LINE"',
    }
    command = {
        "bash": ["bash", "--norc", "-c", programs["bash"], "bash"],
        "zsh": ["zsh", "-f", "-c", programs["zsh"], "zsh"],
        "fish": ["fish", "--no-config", "-c", programs["fish"]],
    }[shell]
    line = {"SWARM_TEST_LINE": " ".join(["swarm", *words])}  # fish reads it, not arguments
    out = subprocess.run(
        [*command, *(words if shell != "fish" else [])],
        env=env | line,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    found = [line.split("\t")[0] for line in out.splitlines() if line]
    if shell == "zsh":
        found = [w for w in found if w.startswith(words[-1])]
    return sorted(found) if shell == "fish" else found  # fish sorts what it offers


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
async def test_the_shell_completes_commands_options_and_ids(
    tmp_path: Path, home: Path, service: SwarmService, shell: str
) -> None:
    if shutil.which(shell) is None:
        skip_or_fail(f"{shell} is not installed (apt-get install {shell})")
    await service.tasks.create(TaskSpec("one"), "cli")
    await service.tasks.create(TaskSpec("two"), "cli")
    script = tmp_path / f"swarm.{shell}"
    printed = run_cli(home, "completion", shell)
    assert printed.code == 0, printed.err
    script.write_text(printed.out, encoding="utf-8")
    env = cli_env(home, env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"})
    for words, expected in CASES:
        wanted = sorted(expected) if shell == "fish" else expected
        assert complete(shell, script, words, env) == wanted, words
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    every = [name for name in sub.choices if name != "__complete"]
    offered = complete(shell, script, [""], env)  # the tree, not a list kept by hand
    assert offered == (sorted(every) if shell == "fish" else every)


def test_no_database_no_ids_and_nothing_created(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    result = run_cli(home, "__complete", "tasks")
    assert (result.code, result.out) == (0, "")
    assert not home.exists()
    assert run_cli(home, "__complete", "agents").out.split()[0] == "Agent-1"


def test_a_tab_on_ids_builds_the_completion_group_alone() -> None:
    """Each Tab on an id starts ``swarm __complete``: its parser is its group's, not the
    whole tree's 26 groups (~0.8 s of imports a Tab on a two-core machine)."""
    parser = build_parser("__complete")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(sub.choices) == ["__complete", "completion"]
    assert parser.parse_args(["__complete", "agents"]).kind == "agents"


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_task_ids_come_from_the_database_in_use(tmp_path: Path, database_url: str | None) -> None:
    """On PostgreSQL too (a Tab offered none there: it looked for the SQLite file), and no
    SQLite file is made beside it."""
    home, env = tmp_path / "home", {"SWARM_DATABASE_URL": database_url or ""}
    for title in ("first", "second"):
        assert run_cli(home, "task", "add", title, env=env).code == 0
    result = run_cli(home, "__complete", "tasks", env=env)
    assert (result.code, result.out.split()) == (0, ["T-2", "T-1"])
    assert database_url is None or not (home / "swarm.db").exists()
