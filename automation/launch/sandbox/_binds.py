"""An agent's CLI under bubblewrap (``sandbox = true``): what it may see, and the ``bwrap``
command line that shows it only that.

Read-write: its worktree (with the git folders its ``.git`` file names, when they are its own:
:func:`own_git`), its own copies of its CLI's state (:mod:`.state`), the agents
file's ``sandbox_write``.
Read-only: the system (``/usr``, ``/etc``, ``/lib*``, ``/bin``, ``/sbin``, ``/opt``), the
programs its command runs wherever they are installed, ``sandbox_read``, and swarm's door
(a folder holding the agent's socket and a ``swarm`` command that speaks through it). The
rest of the home is an empty tmpfs, ``/tmp`` its own, ``/proc`` its own process namespace's.
:func:`bwrap_argv` is pure; the functions above it gather what it is given.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from automation.launch.sandbox import _limits as limits
from automation.launch.sandbox import _network as network
from automation.launch.sandbox import _objects as objects
from automation.launch.sandbox._environment import filter_argv
from core.clis import AgentCli
from core.models import Sandbox
from core.privacy.files import NotPlain, open_folder
from core.sandbox import (
    DOOR_AT,
    WORKTREE_HOOKS,
    ForeignGit,
    branch_records,
    git_folders,
)

BWRAP = "bwrap"
INSTALL = "apt-get install bubblewrap"
SYSTEM = ("/usr", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/opt")
MAX_PACKAGES = 500  # a program's installed dependencies bound, at most
SECRETS = (".ssh", ".aws", ".gnupg", ".config/gcloud", ".kube", ".docker", ".netrc")


@dataclass(frozen=True)
class Mounts:
    """What one sandbox shows: read-only and read-write binds (at the same path), the home
    emptied, the door's folder (None: no door)."""

    read: tuple[str, ...]
    write: tuple[str, ...]
    home: str
    workspace: str
    door: str | None = None
    network: bool = True  # the host's network (False: a namespace of its own)
    path: str = "/usr/bin:/bin"  # the agent's PATH (the door's folder is put first)
    links: tuple[tuple[str, str], ...] = ()  # (link, its target): symlinks on bound paths
    env: tuple[tuple[str, str], ...] = ()  # set inside (the person's git identity)
    unset: tuple[str, ...] = ()  # unset inside (a key the gateway holds instead)
    keep: tuple[str, ...] = ()  # the environment's names that enter (``environment.kept``)
    own: tuple[tuple[str, str], ...] = ()  # (its copy, the person's path): bound read-write
    shown: tuple[tuple[str, str], ...] = ()  # (a folder, where inside): bound read-only
    join: tuple[str, ...] = ()  # its control groups' cgroup.procs (:mod:`.limits`)
    python: str = ""  # swarm's interpreter, which runs the environment's filter


IDENTITY = (("user.name", ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME")),
            ("user.email", ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL")))  # fmt: skip


def git_identity(workspace: Path, env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Who the agent commits as inside: the ``user.name`` and ``user.email`` git resolves
    in its worktree outside (the person's ``~/.gitconfig`` included, which the sandbox does
    not show: it may hold tokens in its URL rewrites), as git's author and committer
    variables and as configuration given by the environment (:func:`_as_config`); a
    variable ``env`` sets already is left to it, and nothing is said for a value git does
    not know."""
    found: list[tuple[str, str]] = []
    configured: list[tuple[str, str]] = []
    for key, names in IDENTITY:
        try:
            done = subprocess.run(
                ["git", "-C", str(workspace), "config", key],
                env=dict(env), capture_output=True, text=True, timeout=10, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            continue
        value = done.stdout.strip()
        if done.returncode == 0 and value and "\n" not in value:
            found += [(name, value) for name in names if name not in env]
            configured.append((key, value))
    return (*found, *_as_config(configured, env))


def _as_config(
    configured: list[tuple[str, str]], env: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """The identity as git configuration given by the environment (``GIT_CONFIG_COUNT``,
    ``GIT_CONFIG_KEY_n``, ``GIT_CONFIG_VALUE_n``): ``git config user.name`` answers it inside
    too, where a CLI asks git for it before it commits (Aider writes one into ``.git/config``,
    read-only inside, when git knows none, and stops); none when ``env`` gives some already."""
    if not configured or "GIT_CONFIG_COUNT" in env:
        return ()
    pairs = [(f"GIT_CONFIG_{part}_{n}", text) for n, (key, value) in enumerate(configured)
             for part, text in (("KEY", key), ("VALUE", value))]  # fmt: skip
    return (("GIT_CONFIG_COUNT", str(len(configured))), *pairs)


def describe(
    box: Sandbox, workspace: Path | None, cli: AgentCli | None, copies: Path | None = None
) -> list[str]:
    """What a sandboxed agent may see and write, in lines (``swarm agents explain``);
    ``copies``: where its own copies of its CLI's state are kept."""
    state = cli.state if cli is not None else ()
    folder = str(workspace) if workspace is not None else "its workspace (none found yet)"
    own = ", ".join(f"~/{entry.rstrip('/')}" for entry in state) or "none known"
    kept = f" (its own copies, in {copies}; the person's own are not shown)" if copies else ""
    lines = [
        f"writes: {folder}, its own git folder, an object store of its own (the repository's "
        "objects read-only), branches and reflogs (not its config, hooks, tags, remote "
        "branches, other branches or worktrees, nor the main checkout's index or merge "
        "state); "
        f"its CLI's own: {own}{kept}",
        f"reads: the system ({', '.join(SYSTEM)}), the programs its command runs",
        "an empty home and /tmp of its own; its own processes only (pid namespace); no "
        "capability; of the environment, only its allow-list (sandbox_env adds names)",
        network.line(box, cli),
        limits.said(box.limits),
        f"swarm: only through its door ({DOOR_AT}: task, ask, send, inbox, status, "
        "reserve, release, its hooks, its MCP server); never swarm's home, database, tokens "
        "or other agents' worktrees",
    ]
    if box.read:
        lines.insert(2, f"reads also (sandbox_read): {', '.join(box.read)}")
    if box.write:
        lines.insert(1, f"writes also (sandbox_write): {', '.join(box.write)}")
    return lines


def bwrap_path(path: str | None) -> str | None:
    """The ``bwrap`` executable on ``path`` (a PATH; None: the default search), None when
    bubblewrap is not installed."""
    return shutil.which(BWRAP, path=path)


def missing_line(agent: str) -> str:
    """The one line that says an agent cannot run sandboxed here."""
    return f"{agent} has sandbox = true but bwrap is not installed ({INSTALL})"


# of the common git folder: what commits write there (the branches, their reflogs)
SHARED_WRITES = ("refs/heads", "logs/refs/heads")


def git_writable(workspace: Path) -> list[str]:
    """What a linked worktree's git writes outside it: its own git folder
    (``.git/worktrees/NAME``: its HEAD, index, merge state) and, of the common folder, only
    ``refs/heads`` and ``logs/refs/heads`` (its branch, their reflogs), made first when
    missing; its objects go to a store of its own (:func:`git_objects`). The rest of the
    common folder stays read-only: the repository's objects, its other refs (the person's
    stash, whose list is the reflog of ``refs/stash`` and shared by every worktree, tags,
    remote-tracking branches, notes), the main checkout's ``index`` and merge state
    (``MERGE_HEAD``: the person's next commit would merge the agent's work unasked), its
    submodules' git folders (``modules``: their config runs code in the person's git),
    ``packed-refs``, swarm's own merge marker. ForeignGit (one line) when a folder on the
    way to those two is a link: bound, it would show what the link names."""
    folders = git_folders(workspace)
    if len(folders) < 2:
        return folders
    own, common = Path(folders[0]), Path(folders[1])
    _refuse_linked_writes(common)
    for name in SHARED_WRITES:
        (common / name).mkdir(parents=True, exist_ok=True)
    return [str(own), *(str(common / name) for name in SHARED_WRITES)]


def _refuse_linked_writes(common: Path) -> None:
    """ForeignGit when a folder on the way to ``SHARED_WRITES`` is a symbolic link (one an
    agent made while those folders' parents were its to write)."""
    for name in SHARED_WRITES:
        parts = Path(name).parts
        for depth in range(1, len(parts) + 1):
            step = common.joinpath(*parts[:depth])
            if step.is_symlink():
                raise ForeignGit(f"{step} is a symbolic link: refused, nothing bound")


def git_objects(workspace: Path) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """A linked worktree's own object store, bound read-write at the repository's
    ``objects`` (source, where inside), and what is shown read-only with it: the
    repository's own store, which git inside reads as its alternate (``_objects``); none
    for a checkout of its own."""
    folders = git_folders(workspace)
    if len(folders) < 2:
        return (), ()
    store, shown = objects.stores_of(Path(folders[0]), Path(folders[1]))
    return (store,), shown


def git_guards(workspace: Path, prepare: bool = True) -> list[str]:
    """What of the git folders (``git_folders``) stays read-only inside, though they are
    bound read-write for the agent's commits (refs, its index): what would run code
    outside when the person's or swarm's git reads it (the common ``config``, ``hooks`` and
    ``info``; the worktree's ``commondir``, ``gitdir`` and ``config.worktree``, which say where
    its config is; swarm's own hooks there), the other worktrees' git folders, and the
    worktree's ``.git`` file itself (what it names stays its own). A checkout of its own
    (``.git`` a folder in the workspace) keeps its ``config``, ``hooks`` and ``info``. A
    missing ``hooks`` or ``info`` is made first (a bind needs its source; an agent must not
    make one the person's git runs), and packed branches loosened (``ref_guards``), unless
    not ``prepare`` (:func:`check_git_links`: nothing written)."""
    dot = workspace / ".git"
    if dot.is_dir() and not dot.is_symlink():  # a checkout of its own: its config and hooks
        return _code_files(dot, prepare)
    folders = git_folders(workspace)
    if len(folders) < 2:
        return []
    own, common = Path(folders[0]), Path(folders[1])
    guarded = [dot, *map(Path, _code_files(common, prepare))]  # the .git file: what it names stays
    if own.parent.name == "worktrees" and own.parent.parent == common:
        guarded.append(own.parent)  # every worktree's folder; its own is bound again below
    guarded += [own / name for name in ("commondir", "gitdir", "config.worktree", WORKTREE_HOOKS)]
    _refuse_linked_writes(common)
    guarded += ref_guards(own, common, prepare)
    _refuse_links(guarded, (own, common / "refs", common / "logs"))
    return [str(path) for path in guarded if path.exists()]


def _refuse_links(guarded: Sequence[Path], writable: Sequence[Path]) -> None:
    """ForeignGit (one line) for a guard in what the agent writes (its git folder, the
    refs, the reflogs) that is a symbolic link or lies in one: bound, it would show what the
    link names (a ``config.worktree``, a branch or ``refs/heads`` made a link to the
    person's key or their ``.ssh``); nothing is bound."""
    for path in guarded:
        top = next((folder for folder in writable if folder in path.parents), None)
        steps = () if top is None else (path, *path.parents[: path.parents.index(top) + 1])
        linked = next((step for step in steps if step.is_symlink()), None)
        if linked is not None:
            raise ForeignGit(f"{linked} is a symbolic link: refused, nothing bound")


def check_git_links(workspace: Path) -> None:
    """ForeignGit (one line) when the agent's next start would be refused for a link in its
    git folders (:func:`git_guards`'s check, nothing made or written): ``swarm doctor``."""
    git_guards(workspace, prepare=False)


def _code_files(common: Path, prepare: bool = True) -> list[str]:
    """A git folder's ``config``, ``hooks`` and ``info`` (what tells git what to run), the
    folders made first when missing (``prepare``)."""
    for name in ("hooks", "info") if prepare else ():
        (common / name).mkdir(exist_ok=True)
    return [str(common / name) for name in ("config", "hooks", "info") if (common / name).exists()]


def ref_guards(own: Path, common: Path, prepare: bool = True) -> list[Path]:
    """The refs a worktree's agent may not move: the main checkout's ``HEAD`` and every
    branch but the one swarm gave its worktree (``core.sandbox.branch_records``: not the one
    its ``HEAD``, the agent's to write, names), each loose ref file bound read-only (git
    replaces a ref by renaming its lock over it, which a bound file refuses). A branch kept
    only in ``packed-refs`` is given its loose file first, with the same value, so a loose
    ref the agent writes cannot shadow it."""
    try:  # its own HEAD is its agent's to write: a FIFO there is never waited on
        named = branch_records.named_by_head(own)
    except NotPlain as exc:
        raise ForeignGit(f"{exc.strerror}: refused, nothing bound") from None
    mine = branch_records.granted(own, common, named, prepare)
    heads = common / "refs" / "heads"
    if prepare:
        _loosen_packed_branches(common)
    found = [common / "HEAD", *_remote_shadows(heads, common, mine, prepare)]
    for path in sorted(heads.rglob("*")) if heads.is_dir() else ():
        ref = "refs/heads/" + path.relative_to(heads).as_posix()
        plain = path.is_file() or path.is_symlink()  # (a link: refused, git_guards)
        if plain and not path.name.endswith(".lock") and ref != mine:
            found.append(path)
            reflog = common / "logs" / ref  # where the branch was: not the agent's to delete
            found += [reflog] if os.path.lexists(reflog) else []
    return found


def _remote_shadows(heads: Path, common: Path, mine: str | None, prepare: bool) -> list[Path]:
    """For each remote (``origin``), ``refs/heads/origin``, where a branch would shadow it:
    git takes ``refs/heads/origin/main`` before ``refs/remotes/origin/main`` for the name
    ``origin/main`` (one "ambiguous" warning), so a branch the agent made there would be what
    the person's ``git merge origin/main`` or ``git rebase origin/main`` takes. An empty
    folder is made there when nothing is (``prepare``: git removes an empty folder in the
    way of a branch the person makes), and bound read-only with what it holds, unless the
    agent's own branch is in it."""
    found = []
    for remote in sorted(branch_records.remotes(common)):
        path = heads / remote
        if prepare and not os.path.lexists(path):
            with contextlib.suppress(OSError):
                path.mkdir()
        owned = mine is not None and mine.startswith(f"refs/heads/{remote}/")
        if (path.is_dir() or path.is_symlink()) and not owned:  # (a link: refused, git_guards)
            found.append(path)
    return found


def _loosen_packed_branches(common: Path) -> None:
    """Each branch of ``packed-refs`` without a loose ref file gets one, with its value
    (written as git writes a ref: its lock made exclusively, then renamed; skipped when the
    lock is taken, a git at work on it). Written only by folders opened without following a
    link (the refs are an agent's to write: a folder of them made a link would lead out)."""
    try:
        packed = (common / "packed-refs").read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    for line in packed.splitlines():
        value, _, ref = line.partition(" ")
        if not ref.startswith("refs/heads/") or len(value) < 40 or ".." in ref:
            continue
        *folders, name = ref.split("/")
        try:
            folder = _open_folder(common, folders)
        except OSError:
            continue  # a folder on its way is a link, or no folder: left alone
        try:
            _loosen(folder, name, value)
        finally:
            os.close(folder)


def _open_folder(top: Path, parts: Sequence[str]) -> int:
    """A descriptor of ``top``/``parts``, each part made when missing and opened without
    following a link (OSError: one is a link, or not a folder)."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            inner = open_folder(part, fd)
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _loosen(folder: int, name: str, value: str) -> None:
    """The ref file ``name`` in ``folder`` holds ``value``, unless there is one (a link too)."""
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
        return
    except FileNotFoundError:
        pass
    lock = name + ".lock"
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644,
                     dir_fd=folder)  # fmt: skip
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(value + "\n")
    os.replace(lock, name, src_dir_fd=folder, dst_dir_fd=folder)


def program_paths(command: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The programs ``command`` runs, to be readable inside: its program found on PATH (the
    folder of that name, and the package it resolves into: a ``node_modules`` package, else
    the real file's folder), its ``#!`` interpreter the same way, and the files its
    arguments name by absolute path."""
    words = list(command)
    while words and (("=" in words[0] and not words[0].startswith("/")) or words[0] == "env"):
        words.pop(0)  # VAR=value and env before the program
    if not words:
        return []
    found = _program(words[0], env, depth=2)
    found += [w for w in words[1:] if w.startswith("/") and os.path.isfile(w)]
    return found


def _program(name: str, env: Mapping[str, str], depth: int) -> list[str]:
    where = shutil.which(name, path=env.get("PATH"))
    if where is None or depth == 0:
        return []
    real = os.path.realpath(where)
    found = [os.path.dirname(os.path.abspath(where)), *_packages(real)]
    found += _virtualenv(os.path.abspath(where))
    interpreter = _shebang(real)
    if interpreter:
        found += _program(interpreter, env, depth - 1)
    return found


def _virtualenv(program: str) -> list[str]:
    """A Python virtual environment ``program`` lies in (its ``bin``'s parent holds
    ``pyvenv.cfg``: a venv's or pipx's install), whole, with the Python it was made from
    (``pyvenv.cfg``'s ``home``: its ``bin``'s parent, the standard library with it): Aider
    installed in a venv runs sandboxed with its packages, nothing to add to ``sandbox_read``."""
    root = Path(program).parent.parent
    config = root / "pyvenv.cfg"
    if not config.is_file() or any((root / secret).exists() for secret in SECRETS):
        return []  # (a venv made in a home, beside its secrets: not shown whole)
    found = [str(root)]
    try:
        lines = config.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return found
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip().startswith("/"):
            found.append(os.path.realpath(Path(value.strip()).parent))
    return found


def _packages(real: str) -> list[str]:
    """The ``node_modules`` package holding ``real`` and the packages it depends on that are
    installed beside it (a native binary in an optional one: Codex's
    ``@openai/codex-linux-x64``), else ``real``'s folder."""
    parts = Path(real).parts
    if "node_modules" not in parts:
        return [os.path.dirname(real)]
    at = len(parts) - 1 - parts[::-1].index("node_modules")
    end = at + (3 if at + 1 < len(parts) and parts[at + 1].startswith("@") else 2)
    modules, first = Path(*parts[: at + 1]), Path(*parts[:end])
    found, todo = [str(first)], [first]
    while todo and len(found) < MAX_PACKAGES:
        for name in _dependencies(todo.pop()):
            folder = modules / name
            if str(folder) not in found and folder.is_dir():
                found.append(str(folder))
                todo.append(folder)
    return found


def _dependencies(package: Path) -> list[str]:
    """The names ``package``'s ``package.json`` depends on (optional ones too); none when it
    cannot be read. A name that would leave ``node_modules`` is dropped."""
    try:
        data = json.loads((package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    names = []
    for key in ("dependencies", "optionalDependencies"):
        table = data.get(key)
        if isinstance(table, dict):
            names += [n for n in table if isinstance(n, str) and _package_name(n)]
    return names


def _package_name(name: str) -> bool:
    """An npm package name: ``name`` or ``@scope/name``, no ``..`` nor other slashes."""
    parts = name.split("/")
    shape = len(parts) == 2 and parts[0].startswith("@") if "/" in name else len(parts) == 1
    return shape and all(p not in ("", ".", "..", "@") for p in parts)


def _shebang(path: str) -> str | None:
    """The interpreter a script's ``#!`` line names (``env``'s program), None for none."""
    try:
        with open(path, "rb") as file:
            head = file.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode(errors="replace").split()
    if words[:1] and os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
    return words[0] if words else None


def interpreter_paths(python: str, base_prefix: str) -> list[str]:
    """What the door's ``swarm`` (standard library only) needs of swarm's own Python."""
    return [os.path.dirname(os.path.realpath(python)), base_prefix]


def check_extra(paths: Sequence[str], home: Path, swarm_home: Path) -> None:
    """ValueError (one line) for a ``sandbox_read``/``sandbox_write`` path that does not
    exist, holds swarm's home, lies in it, or is one of the user's secrets."""
    for given in paths:
        path = Path(os.path.expanduser(given.replace("~", str(home), 1)))
        if not path.exists():
            raise ValueError(f"sandbox path {given} does not exist")
        real, shome = path.resolve(), swarm_home.resolve()
        if real == shome or shome in real.parents or real in shome.parents:
            raise ValueError(f"sandbox path {given} would show swarm's home ({swarm_home})")
        if any(real == (home / s).resolve() or (home / s).resolve() in real.parents
               for s in SECRETS):  # fmt: skip
            raise ValueError(f"sandbox path {given} holds the user's secrets")


def expand(paths: Sequence[str], home: Path) -> list[str]:
    """``~/...`` under ``home``."""
    return [str(home / p[2:]) if p.startswith("~/") else p for p in paths]


def mounts(
    workspace: Path,
    home: Path,
    box: Sandbox,
    cli_state: Sequence[str],
    programs: Sequence[str],
    door: Path | None,
    path: str = "/usr/bin:/bin",
    own: Sequence[tuple[str, str]] = (),
) -> Mounts:
    """The sandbox of an agent whose worktree is ``workspace``: what :func:`bwrap_argv`
    is given; ``own``: its CLI's state, its own copies bound at the person's paths
    (``automation.launch.sandbox._state``)."""
    write = [str(workspace), *git_writable(workspace), *cli_state, *expand(box.write, home)]
    read = [*programs, *expand(box.read, home), *git_folders(workspace), *git_guards(workspace)]
    store, shown = git_objects(workspace)
    links = {link: target for path in (*read, *write) for link, target in symlinks(path)}
    return Mounts(
        read=tuple(dict.fromkeys(os.path.realpath(p) for p in read)),
        write=tuple(dict.fromkeys(os.path.realpath(p) for p in write)),
        links=tuple(links.items()),
        home=str(home),
        workspace=str(workspace),
        door=None if door is None else str(door),
        path=path,
        own=(*own, *store),
        shown=shown,
    )


def symlinks(path: str) -> list[tuple[str, str]]:
    """The symlinks on the way to ``path`` (each folder and ``path`` itself), with their
    targets: made again inside, so the path as written leads where it does outside."""
    found, here = [], Path(path)
    for step in (*reversed(here.parents), here):
        if step.is_symlink() and not _system(str(step)):
            found.append((str(step), os.readlink(step)))
    return found


DEFAULT_INT = (  # run by swarm's Python inside: SIGINT as it was before bwrap ignored it
    "import os,signal,sys;signal.signal(signal.SIGINT,signal.SIG_DFL);"
    "os.execvp(sys.argv[1],sys.argv[1:])"
)


def bwrap_argv(
    m: Mounts, command: Sequence[str], new_session: bool = False, bwrap: str = BWRAP
) -> list[str]:
    """The ``bwrap`` command that runs ``command`` in ``m``'s sandbox: no capability (as
    root too; bwrap sets ``no_new_privs``), the system read-only, a private ``/tmp``,
    ``/proc`` (its ``sys`` read-only) and ``/dev``, the home an empty tmpfs, then each bind
    (parents before what lies in them; read-write wins over read-only for one path);
    its own process namespace, ended with its parent; ``new_session``: no controlling
    terminal (not for a tmux pane: its keys must reach the agent). With ``m.python``, the
    whole started by the environment's filter: only ``m.keep``'s names enter, in the
    control groups of ``m.join``; in a terminal ``bwrap`` ignores SIGINT and the command
    inside gets it back (:data:`DEFAULT_INT`): the terminal's Ctrl+C is its agent's (Aider
    stops its turn at one), never the end of the sandbox and all in it."""
    argv = [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    argv += ["--cap-drop", "ALL"]  # root's too: nothing remounted, no file's owner ignored
    argv += [] if m.network else ["--unshare-net"]
    argv += ["--new-session"] if new_session else []
    for path in SYSTEM:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    argv += _resolv_conf()
    argv += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev"]
    layers = {"/tmp": "--tmpfs", m.home: "--tmpfs"}
    layers.update({path: "--ro-bind" for path in m.read if not _system(path)})
    layers.update({path: "--bind" for path in m.write})
    layers.update({dest: "--bind" for _, dest in m.own})
    layers.update({dest: "--ro-bind" for _, dest in m.shown})
    layers.update({link: "--symlink" for link, _ in m.links})
    targets = dict(m.links)
    sources = {dest: source for source, dest in (*m.own, *m.shown)}
    for path in sorted(layers, key=lambda p: (len(Path(p).parts), p)):
        op = layers[path]
        if op == "--symlink":
            argv += [op, targets[path], path]
        else:
            argv += [op, path] if op == "--tmpfs" else [op, sources.get(path, path), path]
    if m.door is not None:
        argv += ["--ro-bind", m.door, DOOR_AT]
        argv += ["--setenv", "PATH", f"{DOOR_AT}:{m.path}"]
    for name in m.unset:
        argv += ["--unsetenv", name]
    argv += ["--setenv", "TMPDIR", "/tmp"]  # its own /tmp (a TMPDIR outside is not there)
    for name, value in m.env:
        argv += ["--setenv", name, value]
    terminal = bool(m.python) and not new_session
    python = os.path.realpath(m.python)  # inside: its interpreter's folder (a venv's not)
    inside = [python, "-I", "-S", "-c", DEFAULT_INT, *command] if terminal else [*command]
    argv += ["--chdir", m.workspace, "--", *inside]
    return filter_argv(m.python, m.keep, argv, m.join, terminal) if m.python else argv


def _system(path: str) -> bool:
    return any(path == s or path.startswith(s + "/") for s in SYSTEM if os.path.isdir(s))


def _resolv_conf() -> list[str]:
    """``/etc/resolv.conf`` pointing into ``/run`` (systemd-resolved): its folder shown."""
    target = os.path.realpath("/etc/resolv.conf")
    if target.startswith("/run/") and os.path.isfile(target):
        folder = os.path.dirname(target)
        return ["--ro-bind", folder, folder]
    return []


def shell_line(argv: Sequence[str]) -> str:
    """``argv`` as one shell line (a tmux session's command)."""
    return shlex.join(argv)
