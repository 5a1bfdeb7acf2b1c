"""A task's diff read as files of numbered lines (the dashboard's review), on real git
output: quoted names, added, deleted and renamed files, control characters, the cut."""

from __future__ import annotations

from pathlib import Path

from core.workspaces._diff_view import parse
from tests.workspaces.conftest import commit_file, sh


def test_files_lines_and_numbers_of_a_real_diff(repo: Path) -> None:
    start = sh(repo, "rev-parse", "HEAD").strip()
    (repo / "app.py").write_text("print('hello')\nprint('\x1b[2J bye')\n", encoding="utf-8")
    sh(repo, "add", "app.py")
    sh(repo, "mv", "README.md", "READ ME é.md")
    commit_file(repo, "naïve file.txt", "one\ntwo\n", "changes")
    parsed = parse(sh(repo, "diff", "-M", start, "HEAD"))
    by_path = {f.path: f for f in parsed.files}
    assert set(by_path) == {"app.py", "READ ME é.md", "naïve file.txt"}
    assert (by_path["READ ME é.md"].status, by_path["READ ME é.md"].old_path) == (
        "renamed",
        "README.md",
    )
    added = by_path["naïve file.txt"]
    assert (added.status, added.added, added.removed) == ("added", 2, 0)
    assert [(line.kind, line.old, line.new) for line in by_path["app.py"].lines] == [
        ("hunk", None, None),
        ("ctx", 1, 1),
        ("add", None, 2),
    ]
    assert parsed.line_text("app.py", 2) == "print('\\x1b[2J bye')"  # escaped
    assert parsed.line_text("app.py", 1) == "print('hello')"
    assert parsed.line_text("app.py", 3) is None and not parsed.cut

    sh(repo, "rm", "-q", "app.py")
    sh(repo, "commit", "-q", "-m", "gone")
    gone = parse(sh(repo, "diff", "HEAD~1", "HEAD")).files[0]
    assert (gone.path, gone.status, gone.removed) == ("app.py", "deleted", 2)
    assert parse(sh(repo, "diff", start, "HEAD"), max_lines=2).cut
