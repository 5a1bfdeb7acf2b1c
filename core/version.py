"""Swarm's own version, as ``swarm --version`` and the MCP server's ``serverInfo`` say it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

NOT_INSTALLED = "(not installed)"


def swarm_version() -> str:
    """The installed ``swarm`` package's version; ``(not installed)`` from a bare source tree."""

    try:
        return version("swarm")
    except PackageNotFoundError:
        return NOT_INSTALLED
