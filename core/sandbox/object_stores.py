"""The sandboxed worktrees' own git object stores, folded into their repository's store by
swarm, outside, each object checked first.

An agent commits into a store of its worktree's own (``<common>/swarm/objects/<worktree>``,
``automation.launch.sandbox._objects``), which the repository's alternates list so that the
person's git and swarm's read its commits. git does not check an object's content against
its name when it reads one, and it reads the first store that has the name: an agent could
put, in its own store, an object named as another agent's commit (or as a file the person is
about to add), with content of its choosing, and the person's git would read that.

Swarm folds each store before it reads an agent's work (each ``git`` it runs in a worktree
or checkout of such a repository), at each sandbox's start and every few seconds while it
runs (``core.watch.store_folds``): a loose object is kept only when its content hashes to its
name (else removed, and said), then copied into the repository's own store, which git
searches first, and removed from the agent's; a pack is indexed anew by ``git index-pack``
(which names each object by its content), so the agent's index is never used. Nothing in a
store is followed: the folders are opened without following a link, a link is left alone.
What stays: an object an agent wrote since swarm's last fold is read as the agent wrote it
until the next (by the person's own git too).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import stat
import subprocess
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from core.formats.text import one_line, shorten
from core.privacy.files import open_folder, read_plain, write_file
from core.sandbox import ForeignGit, own_git

log = logging.getLogger(__name__)

STORES = Path("swarm") / "objects"  # of the common git folder: the worktrees' own stores
LOCK = Path("swarm") / "objects.lock"  # held while the stores are listed or folded
REFUSED = Path("swarm") / "refused.log"  # each refusal, dated: ``swarm doctor`` says them
REFUSED_MAX = 64 << 10  # bytes of it kept (its newest lines)
OBJECT_MAX = 4 << 30  # bytes of one loose object's content checked (a larger one: refused)
CHUNK = 1 << 16
HASHES = {40: "sha1", 64: "sha256"}  # an object name's length in hex -> its hash
KINDS = (b"blob", b"tree", b"commit", b"tag")
PACK_FILES = (".idx", ".rev", ".bitmap", ".keep", ".mtimes", ".promisor")
FOLD_TIMEOUT_S = 600.0


@dataclass
class Folded:
    """What a fold did: loose objects and packs moved into the repository's store, and
    each refusal in one line (an object whose content is not its name, a pack git would not
    index)."""

    objects: int = 0
    packs: int = 0
    refused: list[str] = field(default_factory=list)


def common_of(folder: Path) -> Path | None:
    """The common git folder of the checkout or linked worktree ``folder`` when its
    repository has sandboxed worktrees' stores (None: it has none, or it is no git folder);
    a ``.git`` file is read as :func:`core.sandbox.own_git` checks it."""
    found = stores_of_folder(folder)
    return found[0] if found is not None else None


def stores_of_folder(folder: Path) -> tuple[Path, str | None] | None:
    """:func:`common_of` ``folder`` and the name of the store its worktree's agent writes
    (its git folder's; None for the main checkout), from one read of its ``.git``."""
    dot = folder / ".git"
    if dot.is_dir() and not dot.is_symlink():
        common, name = dot, None
    elif dot.is_file() and not dot.is_symlink():
        try:
            own, common = own_git(folder)
        except (ForeignGit, OSError):
            return None
        name = own.name
    else:
        return None
    stores = common / STORES
    return (common, name) if stores.is_dir() and not stores.is_symlink() else None


def fold(common: Path, env: Mapping[str, str] | None = None) -> Folded:
    """Fold every worktree store of the repository whose common git folder is ``common``
    into its own store (``objects``), under the stores' lock; each refusal logged too.
    ``env``: the environment ``git index-pack`` runs in (swarm's, with what git would run
    of a repository's choosing off)."""
    done = Folded()
    objects = Path(os.path.realpath(common / "objects"))
    with locked(common / LOCK), _folder(str(common / STORES)) as top:
        for name in sorted(os.listdir(top)) if top is not None else ():
            with _folder(name, top) as store:  # each worktree's store, not a link
                if store is not None:
                    _fold_loose(name, store, objects, done)
                    _fold_packs(name, store, common, env, done)
        if done.refused:
            _record(common / REFUSED, done.refused)
    for line in done.refused:
        log.warning("%s", line)
    return done


_FAILING: dict[Path, str] = {}  # repository -> why its last fold could not run (said once)


def fold_or_say(common: Path, env: Mapping[str, str] | None = None) -> Folded | None:
    """:func:`fold`, or None when it cannot run (no lock to be had, a store unreadable):
    said in the log once per repository and reason, not at every git or every tick, and
    said again when it runs again; ``swarm doctor`` says it too (:func:`cannot_fold`)."""
    try:
        done = fold(common, env)
    except (OSError, subprocess.SubprocessError) as exc:
        why = f"the agents' git stores of {common} could not be folded: {exc}"
        if _FAILING.get(common) != why:
            _FAILING[common] = why
            log.warning("%s (an object an agent wrote is read as it wrote it)", why)
        return None
    if _FAILING.pop(common, None) is not None:
        log.warning("the agents' git stores of %s are folded again", common)
    return done


def cannot_fold(common: Path) -> str | None:
    """Why a fold of the repository's stores could not run (its lock, its stores' folder),
    nothing folded or written; None when it can."""
    try:
        with open(common / LOCK, "a"):
            pass
        os.listdir(common / STORES)
    except OSError as exc:
        return f"swarm cannot fold the agents' git stores: {exc}"
    return None


def refusals(common: Path) -> list[str]:
    """The refusals of the repository's folds, oldest first, each dated (its newest
    ``REFUSED_MAX`` bytes); none when there were none."""
    try:
        text = read_plain(common / REFUSED, REFUSED_MAX).decode("utf-8", "replace")
    except OSError:  # none, or not a file of swarm's
        return []
    return [line for line in text.splitlines() if line.strip()]


def _record(path: Path, lines: list[str]) -> None:
    """``lines`` added to ``path``, dated; its oldest lines dropped past ``REFUSED_MAX``."""
    kept = refusals(path.parent.parent)
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    text = "".join(f"{line}\n" for line in (*kept, *(f"{at} {line}" for line in lines)))
    data = text.encode("utf-8")
    if len(data) > REFUSED_MAX:  # whole lines only
        data = data[-REFUSED_MAX:]
        data = data[data.find(b"\n") + 1 :]
    part = path.with_name(f"{path.name}.swarm-{os.getpid()}")
    write_file(part, data)
    os.replace(part, path)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """``path`` locked (``flock``) for the block."""
    with open(path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def _folder(name: str, at: int | None = None) -> Iterator[int | None]:
    """The folder ``name`` (in the folder ``at``) open for the block (``open_folder``: never
    through a link); None when it is a link, no folder or gone."""
    try:
        fd = open_folder(name, at)
    except OSError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def _fold_loose(name: str, store: int, objects: Path, done: Folded) -> None:
    """Each loose object of the store checked, copied into ``objects`` and removed."""
    for prefix in sorted(os.listdir(store)):
        if len(prefix) != 2 or not _hex(prefix):
            continue
        with _folder(prefix, store) as folder:
            if folder is None:
                continue
            for rest in sorted(os.listdir(folder)):
                oid = prefix + rest
                if len(oid) in HASHES and _hex(rest):
                    _fold_object(name, folder, rest, oid, objects, done)


def _fold_object(name: str, folder: int, rest: str, oid: str, objects: Path, done: Folded) -> None:
    """The object ``oid`` copied out of the agent's store first (the agent may write its
    file while it is read), the copy checked, then kept in ``objects``; the agent's file
    removed either way (one the repository holds already is checked too: a forgery is said
    even where git would read the repository's own first)."""
    try:
        fd = os.open(rest, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=folder)  # fmt: skip
    except OSError:  # a link (left alone), or gone
        return
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        part = _copied(objects, oid, file)
    try:
        with open(part, "rb") as copy:
            why = _not_its_name(copy, oid)
        if why is None:
            _keep(part, objects / oid[:2] / oid[2:])
            done.objects += 1
        else:
            done.refused.append(
                f"{name}'s git store: object {oid} {why}: removed (an agent's content under "
                "another object's name)"
            )
    finally:
        part.unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(rest, dir_fd=folder)


def _not_its_name(file: BinaryIO, oid: str) -> str | None:
    """Why the loose object read from ``file`` is not the object ``oid`` (None: it is): its
    content, inflated, is ``<kind> <size>\\0`` and that many bytes, hashing to ``oid``."""
    hashed = hashlib.new(HASHES[len(oid)])
    inflate = zlib.decompressobj()
    head, seen, size = b"", 0, -1
    try:
        for chunk in iter(lambda: file.read(CHUNK), b""):
            if inflate.eof:
                return "has bytes after its object"
            out = inflate.decompress(chunk)
            if size < 0:
                head += out
                if b"\0" not in head:
                    if len(head) > 64:
                        return "has no object header"
                    continue
                size = _size(head)
                if size < 0:
                    return "has no object header git writes"
                out, head = head, b""
            seen += len(out)
            if seen > size:
                return "is bigger than its header says"
            hashed.update(out)
        if size < 0:
            return "has no object header"
        out = inflate.flush()
        seen += len(out)
        hashed.update(out)
    except zlib.error:
        return "is not what git writes (no zlib stream)"
    if seen != size or not inflate.eof or inflate.unused_data:
        return "is not the size its header says"
    if hashed.hexdigest() != oid:
        return "holds content that is not its name"
    return None


def _size(head: bytes) -> int:
    """The whole object's length in bytes (header and content) its header ``head`` says;
    -1 when it is no header git writes."""
    end = head.index(b"\0")
    kind, _, size = head[:end].partition(b" ")
    if kind not in KINDS or not size.isdigit() or int(size) > OBJECT_MAX:
        return -1
    return int(size) + end + 1


def _copied(objects: Path, oid: str, source: BinaryIO) -> Path:
    """``source``'s bytes in a file of swarm's beside where ``oid`` goes in ``objects``."""
    folder = objects / oid[:2]
    folder.mkdir(exist_ok=True)
    part = folder / f"tmp_swarm_{os.getpid()}_{oid[2:]}"
    with open(part, "wb") as out:
        shutil.copyfileobj(source, out)
    os.chmod(part, 0o444)
    return part


def _keep(part: Path, final: Path) -> None:
    """``part`` as ``final`` (kept as it is when git or a fold put it there first)."""
    with contextlib.suppress(FileExistsError):
        os.link(part, final)


def _fold_packs(
    name: str, store: int, common: Path, env: Mapping[str, str] | None, done: Folded
) -> None:
    """Each finished pack of the store (its index written) indexed anew into the
    repository's store by ``git index-pack``, then removed with its files."""
    with _folder("pack", store) as folder:
        if folder is None:
            return
        names = set(os.listdir(folder))
        for pack in sorted(n for n in names if _pack_name(n)):  # (git's own names only)
            base = pack.removesuffix(".pack")
            if f"{base}.idx" not in names:
                continue  # still being written
            why = _index(folder, pack, common, env)
            if why is None:
                done.packs += 1
            else:
                done.refused.append(f"{name}'s git store: {pack} {why}: removed")
            for suffix in (".pack", *PACK_FILES):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(base + suffix, dir_fd=folder)
        for other in ("multi-pack-index",):  # an index of packs no longer there
            with contextlib.suppress(FileNotFoundError):
                os.unlink(other, dir_fd=folder)


def _index(folder: int, pack: str, common: Path, env: Mapping[str, str] | None) -> str | None:
    """``pack`` read into the repository's store by ``git index-pack --stdin`` (None), or
    why git would not."""
    try:
        fd = os.open(pack, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=folder)  # fmt: skip
    except OSError:
        return "is a link or gone"
    with os.fdopen(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "is not a plain file"
        done = subprocess.run(
            ["git", f"--git-dir={common}", "index-pack", "--stdin"], stdin=source,
            capture_output=True, text=True, errors="replace", timeout=FOLD_TIMEOUT_S,
            env=dict(env) if env is not None else None, check=False,
        )  # fmt: skip
    if done.returncode != 0:  # git's words, escaped: they may quote what the agent wrote
        return f"is not a pack git takes ({shorten(one_line(done.stderr.strip()), 200)})"
    return None


def _pack_name(name: str) -> bool:
    """``pack-<hash>.pack``, as git names one (any other name is never read, nor said)."""
    digest = name.removeprefix("pack-").removesuffix(".pack")
    return name == f"pack-{digest}.pack" and len(digest) in HASHES and _hex(digest)


def _hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)
