"""The parser of a command is built from its group alone: ``GROUPS`` names each group's
commands as its ``register`` adds them, the one-group parser reads a command as the whole
tree does, and a command imports no other group."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import import_module

import pytest

from bot.cli.main import GROUPS, WHOLE_TREE, build_parser, command_word
from tests.helpers import ROOT


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _tree(parser: argparse.ArgumentParser, path: str = "") -> dict[str, str]:
    """Every parser's help and every option's default, by its path of command words."""
    found = {path: parser.format_help()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word, child in action.choices.items():
                found.update(_tree(child, f"{path} {word}"))
        elif not isinstance(action.default, argparse.ArgumentParser):
            found[f"{path} {action.dest}"] = repr(action.default)
    return found


@pytest.mark.parametrize("group", list(GROUPS))
def test_each_group_registers_the_commands_it_is_listed_with(group: str) -> None:
    sub = argparse.ArgumentParser().add_subparsers()
    import_module(f"bot.cli.{group}").register(sub)
    assert sorted(sub.choices) == sorted(GROUPS[group])


def test_a_command_is_read_by_its_group_as_by_the_whole_tree() -> None:
    whole = build_parser()
    words = [w for commands in GROUPS.values() for w in commands if w not in WHOLE_TREE]
    assert sorted(_subparsers(whole).choices) == sorted([*words, *WHOLE_TREE])
    for word in words:
        alone = build_parser(word)
        group = next(commands for commands in GROUPS.values() if word in commands)
        assert sorted(_subparsers(alone).choices) == sorted(group)
        child, its = _subparsers(whole).choices[word], _subparsers(alone).choices[word]
        assert _tree(its, word) == _tree(child, word), word


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["task", "done", "T-1"], "task"),
        (["--as", "Agent-1", "task", "start"], "task"),  # a global option's value skipped
        (["--config=agents.toml", "-v", "doctor"], "doctor"),
        (["--config", "doctor", "status"], "status"),  # "doctor" is the file's name here
        (["--help"], None),
        (["--version"], None),
        ([], None),
        (["--as"], None),
        (["staus"], "staus"),  # mistyped: no group names it, so the whole tree says so
    ],
)
def test_the_command_word_is_found_after_the_global_options(
    argv: list[str], word: str | None
) -> None:
    assert command_word(argv) == word


def test_a_mistyped_command_is_told_from_the_whole_tree(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser(command_word(["staus"])).parse_args(["staus"])
    assert "did you mean 'status'?" in capsys.readouterr().err


def _groups_loaded(code: str) -> set[str]:
    """The modules of ``bot.cli`` loaded once ``code`` ran in a fresh Python."""
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys; {code}; print(' '.join(sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return {m for m in loaded if m.startswith("bot.cli.")}


def test_a_command_imports_its_group_and_what_that_imports_only() -> None:
    its_own = _groups_loaded("import bot.cli.main, bot.cli.tasks")
    built = _groups_loaded("from bot.cli.main import build_parser; build_parser('task')")
    assert built == its_own
    assert len(_groups_loaded("from bot.cli.main import build_parser; build_parser()")) > len(
        its_own
    )


def test_the_version_imports_no_command_group() -> None:
    """``swarm --version`` built the whole tree first (26 groups: ~1 s a start here)."""
    program = (
        "import contextlib, sys\n"
        "from bot.cli.main import main\n"
        "with contextlib.suppress(SystemExit):\n"
        "    main(['-v', '--version'])\n"
        "print(' '.join(sys.modules))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert ran.stdout.startswith("swarm ")  # the version, then the modules
    assert not {f"bot.cli.{name}" for name in GROUPS} & set(ran.stdout.split())


def test_the_agents_group_builds_without_the_launch_package() -> None:
    """``swarm agents stop`` is a person's stop, timed from the command (issue 79): its
    group's parser leaves the sandbox, the gateway and aiohttp to the commands that use
    them (``agents mcp install`` imported them all for a help text: ~0.4 s a start)."""
    code = "from bot.cli.main import build_parser; build_parser('agents')"
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys; {code}; print(' '.join(sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert not {"automation.launch", "aiohttp"} & set(loaded)
