"""What the rest of swarm knows of an agent's sandbox, whatever builds it
(``automation.launch.sandbox``): where its door is (inside and in swarm's home) and how its
shell calls swarm, which git folders its worktree's ``.git`` may name, and which variables of
swarm's never enter it; its git store folded into its repository's (``object_stores``)."""

from __future__ import annotations

import fnmatch
import itertools
import os
import stat
from pathlib import Path

from core.models import Agent, Sandbox
from core.privacy.files import NotPlain, read_plain
from core.processes import command_line

DOOR_AT = "/run/swarm"  # where the agent finds its door (socket and ``swarm``) inside
DOOR_SOCKET = "door.sock"
DOOR_MODULE = "automation.launch.sandbox._door"
OLD_DOOR_MODULES = ("bot.door",)  # a door started before it moved: found, so down ends it
DOOR_SWARM = f"{DOOR_AT}/swarm"  # the door's ``swarm``, by path: a login shell resets PATH
# swarm's hooks in a worktree's git folder (core.workspaces._reservation_hook): read-only inside
WORKTREE_HOOKS = "swarm-hooks"
PATH_MAX_BYTES = 8192  # a .git file, gitdir or commondir: one path


def door_folder(home: Path, agent: str) -> Path:
    """The agent's door folder in swarm's home (its socket and its ``swarm``)."""
    return home / "doors" / agent


def door_pid_path(home: Path, agent: str) -> Path:
    """The door process's pid file (beside its folder: never in the sandbox)."""
    return home / "doors" / f"{agent}.pid"


def running_door(home: Path, agent: str) -> int | None:
    """The pid of ``agent``'s door when it runs (its pid file names a process started as
    ``python -m automation.launch.sandbox._door --home HOME --agent AGENT``), else None."""
    try:
        pid = int(door_pid_path(home, agent).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    args = command_line(pid)
    pairs = dict(itertools.pairwise(args))
    if pairs.get("-m") not in (DOOR_MODULE, *OLD_DOOR_MODULES) or pairs.get("--agent") != agent:
        return None
    return pid if Path(pairs.get("--home", "")).resolve() == home.resolve() else None


def swarm_for(agent: Agent | None, outside: str) -> str:
    """How ``agent``'s shell calls swarm: its door's ``swarm`` by path in a sandbox (swarm's
    own path is not there, and a login shell's PATH, Codex's, leaves the door's folder
    out), else ``outside`` (``Settings.agent_swarm``)."""
    return swarm_in(agent.sandbox if agent is not None else None, outside)


def swarm_in(box: Sandbox | None, outside: str) -> str:
    """``swarm_for`` of an agent whose sandbox is ``box`` (None: none)."""
    return DOOR_SWARM if box is not None else outside


def summary(box: Sandbox | None, refused: bool = False, gateway: bool = False) -> str:
    """The roster's word: ``-``, ``bwrap`` and its network (``model via gateway``, ``no
    network``, ``host network``; not said: the model's where its CLI has a ``gateway``), or
    that an editor window's was ``refused``."""
    if refused:
        return "refused (editor window)"
    if box is None:
        return "-"
    mode = box.network or ("model" if gateway else "open")
    return {"none": "bwrap, no network", "open": "bwrap, host network"}.get(
        mode, "bwrap, model via gateway"
    )


class ForeignGit(ValueError):
    """A worktree's ``.git`` names a git folder that is not its own (one line)."""


def git_folders(workspace: Path) -> list[str]:
    """The git folders outside ``workspace`` that git needs there: a worktree's ``.git``
    file names its own folder (``.git/worktrees/NAME``) and that one the common ``.git``.
    The ``.git`` file is the agent's to write: what it names is taken only when it is a
    worktree's own folder of a repository outside every agent's reach (:func:`own_git`),
    else ForeignGit, never bound."""
    dot = workspace / ".git"
    if dot.is_symlink():
        raise ForeignGit(f"{dot} is a symbolic link, not git's own file: refused")
    if not dot.is_file():
        return []
    own, common = own_git(workspace)
    return [str(own), str(common)]


def own_git(workspace: Path) -> tuple[Path, Path]:
    """The worktree's own git folder and its repository's common one, as its ``.git`` file
    names them, checked against what git itself wrote when it made the worktree: the folder
    is ``<common>/worktrees/<name>``, its ``gitdir`` names this ``.git`` back and its
    ``commondir`` that common folder, which is a git folder outside the worktree and inside
    no other worktree's git folder (the only folders outside it an agent writes). ForeignGit
    (one line) for anything else: a ``.git`` rewritten to name the home, ``/`` or a git
    folder of the agent's own making."""
    dot = workspace / ".git"
    try:
        text = read_plain(dot, PATH_MAX_BYTES).decode("utf-8", "surrogateescape")
    except NotPlain as exc:
        raise ForeignGit(f"{exc.strerror}, not git's own file: refused") from None
    text = text.removesuffix("\n")
    if not text.startswith("gitdir:"):
        raise ForeignGit(f"{dot} is not a worktree's .git file: refused")
    named = text.removeprefix("gitdir:").lstrip(" ")  # a folder's name may hold a newline
    own = (workspace / named).resolve()
    space = workspace.resolve()
    common = own.parent.parent
    why = _foreign(own, common, space, dot)
    if why is not None:
        raise ForeignGit(
            f"{dot} names {named}, which is {why}: refused, nothing bound (git -C <repository> "
            f"worktree repair {workspace} restores it)"
        )
    return own, common


def _foreign(own: Path, common: Path, space: Path, dot: Path) -> str | None:
    """Why ``own`` is not the worktree's own git folder (None: it is)."""
    if own.parent.name != "worktrees" or not own.is_dir():
        return "not a folder of a repository's worktrees/"
    if _inside(own, space) or _inside(common, space):
        return "inside the worktree itself"
    if not all((common / part).exists() for part in ("HEAD", "objects", "refs")):
        return "not in a git folder"
    head = own / "HEAD"
    if not (os.path.lexists(head) and stat.S_ISREG(os.lstat(head).st_mode)):
        return "a git folder whose HEAD is not a plain file (a FIFO would hold git for good)"
    if _read_path(own, "commondir") != common or _read_path(own, "gitdir") != dot.resolve():
        return "a git folder that does not name this worktree back"
    if any(a.name == "worktrees" and (a.parent / "objects").is_dir() for a in common.parents):
        return "inside another worktree's git folder"
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _read_path(folder: Path, name: str) -> Path | None:
    """The path the file ``folder/name`` holds (relative to ``folder``), None unreadable."""
    try:
        text = read_plain(folder / name, PATH_MAX_BYTES).decode("utf-8", "surrogateescape")
        text = text.removesuffix("\n")
    except OSError:  # NotPlain too: a FIFO there is never waited on
        return None
    return (folder / text).resolve() if text else None


# swarm's own tokens and settings, and the services only swarm speaks to
NEVER = (
    "SWARM_*", "DISCORD_*", "GITHUB_*", "GH_*", "TELEGRAM_*", "SLACK_*", "PG*", "DATABASE_URL",
    "TMUX", "TMUX_*", "DISPLAY", "WAYLAND_*", "XAUTHORITY", "DBUS_*", "XDG_RUNTIME_DIR",
    "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO",
)  # fmt: skip


def never_inside(name: str) -> bool:
    """Whether ``name`` is one of swarm's own (``NEVER``)."""
    return any(fnmatch.fnmatchcase(name, p) for p in NEVER)
