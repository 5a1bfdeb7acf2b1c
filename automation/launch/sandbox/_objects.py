"""A sandboxed worktree's own git object store: what it commits is its own to write, what
the repository holds already is never its to delete.

git keeps one object store per repository (``<common>/objects``), which every worktree's
commits write; bound read-write inside, an agent could delete the person's history with it.
Inside, ``<common>/objects`` is instead a store of the worktree's own, kept outside every
worktree in ``<common>/swarm/objects/<worktree>``, whose ``info/alternates`` (a folder of
swarm's, bound read-only over the store's own) names the repository's store, shown read-only
at :data:`SHARED_AT` (its alternates the person's own and every worktree's store, so the other
agents' branches read inside as they did in one store): git reads them all and writes only
its own. Outside, the repository's
``objects/info/alternates`` lists each such store (by a relative path, added once, under a
lock, the person's own lines kept), so the person's and swarm's git read an agent's commits
where it wrote them, branches and merges of its work included. At each start (and before
each ``git`` swarm runs there) the stores are folded into the repository's own, each object
checked against its name (``core.sandbox.object_stores``): no agent's object is read under
another's name; the folders stay for as long as the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.privacy.files import NotPlain, read_plain
from core.sandbox import object_stores
from core.sandbox.object_stores import LOCK, STORES, locked
from core.workspaces import safe_env

SHARED_AT = "/run/swarm-git/objects"  # where the repository's own store is shown inside
INSIDE_INFO = Path("swarm") / "objects-info"  # its ``alternates``: SHARED_AT, read-only
SHARED_INFO = Path("swarm") / "shared-info"  # the shared store's ``info`` inside
ALTERNATES_MAX = 1 << 20  # bytes of the repository's alternates file read


def stores_of(own: Path, common: Path) -> tuple[tuple[str, str], tuple[tuple[str, str], ...]]:
    """For the worktree whose git folder is ``own`` (``<common>/worktrees/NAME``): its own
    store, bound read-write at ``<common>/objects`` (source, where inside), and what is
    shown read-only inside: the repository's store at :data:`SHARED_AT`, its ``info`` a
    folder of swarm's whose alternates are the person's own (absolute) and every worktree's
    store (the other agents' branches are read inside, as all were in one store), rewritten
    at each start (a folder bound: a sandbox running sees it); and swarm's ``info`` over
    the store's own. Made first when missing, its store listed in the repository's
    alternates. ValueError (one line) for an alternates file that is not a plain file."""
    base = Path(os.path.realpath(common))
    objects, store = Path(os.path.realpath(common / "objects")), base / STORES / own.name
    info, shared = base / INSIDE_INFO, base / SHARED_INFO
    for folder in (store / "info", info, shared, objects / "info"):  # (git makes the rest)
        folder.mkdir(parents=True, exist_ok=True)
    _write_once(info / "alternates", SHARED_AT + "\n")
    object_stores.fold(base, safe_env())  # what the agents wrote checked (refusals logged)
    with locked(base / LOCK):  # agents start at once
        theirs = listed(objects, store)
        stores = sorted(str(path) for path in (base / STORES).iterdir() if _plain_folder(path))
        _write_once(shared / "alternates", "".join(f"{line}\n" for line in (*theirs, *stores)))
    shown = ((str(objects), SHARED_AT), (str(shared), f"{SHARED_AT}/info"),
             (str(info), str(objects / "info")))  # fmt: skip
    return (str(store), str(objects)), shown


def _plain_folder(path: Path) -> bool:
    """A folder, not a link to one."""
    return path.is_dir() and not path.is_symlink()


def _write_once(path: Path, text: str) -> None:
    """``path`` holds ``text``: replaced whole when it does not (a sandbox reading it
    never sees it half-written)."""
    try:
        if path.read_text(encoding="utf-8", errors="surrogateescape") == text:
            return
    except OSError:
        pass
    part = path.with_name(f"{path.name}.swarm-{os.getpid()}")
    part.write_text(text, encoding="utf-8", errors="surrogateescape")
    os.replace(part, path)


def listed(objects: Path, store: Path) -> list[str]:
    """``objects/info/alternates`` lists ``store``, relative to ``objects`` (the repository
    may be moved): added once, atomically (under the caller's lock), the lines already there
    kept as they were. Returns the person's own lines, each made absolute (as git reads them
    from ``objects``): the alternates the repository's store has inside."""
    path = objects / "info" / "alternates"
    try:
        text = read_plain(path, ALTERNATES_MAX).decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        text = ""
    except NotPlain as exc:
        raise ValueError(f"{path}: {exc.strerror}: refused, nothing bound") from None
    lines, line = text.splitlines(), os.path.relpath(store, objects)
    if line not in lines:
        _write_once(path, "".join(f"{each}\n" for each in (*lines, line)))
    ours = os.path.join("..", str(STORES), "")
    return [os.path.normpath(objects / each) for each in lines
            if each.strip() and not each.startswith(("#", ours))]  # fmt: skip
