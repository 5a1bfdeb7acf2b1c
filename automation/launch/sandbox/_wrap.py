"""``desktop up`` of a sandboxed agent (``sandbox = true``): its door opened, its CLI's command
wrapped in ``bwrap`` (``core.sandbox``): the tmux session's command on the tmux route, the
command its protocol host spawns on the protocol route (the host stays outside, where swarm
reaches its socket)."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from automation.launch._config import DesktopConfig
from automation.launch.sandbox import _binds as binds
from automation.launch.sandbox import _environment as environment
from automation.launch.sandbox import _limits as limits
from automation.launch.sandbox import _network as network
from automation.launch.sandbox import _state as state
from core import sandbox
from core.agents import workspace_files
from core.clis import AgentCli, hook_files
from core.clis.logs import log_path
from core.errors import InvalidState, MissingDependency
from core.models import Agent, Sandbox
from core.privacy import files
from core.workspaces import GitFailed, manifest, reservation_hook

log = logging.getLogger(__name__)
DOOR_WAIT_S = 15.0
EDITOR_REFUSED = (
    "an editor window cannot run in swarm's sandbox: its command is not wrapped; remove "
    "sandbox = true from its [[agent]] table to run it unsandboxed knowingly"
)
EDITOR_UNSANDBOXED = (
    "an editor window runs unsandboxed: the [desktop] sandbox = true default covers "
    "terminal agents only"
)


def require_bwrap(agent: str, env: Mapping[str, str] | None = None) -> str:
    """``bwrap``'s path; MissingDependency in one line naming the package."""
    found = binds.bwrap_path((os.environ if env is None else env).get("PATH"))
    if found is None:
        raise MissingDependency(binds.missing_line(agent))
    return found


def editor_lines(agents: Sequence[Agent], config: DesktopConfig) -> dict[str, tuple[bool, str]]:
    """Each editor agent (``kind = "gui"``) a sandbox concerns: (refused, its line): refused
    when its own ``sandbox = true`` asks for one (its window is not wrapped), else said that
    the ``[desktop]`` default left it unsandboxed."""
    editors, found = set(config.editors()), {}
    for agent in agents:
        if agent.id not in editors:
            continue
        if agent.sandbox is not None or agent.sandbox_refused:
            found[agent.id] = (True, f"{agent.id}: {EDITOR_REFUSED}")
        elif config.sandbox:
            found[agent.id] = (False, f"{agent.id}: {EDITOR_UNSANDBOXED}")
    return found


def door_pid(home: Path, agent: str) -> int | None:
    """The pid of ``agent``'s running door, None when none runs."""
    return sandbox.running_door(home, agent)


def open_door(home: Path, agent: str, workspace: Path, env: Mapping[str, str]) -> Path:
    """Start ``agent``'s door unless it runs; its folder once its socket listens."""
    where = sandbox.door_folder(home, agent)
    if door_pid(home, agent) is not None:
        return where
    files.make_dirs(where.parent)
    argv = [sys.executable, "-I", "-m", sandbox.DOOR_MODULE, "--home", str(home), "--agent",
            agent, "--workspace", str(workspace)]  # fmt: skip
    with contextlib.suppress(FileNotFoundError):
        (where / sandbox.DOOR_SOCKET).unlink()
    log_fd = files.open_file(
        home / "doors" / f"{agent}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT
    )
    with os.fdopen(log_fd, "ab") as log_file:
        process = subprocess.Popen(
            argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            start_new_session=True, cwd=str(home),
        )  # fmt: skip
    files.write_file(sandbox.door_pid_path(home, agent), str(process.pid).encode())
    deadline = time.monotonic() + DOOR_WAIT_S
    while not (where / sandbox.DOOR_SOCKET).exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise InvalidState(f"{agent}'s door did not open: see {home}/doors/{agent}.log")
        time.sleep(0.05)
    return where


def close_doors(home: Path, agents: Sequence[str]) -> list[str]:
    """End the doors and model gateways of ``agents`` (and take their empty control groups
    away); one line each ended."""
    said = []
    for agent in agents:
        limits.remove(home, agent)  # its control groups, once its processes ended
        pid = door_pid(home, agent)  # first: swarm run's watch starts no gateway of a door gone
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        if network.stop(home, agent):
            said.append(f"{agent}: model gateway ended")
        if pid is not None:
            said.append(f"{agent}: door closed")
    return said


def debug_log(home: Path, agent: str, cli: AgentCli | None) -> list[str]:
    """The debug log swarm names to ``cli`` at launch (``core.clis.logs.log_path``), made
    when missing so that it can be bound writable: that one file of swarm's home alone."""
    if cli is None or cli.debug_log is None:
        return []
    path = log_path(home, agent)
    files.make_dirs(path.parent)
    os.close(files.open_file(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT))
    return [str(path)]


def wrap(
    agent: str,
    box: Sandbox,
    cli: AgentCli | None,
    workspace: Path,
    command: Sequence[str],
    env: Mapping[str, str],
    home: Path,
    seen: Sequence[str] | None = None,
    new_session: bool = False,
    given: Sequence[str] = (),
) -> list[str]:
    """``command`` run in ``agent``'s sandbox (its door opened first); ``seen``: the words
    whose programs it must be able to read (``command``'s own by default); ``given``: the
    names of the variables the agents file gives it (its ``[desktop.agent.A.env]``), which
    enter with its CLI's own. InvalidState in one line for a sandbox path it may not have."""
    bwrap = require_bwrap(agent, env)
    user_home = Path(env.get("HOME") or Path.home()).resolve()
    space = workspace.resolve()
    try:
        binds.check_extra([*box.read, *box.write], user_home, home)
        sandbox.git_folders(space)  # a .git naming what is not its own: refused, nothing run
    except ValueError as exc:
        raise InvalidState(f"{agent}: {exc}") from None
    network.check(agent, box, cli)
    own = state.own_state(home, agent, user_home, cli.state if cli else (),
                          cli.state_seeds if cli else ())  # fmt: skip
    logs = debug_log(home, agent, cli)
    programs = binds.program_paths(seen if seen is not None else command, env)
    programs += binds.interpreter_paths(sys.executable, sys.base_prefix)
    door = open_door(home, agent, space, env)
    net = network.prepare(home, agent, box, cli, env)
    log.info("%s: %s", agent, net.said)
    try:  # (its git folder read again: what changed since the check above is refused too)
        mounts = binds.mounts(
            space, user_home, box, logs, programs, door, env.get("PATH", "/usr/bin:/bin"), own
        )
    except ValueError as exc:
        raise InvalidState(f"{agent}: {exc}") from None
    inside = (*binds.git_identity(space, env), *net.setenv, ("SWARM_AGENT", agent))
    keep = environment.kept([*(cli.env_names if cli else ()), *given], box.env)
    placed = limits.prepare(home, agent, box.limits)
    said = log.info if placed.procs else log.warning  # not enforced: said where it starts
    said("%s: %s", agent, placed.said)
    mounts = replace(mounts, env=inside, keep=keep, python=sys.executable, join=placed.procs,
                     network=not net.own, unset=net.unsetenv)  # fmt: skip
    command = network.with_args(command, net, cli)
    return binds.bwrap_argv(mounts, [*net.relay, *command], new_session, bwrap)


def state_folder(
    home: Path, agent: str, box: Sandbox | None, folder: Path | None, env: Mapping[str, str]
) -> Path | None:
    """Where swarm reads ``folder`` (a CLI's folder as its agent sees it: its sessions,
    ``cli_dir``) outside: a sandboxed agent's own copy of its state, else ``folder``."""
    if box is None or folder is None:
        return folder
    user_home = Path(env.get("HOME") or Path.home())
    for base in dict.fromkeys((user_home, user_home.resolve())):
        found = state.inside_path(home, agent, base, folder)
        if found != folder:
            return found
    return folder


def wrap_line(
    agent: str,
    box: Sandbox,
    cli: AgentCli | None,
    workspace: Path,
    line: str,
    env: Mapping[str, str],
    home: Path,
    given: Sequence[str] = (),
) -> str:
    """A tmux session's shell line run in the sandbox (``sh -c`` inside; the pane keeps its
    terminal: no new session); ``given`` as :func:`wrap`'s."""
    argv = wrap(agent, box, cli, workspace, ["/bin/sh", "-c", line], env, home,
                seen=shlex.split(line), given=given)  # fmt: skip
    return shlex.join(argv)


def door_hook_command(agent: str) -> str:
    """A sandboxed agent's hook command: its door's ``swarm hook --agent A``."""
    return shlex.join([sandbox.DOOR_SWARM, "hook", "--agent", agent])


def stale_hooks(home: Path, agents: Sequence[Agent], wait_s: float) -> list[str]:
    """Rewrite the hook files of each sandboxed agent (``hooks = true``, its own
    ``workspace``) that still run swarm's hook outside the sandbox (written before it was
    sandboxed: swarm's Python and home are not in there) with its door's; a line each.
    A file without swarm's hook, or with the door's already, is left as it is."""
    said = []
    for agent in agents:
        if agent.sandbox is None or not agent.hooks or agent.workspace is None:
            continue
        folder, door = Path(agent.workspace), door_hook_command(agent.id)
        if not folder.is_dir() or not _stale(folder, agent.cli, door):
            continue
        try:
            changes = workspace_files.install_hooks(home, folder, agent.cli, door, wait_s)
        except (OSError, InvalidState) as exc:
            said.append(f"{agent.id}: its hooks still run outside its sandbox: {exc}")
            continue
        said += [f"{agent.id}: {c.path}: hooks now run through its door" for c in changes
                 if c.what != "already installed"]  # fmt: skip
    return said + stale_commit_checks(home, agents)


def stale_commit_checks(home: Path, agents: Sequence[Agent]) -> list[str]:
    """Rewrite the reservations' ``pre-commit`` check in each sandboxed agent's worktrees
    written before the check went through its door (inside, it found swarm gone and let
    every commit through unchecked); a line each."""
    return [f"{agent.id}: {line}" for agent in agents
            for line in commit_checks_through_door(home, agent)]  # fmt: skip


def commit_checks_through_door(home: Path, agent: Agent) -> list[str]:
    """Rewrite ``agent``'s stale reservations checks (:func:`stale_commit_checks`) if it is
    sandboxed; a line for each rewritten."""
    if agent.sandbox is None:
        return []
    said = []
    for tree in _worktrees(home, agent):
        try:
            folder = reservation_hook.add_door(tree, agent.id)
        except (OSError, GitFailed) as exc:
            said.append(f"{tree}: its commits' reservations check still runs outside: {exc}")
            continue
        if folder is not None:
            said.append(f"{folder}/pre-commit: reservations now checked by its door")
    return said


def _worktrees(home: Path, agent: Agent) -> list[Path]:
    """The agent's own folder (``workspace =``), else the worktrees swarm made for it."""
    if agent.workspace:
        paths = [Path(agent.workspace)]
    else:
        paths = [Path(space.path) for record in manifest.load_all(home)
                 for space in record.workspaces.values() if space.agent == agent.id]  # fmt: skip
    return [path for path in paths if path.is_dir()]


def _stale(folder: Path, cli: str | None, door: str) -> bool:
    """Whether a hook file of ``cli`` in ``folder`` holds swarm's hook but not ``door``."""
    for written in workspace_files.hook_files(cli):
        for path in written.files:
            try:
                text = (folder / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if door not in text and any(hook_files.is_ours(line) for line in _commands(text)):
                return True
    return False


def _commands(text: str) -> list[str]:
    """The ``command`` strings of a hook file's text, JSON or TOML alike (a line each)."""
    return [line for line in text.splitlines() if "command" in line]
