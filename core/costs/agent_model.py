"""The model an agent's CLI runs, as swarm can tell it before a turn, and whether swarm can
price it: its command's model flag, else its environment's model variable, else its CLI's
own config file, else the CLI's default (``core.clis.base.ModelChoice``). A command that is
no program of its CLI's own (a wrapper script) tells nothing. ``swarm desktop up`` says once
per agent when that model has no price (``price_warning``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.clis.base import AgentCli
from core.costs.prices import Price, price_of


@dataclass(frozen=True)
class Chosen:
    """An agent's model and where swarm read it (``its --model``, ``$ANTHROPIC_MODEL``...)."""

    model: str
    how: str


def model_of(
    cli: AgentCli, argv: Sequence[str], env: Mapping[str, str], folder: Path | None
) -> Chosen | None:
    """The model ``cli`` runs when started as ``argv`` in ``env`` (``folder``: its own
    folder, for its config file); None when swarm cannot tell."""
    choice = cli.model
    words = _after_program(cli, argv)
    if choice is None or words is None:
        return None
    for at, word in enumerate(words):
        for flag in choice.flags:
            if word == flag and at + 1 < len(words):
                return Chosen(words[at + 1], f"its {flag}")
            if flag.startswith("--") and word.startswith(flag + "="):
                return Chosen(word[len(flag) + 1 :], f"its {flag}")
    for name in choice.env:
        if env.get(name, "").strip():
            return Chosen(env[name].strip(), f"${name}")
    configured = choice.config(folder) if choice.config and folder is not None else None
    if configured:
        return Chosen(configured, f"its config in {folder}")
    return Chosen(choice.default, f"{cli.title}'s default") if choice.default else None


def _after_program(cli: AgentCli, argv: Sequence[str]) -> list[str] | None:
    """The words after ``cli``'s own program in ``argv`` (``env A=1 claude ...``); None when
    its program is none of the CLI's (a wrapper's flags and environment are its own)."""
    words = list(argv)
    at = 1 if words[:1] == ["env"] else 0
    while at < len(words) and "=" in words[at] and not words[at].startswith("-"):
        at += 1
    own = (*cli.programs, cli.protocol_adapter)
    if at >= len(words) or Path(words[at]).name.removesuffix(".exe") not in own:
        return None
    return words[at + 1 :]


def priced(prices: dict[str, Price], model: str) -> bool:
    """Whether ``model`` has a price (``provider/model`` by its model's name too)."""
    return price_of(prices, model) is not None or price_of(prices, model.split("/")[-1]) is not None


def price_warning(
    cli: AgentCli, chosen: Chosen | None, prices: dict[str, Price], route: str
) -> str | None:
    """One line when ``chosen`` has no price and its CLI does not give each turn's cost on
    ``route``: its turns' cost will be unknown; None otherwise (or when the model is not
    known)."""
    if chosen is None or route in (cli.model.cli_cost if cli.model else ()):
        return None
    if priced(prices, chosen.model):
        return None
    shown = chosen.model[:100]
    return (
        f"no price for its model {shown!r} ({chosen.how}): its turns' cost will be unknown "
        "and a budget cannot be kept; add it to your price file (SWARM_PRICES, then swarm "
        "costs reprice; swarm costs prices lists the models priced)"
    )
