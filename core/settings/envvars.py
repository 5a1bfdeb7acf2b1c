"""One setting declared once: its environment name, field, default, parser and doc.

Each part declares its settings as a tuple of ``Setting`` beside its settings dataclass
(``core.settings.CORE``, ``core.ai.AI``...); the dataclass's defaults, its
``from_env``, the known-settings list of the user config file, ``swarm config show`` and the
check of the docs all come from those tuples (``bot/settings_index.py`` lists them in order).
Nothing else reads a ``SWARM_*`` variable: ``Setting.read(env)`` is the one way in, on a
mapping given by the caller (``Config``), never the process environment at import.

The parsers below keep the one-line ConfigError of each setting: it names the variable, says
what it must be, and shows the value given (quoted, shortened, control characters escaped).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError

Parser = Callable[[str, str], Any]  # (name, the value as given, not blank) -> the value
SECONDS_MAX = 7 * 24 * 3600.0  # seconds without a range of their own: up to a week
COUNT_MAX = 1_000_000  # counts without a range of their own


@dataclass(frozen=True)
class Setting:
    """A setting: ``name`` in the environment, ``field`` of its part's settings ("" when
    the part reads it by name), ``default`` when unset or blank, ``parse`` of a value given,
    a one-line ``doc``. ``secret``: never printed. ``unset``: what ``swarm config show``
    prints for it unset ("": the default; ``{0.attr}`` is an attribute of the parsed part)."""

    name: str
    field: str
    default: Any
    parse: Parser
    doc: str
    secret: bool = False
    unset: str = ""

    def read(self, env: Mapping[str, str]) -> Any:
        """The value in ``env`` (the default when unset or blank); ConfigError naming it."""
        raw = env.get(self.name, "")
        return self.parse(self.name, raw) if raw.strip() else self.default


def defaults(table: Iterable[Setting]) -> dict[str, Any]:
    """Each field's declared default, for the dataclass's field defaults."""
    return {s.field: s.default for s in table if s.field}


def read_fields(table: Iterable[Setting], env: Mapping[str, str]) -> dict[str, Any]:
    """Each field's value from ``env``, for the dataclass's constructor."""
    return {s.field: s.read(env) for s in table if s.field}


def shown(value: object) -> str:
    """A default as ``swarm config show`` prints it: numbers without ``.0``, ids joined."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else f"{value:g}"
    if isinstance(value, frozenset | tuple):
        return ",".join(str(v) for v in sorted(value)) or "(none)"
    return str(value)


def text(name: str, raw: str) -> str:
    """The value as given, spaces around it removed."""
    return raw.strip()


def verbatim(name: str, raw: str) -> str:
    """The value exactly as given."""
    return raw


def number(
    low: float, high: float, *, whole: bool = False, what: str = "a number", positive: bool = False
) -> Parser:
    """A finite number in ``[low, high]`` (``whole``: an int); ``positive``: more than 0."""

    def parse(name: str, raw: str) -> float:
        raw = raw.strip()
        value = _parse(name, raw, whole, what)
        if positive and value <= 0:
            raise ConfigError(f"{name} must be more than 0 seconds, got {raw}")
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {show(raw)}")
        return int(value) if whole else value

    return parse


def seconds(low: float = 0, high: float = SECONDS_MAX, *, positive: bool = False) -> Parser:
    """A number of seconds in ``[low, high]`` (``positive``: more than 0)."""
    return number(low, high, what="a number of seconds", positive=positive)


def count(low: float, high: float = COUNT_MAX) -> Parser:
    """A whole number in ``[low, high]``."""
    return number(low, high, whole=True)


def _parse(name: str, raw: str, whole: bool, what: str) -> float:
    """``raw`` as an int (``whole``) or a finite float; ConfigError naming ``name``."""
    kind = "a whole number" if whole else what
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, got {show(raw)}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be {kind} (finite), got {show(raw)}")
    return value


def show(raw: str) -> str:
    """``raw`` quoted, shortened and with control characters escaped (for one-line errors)."""
    return repr(raw if len(raw) <= 40 else raw[:37] + "...")
