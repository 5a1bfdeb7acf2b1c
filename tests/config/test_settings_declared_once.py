"""Each setting is declared once (``core/settings/envvars.py``, issue 42 item 5): every declared
setting is shown by ``swarm config show`` and documented, and no code reads a setting from
an environment mapping by name outside the declarations.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from bot.config import Config
from bot.settings_index import PARTS, every_setting
from core.errors import ConfigError
from tests.helpers import ROOT, run_cli
from tests.source_trees import parsed

SETTING_NAME = re.compile(r"^(SWARM|DISCORD|OPENAI|GITHUB|TELEGRAM|SLACK)_[A-Z0-9_]+$")
# Modules other helpers own (issue 42): each still reads these by name; to be switched to
# the declaration's ``read`` by their owners. The list only shrinks.
NOT_YET = {
    "bot/app.py": {"SWARM_LOG_FILE"},
    "bot/cli/hook.py": {"SWARM_AGENT"},
    "bot/discordbot/settings.py": {"DISCORD_API_BASE", "SWARM_NOTIFY"},
    # the hook's fast relay (python -m bot.cli.hook) imports no settings module at all
    "bot/hook_relay.py": {"SWARM_HOME", "SWARM_AGENT", "SWARM_CONFIG"},
    # swarm doctor looks for a password in a settings file's raw text, not at a setting
    "bot/cli/doctor.py": {"SWARM_DATABASE_URL"},
}


def _reads(tree: ast.AST) -> set[str]:
    """Setting names read from a mapping by a literal: ``env.get("X")``, ``env["X"]``,
    ``os.getenv("X")``, ``"X" in env``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        literal: ast.expr | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"get", "getenv", "pop"} and node.args:
                literal = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            literal = node.slice
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
            literal = node.left
        if isinstance(literal, ast.Constant) and SETTING_NAME.match(str(literal.value)):
            found.add(str(literal.value))
    return found


def test_no_setting_is_read_by_name_outside_its_declaration() -> None:
    found = {}
    for folder in ("core", "bot", "automation"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            reads = _reads(parsed(path.read_text(encoding="utf-8"))) - NOT_YET.get(name, set())
            if reads:
                found[name] = sorted(reads)
    assert found == {}, "read Setting.read(env) of the declaration instead"


def test_the_exceptions_are_still_needed() -> None:
    for name, allowed in NOT_YET.items():
        reads = _reads(parsed((ROOT / name).read_text(encoding="utf-8")))
        assert allowed <= reads, f"{name} no longer reads {allowed - reads}: shrink NOT_YET"


def test_each_setting_is_declared_once_with_a_doc() -> None:
    names = [s.name for table in PARTS.values() for s in table]
    assert len(names) == len(set(names)) == len(every_setting())
    for _, setting in every_setting().values():
        assert SETTING_NAME.match(setting.name)
        assert setting.doc and "\n" not in setting.doc


@pytest.mark.parametrize("part", sorted(PARTS))
def test_each_declared_field_is_its_part_field_with_the_declared_default(part: str) -> None:
    parsed = getattr(Config({}), part)
    fields = {f.name: f for f in dataclasses.fields(parsed)}
    for setting in PARTS[part]:
        if setting.field:
            assert setting.field in fields, f"{setting.name}: no field {setting.field}"
            assert getattr(parsed, setting.field) == setting.default, setting.name


def test_every_declared_setting_is_shown_by_config_show(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "config", "show")
    assert result.code == 0, result.err
    shown = [line.split()[0] for line in result.out.split("\n\n")[0].splitlines()]
    assert shown == list(every_setting())


def test_every_declared_setting_is_in_the_docs_settings_tables() -> None:
    """Each one has a row in docs/configuration.md's table, or is in the list "Every setting
    and its page" and has a row in that page's table; and every name there is declared."""
    configuration = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", configuration, re.M))
    for page, names in re.findall(r"^\| \[([\w-]+\.md)\][^|]*\| (.+) \|$", configuration, re.M):
        rows = "\n".join(_table_rows(ROOT / "docs" / page))
        for name in re.findall(r"`([A-Z0-9_]+)`", names):
            if SETTING_NAME.match(name) and not name.startswith("SWARM_REQUIRE_"):
                assert f"`{name}`" in rows, f"{name} is listed for {page}: no row there"
                documented.add(name)
    assert documented == set(every_setting())


def _table_rows(page: Path) -> list[str]:
    return [line for line in page.read_text(encoding="utf-8").splitlines() if line[:2] == "| "]


def test_a_bad_value_is_one_line_naming_the_setting() -> None:
    for name, (part, _) in every_setting().items():
        try:
            getattr(Config({name: "\x1b[31mbad value, surely\nsecond line"}), part)
        except ConfigError as exc:
            assert name in str(exc) and "\n" not in str(exc) and "\x1b" not in str(exc)
