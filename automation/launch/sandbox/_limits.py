"""Each sandboxed agent's limits: processes, memory and CPU, in a control group of its own.

``sandbox_limits = {pids = 512, memory = "4G", cpu = 2}`` (per agent or in ``[desktop]``;
those are the defaults). ``desktop up`` makes the agent's group and writes its limits
(:func:`prepare`); the sandbox's command joins it before ``bwrap`` starts (the environment's
filter writes its own pid into each group's ``cgroup.procs``: :mod:`.environment`),
so everything the agent starts is held to them and one agent's fork bomb or leak leaves swarm,
its doors and the other agents answering. Where: cgroup v2 with the three controllers in a
group this user may write (a delegated subtree), else the v1 controllers (as root); else the
limits are not enforced, and :func:`prepare` says why in one line (``desktop up``, ``doctor``,
``agents explain``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from core.models import Limits
from core.sandbox.limits import shown

MOUNTS = Path("/proc/self/mountinfo")
OWN = Path("/proc/self/cgroup")
PERIOD_US = 100_000


@dataclass(frozen=True)
class Placement:
    """Where an agent's group is: the files its command writes its pid into (none: not
    enforced), and the line that says so."""

    procs: tuple[str, ...]
    said: str


def group_name(home: Path, agent: str) -> str:
    """``swarm-<home's hash>-<agent>``: one group per home and agent."""
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:10]
    return f"swarm-{digest}-{agent}"


def backend() -> str | None:
    """``cgroup v2`` or ``cgroup v1`` where :func:`prepare` would make groups, None where
    this user may make none (nothing is written)."""
    v2, rel = _mount("cgroup2", None), _own_path("")
    if v2 is not None and rel is not None:
        own = v2 / rel.lstrip("/")
        parent = own if own == v2 else own.parent
        control = parent / "cgroup.subtree_control"
        found = control.read_text().split() if control.is_file() else []
        if {"pids", "memory", "cpu"} <= set(found) and os.access(parent, os.W_OK):
            return "cgroup v2"
    for controller in ("pids", "memory", "cpu"):
        mount, rel = _mount("cgroup", controller), _own_path(controller)
        if mount is None or rel is None or not os.access(mount / rel.lstrip("/"), os.W_OK):
            return None
    return "cgroup v1"


def prepare(home: Path, agent: str, limits: Limits) -> Placement:
    """Make ``agent``'s group and write ``limits`` there; where it cannot, say why."""
    name = group_name(home, agent)
    for way in (_v2, _v1):
        try:
            found = way(name, limits)
        except OSError as exc:
            found = Placement((), f"limits not enforced: its control group refused ({exc})")
        if found is not None:
            return found
    return Placement((), NOT_ENFORCED)


def remove(home: Path, agent: str) -> None:
    """``agent``'s groups taken away once empty (``desktop down``); a group something still
    runs in stays (the kernel refuses), and is used again by the next start."""
    name = group_name(home, agent)
    folders = []
    v2, rel = _mount("cgroup2", None), _own_path("")
    if v2 is not None and rel is not None:
        own = v2 / rel.lstrip("/")
        folders.append((own if own == v2 else own.parent) / name)
    for controller in ("pids", "memory", "cpu"):
        mount, rel = _mount("cgroup", controller), _own_path(controller)
        if mount is not None and rel is not None:
            folders.append(mount / rel.lstrip("/") / name)
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _v2(name: str, limits: Limits) -> Placement | None:
    """A group beside this process's in the unified hierarchy, when the controllers are
    there and its parent is writable."""
    mount = _mount("cgroup2", None)
    rel = _own_path("")
    if mount is None or rel is None:
        return None
    own = mount / rel.lstrip("/")
    parent = own if own == mount else own.parent
    controllers = (
        (parent / "cgroup.subtree_control").read_text().split()
        if (parent / "cgroup.subtree_control").is_file()
        else []
    )
    if not {"pids", "memory", "cpu"} <= set(controllers):
        return None
    group = parent / name
    group.mkdir(exist_ok=True)
    (group / "pids.max").write_text(str(limits.pids))
    (group / "memory.max").write_text(str(limits.memory))
    (group / "cpu.max").write_text(f"{int(limits.cpu * PERIOD_US)} {PERIOD_US}")
    return Placement((str(group / "cgroup.procs"),), f"limits {shown(limits)} (cgroup v2)")


def _v1(name: str, limits: Limits) -> Placement | None:
    """A group under this process's in each v1 controller's hierarchy, when each is
    mounted and writable (as root)."""
    values = {
        "pids": {"pids.max": str(limits.pids)},
        "memory": {"memory.limit_in_bytes": str(limits.memory)},
        "cpu": {"cpu.cfs_period_us": str(PERIOD_US),
                "cpu.cfs_quota_us": str(int(limits.cpu * PERIOD_US))},
    }  # fmt: skip
    groups = {}
    for controller in values:
        mount, rel = _mount("cgroup", controller), _own_path(controller)
        if mount is None or rel is None:
            return None
        groups[controller] = mount / rel.lstrip("/") / name
    for controller, group in groups.items():
        group.mkdir(exist_ok=True)
        for file, value in values[controller].items():
            (group / file).write_text(value)
    procs = tuple(str(g / "cgroup.procs") for g in groups.values())
    return Placement(procs, f"limits {shown(limits)} (cgroup v1)")


def _mount(kind: str, controller: str | None) -> Path | None:
    """Where the hierarchy of ``kind`` (with ``controller`` among its options) is mounted."""
    try:
        lines = MOUNTS.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        head, _, tail = line.partition(" - ")
        fields, rest = head.split(), tail.split()
        if len(fields) < 5 or len(rest) < 3 or rest[0] != kind:
            continue
        if controller is None or controller in rest[2].split(","):
            return Path(fields[4])
    return None


def _own_path(controller: str) -> str | None:
    """This process's group in ``controller``'s hierarchy (``""``: the unified one)."""
    try:
        lines = OWN.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if names.split(",") == [controller] or (controller and controller in names.split(",")):
            return path
    return None


NOT_ENFORCED = (
    "limits not enforced: no control group this user may write (cgroup v2 not delegated "
    "to it, v1 needs root: run swarm under systemd-run --user --scope -p Delegate=yes, or "
    "as root)"
)


def said(limits: Limits) -> str:
    """The one line of what holds a sandboxed agent's limits here (``agents explain``,
    ``doctor``)."""
    where = backend()
    return NOT_ENFORCED if where is None else f"limits {shown(limits)} ({where})"
