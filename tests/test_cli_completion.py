"""``swarm completion``: the bash script really completes (bash runs the function), from the
real command tree, with task and agent ids from ``swarm __complete``."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.cli_completion import command_tree
from bot.cli_completion_scripts import render
from core.models import TaskSpec
from core.service import SwarmService
from tests.helpers import cli_env, run_cli

CASES = [  # the words typed, the last one being completed -> what bash offers
    (["ta"], ["task"]),
    (["task", "d"], ["done", "depend", "diff"]),
    (["task", "add", "x", "--pri"], ["--priority"]),
    (["--as", "Agent-1", "task", "st"], ["start"]),  # a global option and its value skipped
    (["task", "done", "T-1", "--as", "Agent-2", "--no"], ["--note"]),
    (["export", "--what", ""], ["tasks", "events"]),
    (["completion", ""], ["bash", "zsh", "fish"]),
    (["task", "done", ""], ["T-2", "T-1"]),  # from the database, newest first
    (["task", "depend", "T-2", "T-1", ""], ["T-2", "T-1"]),  # repeats
    (["send", "Agent-"], [f"Agent-{n}" for n in range(1, 9)]),
    (["send", "Agent-1", ""], []),  # the text: nothing to offer
    (["schedule", "remove", ""], []),  # S-3, not a task id
]


def complete(script: Path, words: list[str], env: dict[str, str]) -> list[str]:
    """What bash's completion function puts in COMPREPLY for ``swarm WORDS``."""
    program = (f"source {script}; COMP_WORDS=(swarm \"$@\"); COMP_CWORD={len(words)}; "
               "_swarm; printf '%s\\n' \"${COMPREPLY[@]}\"")
    out = subprocess.run(["bash", "--norc", "-c", program, "bash", *words], env=env,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [line for line in out.splitlines() if line]


async def test_bash_completes_commands_options_and_ids(
    tmp_path: Path, home: Path, service: SwarmService
) -> None:
    await service.create_task(TaskSpec("one"), "cli")
    await service.create_task(TaskSpec("two"), "cli")
    script = tmp_path / "swarm.bash"
    printed = run_cli(home, "completion", "bash")
    assert printed.code == 0, printed.err
    script.write_text(printed.out, encoding="utf-8")
    env = cli_env(home, env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"})
    for words, expected in CASES:
        assert complete(script, words, env) == expected, words
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    every = [name for name in sub.choices if name != "__complete"]
    assert complete(script, [""], env) == every  # the tree, not a list kept by hand


def test_no_database_no_ids_and_nothing_created(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    result = run_cli(home, "__complete", "tasks")
    assert (result.code, result.out) == (0, "")
    assert not home.exists()
    assert run_cli(home, "__complete", "agents").out.split()[0] == "Agent-1"


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_parse(tmp_path: Path, shell: str) -> None:
    script = render(shell, command_tree(build_parser()))
    assert "'task add/opts'" in script and "__complete" in script
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed: only generated, not parsed")
    path = tmp_path / f"swarm.{shell}"
    path.write_text(script, encoding="utf-8")
    subprocess.run([shell, "-n", str(path)], check=True, timeout=30)
