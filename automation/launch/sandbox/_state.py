"""Each sandboxed agent's own CLI state: its CLI's folders and files (``AgentCli.state``)
are copies of its own, kept in swarm's home and bound inside at the person's paths, so what an
agent writes there (a hook, a setting, a plugin) reaches neither the person's own CLI nor
another agent's.

``$SWARM_HOME/sandboxes/<agent>/home/<entry>``, made at the agent's first sandboxed start and
seeded from the person's: a folder's top-level files (its settings, its login, its trusted
folders: ``settings.json``, ``.credentials.json``, ``auth.json``, ``config.toml``,
``trustedFolders.json``...; not its subfolders, which hold the person's sessions of every
project), a file entry whole; then never again (delete the agent's folder to seed anew). A
link or anything not a regular file is not copied, and nothing larger than ``SEED_MAX``.
The person's own files are not shown inside.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from core.privacy.files import make_dirs

FOLDER = "sandboxes"
SEED_MAX = 4 << 20  # bytes of one file copied from the person's


def agent_home(swarm_home: Path, agent: str) -> Path:
    """Where ``agent``'s own copies of its CLI's state live (its home's paths below it)."""
    return swarm_home / FOLDER / agent / "home"


def own_state(
    swarm_home: Path,
    agent: str,
    user_home: Path,
    state: Sequence[str],
    seeds: Sequence[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """The agent's copy of each entry of ``state`` (made and seeded when missing, see the
    module), with the path it is bound at inside: (its copy, the person's path). A file
    entry neither the person has nor ``seeds`` makes is left out (a bind needs its source)."""
    own = agent_home(swarm_home, agent)
    made = dict(seeds)
    binds = []
    for entry in state:
        name = entry.rstrip("/")
        mine, theirs = own / name, user_home / name
        if entry.endswith("/"):
            if not mine.is_dir():
                make_dirs(mine)
                _seed_folder(theirs, mine)
        elif not mine.exists() and not mine.is_symlink():
            _seed_file(theirs, mine, made.get(name))
        if mine.is_dir() or mine.is_file():
            binds.append((str(mine), str(theirs)))
    return binds


def inside_path(swarm_home: Path, agent: str, user_home: Path, folder: Path) -> Path:
    """Where ``folder`` (a CLI folder at the person's path, as its CLI sees it inside) is
    outside: in the agent's copy when it is under the person's home, else itself."""
    try:
        below = folder.relative_to(user_home)
    except ValueError:
        return folder
    return agent_home(swarm_home, agent) / below


def _seed_folder(theirs: Path, mine: Path) -> None:
    """The regular files directly in the person's folder, copied."""
    if theirs.is_symlink() or not theirs.is_dir():
        return
    with contextlib.suppress(OSError), os.scandir(theirs) as found:
        for item in found:
            if item.is_file(follow_symlinks=False):
                _copy(Path(item.path), mine / item.name)


def _seed_file(theirs: Path, mine: Path, seed: str | None) -> None:
    """The person's file copied, else the seed's text written; nothing when neither."""
    make_dirs(mine.parent)
    if theirs.is_file() and not theirs.is_symlink():
        _copy(theirs, mine)
    elif seed is not None:
        fd = os.open(mine, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(seed)


def _copy(source: Path, target: Path) -> None:
    """``source``'s bytes to a new ``target`` (0600), none of a link, nor over ``SEED_MAX``."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return
    with os.fdopen(fd, "rb") as src:
        if os.fstat(src.fileno()).st_size > SEED_MAX:
            return
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
