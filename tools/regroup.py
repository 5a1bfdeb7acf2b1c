"""Move modules into feature packages and rewrite every reference to them (issue 42).

Re-runnable: a move already made is skipped, and references are rewritten wherever an old
name is still written (a branch merged after the moves is fixed by running it again).

    python tools/regroup.py            # move (git mv) and rewrite
    python tools/regroup.py --check    # list the old names still written; exit 1 if any

The moves are in ``tools/regroup_map.py``. Imports are rewritten from the syntax tree
(``from core.store import posts`` becomes ``from core.posts import queries as posts``);
dotted names and paths in code, strings and docs by pattern; then ``ruff`` sorts the imports
and formats the files it changed.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from tools.regroup_map import MOVES, PACKAGES

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".sh", ".txt", ".j2"}
TEXT_NAMES = {"Makefile", "run"}
SKIP_PARTS = {"panes", "fixtures", ".venv", "node_modules"}


def dotted(path: str) -> str:
    """``core/store/posts.py`` -> ``core.store.posts``; a folder keeps its path."""
    return path.removesuffix(".py").replace("/", ".")


@dataclass
class Renames:
    """Old module names to new, longest first, and what each old name must not be followed by."""

    modules: list[tuple[str, str]]
    children: dict[str, set[str]]

    def new(self, name: str) -> str | None:
        """The new name of module ``name`` (or of a module inside a moved package), else None."""
        for old, new in self.modules:
            if name == old:
                return new
            if name.startswith(old + ".") and name.split(".")[len(old.split("."))] not in (
                self.children.get(old, set())
            ):
                return new + name[len(old) :]
        return None


def renames() -> Renames:
    """The module renames of MOVES; where an old module is now a package's path, the
    package's children, so that a second run does not rename them again."""
    pairs = sorted(((dotted(a), dotted(b)) for a, b in MOVES), key=lambda p: -len(p[0]))
    children: dict[str, set[str]] = {}
    for old, _ in pairs:
        for _, new in pairs:
            if new.startswith(old + "."):
                children.setdefault(old, set()).add(new[len(old) + 1 :].split(".")[0])
    return Renames(pairs, children)


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True)
    return done.stdout


def ensure_package(folder: Path) -> None:
    """``folder`` and its parents as packages, each with an ``__init__.py`` docstring."""
    rel = folder.relative_to(ROOT).as_posix()
    if folder == ROOT or (folder / "__init__.py").exists():
        return
    ensure_package(folder.parent)
    folder.mkdir(parents=True, exist_ok=True)
    doc = PACKAGES.get(rel, f"The {folder.name} feature.")
    (folder / "__init__.py").write_text(f'"""{doc}"""\n')
    git("add", f"{rel}/__init__.py")


def move_files() -> int:
    """``git mv`` each move not yet made; an emptied package's ``__init__.py`` goes too."""
    moved = 0
    for old, new in MOVES:
        src, dst = ROOT / old, ROOT / new
        if not src.exists() or dst.exists():
            continue
        ensure_package(dst.parent)
        git("mv", old, new)
        moved += 1
        left = src.parent
        if (left / "__init__.py").exists() and not [
            p for p in left.iterdir() if p.name not in {"__init__.py", "__pycache__"}
        ]:
            git("rm", "-q", f"{left.relative_to(ROOT).as_posix()}/__init__.py")
    return moved


def import_lines(node: ast.ImportFrom, names: Renames, indent: str) -> list[str] | None:
    """``node`` rewritten, one statement per target module; None when nothing changes."""
    module = node.module or ""
    out: dict[str, list[str]] = {}
    changed = False
    for alias in node.names:
        shown = f"{alias.name} as {alias.asname}" if alias.asname else alias.name
        as_module = names.new(f"{module}.{alias.name}")
        if as_module and _module_exists(as_module):
            parent, _, leaf = as_module.rpartition(".")
            local = alias.asname or alias.name
            out.setdefault(parent, []).append(leaf if leaf == local else f"{leaf} as {local}")
            changed = True
            continue
        target = names.new(module) if module else None
        if target and not _child_exists(module, alias.name):
            out.setdefault(target, []).append(shown)
            changed = True
        else:
            out.setdefault(module, []).append(shown)
    if not changed:
        return None
    return [f"{indent}from {mod} import {', '.join(items)}" for mod, items in out.items()]


def _module_exists(module: str) -> bool:
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _child_exists(package: str, name: str) -> bool:
    base = ROOT / package.replace(".", "/")
    return (base / f"{name}.py").exists() or (base / name / "__init__.py").exists()


def rewrite_imports(text: str, names: Renames) -> str:
    """Each ``from X import ...`` naming a moved module, rewritten from the syntax tree."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.end_lineno:
            first = lines[node.lineno - 1]
            indent = first[: len(first) - len(first.lstrip())]
            new = import_lines(node, names, indent)
            if new is not None:
                tail = _comment_after(lines[node.end_lineno - 1], node.end_col_offset or 0)
                edits.append((node.lineno - 1, node.end_lineno, [n + tail for n in new]))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = [line + "\n" for line in new]
    return "".join(lines)


def _comment_after(line: str, column: int) -> str:
    """The comment after a statement ending at ``column`` (``  # noqa: E402``), or ''."""
    rest = line.encode()[column:].decode().rstrip("\n")
    return f"  {rest.strip()}" if rest.strip().startswith("#") else ""


def dotted_patterns(names: Renames) -> list[tuple[re.Pattern[str], str]]:
    """Old dotted names in any text, not followed by a child of the package they became."""
    found = []
    for old, new in names.modules:
        kids = names.children.get(old)
        either = "|".join(sorted(kids or ()))
        guard = rf"(?!\.(?:{either})\b)(?!\s+import\s+\(?\s*(?:{either})\b)" if kids else ""
        found.append((re.compile(rf"(?<![\w.]){re.escape(old)}(?![\w]){guard}"), new))
    return found


def path_patterns() -> list[tuple[re.Pattern[str], str]]:
    """Old paths in any text: files exactly, folders as prefixes."""
    found = []
    for old, new in sorted(MOVES, key=lambda p: -len(p[0])):
        if old.endswith(".py"):
            found.append((re.compile(rf"(?<![\w/.-]){re.escape(old)}(?![\w])"), new))
        else:
            found.append((re.compile(rf"(?<![\w/.-]){re.escape(old)}(?=/)"), new))
    return found


def text_files() -> list[Path]:
    files = []
    for rel in git("ls-files").splitlines():
        path = ROOT / rel
        if SKIP_PARTS & set(path.parts) or rel.startswith("tools/regroup"):
            continue
        if (path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES) and path.is_file():
            files.append(path)
    return files


def substitute(text: str, patterns: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, repl in patterns:
        text = pattern.sub(repl, text)
    return text


def in_strings_and_comments(text: str, patterns: list[tuple[re.Pattern[str], str]]) -> str:
    """``patterns`` applied to the string literals and comments of Python source only (in
    code, ``bot.github`` is as likely an attribute as the old package)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    out, done = [], 0
    for tok in tokens:
        if tok.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        begin = starts[tok.start[0] - 1] + tok.start[1]
        end = starts[tok.end[0] - 1] + tok.end[1]
        out += [text[done:begin], substitute(text[begin:end], patterns)]
        done = end
    out.append(text[done:])
    return "".join(out)


def rewrite_plain_imports(text: str, names: Renames) -> str:
    """``import core.store.tables [as t]`` statements naming a moved module, rewritten."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and node.lineno == node.end_lineno:
            line = lines[node.lineno - 1]
            for alias in node.names:
                new = names.new(alias.name)
                if new and _module_exists(new):
                    line = re.sub(rf"(?<![\w.]){re.escape(alias.name)}(?![\w.])", new, line)
            lines[node.lineno - 1] = line
    return "".join(lines)


def rewrite(check: bool) -> list[str]:
    """Rewrite every text file; the files changed (or, with ``check``, that would change)."""
    names = renames()
    patterns = dotted_patterns(names) + path_patterns()
    changed = []
    for path in text_files():
        text = path.read_text()
        if path.suffix == ".py":
            new = rewrite_plain_imports(rewrite_imports(text, names), names)
            new = in_strings_and_comments(new, patterns)
        else:
            new = substitute(text, patterns)
        if new != text:
            changed.append(path.relative_to(ROOT).as_posix())
            if not check:
                path.write_text(new)
    return changed


def tidy(files: list[str]) -> None:
    """Sort the imports of the changed Python files and format them."""
    py = [f for f in files if f.endswith(".py")]
    if not py:
        return
    ruff = str(Path(sys.executable).with_name("ruff"))
    subprocess.run([ruff, "check", "--select", "I", "--fix", "-q", *py], cwd=ROOT, check=False)
    subprocess.run([ruff, "format", "-q", *py], cwd=ROOT, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list old names still written")
    args = parser.parse_args()
    if args.check:
        left = rewrite(check=True)
        for name in left:
            print(f"old name in {name}")
        return 1 if left else 0
    moved = move_files()
    changed = rewrite(check=False)
    tidy(changed)
    print(f"regroup: {moved} moves made, {len(changed)} files rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
