"""The script: what the model does on each turn, matched on the latest user prompt.

A :class:`Script` is a list of :class:`Turn` rules tried in order (a substring or a regular
expression searched in the prompt) and a default. A turn is a list of :class:`Step`: the first
answers the prompt; after a tool call's result comes back, the next step runs. Failures
(``status`` other than 200) and stalls are served ``times`` times (every time when None) and
then the turn moves on to the step after them.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

JsonMap = Mapping[str, Any]


class ScriptError(ValueError):
    """A script that cannot be used, with a one-line reason."""


@dataclass(frozen=True)
class Step:
    """One model answer: text, a tool call (``shell`` or ``tool``), or a failure (``status``).

    ``shell``: a command run through the shell tool the request offers (``tool`` names it when
    the client offers several); ``tool`` alone: call that tool (an MCP tool's plain name
    matches ``mcp__server__name``) with ``input``. ``text`` with a call is said before it.
    Pacing: ``delay`` before the first byte, ``chunk_delay`` between streamed chunks of
    ``chunk_chars`` characters, ``stall_after`` chunks then silence for ``stall_for`` seconds
    (None: until released or closed). ``times`` bounds how many requests get a failure or a
    stall. ``retry_after`` and ``reset_in`` (seconds) set a 429's headers; ``quota`` is
    Gemini's ("minute" or "day"); ``should_retry`` sends ``x-should-retry``. ``model``: a
    failure only for requests to a model whose name contains it (a per-model quota); the
    other models' requests go on to the next step. With ``stall_after``: the stall only for
    those requests (a CLI's side request to another model, such as Gemini CLI's router, is
    answered at once with the step's text).
    """

    text: str = ""
    shell: str | None = None
    tool: str | None = None
    input: Mapping[str, Any] = field(default_factory=dict)
    status: int = 200
    message: str = ""
    retry_after: float | None = None
    reset_in: float = 60.0
    quota: str = "minute"
    should_retry: bool | None = None
    model: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    times: int | None = None
    delay: float = 0.0
    chunk_chars: int = 16
    chunk_delay: float = 0.0
    stall_after: int | None = None
    stall_for: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    @classmethod
    def json(cls, value: Any, **kwargs: Any) -> Step:
        """An answer whose text is ``value`` as JSON."""
        return cls(text=json.dumps(value), **kwargs)

    @classmethod
    def fail(cls, status: int, message: str = "", **kwargs: Any) -> Step:
        """A failure: 429 (rate limit), 500, 529 (overloaded), 401..., in each API's shape."""
        return cls(status=status, message=message, **kwargs)

    @classmethod
    def rate_limit(cls, **kwargs: Any) -> Step:
        """A 429 with the API's rate-limit headers (``retry_after``, ``reset_in``)."""
        return cls(status=429, **kwargs)

    @property
    def failure(self) -> bool:
        """Whether this step answers with an HTTP error."""
        return self.status != 200

    @property
    def calls_tool(self) -> bool:
        """Whether this step answers with a tool call."""
        return self.shell is not None or self.tool is not None

    def to_json(self) -> dict[str, Any]:
        """The fields that differ from the defaults (the script file's form)."""
        default = Step()
        return {
            f.name: _plain(getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    def describe(self) -> str:
        """A short summary for logs and recorded requests."""
        if self.failure:
            return f"fail {self.status}"
        if self.shell is not None:
            return f"shell {self.shell!r}"
        if self.tool is not None:
            return f"tool {self.tool}"
        return f"text {self.text[:40]!r}"


@dataclass(frozen=True)
class Turn:
    """A rule: prompts containing ``match`` (or searched by it when ``regex``) get ``steps``."""

    match: str
    steps: tuple[Step, ...]
    regex: bool = False

    def __post_init__(self) -> None:
        if self.regex:
            _compile(self.match)
        if not self.steps:
            raise ScriptError(f"turn {self.match!r}: no steps")

    def matches(self, prompt: str) -> bool:
        """Whether the prompt triggers this turn."""
        if self.regex:
            return _compile(self.match).search(prompt) is not None
        return self.match in prompt

    def to_json(self) -> dict[str, Any]:
        """The script file's form."""
        out: dict[str, Any] = {"regex" if self.regex else "match": self.match}
        out["steps"] = [s.to_json() for s in self.steps]
        return out


NO_STEP_TEXT = "localmodel: the script has no step for this prompt"


@dataclass(frozen=True)
class Script:
    """Turns tried in order, then ``default`` for a prompt none matches."""

    turns: tuple[Turn, ...] = ()
    default: tuple[Step, ...] = (Step(text=NO_STEP_TEXT),)

    def steps_for(self, prompt: str) -> tuple[Step, ...]:
        """The steps of the first turn matching the prompt, else the default."""
        for turn in self.turns:
            if turn.matches(prompt):
                return turn.steps
        return self.default

    def to_json(self) -> dict[str, Any]:
        """The script file's form (JSON)."""
        return {
            "turns": [t.to_json() for t in self.turns],
            "default": [s.to_json() for s in self.default],
        }


# -- parsing -------------------------------------------------------------------------------------

_FIELDS = {f.name: f for f in fields(Step)}
_ALIASES = {"fail": "status"}  # {"fail": 500}; {"rate_limit": true} is status 429
_NUMBERS = {"retry_after", "reset_in", "delay", "chunk_delay", "stall_for"}
_INTS = {"status", "times", "chunk_chars", "stall_after", "input_tokens", "output_tokens"}
_STRINGS = {"text", "shell", "tool", "message", "quota", "model"}


def parse_step(data: Any, where: str = "step") -> Step:
    """A step from its JSON/TOML form; :class:`ScriptError` names the bad key."""
    if isinstance(data, str):
        return Step(text=data)
    if not isinstance(data, Mapping):
        raise ScriptError(f"{where}: expected a table/object or a string, got {_kind(data)}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "rate_limit":
            if value is not True:
                raise ScriptError(f"{where}: rate_limit must be true")
            values["status"] = 429
            continue
        name = _ALIASES.get(key, key)
        if name not in _FIELDS:
            known = ", ".join(sorted([*_FIELDS, *_ALIASES, "rate_limit"]))
            raise ScriptError(f"{where}: unknown key {key!r} (known: {known})")
        values[name] = _checked(name, value, f"{where}: {key}")
    step = Step(**values)
    _check_step(step, where)
    return step


def _checked(name: str, value: Any, where: str) -> Any:
    if name in _STRINGS and not isinstance(value, str):
        raise ScriptError(f"{where} must be a string, got {_kind(value)}")
    if name in _INTS and value is not None and not _is_int(value):
        raise ScriptError(f"{where} must be a whole number, got {_kind(value)}")
    if name in _NUMBERS and value is not None and not _is_number(value):
        raise ScriptError(f"{where} must be a number of seconds, got {_kind(value)}")
    if name in ("input", "headers") and not isinstance(value, Mapping):
        raise ScriptError(f"{where} must be a table/object, got {_kind(value)}")
    if name == "headers":
        return {str(k): str(v) for k, v in value.items()}
    if name == "should_retry" and not isinstance(value, bool):
        raise ScriptError(f"{where} must be true or false")
    return dict(value) if name == "input" else value


def _check_step(step: Step, where: str) -> None:
    if not (step.text or step.calls_tool or step.failure):
        raise ScriptError(
            f"{where}: the step says nothing: give text, shell, tool, fail or rate_limit"
        )
    if not 200 <= step.status <= 599:
        raise ScriptError(f"{where}: status {step.status} is not an HTTP status")
    if step.failure and (step.calls_tool or step.text):
        raise ScriptError(f"{where}: a failure (status {step.status}) has no text or tool call")
    if step.chunk_chars < 1:
        raise ScriptError(f"{where}: chunk_chars must be at least 1")
    if step.times is not None and step.times < 1:
        raise ScriptError(f"{where}: times must be at least 1")
    if step.model and not (step.failure or step.stall_after is not None):
        raise ScriptError(
            f"{where}: model names whose requests a failure or a stall is for: add fail "
            "or stall_after"
        )
    if step.quota not in ("minute", "day"):
        raise ScriptError(f"{where}: quota must be 'minute' or 'day'")


def parse_turn(data: Any, where: str) -> Turn:
    """A turn: ``match`` or ``regex``, and ``steps`` (or one step's keys inline)."""
    if not isinstance(data, Mapping):
        raise ScriptError(f"{where}: expected a table/object, got {_kind(data)}")
    rest = dict(data)
    if ("match" in rest) == ("regex" in rest):
        raise ScriptError(f"{where}: give exactly one of 'match' (substring) or 'regex'")
    regex = "regex" in rest
    pattern = rest.pop("regex" if regex else "match")
    if not isinstance(pattern, str):
        raise ScriptError(f"{where}: the pattern must be a string, got {_kind(pattern)}")
    label = f"turn {pattern!r}"
    steps = _steps(rest.pop("steps"), label) if "steps" in rest else (parse_step(rest, label),)
    if "steps" in data and rest:
        raise ScriptError(f"{label}: unknown keys beside 'steps': {', '.join(sorted(rest))}")
    try:
        return Turn(pattern, steps, regex)
    except re.error as exc:
        raise ScriptError(f"{label}: bad regular expression: {exc}") from exc


def _steps(data: Any, where: str) -> tuple[Step, ...]:
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        raise ScriptError(f"{where}: steps must be a non-empty list")
    return tuple(parse_step(item, f"{where}, step {i + 1}") for i, item in enumerate(data))


def parse_script(data: Any) -> Script:
    """A script from its JSON/TOML form: ``{"turns": [...], "default": [...]}``."""
    if not isinstance(data, Mapping):
        raise ScriptError(f"a script is a table/object, got {_kind(data)}")
    unknown = set(data) - {"turns", "turn", "default"}
    if unknown:
        raise ScriptError(f"unknown script keys: {', '.join(sorted(unknown))} (turns, default)")
    raw_turns = data.get("turns", data.get("turn", []))
    if not isinstance(raw_turns, Sequence) or isinstance(raw_turns, str):
        raise ScriptError("turns must be a list")
    turns = tuple(parse_turn(t, f"turn {i + 1}") for i, t in enumerate(raw_turns))
    if "default" not in data:
        return Script(turns)
    return Script(turns, _steps(data["default"], "default"))


def load_script(path: Path | str) -> Script:
    """A script file: TOML when it ends in .toml, else JSON."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError(f"{path}: {exc.strerror or exc}") from exc
    return parse_script_text(raw, toml=path.suffix.lower() == ".toml", source=str(path))


def parse_script_text(raw: str, *, toml: bool = False, source: str = "script") -> Script:
    """A script from JSON (or TOML) text; errors name the source."""
    try:
        data = tomllib.loads(raw) if toml else json.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ScriptError(f"{source}: not valid {'TOML' if toml else 'JSON'}: {exc}") from exc
    try:
        return parse_script(data)
    except ScriptError as exc:
        raise ScriptError(f"{source}: {exc}") from exc


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _kind(value: Any) -> str:
    return type(value).__name__


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value
