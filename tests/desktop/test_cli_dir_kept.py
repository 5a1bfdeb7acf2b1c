"""``swarm desktop up`` writes each agent's ``cli_dir`` (where its CLI's usage files are): the
folder it works out from the agent's command; for a wrapper script, where it cannot, a
``cli_dir`` the person set in the agents file is kept (before: overwritten with ``""`` at
every ``up``, so ``swarm agents explain``'s advice to set it never held)."""

from __future__ import annotations

from pathlib import Path

from automation.launch import NO_CELL, Planned, cli_dir_value
from automation.launch._config import Launch


def _planned(cli_dir: str | None) -> Planned:
    launch = Launch("A", "terminal", "my-wrapper", "my-wrapper", "xterm")
    return Planned("A", launch, NO_CELL, Path("/w"), "codex", cli_dir)


def test_a_person_set_cli_dir_is_kept_where_swarm_cannot_tell() -> None:
    assert cli_dir_value(_planned("/home/me/.codex-team"), None) == {}
    assert cli_dir_value(_planned(None), None) == {"cli_dir": ""}


def test_a_folder_swarm_works_out_is_written() -> None:
    found = Path("/home/me/.codex")
    assert cli_dir_value(_planned("/old"), found) == {"cli_dir": str(found)}
