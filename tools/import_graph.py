"""Measure core's import graph against its tiers (the contracts in ``pyproject.toml``).

    python tools/import_graph.py              # packages, arrows, cycles, longest chain, tiers
    python tools/import_graph.py --arrows     # each arrow between two features, its imports
    python tools/import_graph.py --root DIR   # another checkout's code (DIR/core), this one's
                                              # contracts: the figures before a change

A *package* is a child of ``core`` (a package or a module: ``core.tasks``, ``core.errors``);
an *arrow* is an ordered pair of packages with at least one import between their modules
(``TYPE_CHECKING`` imports too, as the contracts count them). The tiers are the layers of the
contract of type ``layers`` over ``core``; the features are the modules of the
``independence`` contract over ``core``'s packages. Two features *depend* on each other when
a chain of imports leads from one to the other (what an independence contract refuses).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
Arrows = Mapping[str, set[str]]


def contracts(root: Path) -> list[dict[str, object]]:
    """The import contracts of ``root``'s ``pyproject.toml``."""
    with (root / "pyproject.toml").open("rb") as file:
        found = tomllib.load(file)["tool"]["importlinter"]["contracts"]
    return list(found)


def tiers_of(root: Path) -> list[list[str]]:
    """The layers of the ``layers`` contract over ``core``, each a list of its packages."""
    for contract in contracts(root):
        if contract["type"] == "layers" and contract.get("containers") == ["core"]:
            layers = contract["layers"]
            assert isinstance(layers, list)
            return [sorted(n.strip() for n in re.split(r"[:|]", str(x))) for x in layers]
    return []


def features_of(root: Path) -> list[str]:
    """The modules of the ``independence`` contract over ``core``'s packages."""
    for contract in contracts(root):
        modules = contract.get("modules")
        core = isinstance(modules, list) and all(str(m).startswith("core.") for m in modules)
        if contract["type"] == "independence" and core:
            assert isinstance(modules, list)
            return sorted(str(m).removeprefix("core.") for m in modules)
    return []


def package(module: str) -> str | None:
    """The child of ``core`` that ``module`` is in (None for ``core`` itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def imports(graph: grimp.ImportGraph) -> Counter[tuple[str, str]]:
    """How many module imports each arrow between two of core's packages holds."""
    found: Counter[tuple[str, str]] = Counter()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = package(importer), package(imported)
            if a and b and a != b:
                found[(a, b)] += 1
    return found


def arrows_of(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Each package's arrows, as the packages it imports."""
    out: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        out[a].add(b)
    return out


def cycles(nodes: Iterable[str], out: Arrows) -> list[list[str]]:
    """The strongly connected groups of more than one package (Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in out.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = stack[stack.index(v) :]
            del stack[stack.index(v) :]
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def longest_chain(nodes: Iterable[str], out: Arrows) -> int:
    """How many packages the longest chain of arrows passes (an acyclic graph): the floors a
    strict order of the packages needs."""
    height: dict[str, int] = {}

    def of(v: str) -> int:
        if v not in height:
            height[v] = 1 + max((of(w) for w in out.get(v, ())), default=0)
        return height[v]

    return max((of(v) for v in nodes), default=0)


def reach(nodes: Iterable[str], out: Arrows) -> dict[str, set[str]]:
    """The packages each one leads to by a chain of arrows."""
    found: dict[str, set[str]] = {}

    def of(v: str) -> set[str]:
        if v not in found:
            found[v] = set()
            for w in out.get(v, ()):
                found[v] |= {w} | of(w)
        return found[v]

    for node in nodes:
        of(node)
    return found


def report(graph: grimp.ImportGraph, tiers: list[list[str]], features: list[str]) -> None:
    """Print the figures of the module's docstring."""
    counted = imports(graph)
    nodes = sorted(p for m in graph.modules if (p := package(m)))
    nodes = sorted(set(nodes))
    out = arrows_of(counted)
    print(f"core: {len(nodes)} packages, {len(counted)} arrows ({sum(counted.values())} imports)")
    print(f"cycles between packages: {cycles(nodes, out) or 'none'}")
    print(f"longest chain: {longest_chain(nodes, out)} packages")
    if tiers:
        tier = {p: i for i, group in enumerate(tiers) for p in group}
        kinds = Counter(
            "within" if tier[a] == tier[b] else ("down" if tier[a] < tier[b] else "up")
            for a, b in counted
            if a in tier and b in tier
        )
        print(f"tiers: {len(tiers)}, sizes {[len(t) for t in tiers]}; arrows {dict(kinds)}")
    if features:
        inner = {(a, b): n for (a, b), n in counted.items() if a in features and b in features}
        leads = reach(features, arrows_of(inner))
        pairs = list(itertools.combinations(features, 2))
        direct = [(a, b) for a, b in pairs if (a, b) in inner or (b, a) in inner]
        depend = [(a, b) for a, b in pairs if b in leads[a] or a in leads[b]]
        print(
            f"features: {len(features)}, {len(pairs)} pairs: {len(direct)} import one another "
            f"({len(inner)} arrows, {sum(inner.values())} imports), {len(depend)} depend "
            f"through a chain, {len(pairs) - len(depend)} independent"
        )


def feature_arrows(graph: grimp.ImportGraph, features: list[str]) -> None:
    """Print each arrow between two features with its imports."""
    for (a, b), n in sorted(imports(graph).items()):
        if a in features and b in features:
            print(f"{a} -> {b}: {n}")
            for importer in sorted(graph.find_descendants(f"core.{a}")):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if package(imported) == b:
                        print(f"    {importer} -> {imported}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="a checkout (default: this one)")
    parser.add_argument("--arrows", action="store_true", help="the arrows between features")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    graph = grimp.build_graph("core", cache_dir=None)
    features = features_of(ROOT)
    if args.arrows:
        feature_arrows(graph, features)
    else:
        report(graph, tiers_of(ROOT), features)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
