"""The price table: model -> dollars per million tokens (``prices.toml``, package data),
with the user's file (``SWARM_PRICES``) over it; a turn's cost from its tokens."""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.formats.tomltext import TomlError, loads

log = logging.getLogger(__name__)
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
    """swarm's prices with ``user_file``'s over them, read again when the file changes; a
    file that became bad keeps the last good table (swarm's own when none was good) and is
    logged once per change: a turn's cost never fails for it (``check`` refuses it)."""
    stamp = _stamp(user_file)
    last = _LAST_GOOD.get(user_file)
    if last is not None and last[0] == stamp:
        return dict(last[1])
    try:
        return check(user_file, stamp)
    except ConfigError as exc:
        if _SAID.get(user_file) != stamp:
            _SAID[user_file] = stamp
            kept = "the last good table" if last is not None else "swarm's own table"
            log.warning("%s; the turns' costs use %s until it is fixed", exc, kept)
        return dict(last[1]) if last is not None else dict(_read(None))


def check(user_file: Path | None, stamp: object = None) -> dict[str, Price]:
    """The table as ``table`` gives it, remembered as the last good one; ConfigError in one
    line naming the file, the model and the key for a bad file (``swarm run`` and ``swarm
    doctor`` refuse it)."""
    found = _read(user_file)
    _LAST_GOOD[user_file] = (_stamp(user_file) if stamp is None else stamp, found)
    _SAID.pop(user_file, None)
    return dict(found)


_LAST_GOOD: dict[Path | None, tuple[object, tuple[tuple[str, Price], ...]]] = {}
_SAID: dict[Path | None, object] = {}  # the file's version whose fault was logged


def version(user_file: Path | None) -> object:
    """What changes when ``user_file`` does (a reprice is due then)."""
    return _stamp(user_file)


def _stamp(user_file: Path | None) -> object:
    """What tells a changed file: its change time, size and inode (None: no file)."""
    if user_file is None:
        return None
    try:
        st = user_file.stat()
    except OSError as exc:
        return repr(exc)
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _read(user_file: Path | None) -> tuple[tuple[str, Price], ...]:
    found = dict(_own())
    if user_file is not None:
        try:
            text = user_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"price file {user_file} cannot be read: {exc}") from None
        found.update(_parse(text, f"price file {user_file}"))
    return tuple(found.items())


def own_table() -> tuple[tuple[str, Price], ...]:
    """swarm's own prices (``prices.toml``), model by model."""
    return _own()


@functools.cache
def _own() -> tuple[tuple[str, Price], ...]:
    own = files("core.costs") / "prices.toml"
    return tuple(_parse(own.read_text(encoding="utf-8"), "swarm's price table").items())


def _parse(text: str, where: str) -> dict[str, Price]:
    try:
        raw = loads(text)
    except TomlError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
    models = raw.get("models", {})
    extra = sorted(set(raw) - {"models"})
    if extra or not isinstance(models, dict):
        what = f" (not {extra[0]!r})" if extra else ""
        raise ConfigError(f'{where}: prices are [models."NAME"] tables, nothing else{what}')
    return {str(name): _price(entry, f"{where}, model {name!r}") for name, entry in models.items()}


def _price(entry: Any, where: str) -> Price:
    unknown = sorted(set(entry) - set(KINDS)) if isinstance(entry, dict) else []
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (the keys: {', '.join(KINDS)})")
    if not isinstance(entry, dict) or not {"input", "output"} <= set(entry):
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
