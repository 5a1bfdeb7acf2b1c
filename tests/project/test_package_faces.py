"""A package's face is its ``__init__.py``; its private modules (``_asking.py``) are its own.
No product module outside a package imports that package's private modules (tests may, to
test them), and a package listed in ``FACES`` keeps every module of it private, so what
other packages use is only what its face names."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT

# packages whose modules are all private behind their face
FACES = (
    "automation/launch",
    "automation/launch/sandbox",
    "core/access",
    "core/ai",
    "core/database",
    "core/planning",
    "core/questions",
    "core/reservations",
    "core/reviews",
)


def _imported(path: Path, module: str) -> Iterator[str]:
    """The modules ``path`` (the module ``module``) imports, absolute (``from x import y``
    gives ``x.y``: ``y`` may be a module)."""
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _private_owner(name: str) -> str | None:
    """The package whose private module or name ``name`` is (``core.questions`` for
    ``core.questions._asking.x``; a private name of a module is its package's), or
    None."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = parts[:i]
            is_module = (ROOT / Path(*owner)).with_suffix(".py").is_file()
            return ".".join(owner[:-1] if is_module else owner)
    return None


def _product_modules() -> Iterator[tuple[Path, str]]:
    for top in ("core", "bot", "automation"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            yield path, ".".join(rel.parts)


def test_no_product_module_imports_another_packages_private_module() -> None:
    found = []
    for path, module in _product_modules():
        for name in _imported(path, module):
            owner = _private_owner(name)
            if owner is not None and not (module + ".").startswith(owner + "."):
                found.append(f"{module} imports {name}")
    assert not found, "import it from the package's face (its __init__.py): " + "; ".join(
        sorted(set(found))
    )


def test_a_faced_package_keeps_each_of_its_modules_private() -> None:
    public = [
        path.relative_to(ROOT).as_posix()
        for package in FACES
        for path in sorted((ROOT / package).glob("*.py"))
        if not path.name.startswith("_")
    ]
    assert not public, f"name it _x.py and export what others use from __init__.py: {public}"
