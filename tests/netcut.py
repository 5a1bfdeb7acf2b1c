"""A second "machine" on this one: a network namespace joined to the host by a veth pair,
whose link can be cut so that packets vanish silently (no FIN, no RST, no error).

``cut()`` puts the ``blackhole`` qdisc on both ends of the pair: every packet is dropped and
the sending kernel is told it went out (``netem loss 100%`` does the same where the kernel
has netem). That is what a dead machine or a pulled cable looks like to its peers: they only
learn of it from TCP keepalives or timeouts, never from a closed socket or a local error.
``restore()`` takes it away again. Needs root (CAP_NET_ADMIN), ``ip`` and ``tc``:
``unavailable()`` says why not, for a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

_PROBE = "swarm-probe"


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)


@dataclass(frozen=True)
class Link:
    """A namespace ``ns`` whose veth ``ns_if`` (``ns_ip``) faces ``host_if`` (``host_ip``)."""

    ns: str
    host_if: str
    ns_if: str
    host_ip: str
    ns_ip: str

    @property
    def network(self) -> str:
        """The pair's network (``10.251.7.0/30``): both ends' addresses."""
        return f"{self.host_ip.rsplit('.', 1)[0]}.0/30"

    def inside(self, *cmd: str) -> list[str]:
        """``cmd`` run inside the namespace (``ip netns exec`` execs it: same pid)."""
        return ["ip", "netns", "exec", self.ns, *cmd]

    def cut(self) -> None:
        """Drop every packet both ways from now on, silently."""
        _run("tc", "qdisc", "add", "dev", self.host_if, "root", "blackhole")
        _run(*self.inside("tc", "qdisc", "add", "dev", self.ns_if, "root", "blackhole"))

    def restore(self) -> None:
        """Let packets through again."""
        for cmd in (
            ["tc", "qdisc", "del", "dev", self.host_if, "root"],
            self.inside("tc", "qdisc", "del", "dev", self.ns_if, "root"),
        ):
            subprocess.run(cmd, capture_output=True, timeout=10, check=False)


def _run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")


def unavailable() -> str | None:
    """Why a namespace with a cuttable link cannot be made here (None when it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN)"
    if shutil.which("ip") is None or shutil.which("tc") is None:
        return "ip and tc (iproute2) are not installed"
    try:
        with namespace_link(_PROBE) as link:
            link.cut()
            link.restore()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return f"cannot make a network namespace with a cuttable link: {exc}"
    return None


def _free_subnet() -> int:
    """A third octet for 10.251.N.0/30 that no interface of the host uses (test runs of
    other worktrees may hold a pair at the same time)."""
    used = _ip("-4", "-br", "addr").stdout
    start = os.getpid() % 250
    return next(
        (n for n in (1 + (start + k) % 250 for k in range(250)) if f" 10.251.{n}." not in used),
        1 + start,
    )


@contextlib.contextmanager
def namespace_link(name: str) -> Iterator[Link]:
    """Namespace ``name`` joined to the host by a veth pair on a free 10.251.N.0/30;
    deleted afterwards (with the pair), whatever happens."""
    tag = f"{name[:6]}{os.getpid() % 10000}"
    subnet = _free_subnet()
    link = Link(
        f"{name}-{os.getpid()}", f"{tag}h", f"{tag}n", f"10.251.{subnet}.1", f"10.251.{subnet}.2"
    )
    try:
        _run("ip", "netns", "add", link.ns)
        _run("ip", "link", "add", link.host_if, "type", "veth", "peer", "name", link.ns_if)
        _run("ip", "link", "set", link.ns_if, "netns", link.ns)
        _run("ip", "addr", "add", f"{link.host_ip}/30", "dev", link.host_if)
        _run("ip", "link", "set", link.host_if, "up")
        _run("ip", "-n", link.ns, "addr", "add", f"{link.ns_ip}/30", "dev", link.ns_if)
        _run("ip", "-n", link.ns, "link", "set", link.ns_if, "up")
        _run("ip", "-n", link.ns, "link", "set", "lo", "up")
        yield link
    finally:
        _ip("netns", "del", link.ns)  # takes the namespace's end of the pair, so the pair
        _ip("link", "del", link.host_if)  # already gone unless the move failed
