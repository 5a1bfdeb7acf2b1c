"""The price table: model -> dollars per million tokens (``prices.toml``, package data),
with the user's file (``SWARM_PRICES``) over it; a turn's cost from its tokens."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.formats.tomltext import TomlError, loads

KINDS = ("input", "output", "cache_read", "cache_write")
MAX_PRICE = 1e6  # dollars per million tokens: more is a typo


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens of each kind (cache writes: the input price when unsaid)."""

    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float | None = None

    def cost(self, tokens: dict[str, int]) -> float:
        """The dollars of ``tokens`` (kind -> count)."""
        write = self.input if self.cache_write is None else self.cache_write
        rates = {"input": self.input, "output": self.output, "cache_read": self.cache_read,
                 "cache_write": write}  # fmt: skip
        return sum(rates[k] * tokens.get(k, 0) for k in KINDS) / 1e6


def table(user_file: Path | None) -> dict[str, Price]:
    """swarm's prices with ``user_file``'s over them (a model there replaces swarm's);
    ConfigError naming the file and the model for a bad one."""
    return dict(_table(user_file))


@functools.cache
def _table(user_file: Path | None) -> tuple[tuple[str, Price], ...]:
    own = files("core.costs") / "prices.toml"
    found = _parse(own.read_text(encoding="utf-8"), "swarm's price table")
    if user_file is not None:
        try:
            text = user_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"price file {user_file} cannot be read: {exc}") from None
        found.update(_parse(text, f"price file {user_file}"))
    return tuple(found.items())


def _parse(text: str, where: str) -> dict[str, Price]:
    try:
        raw = loads(text)
    except TomlError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
    models = raw.get("models", {})
    if set(raw) - {"models"} or not isinstance(models, dict):
        raise ConfigError(f'{where}: prices are [models."NAME"] tables, nothing else')
    return {str(name): _price(entry, f"{where}, model {name!r}") for name, entry in models.items()}


def _price(entry: Any, where: str) -> Price:
    if (
        not isinstance(entry, dict)
        or set(entry) - set(KINDS)
        or not {"input", "output"} <= set(entry)
    ):
        raise ConfigError(f"{where}: needs input and output (and may have cache_read, cache_write)")
    for key, value in entry.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or not 0 <= value <= MAX_PRICE:
            raise ConfigError(f"{where}: {key} must be dollars per million tokens, not {value!r}")
    return Price(
        float(entry["input"]), float(entry["output"]), float(entry.get("cache_read", 0.0)),
        None if entry.get("cache_write") is None else float(entry["cache_write"]),
    )  # fmt: skip


def price_of(prices: dict[str, Price], model: str | None) -> Price | None:
    """The price of ``model``: its own entry, else the entry it names with a date or a variant
    after it (``claude-sonnet-4-5-20250929``, ``claude-opus-5-5[1m]``); None when none is
    listed (``claude-opus-5-7`` is not ``claude-opus-5``: an unknown cost, not a wrong one)."""
    if not model:
        return None
    if model in prices:
        return prices[model]
    known = [
        name for name in prices if model.startswith(name) and _DATED.fullmatch(model[len(name) :])
    ]
    return prices[max(known, key=len)] if known else None


_DATED = re.compile(r"(?:[-@]\d{8})?(?:\[[^\]]*\])?")
