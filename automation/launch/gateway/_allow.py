"""An agent's egress allow-list, and the checks of a host and port an agent asks for.

An entry is a host name (``registry.npmjs.org``: ports 443 and 80), a name and a port
(``github.com:443``), or an IP address and a port (``10.0.0.5:5432``, ``[fd00::5]:5432``; an
address alone: 443 and 80). What an agent asks for is refused unless it is spelled exactly as
an entry is: ASCII letters, digits, dots and hyphens only, no empty label, no trailing dot,
no IP address in another spelling (decimal ``2130706433``, octal ``0177.0.0.1``, hex
``0x7f.1``, short ``127.1``), an IPv6 address only in brackets and without a zone. A name
is resolved here, once; the connection goes to the address resolved, and an address that is
loopback, link-local, private or otherwise not global is refused unless it is itself listed
with that port.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
DEFAULT_PORTS = (443, 80)
MAX_HOST = 253
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r"[1-9][0-9]{0,4}")


class Refused(Exception):
    """A host or port the allow-list does not open, and why (one line, no secret)."""


class AllowListError(ValueError):
    """An entry of an allow-list that is no host, host:port or address:port."""


@dataclass(frozen=True)
class Target:
    """Where an allowed connection goes: the name asked for, its port, the address."""

    host: str
    port: int
    address: str


class AllowList:
    """The hosts and ports one agent may reach."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.names: dict[str, frozenset[int]] = {}
        self.addresses: dict[IpAddress, frozenset[int]] = {}
        for entry in entries:
            self._add(entry)

    def _add(self, entry: str) -> None:
        host, port = _split(entry, AllowListError)
        ports = frozenset(DEFAULT_PORTS if port is None else (port,))
        literal = _literal(host, AllowListError)
        if literal is not None:
            self.addresses[literal] = self.addresses.get(literal, frozenset()) | ports
        else:
            self.names[host] = self.names.get(host, frozenset()) | ports

    def check(self, host: str, port: int) -> IpAddress | None:
        """Refused unless ``host`` (as ``split_target`` gave it) and ``port`` are listed; the
        address when ``host`` is an IP address, None when it is a name to resolve."""
        literal = _literal(host, Refused)
        if literal is not None:
            if port not in self.addresses.get(literal, ()):
                raise Refused(f"address {literal} port {port} is not in the allow-list")
            return literal
        ports = self.names.get(host)
        if ports is None:
            raise Refused(f"host {host} is not in the allow-list")
        if port not in ports:
            raise Refused(f"port {port} of {host} is not in the allow-list")
        return None

    def check_address(self, host: str, port: int, address: IpAddress) -> None:
        """Refused when ``host`` resolved to an address that is not global (loopback,
        link-local, private...) and that address is not itself listed with ``port``."""
        plain = _unmapped(address)
        if _is_public(plain) or port in self.addresses.get(plain, ()):
            return
        raise Refused(f"{host} resolves to {plain}, which is not public and not listed")

    async def resolve(self, host: str, port: int, resolver: Resolver) -> Target:
        """Where a connection to ``host``:``port`` goes, or Refused: the entry checked, a
        name resolved once and every address it gave checked (one denied: all refused)."""
        literal = self.check(host, port)
        if literal is not None:
            return Target(host, port, str(literal))
        try:
            found = [ipaddress.ip_address(a.split("%")[0]) for a in await resolver(host, port)]
        except (OSError, ValueError) as exc:
            raise Refused(f"{host} does not resolve ({type(exc).__name__})") from None
        if not found:
            raise Refused(f"{host} does not resolve")
        for address in found:
            self.check_address(host, port, address)
        return Target(host, port, str(_unmapped(found[0])))


def split_target(text: str) -> tuple[str, int]:
    """``host:port`` as an agent sent it (a CONNECT's target, an URL's authority, whose
    port is 80 when unsaid: ``split_default``) into a checked host and a port, or Refused."""
    host, port = _split(text, Refused)
    if port is None:
        raise Refused("no port")
    return host, port


def split_default(text: str, port: int) -> tuple[str, int]:
    """As ``split_target``, ``port`` when ``text`` names none."""
    host, given = _split(text, Refused)
    return host, port if given is None else given


def _split(text: str, error: type[Exception]) -> tuple[str, int | None]:
    if not text.isascii() or not text.isprintable() or any(c in text for c in " \t/\\@"):
        raise error("a host with a byte no host name has")
    if text.startswith("["):
        inside, close, rest = text[1:].partition("]")
        if not close or (rest and not rest.startswith(":")):
            raise error("a bracketed address that is not [IPv6]:port")
        host, port_text = "[" + inside + "]", rest[1:] if rest else None
    else:
        host, colon, port_text_ = text.rpartition(":")
        host, port_text = (host, port_text_) if colon else (text, None)
    if port_text is not None and (not _PORT.fullmatch(port_text) or int(port_text) > 65535):
        raise error("a port that is no number from 1 to 65535")
    _name_or_literal(host, error)
    return host.lower(), None if port_text is None else int(port_text)


def _name_or_literal(host: str, error: type[Exception]) -> None:
    if host.startswith("["):
        return  # checked by _literal
    if not host or len(host) > MAX_HOST or host.endswith("."):
        raise error("an empty or too long host, or one with a trailing dot")
    if not all(_LABEL.fullmatch(label) for label in host.lower().split(".")):
        raise error("a host name that is not dot-separated letters, digits and hyphens")


def _literal(host: str, error: type[Exception]) -> IpAddress | None:
    """The address ``host`` spells (None: a name); an address in an odd spelling, or a name
    that a resolver would read as an address, is an error."""
    if host.startswith("["):
        inside = host[1:-1]
        try:
            address = ipaddress.IPv6Address(inside)
        except ValueError:
            raise error("a bracketed host that is no IPv6 address (or has a zone)") from None
        return address
    last = host.rsplit(".", 1)[-1]
    if last.isdigit() or last.startswith("0x") or _inet_aton(host):
        try:
            address4 = ipaddress.IPv4Address(host)
        except ValueError:
            raise error("an IPv4 address in an odd spelling (decimal, octal, hex, short)") from None
        if str(address4) != host:
            raise error("an IPv4 address in an odd spelling")
        return address4
    return None


def _inet_aton(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _unmapped(address: IpAddress) -> IpAddress:
    """An IPv4-mapped IPv6 address as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


_TUNNELS = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def _is_public(address: IpAddress) -> bool:
    """Global, not multicast, and no IPv6 address that carries an IPv4 one (6to4, Teredo,
    NAT64: the IPv4 address inside could be anything)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.sixtofour is not None or address.teredo is not None:
            return False
        if any(address in net for net in _TUNNELS):
            return False
    return address.is_global and not address.is_multicast


async def resolve_with_loop(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system's resolver, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]
