"""docs/agents.md's table of what works with each CLI names every CLI swarm knows, at the
version the live tests pin, with the resume its module gives ``swarm desktop up``."""

from __future__ import annotations

from pathlib import Path

from core.clis import CLIS
from tools.install_agents import PINS

DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"


def table_rows() -> dict[str, list[str]]:
    """The table's rows by CLI title: its cells."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## What works with each CLI", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]
    return {row[0]: row for row in cells}


def test_the_table_names_each_cli_at_its_pinned_version_and_resume() -> None:
    rows = table_rows()
    assert sorted(rows) == sorted(cli.title for cli in CLIS)
    pins = {pin.cli: pin.version for pin in PINS}
    for cli in CLIS:
        row = rows[cli.title]
        assert row[1] == pins[cli.name], cli.name
        resume = cli.resume_option or cli.resume_subcommand
        assert row[-1] == (f"`{resume}`" if resume else "none"), cli.name
