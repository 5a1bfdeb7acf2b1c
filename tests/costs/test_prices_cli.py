"""``swarm costs prices`` (issue 79, item 5): the models a turn can be priced for, as the
ledger prices them, swarm's table with the person's SWARM_PRICES over it, each row saying
which; a bad file is one line and exit 1, no database opened."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli


def test_the_table_lists_swarms_models_with_the_persons_over_them(tmp_path: Path) -> None:
    mine = tmp_path / "prices.toml"
    mine.write_text(
        '[models."my-model"]\ninput = 1.5\noutput = 3\n'
        '[models."claude-opus-5-5"]\ninput = 9\noutput = 9\n',
        encoding="utf-8",
    )
    home = tmp_path / "home"
    shown = run_cli(home, "costs", "prices", env={"SWARM_PRICES": str(mine)})
    assert shown.code == 0, shown.err
    lines = {line.split()[0]: line for line in shown.out.splitlines()}
    assert lines["my-model"].split()[1:3] == ["$1.5", "$3"] and str(mine) in lines["my-model"]
    assert lines["claude-opus-5-5"].split()[1:3] == ["$9", "$9"]  # the person's over swarm's
    assert lines["gemini-3.1-pro-preview"].endswith("swarm's")
    rows = json.loads(run_cli(home, "costs", "prices", "--json",
                              env={"SWARM_PRICES": str(mine)}).out)  # fmt: skip
    mine_row = next(r for r in rows if r["model"] == "my-model")
    assert mine_row == {"model": "my-model", "input": 1.5, "output": 3.0, "cache_read": 0.0,
                        "cache_write": None, "from": str(mine)}  # fmt: skip
    assert not home.exists()  # nothing opened nor written: a table read


def test_a_bad_price_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "prices.toml"
    bad.write_text('[models."m"]\ninput = -1\noutput = 2\n', encoding="utf-8")
    shown = run_cli(tmp_path / "home", "costs", "prices", env={"SWARM_PRICES": str(bad)})
    assert shown.code == 1 and shown.out == ""
    assert len(shown.err.strip().splitlines()) == 1 and str(bad) in shown.err, shown.err
