"""Rewrite the calls that ran a transaction on ``SwarmService`` to run it on its store
(issue 42, item 3: ``SwarmService`` holds a ``StoreAccess`` as ``store``, no longer is one).

Re-runnable: it runs mypy and rewrites each place mypy reports, then runs mypy again until
nothing is left it knows how to rewrite (a branch merged later is fixed by running it again):

    python tools/compose_service.py           # rewrite
    python tools/compose_service.py --check   # list the places; exit 1 if any

What it rewrites, from mypy's exact spans (``--show-error-end``):

- ``X.write(...)``, ``X.read(...)``, ``X.update(...)`` -> ``X.store.write(...)`` ...
- ``X.db.read(...)`` -> ``X.store.read(...)``; ``X.db.write(...)`` -> ``X.store.update(...)``
  (the same call: ``StoreAccess.read`` and ``update`` call the store's); any other
  ``X.db`` -> ``X.store.db``;
- a ``SwarmService`` given where a ``StoreAccess`` is expected: ``X`` -> ``X.store``;
- ``X.settings = ...`` -> ``X.store.settings = ...``;
- an operation moved into a book (``MOVED``): ``X.create_task(...)`` -> ``X.tasks.create(...)``;
  one whose name is now the book's (``CALLED``): ``X.inbox()`` -> ``X.inbox.needs()``.

Where ``X`` is untyped mypy says nothing: those are listed by ``--check``'s pattern scan
(``service.write(`` ...) for a person to look at.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPAN = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+):(?P<eline>\d+):(?P<ecol>\d+): error: "
)
ATTR = re.compile(r'"SwarmService" has no attribute "(?P<name>\w+)"')
# operations moved from SwarmService into the book it holds: old name -> (book, new name)
MOVED = {
    "create_task": ("tasks", "create"),
    "create_tasks": ("tasks", "create_many"),
    "get_task": ("tasks", "get"),
    "list_tasks": ("tasks", "newest"),
    "find_tasks": ("tasks", "find"),
    "add_dependencies": ("tasks", "add_dependencies"),
    "start_task": ("tasks", "start"),
    "note_task": ("tasks", "note"),
    "complete_task": ("tasks", "complete"),
    "fail_task": ("tasks", "fail"),
    "cancel_task": ("tasks", "cancel"),
    "retry_task": ("tasks", "retry"),
    "assign_task": ("tasks", "assign"),
    "requeue_task": ("tasks", "requeue"),
    "edit_task": ("tasks", "edit"),
    "inbox_item": ("inbox", "item"),
    "inbox_reply": ("inbox", "reply"),
    "inbox_approve": ("inbox", "approve"),
    "inbox_reject": ("inbox", "reject"),
    "inbox_act": ("inbox", "act"),
    "decide_prompt": ("inbox", "decide_prompt"),
    "prompt": ("inbox", "prompt"),
    "events": ("history", "events"),
    "find_events": ("history", "find"),
    "last_events": ("history", "last"),
    "audit": ("history", "audit"),
    "refused": ("history", "refused"),
    "audit_rows": ("history", "audit_rows"),
    "send": ("messages", "send"),
    "broadcast": ("messages", "broadcast"),
    "deliveries": ("messages", "deliveries"),
    "agent_rows": ("roster", "rows"),
    "set_agent_paused": ("roster", "set_paused"),
}
# a method whose name is now its book's: ``service.inbox()`` -> ``service.inbox.needs()``
CALLED = {"InboxBook": "needs"}
NOT_CALLABLE = re.compile(r'"(?P<book>\w+)" not callable')
ARG = re.compile(r'has incompatible type "SwarmService"; expected "StoreAccess"')
SETTER = re.compile(r'Property "settings" defined in "SwarmService" is read-only')
LEFT = re.compile(
    r"\b\w*(?:service|svc)\.(?:(?:write|read|update|db|" + "|".join(MOVED) + r")\b|inbox\()"
)
Edit = tuple[int, int, int, str]  # line (0-based), start, end (0-based, end exclusive), text


def mypy() -> list[str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--show-column-numbers",
            "--show-error-end",
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return done.stdout.splitlines()


def _last_call(span: str) -> int | None:
    """Where the argument list of the call ``span`` ends with opens (``a(b).c(d)`` -> 6)."""
    if not span.endswith(")"):
        return None
    depth = 0
    for index in range(len(span) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(span[index], 0)
        if depth == 0:
            return index
    return None


def edit_for(message: str, line: str, col: int, ecol: int) -> tuple[int, int, str] | None:
    """The replacement ``(start, end, text)`` on ``line`` for one mypy error, else None."""
    span = line[col:ecol]
    if (found := ATTR.search(message)) is not None:
        name = found["name"]
        if not span.endswith("." + name):
            return None
        base = span[: -len(name) - 1]
        if name in MOVED:
            book, new = MOVED[name]
            return col, ecol, f"{base}.{book}.{new}"
        if name not in {"write", "read", "update", "db"}:
            return None
        if name != "db":
            return col, ecol, f"{base}.store.{name}"
        after = re.match(r"\.(read|write)\(", line[ecol:])
        if after is None:
            return col, ecol, f"{base}.store.db"
        call = "read" if after[1] == "read" else "update"
        return col, ecol + len(after[1]) + 1, f"{base}.store.{call}"
    if (found := NOT_CALLABLE.search(message)) is not None and found["book"] in CALLED:
        opening = _last_call(span)
        if opening is None:
            return None
        return col, col + opening, f"{span[:opening]}.{CALLED[found['book']]}"
    if ARG.search(message) or SETTER.search(message):
        if not re.fullmatch(r"[A-Za-z_][\w.]*", span):
            return None
        if SETTER.search(message):
            return col, ecol, span.removesuffix(".settings") + ".store.settings"
        return col, ecol, span + ".store"
    return None


def plan(errors: list[str]) -> tuple[dict[Path, list[Edit]], list[str]]:
    """The edits per file, and the errors about ``SwarmService`` it cannot rewrite."""
    edits: dict[Path, list[Edit]] = defaultdict(list)
    unknown = []
    for error in errors:
        found = SPAN.match(error)
        if found is None or not ("SwarmService" in error or NOT_CALLABLE.search(error)):
            continue
        if found["line"] != found["eline"]:
            unknown.append(error)
            continue
        path = ROOT / found["path"]
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        index = int(found["line"]) - 1
        made = edit_for(error, lines[index], int(found["col"]) - 1, int(found["ecol"]))
        if made is None:
            unknown.append(error)
        else:
            edits[path].append((index, *made))
    return edits, unknown


def apply(edits: dict[Path, list[Edit]]) -> int:
    """Make the edits (right to left, so each span stays where mypy saw it)."""
    for path, changes in edits.items():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for index, start, end, text in sorted(set(changes), reverse=True):
            lines[index] = lines[index][:start] + text + lines[index][end:]
        path.write_text("".join(lines), encoding="utf-8")
    return sum(len(set(c)) for c in edits.values())


def pattern_left() -> list[str]:
    """Places still written ``service.write(`` and the like where a service may be untyped
    (core/ is typed throughout, so mypy has seen all of it); the door test's own examples
    are not places."""
    left = []
    for top in ("bot", "automation", "bench", "tests"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if path.name == "test_front_end_door.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if LEFT.search(line):
                    left.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return left


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list the places; change nothing")
    args = parser.parse_args()
    total = 0
    touched: set[Path] = set()
    while True:
        edits, unknown = plan(mypy())
        if args.check or not edits:
            break
        total += apply(edits)
        touched.update(edits)
    for error in unknown:
        print("not rewritten:", error)
    pending = sum(len(set(c)) for c in edits.values())
    for place in pattern_left():
        print("untyped, look at:", place)
    changed = sorted({str(p.relative_to(ROOT)) for p in edits})
    if args.check:
        print(f"{pending} places to rewrite in {len(changed)} files")
        return 1 if pending or unknown else 0
    print(f"{total} places rewritten")
    if touched:
        files = sorted(str(p) for p in touched)
        subprocess.run(
            [sys.executable, "-m", "ruff", "format", "-q", *files], cwd=ROOT, check=False
        )
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main())
