"""An agent's account: named in the agents file, else its CLI and its credential's print."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.clis import by_name
from core.models import Agent

DEFAULT = "default"  # no credential seen: the CLI's own login, whatever it is


def account_of(agent: Agent, prints: Mapping[str, str]) -> str:
    """``agent``'s account: its ``account`` key; else ``CLI-PRINT``, the print of the first
    credential variable of its CLI set in the launch environment (``prints``: variable ->
    fingerprint, ``Settings.credential_prints``); else ``CLI-default``. An agent of no CLI
    swarm knows shares nothing that can be told: its account is its own (``own-ID``)."""
    if agent.account:
        return agent.account
    cli = by_name(agent.cli)
    if cli is None:
        return f"own-{agent.id}"
    for variable in cli.credentials:
        if variable in prints:
            return f"{cli.name}-{prints[variable]}"
    return f"{cli.name}-{DEFAULT}"


def by_account(agents: Iterable[Agent], prints: Mapping[str, str]) -> dict[str, list[str]]:
    """account -> its agents' ids, in the agents file's order."""
    found: dict[str, list[str]] = {}
    for agent in agents:
        found.setdefault(account_of(agent, prints), []).append(agent.id)
    return found
