"""Every TOML file swarm reads fails in one line naming the file, also when it is nested too
deeply for ``tomllib`` (issue 23, item 12: a 10 kB ``x = [[[[...]]]]`` gave a 2,989-line
RecursionError traceback), through the real CLI in a child process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.formats.tomltext import MAX_DEPTH, TomlError, loads
from tests.helpers import run_cli

DEEP = "x = " + "[" * 5000 + "]" * 5000 + "\n"  # 10 kB


def nested(levels: int) -> str:
    """``x`` holding arrays nested ``levels`` deep."""
    return "x = " + "[" * levels + "]" * levels + "\n"


def test_the_nesting_limit() -> None:
    assert list(loads(nested(MAX_DEPTH - 1))) == ["x"]  # the document's table + the arrays
    with pytest.raises(TomlError, match=f"^nested more than {MAX_DEPTH} levels deep$"):
        loads(nested(MAX_DEPTH))
    with pytest.raises(TomlError, match=r"^nested more than"):
        loads(DEEP)  # RecursionError inside tomllib
    with pytest.raises(TomlError, match=r"^Expected '=' after a key"):
        loads("x\n")


def assert_one_line_error(result: object, text: str) -> None:
    """Exit 2, one line on stderr: ``swarm: error: ...TEXT...``, nothing on stdout."""
    code, out, err = (getattr(result, k) for k in ("code", "out", "err"))
    assert (code, out) == (2, ""), result
    assert err.startswith("swarm: error: ") and err.count("\n") == 1 and text in err, err
    assert "Traceback" not in err


def test_a_deep_agents_file(home: Path, tmp_path: Path) -> None:
    agents = tmp_path / "agents.toml"
    agents.write_text(DEEP)
    assert_one_line_error(
        run_cli(home, "agents", config=agents),
        f"agents file {agents} is not valid TOML: nested more than",
    )


def test_a_deep_user_config_file(home: Path, tmp_path: Path) -> None:
    user = tmp_path / "xdg" / "swarm" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text(DEEP)
    assert_one_line_error(
        run_cli(home, "agents", env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")}),
        f"{user}: not valid TOML (nested more than",
    )


def test_a_deep_workflow_is_one_line_and_list_shows_the_others(home: Path) -> None:
    folder = home / "workflows"
    folder.mkdir()
    (folder / "deep.toml").write_text(DEEP)
    (folder / "mine.toml").write_text('description = "Mine"\n[[steps]]\nid = "a"\ntitle = "A"\n')
    assert_one_line_error(
        run_cli(home, "workflow", "validate", str(folder / "deep.toml")),
        "deep.toml: not valid TOML (nested more than",
    )
    assert_one_line_error(run_cli(home, "workflow", "show", "deep"), "deep.toml: not valid TOML")
    listed = run_cli(home, "workflow", "list")
    assert listed.code == 0, listed
    rows = {line.split()[0]: line.split(maxsplit=2)[1:] for line in listed.out.splitlines()[1:]}
    assert rows["mine"] == ["1", "Mine"] and "release" in rows
    assert rows["deep"] == [
        "-",
        f"INVALID: deep.toml: not valid TOML (nested more than {MAX_DEPTH} levels deep)",
    ]
    assert listed.err == (
        "swarm: warning: 1 workflow file(s) do not load (swarm workflow validate FILE says why)\n"
    )
    as_json = {w["name"]: w for w in json.loads(run_cli(home, "workflow", "list", "--json").out)}
    assert as_json["deep"]["description"] is None
    assert as_json["deep"]["error"].startswith("deep.toml: not valid TOML")
    assert (as_json["mine"]["description"], as_json["mine"]["error"]) == ("Mine", None)


def test_validate_refuses_a_default_list_that_run_would_refuse(home: Path, tmp_path: Path) -> None:
    items = ", ".join(f'"m{i}"' for i in range(100_000))
    flow = tmp_path / "big.toml"
    flow.write_text(
        f'[vars.modules]\ntype = "list"\ndefault = [{items}]\n'
        '[[steps]]\nid = "review"\ntitle = "Review ${item}"\nfor_each = "modules"\n'
    )
    message = (
        'big.toml: step "review": for_each "modules" has 100000 items by default: the limit is 1000'
    )
    assert_one_line_error(run_cli(home, "workflow", "validate", str(flow)), message)
    assert_one_line_error(run_cli(home, "workflow", "run", str(flow), "--dry-run"), message)
    allowed = tmp_path / "small.toml"
    allowed.write_text(flow.read_text().replace(items, ", ".join(f'"m{i}"' for i in range(1000))))
    assert run_cli(home, "workflow", "validate", str(allowed)).code == 0
