"""A package's face is its ``__init__.py``; its private modules (``_asking.py``) are its own.
No product module outside a package imports that package's private modules (tests may, to
test them), and a package listed in ``FACES`` keeps every module of it private, so what
other packages use is only what its face names. A package of core not yet faced is listed in
``NOT_YET_FACED``, a list that may only shrink: a new package has a face from its first day.

A face names functions, classes and constants; where outside callers still call a group of
operations through its module's name (``signals.record``), the face exports that private
module under its old name as a namespace, each listed in ``NAMESPACES``: a list that may only
shrink, as the callers import the operations by name. Each rule is run once on a planted
violation in a package in ``tmp_path`` and shown to report it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT
from tests.source_trees import parsed, walked

# packages whose modules are all private behind their face
FACES = (
    "automation/launch",
    "automation/launch/sandbox",
    "core/access",
    "core/agents",
    "core/assignment",
    "core/ai",
    "core/database",
    "core/delivery",
    "core/planning",
    "core/questions",
    "core/reservations",
    "core/reviews",
    "core/tasks",
    "core/workspaces",
)

# packages of core with public modules still: a list that may only shrink
NOT_YET_FACED = (
    "core/accounts",
    "core/clis",
    "core/coordinator",
    "core/costs",
    "core/dialogs",
    "core/formats",
    "core/github",
    "core/github_loop",
    "core/history",
    "core/hosts",
    "core/inbox",
    "core/logs",
    "core/posts",
    "core/privacy",
    "core/reports",
    "core/sandbox",
    "core/schedules",
    "core/service",
    "core/settings",
    "core/store",
    "core/watch",
    "core/workflows",
)

# the private modules a face still exports whole, under their old names (callers write
# ``signals.record``): a list that may only shrink
NAMESPACES: dict[str, tuple[str, ...]] = {
    "automation/launch": ("hooks", "up"),
    "automation/launch/sandbox": ("limits",),
    "core/agents": (
        "alerts",
        "hook_events",
        "judge",
        "limit_events",
        "protocol_events",
        "queries",
        "session_queries",
        "signal_queries",
        "signals",
        "transcript",
        "workspace_files",
    ),
    # moved with the lifecycle from core/tasks (callers write ``lifecycle.cancel``)
    "core/assignment": ("lifecycle",),
    "core/delivery": (
        "claim_queries",
        "message_queries",
        "messages",
        "node_claims",
        "prompt",
        "queries",
        "retention_queries",
        "undelivered",
    ),
    "core/tasks": (
        "campaign_end",
        "campaign_queries",
        "creation",
        "dependencies",
        "held",
        "person",
        "queries",
        "read_queries",
    ),
    "core/workspaces": ("handoff", "manifest", "procs", "reservation_hook", "work"),
}


def _imported(path: Path, module: str) -> Iterator[str]:
    """The modules ``path`` (the module ``module``) imports, absolute (``from x import y``
    gives ``x.y``: ``y`` may be a module)."""
    package = module.rsplit(".", 1)[0]
    for node in walked(parsed(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _private_owner(root: Path, name: str) -> str | None:
    """The package whose private module or name ``name`` is (``core.questions`` for
    ``core.questions._asking.x``; a private name of a module is its package's), or
    None."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = parts[:i]
            is_module = (root / Path(*owner)).with_suffix(".py").is_file()
            return ".".join(owner[:-1] if is_module else owner)
    return None


def _product_modules(root: Path) -> Iterator[tuple[Path, str]]:
    for top in ("core", "bot", "automation"):
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            yield path, ".".join(rel.parts)


def reaches(root: Path) -> list[str]:
    """Each product module's import of another package's private module or name."""
    found = []
    for path, module in _product_modules(root):
        for name in _imported(path, module):
            owner = _private_owner(root, name)
            if owner is not None and not (module + ".").startswith(owner + "."):
                found.append(f"{module} imports {name}")
    return sorted(set(found))


def public_modules(root: Path, faces: tuple[str, ...]) -> list[str]:
    """The modules of the faced packages not named private."""
    return [
        path.relative_to(root).as_posix()
        for package in faces
        for path in sorted((root / package).glob("*.py"))
        if not path.name.startswith("_")
    ]


def unfaced(root: Path) -> list[str]:
    """The packages of core with a module not named private."""
    return sorted(
        folder.relative_to(root).as_posix()
        for folder in (root / "core").iterdir()
        if (folder / "__init__.py").is_file() and public_modules(root, (str(folder),))
    )


def modules_exported(root: Path, package: str) -> set[str]:
    """The names under which ``package``'s face exports one of its private modules whole
    (``from core.agents import _signals as signals``, ``import core.agents._signals``)."""
    dotted = package.replace("/", ".")
    tree = parsed((root / package / "__init__.py").read_text(encoding="utf-8"))
    found = set()
    for node in walked(tree):
        if isinstance(node, ast.ImportFrom) and node.module == dotted and not node.level:
            found |= {a.asname or a.name for a in node.names if a.name.startswith("_")}
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module:
            found |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.asname or a.name for a in node.names if a.name.startswith(dotted + "._")}
    return found


# reaches into another project's private module, each with its reason: a list that may only
# shrink. acp_import puts pydantic's docstring reader aside while the ACP SDK's models are
# built (a host imports it in 0.73 of the time; tests/agents/test_acp_import.py fails when
# pydantic drops the reader)
REACHES_KEPT = (
    "automation.protocol.acp_import imports pydantic._internal",
    "automation.protocol.acp_import imports pydantic._internal._fields",
)


def test_no_product_module_imports_another_packages_private_module() -> None:
    found = reaches(ROOT)
    new = [reach for reach in found if reach not in REACHES_KEPT]
    assert not new, "import it from the package's face (its __init__.py): " + "; ".join(new)
    assert sorted(REACHES_KEPT) == found, "a kept reach is gone: take it off REACHES_KEPT"


def test_a_faced_package_keeps_each_of_its_modules_private() -> None:
    public = public_modules(ROOT, FACES)
    assert not public, f"name it _x.py and export what others use from __init__.py: {public}"


def test_a_package_of_core_not_listed_has_a_face() -> None:
    found = unfaced(ROOT)
    assert sorted(set(found) - set(NOT_YET_FACED)) == [], "give it a face (FACES)"
    assert sorted(set(NOT_YET_FACED) - set(found)) == [], "faced now: take it off the list"
    assert not set(FACES) & set(NOT_YET_FACED)


def test_a_face_exports_a_module_whole_only_as_listed() -> None:
    found = {p: modules_exported(ROOT, p) for p in FACES}
    listed = {p: set(NAMESPACES.get(p, ())) for p in FACES}
    assert {p: sorted(n - listed[p]) for p, n in found.items() if n - listed[p]} == {}, (
        "export the names callers use, not the module"
    )
    assert {p: sorted(n - found[p]) for p, n in listed.items() if n - found[p]} == {}, (
        "no longer exported whole: take it off NAMESPACES"
    )


def _planted(tmp_path: Path) -> Path:
    """A tree with one faced package (``core/feat``: ``_rules.py`` behind its face), a
    module of another package reaching into it, a faced package with a public module and a
    face exporting a private module whole."""
    files = {
        "core/feat/__init__.py": (
            "from core.feat._rules import rule\nfrom . import _rules\n"
            "import core.feat._rules as whole\n"
        ),
        "core/feat/_rules.py": "def rule() -> None: ...\n",
        "core/feat/loose.py": "",
        "core/other/__init__.py": "from core.feat import _rules as rules\n",
        "core/other/_x.py": "from core.feat._rules import rule\nimport core.feat._rules\n",
        "bot/cli.py": "from core.feat import rule\nfrom core.other import _x\n",
        "automation/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_each_rule_reports_its_planted_violation(tmp_path: Path) -> None:
    root = _planted(tmp_path)
    assert reaches(root) == [
        "bot.cli imports core.other._x",
        "core.other.__init__ imports core.feat._rules",
        "core.other._x imports core.feat._rules",
        "core.other._x imports core.feat._rules.rule",
    ]
    assert public_modules(root, ("core/feat",)) == ["core/feat/loose.py"]
    assert unfaced(root) == ["core/feat"]
    assert modules_exported(root, "core/feat") == {"_rules", "whole"}
    assert modules_exported(root, "core/other") == set()
