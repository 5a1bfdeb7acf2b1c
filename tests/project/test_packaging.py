"""Every third-party package the shipped code imports is declared in its pyproject.toml."""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from collections.abc import Mapping
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.source_trees import parsed, walked

LOCALDISCORD = ROOT / "packages" / "localdiscord"


def imported_modules(folders: list[Path]) -> dict[str, Path]:
    """Top-level names of absolute imports in every .py file under ``folders``: a file each."""
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            for node in walked(parsed(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], path)
    return found


def declared(pyproject: Path) -> set[str]:
    """Normalized names of the dependencies and optional dependencies of a project."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {_normalized(re.split(r"[\s;<>=!~\[]", r, maxsplit=1)[0]) for r in requirements}


def undeclared(folders: list[Path], first_party: set[str], pyproject: Path) -> list[str]:
    """Imports that are neither stdlib, first-party nor provided by a declared package."""
    providers = _providers()
    wanted = declared(pyproject)
    missing = []
    for module, path in imported_modules(folders).items():
        if module in sys.stdlib_module_names or module in first_party or module == "__future__":
            continue
        dists = {_normalized(d) for d in providers.get(module, [])}
        if not dists & wanted:
            missing.append(
                f"{module} (imported by {_shown(path)}; "
                f"provided by {sorted(dists) or 'nothing installed'})"
            )
    return missing


@functools.cache  # what is installed does not change while the tests run (0.3 s a call)
def _providers() -> Mapping[str, list[str]]:
    return packages_distributions()


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def test_swarm_declares_every_import() -> None:
    folders = [ROOT / "bot", ROOT / "core", ROOT / "automation"]
    assert undeclared(folders, {"bot", "core", "automation"}, ROOT / "pyproject.toml") == []


def test_localdiscord_declares_every_import() -> None:
    folders = [LOCALDISCORD / "src"]
    assert undeclared(folders, {"localdiscord"}, LOCALDISCORD / "pyproject.toml") == []


def test_an_undeclared_import_is_found(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("import yarl\nimport json\nfrom . import x\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = []\n')
    found = undeclared([tmp_path], set(), tmp_path / "pyproject.toml")
    assert len(found) == 1 and found[0].startswith("yarl (imported by")


@pytest.mark.parametrize(
    "requirement", ["aiohttp>=3.9", "aiohttp [speedups] >=3", "aiohttp; sys_platform == 'linux'"]
)
def test_requirement_names_are_read(tmp_path: Path, requirement: str) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\ndependencies = ["{requirement}"]\n'
    )
    assert declared(tmp_path / "pyproject.toml") == {"aiohttp"}
