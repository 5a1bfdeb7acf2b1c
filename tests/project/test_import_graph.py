"""``tools/import_graph.py``, which measures core's import graph against its tiers: its graph
arithmetic, and its figures agreeing with the contracts of ``pyproject.toml``."""

from __future__ import annotations

import re
import tomllib

import grimp

from tests.helpers import ROOT
from tools import import_graph


def test_a_circle_is_found_and_the_longest_chain_counted() -> None:
    circle = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_graph.cycles("abcd", circle) == [["a", "b", "c"]]
    chain = {"a": {"b"}, "b": {"c"}, "d": {"c"}}
    assert import_graph.cycles("abcd", chain) == []
    assert import_graph.longest_chain("abcd", chain) == 3
    assert import_graph.reach("abcd", chain)["a"] == {"b", "c"}


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def _arrows(expressions: object) -> set[tuple[str, str]]:
    """The packages of core each ``a -> b`` import expression joins."""
    assert isinstance(expressions, list)
    found = set()
    for expression in expressions:
        importer, imported = (re.match(r"core\.(\w+)", s.strip()) for s in expression.split("->"))
        assert importer and imported
        found.add((importer.group(1), imported.group(1)))
    return found


def test_the_measured_arrows_are_the_ones_the_contracts_allow() -> None:
    # between features: the independence contract's list (which ignores the tiers' upward
    # exceptions too, the chains through them being a feature's); up a tier: the layers
    # contract's exceptions
    graph = grimp.build_graph("core", cache_dir=None)
    counted = import_graph.imports(graph)
    features = import_graph.features_of(ROOT)
    tiers = import_graph.tiers_of(ROOT)
    (independence,) = [
        c
        for c in _contracts()
        if c["type"] == "independence" and "core.tasks" in str(c.get("modules"))
    ]
    (layers,) = [c for c in _contracts() if c.get("containers") == ["core"]]
    between = {(a, b) for a, b in counted if a in features and b in features}
    exceptions = _arrows(layers["ignore_imports"])
    assert between == _arrows(independence["ignore_imports"]) - exceptions
    tier = {name: i for i, group in enumerate(tiers) for name in group}
    up = {(a, b) for a, b in counted if tier[a] > tier[b]}
    assert up == exceptions
    packages = {p for m in graph.modules if (p := import_graph.package(m))}
    assert sorted(tier) == sorted(packages)
