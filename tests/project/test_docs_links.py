"""The docs are a map whose links lead somewhere (issue 52, item 7): every relative link in
README.md and docs/ names a file that exists and, when it names a heading (``page.md#slug``),
a heading of that page; every decision file is in the decisions' index, with a title; and
each ``docs/...md`` a module's docstring or comment names exists (a page moved or split
leaves no dangling pointer behind)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import ROOT

LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"```.*?```", re.S)
HEADING = re.compile(r"^#+ (.+)$", re.M)
DOC_PATH = re.compile(r"\bdocs/[\w/.-]+?\.md\b")
DECISION = re.compile(r"^\d{4}-[a-z0-9-]+\.md$")
# Files whose ``docs/...md`` is not one of swarm's pages: another project's docs, test data.
NOT_OURS = {
    "core/clis/gemini/__init__.py": "Gemini CLI's own docs/reference/commands.md",
    "tests/reservations/test_cli.py": "a path in a test repository",
    "tests/workspaces/test_reservation_hook.py": "a path in a test repository",
    "tests/project/test_docs_links.py": "this docstring",
}


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as ``-``."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(page: Path) -> list[str]:
    """The relative links of ``page`` that lead to no file, or to no heading of it."""
    broken = []
    for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page.resolve()
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md":
            headings = {slug(h) for h in HEADING.findall(dest.read_text(encoding="utf-8"))}
            if anchor not in headings:
                broken.append(f"{target}: no such heading")
    return broken


def test_every_relative_link_in_the_docs_leads_to_a_file_and_heading() -> None:
    broken = {
        str(page.relative_to(ROOT)): found for page in _pages() if (found := broken_links(page))
    }
    assert broken == {}


def test_a_link_to_a_missing_heading_is_found(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Two words\n", encoding="utf-8")
    page = tmp_path / "b.md"
    page.write_text("[ok](a.md#two-words) [gone](a.md#three) [none](c.md)\n", encoding="utf-8")
    assert broken_links(page) == ["a.md#three: no such heading", "c.md: no such file"]


def test_every_decision_has_a_title_and_a_row_in_the_index() -> None:
    folder = ROOT / "docs" / "decisions"
    index = (folder / "README.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in folder.glob("*.md") if p.name != "README.md")
    assert files and all(DECISION.match(name) for name in files)
    assert [int(name[:4]) for name in files] == list(range(1, len(files) + 1))
    for name in files:
        assert (folder / name).read_text(encoding="utf-8").startswith("# "), name
        assert f"]({name})" in index, f"{name} is not in docs/decisions/README.md"


def test_every_docs_page_the_code_names_exists() -> None:
    named = {
        (str(path.relative_to(ROOT)), doc)
        for top in ("bot", "core", "automation", "tests", "bench", "tools")
        for path in (ROOT / top).rglob("*.py")
        for doc in DOC_PATH.findall(path.read_text(encoding="utf-8"))
    }
    named |= {("pyproject.toml", doc) for doc in DOC_PATH.findall(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"))}  # fmt: skip
    missing = [(where, doc) for where, doc in named if not (ROOT / doc).exists()]
    assert sorted((where, doc) for where, doc in missing if where not in NOT_OURS) == []
