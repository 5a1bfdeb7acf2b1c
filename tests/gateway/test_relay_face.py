"""The relay runs inside the sandbox as ``python -I relay.py``: it imports the standard
library only (no swarm module, nothing the agent could put on its path)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from automation.launch.gateway import RELAY


def imports_outside_stdlib(source: str) -> list[str]:
    """The top-level modules ``source`` imports that are not the standard library's."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [] if node.level else [(node.module or "").split(".")[0]]
    return sorted(set(found) - set(sys.stdlib_module_names) - {"__future__"})


def test_the_relay_imports_the_standard_library_only() -> None:
    assert imports_outside_stdlib(RELAY.read_text(encoding="utf-8")) == []


def test_a_planted_swarm_import_is_found(tmp_path: Path) -> None:
    planted = (
        RELAY.read_text(encoding="utf-8") + "\nfrom core.costs import ledger\nimport aiohttp\n"
    )
    assert imports_outside_stdlib(planted) == ["aiohttp", "core"]
