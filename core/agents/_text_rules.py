"""Agent rule files: what an agent CLI's terminal text means (the TEXT signal's classifier).

One TOML file per agent CLI, in its folder (``core/clis/<cli>/rules.toml``: Claude Code's,
Codex CLI's, Gemini CLI's, Aider's, opencode's; a user's own in
``$SWARM_HOME/agent-rules/``, which replace a bundled file of the same ``cli``). Each has a
``version`` and ordered ``[[rule]]`` tables: a regular expression looked for in the last
lines of the pane, and the state it means. The first rule that matches wins. A ``waiting``
rule may parse a dialog's numbered options (the dialog at the input is taken, and the
dialogs are counted: ``core.dialogs.pane``); a ``limited`` rule may parse the reset time.
Lines are matched with their box borders (``│``) and surrounding spaces removed. The format
is documented in docs/agent-state.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.agent_state import LIMIT_MAX_S, AgentState
from core.agents_file import RULE_NAME
from core.clis import CLIS
from core.dialogs import pane as dialogs
from core.dialogs.pane import last_lines
from core.formats.tomltext import TomlError, loads
from core.models import PromptOption

USER_RULES_DIR = "agent-rules"  # $SWARM_HOME/agent-rules/*.toml
DEFAULT_LINES = 15  # last non-blank lines of a pane a rule looks at
MAX_LINES = 200
FILE_KEYS = {"version", "cli", "title", "lines", "rule"}
RULE_KEYS = {
    "name", "state", "match", "lines", "option", "options", "before", "submit", "reset", "framed",
    "above", "moving", "ended_by", "spinner", "followed_by", "top", "field", "sandbox",
    "preceded_by",
}  # fmt: skip
STATES = {s.value for s in AgentState} - {"stalled", "unknown"}  # judged elsewhere / no rule
OPTION_PLACES = ("below", "inline")
_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])"
)
_CLOCK = re.compile(r"(?i)^\s*(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\.?)?\s*$")
_BORDER = re.compile(r"^[╭╰┌└]?([─━═])\1{2,}[╮╯┐┘]?$")  # an input box's top or bottom edge
STILL = "; its screen did not move since the last look (its spinner aside): no progress"
ZONE_MAX = 64  # characters of a zone name (IANA names are shorter; a longer one is no zone)


class RuleError(ValueError):
    """A rule file that cannot be used; the message names the file and the rule (one line)."""


@dataclass(frozen=True)
class Rule:
    """One ordered rule: ``match`` in the last ``lines`` lines means ``state``."""

    name: str
    state: AgentState
    match: re.Pattern[str]
    lines: int
    option: re.Pattern[str] | None = None  # a prompt's option: groups ``key`` and ``label``
    options: str = "below"  # where options are: on the lines below the match, or on its line
    # a dialog with no box nor rule drawn above its question is shown from this many lines
    # above its question (0: all the rule's last lines; ``core.dialogs.pane.dialog_top``)
    before: int = 0
    # a dialog whose body draws rules of its own (Claude Code's plan under "Ready to code?",
    # between its question and its title) begins at the nearest line above its question that
    # matches this, looked for in the whole pane; when it has scrolled away, the whole pane
    top: re.Pattern[str] | None = None
    submit: tuple[str, ...] = ()  # keys pressed after an option's key (aider: enter)
    # an option whose label matches this opens a field in the dialog for the person's words
    # (Claude Code's plan: "3. Tell Claude what to change"): chosen from swarm, its key is
    # followed by Enter, the field left empty (the dialog's own "no", without words)
    field: re.Pattern[str] | None = None
    reset: re.Pattern[str] | None = None  # a limit's reset: groups time [zone], or in
    framed: bool = False  # the matched line must sit between two horizontal borders (a box)
    # an idle rule's input box goes up from the matched line over the lines (as the pane
    # shows them, borders kept) right above it that match this: opencode's "┃" box, whose
    # last line (its mode and model) is what the rule finds
    above: re.Pattern[str] | None = None
    # an idle rule whose screen may still be filling (Codex streams its answer with no line
    # saying so): when the lines above the matched one moved since the last look, the agent
    # is working; a working rule's reading is progress only when its lines moved since the
    # last look (``core.watch.text_signal``)
    moving: bool = False
    # a message that belongs to one turn (an error, a limit): a line below the match that
    # matches this (the next turn's answer) means it is over, the match no longer counts
    ended_by: re.Pattern[str] | None = None
    # the match counts only when a line below it matches this (the CLI's own input box: a
    # line another CLI draws alike, above its own input, is not this CLI's)
    followed_by: re.Pattern[str] | None = None
    # the parts of a working rule's screen that change by themselves (its spinner's glyph,
    # its elapsed time: what this matches on its line and the lines above it, removed before
    # comparing): the screen is the agent's progress only when the rest of it changed since
    # the last look (``core.watch.text_signal``)
    spinner: re.Pattern[str] | None = None
    # the match counts only when the non-blank line right above it matches this (a command's
    # output under the CLI's own line for the command, not the same words in a prompt)
    preceded_by: re.Pattern[str] | None = None
    # a line the CLI prints when its own sandbox failed, and what would allow the command:
    # not a state (skipped by ``classify``), an alert of the pane's agent (``sandbox_failure``)
    sandbox: str = ""


@dataclass(frozen=True)
class SandboxFailure:
    """A CLI's own line saying its sandbox failed, and what would allow it."""

    rule: str
    line: str
    hint: str


@dataclass(frozen=True)
class RuleSet:
    """One agent CLI's rule file."""

    cli: str
    title: str
    version: int
    rules: tuple[Rule, ...]
    path: Path

    @property
    def label(self) -> str:
        """``claude-code v1``."""
        return f"{self.cli} v{self.version}"


@dataclass(frozen=True)
class TextMatch:
    """What a pane's text says: the state, the rule and the line that said it."""

    cli: str
    version: int
    rule: str
    state: AgentState
    line: str  # the matched line (box borders removed)
    prompt: str = ""  # a dialog's text: the rule's last lines, as the pane shows them
    options: tuple[PromptOption, ...] = ()
    submit: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # the keys of options that open a field (``Rule.field``)
    until: float | None = None  # a limit's reset time, when the text gives one
    questions: tuple[int, ...] = ()  # a dialog's: every dialog's place (dialogs.Dialog)
    # what is compared with the last look's: an idle ``moving`` rule's lines above its match;
    # a ``spinner`` rule's, those and its line without the parts that change by themselves;
    # a working ``moving`` rule's, all its lines
    above: tuple[str, ...] | None = None
    still: bool = False  # a working reading whose screen did not move since the last look
    log: str = ""  # the CLI's own log line that decided the state (a retry its screen hides)

    def keys_for(self, key: str) -> tuple[str, ...]:
        """The keys that choose the option ``key``: it, then the rule's ``submit``, or Enter
        for an option that opens a field (left empty)."""
        return (key, "enter") if key in self.fields else (key, *self.submit)

    @property
    def ambiguous(self) -> bool:
        """More than one dialog in the last lines: which one takes a key cannot be told."""
        return len(self.questions) > 1

    @property
    def evidence(self) -> str:
        """``text: 'Do you want to proceed?' (claude-code v1, rule permission)``."""
        more = f"; {len(self.questions)} dialogs in the last lines" if self.ambiguous else ""
        more += STILL if self.still else ""
        said = f"text: {self.line!r} ({self.cli} v{self.version}, rule {self.rule}{more})"
        return f"its log: {self.log!r}; {said}" if self.log else said


# -- loading ---------------------------------------------------------------------------------


def load_rule_file(path: Path) -> RuleSet:
    """One rule file, checked; RuleError naming the file (and the rule) otherwise."""
    where = f"agent rules file {path}"
    try:
        raw = loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{where} cannot be read: {exc}") from None
    except TomlError as exc:
        raise RuleError(f"{where} is not valid TOML: {exc}") from None
    unknown = set(raw) - FILE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RuleError(f"{where}: version must be a whole number of at least 1")
    cli = raw.get("cli")
    if not isinstance(cli, str) or not RULE_NAME.fullmatch(cli):
        raise RuleError(f'{where}: cli must be a lower-case name like "claude-code"')
    title = raw.get("title", cli)
    if not isinstance(title, str):
        raise RuleError(f"{where}: title must be a string")
    lines = _count(raw.get("lines", DEFAULT_LINES), "lines", where)
    entries = raw.get("rule")
    if not isinstance(entries, list) or not entries:
        raise RuleError(f"{where}: no rules: add [[rule]] tables")
    rules = [_rule(entry, i, lines, where) for i, entry in enumerate(entries, 1)]
    names = [r.name for r in rules]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise RuleError(f"{where}: rule {twice[0]} appears twice")
    return RuleSet(cli, title, version, tuple(rules), path)


def _rule(entry: Any, index: int, lines: int, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise RuleError(f"{where}, rule #{index}: must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not RULE_NAME.fullmatch(name):
        raise RuleError(f'{where}, rule #{index}: name must be a lower-case name like "limit"')
    where = f"{where}, rule {name}"
    unknown = set(entry) - RULE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    sandbox = entry.get("sandbox", "")
    if not isinstance(sandbox, str):
        raise RuleError(f"{where}: sandbox must be the hint of what would allow it (a string)")
    state = entry.get("state", "errored" if sandbox else None)
    if state not in STATES:
        raise RuleError(f"{where}: state must be one of {', '.join(sorted(STATES))}")
    options = entry.get("options", "below")
    if options not in OPTION_PLACES:
        raise RuleError(f"{where}: options must be one of {', '.join(OPTION_PLACES)}")
    submit = entry.get("submit", [])
    if not isinstance(submit, list) or not all(isinstance(k, str) and k for k in submit):
        raise RuleError(f'{where}: submit must be a list of key names like ["enter"]')
    option = _regex(entry, "option", where, ("key", "label"))
    reset = _regex(entry, "reset", where, ())
    if reset is not None and not ({"time", "in"} & set(reset.groupindex)):
        raise RuleError(f"{where}: reset needs a (?P<time>...) or (?P<in>...) group")
    framed = entry.get("framed", False)
    if not isinstance(framed, bool):
        raise RuleError(f"{where}: framed must be true or false")
    above = _regex(entry, "above", where, ())
    if above is not None and state != "idle":
        raise RuleError(f"{where}: above is for an idle rule's input box only")
    moving = entry.get("moving", False)
    if not isinstance(moving, bool) or (moving and state not in ("idle", "working")):
        raise RuleError(f"{where}: moving is true or false, and for an idle or working rule only")
    spinner = _regex(entry, "spinner", where, ())
    if spinner is not None and state != "working":
        raise RuleError(f"{where}: spinner is for a working rule only")
    ended_by = _regex(entry, "ended_by", where, ())
    if ended_by is not None and ((moving and state == "idle") or option is not None):
        raise RuleError(f"{where}: ended_by is for a message, not a dialog or an input box")
    followed_by = _regex(entry, "followed_by", where, ())
    preceded_by = _regex(entry, "preceded_by", where, ())
    top = _regex(entry, "top", where, ())
    if top is not None and option is None:
        raise RuleError(f"{where}: top is for a dialog (a rule with option) only")
    field = _regex(entry, "field", where, ())
    if field is not None and option is None:
        raise RuleError(f"{where}: field is for a dialog (a rule with option) only")
    match = _regex(entry, "match", where, ())
    if match is None:
        raise RuleError(f"{where}: match (a regular expression) is missing")
    return Rule(
        name=name,
        state=AgentState(state),
        match=match,
        lines=_count(entry.get("lines", lines), "lines", where),
        option=option,
        options=options,
        before=_count(entry.get("before", 0), "before", where, minimum=0),
        top=top,
        submit=tuple(submit),
        field=field,
        reset=reset,
        framed=framed,
        above=above,
        moving=moving,
        ended_by=ended_by,
        spinner=spinner,
        followed_by=followed_by,
        preceded_by=preceded_by,
        sandbox=sandbox,
    )


def _fields(rule: Rule, options: Sequence[PromptOption]) -> tuple[str, ...]:
    """The keys of ``options`` that open a field in the dialog (``Rule.field``)."""
    field = rule.field
    return tuple(o.key for o in options if field is not None and field.search(o.label))


def _regex(
    entry: dict[str, Any], key: str, where: str, groups: Sequence[str]
) -> re.Pattern[str] | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RuleError(f"{where}: {key} must be a regular expression (a string)")
    try:
        pattern = re.compile(value)
    except re.error as exc:
        raise RuleError(f"{where}: {key} is not a valid regular expression: {exc}") from None
    missing = [g for g in groups if g not in pattern.groupindex]
    if missing:
        raise RuleError(f"{where}: {key} needs the group(s) {', '.join(missing)} (?P<name>...)")
    return pattern


def _count(value: Any, key: str, where: str, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_LINES:
        raise RuleError(f"{where}: {key} must be a whole number from {minimum} to {MAX_LINES}")
    return value


def bundled_rule_files() -> list[Path]:
    """The rule files shipped with swarm, one in each CLI's folder, by the CLI's name."""
    return [cli.rule_file for cli in sorted(CLIS, key=lambda cli: cli.name)]


def load_rule_sets(home: Path | None) -> tuple[list[RuleSet], list[str]]:
    """The bundled rule files, each replaced by a user's file of the same ``cli``, then the
    user's other files; and a one-line error for each user file that cannot be used."""
    by_cli = {rs.cli: rs for rs in (load_rule_file(p) for p in bundled_rule_files())}
    errors: list[str] = []
    user_dir = home / USER_RULES_DIR if home is not None else None
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.toml")):
            try:
                rule_set = load_rule_file(path)
            except RuleError as exc:
                errors.append(f"{exc} (the file is not used)")
                continue
            by_cli[rule_set.cli] = rule_set
    return list(by_cli.values()), errors


# -- classifying -----------------------------------------------------------------------------


def classify(rule_set: RuleSet, lines: Sequence[str], now: float) -> TextMatch | None:
    """The first rule of ``rule_set`` that matches the pane's ``lines``; None if none does.
    The file's dialog rules (those with ``option``) are judged together, at the place of the
    first: their match is the dialog at the input (``core.dialogs.pane.find``), if any."""
    asked = False
    for rule in rule_set.rules:
        if rule.sandbox:
            continue
        if rule.option is not None:
            if not asked:
                asked = True
                dialog = dialogs.find(rule_set.rules, lines)
                if dialog is not None:
                    return _matched(rule_set, dialog.rule, list(dialog.window), dialog.index,
                                    now, dialog)  # fmt: skip
            continue
        window = last_lines(lines, rule.lines)
        # an input box's match is its lowest line (the input, not an echo of a past prompt)
        lowest = rule.moving and rule.state is AgentState.IDLE
        order = range(len(window) - 1, -1, -1) if lowest else range(len(window))
        for index in order:
            line = window[index]
            if rule.match.search(line) is not None and _counts(rule, window, index):
                return _matched(rule_set, rule, window, index, now)
    return None


def sandbox_failure(rule_set: RuleSet, lines: Sequence[str]) -> SandboxFailure | None:
    """The first ``sandbox`` rule of ``rule_set`` whose line is in the pane's last lines (as
    the other rules read them, its turn not ended); None if none is."""
    for rule in rule_set.rules:
        if not rule.sandbox:
            continue
        window = last_lines(lines, rule.lines)
        for index, line in enumerate(window):
            if rule.match.search(line) is not None and _counts(rule, window, index):
                return SandboxFailure(rule.name, line, rule.sandbox)
    return None


def _counts(rule: Rule, window: Sequence[str], index: int) -> bool:
    """Whether the match on ``window[index]`` counts: framed when the rule says so, right
    under its ``preceded_by`` line when it has one, no line
    below it says its message's turn is over (``ended_by``), and one below it is the CLI's
    input (``followed_by``) when the rule says so."""
    if rule.framed and not _framed(window, index):
        return False
    above = rule.preceded_by
    if above is not None and (index == 0 or above.search(window[index - 1]) is None):
        return False
    below = window[index + 1 :]
    if rule.followed_by is not None and not any(rule.followed_by.search(x) for x in below):
        return False
    ended_by = rule.ended_by
    return ended_by is None or not any(ended_by.search(x) for x in below)


def _framed(window: Sequence[str], index: int) -> bool:
    """Whether ``window[index]`` has a horizontal border on the (non-blank) lines right above
    and below it: the input box, not an echo of a past prompt in the scrollback."""
    return (
        0 < index < len(window) - 1
        and _BORDER.match(window[index - 1]) is not None
        and _BORDER.match(window[index + 1]) is not None
    )


STATE_RANK = {
    AgentState.WAITING: 0,
    AgentState.WORKING: 1,
    AgentState.LIMITED: 2,
    AgentState.ERRORED: 3,
    AgentState.OFFLINE: 4,
    AgentState.IDLE: 5,
}


def classify_any(
    rule_sets: Iterable[RuleSet], lines: Sequence[str], now: float, cli: str | None = None
) -> TextMatch | None:
    """With ``cli``: that rule file's verdict. Without: each file's first matching rule, the
    most telling state winning (waiting, working, limited, errored, offline, idle), ties
    going to the file listed first; of several files' dialogs, the lowest, with every
    file's questions counted."""
    chosen = [rs for rs in rule_sets if cli is None or rs.cli == cli]
    found = [m for m in (classify(rs, lines, now) for rs in chosen) if m is not None]
    if not found:
        return None
    best = min(found, key=lambda m: STATE_RANK.get(m.state, 9))
    asking = [m for m in found if m.questions]
    if not best.questions or len(asking) < 2:
        return best
    every = sorted({q for m in asking for q in m.questions})
    return replace(min(asking, key=lambda m: m.questions[0]), questions=tuple(every))


def _matched(
    rule_set: RuleSet,
    rule: Rule,
    window: list[str],
    index: int,
    now: float,
    dialog: dialogs.Dialog[Rule] | None = None,
) -> TextMatch:
    until = _reset(rule, window[index:], now) if rule.reset is not None else None
    return TextMatch(
        cli=rule_set.cli,
        version=rule_set.version,
        rule=rule.name,
        state=rule.state,
        line=window[index],
        prompt=dialog.shown if dialog is not None and dialog.options else "",
        options=dialog.options if dialog is not None else (),
        submit=rule.submit,
        fields=_fields(rule, dialog.options if dialog is not None else ()),
        until=until,
        questions=dialog.questions if dialog is not None else (),
        above=_above(rule, window, index),
    )


def _above(rule: Rule, window: list[str], index: int) -> tuple[str, ...] | None:
    """What a ``moving`` or ``spinner`` rule compares with the last look."""
    if rule.spinner is not None:  # its line or one above it (Claude Code's, over its footer)
        return tuple(rule.spinner.sub("", line) for line in window[: index + 1])
    if not rule.moving:
        return None
    return tuple(window) if rule.state is AgentState.WORKING else tuple(window[:index])


def _reset(rule: Rule, lines: list[str], now: float) -> float | None:
    """The reset time a limit message gives (its line or the next ones), as epoch seconds;
    None when it gives none, or one more than ``LIMIT_MAX_S`` away (no reset shown: the
    limit is probed, ``core.agents._limit_probes``)."""
    assert rule.reset is not None
    m = rule.reset.search(" ".join(lines[:3]))  # the message may go on on the next lines
    if m is None:
        return None
    groups = m.groupdict()
    if groups.get("in"):
        seconds = duration_s(groups["in"])
        return now + seconds if 0 < seconds <= LIMIT_MAX_S else None
    if groups.get("time"):
        return next_clock_time(groups["time"], groups.get("zone"), now)
    return None


def duration_s(text: str) -> float:
    """``3 days 6 hours 57 minutes`` / ``2h15m`` / ``32.5s`` in seconds (0 when none)."""
    unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(float(n) * unit[u[0]] for n, u in _DURATION.findall(text.lower()))


def next_clock_time(clock: str, zone: str | None, now: float) -> float | None:
    """The next moment after ``now`` that the clock shows ``clock`` (``3pm``, ``3:05 PM``,
    ``15:00``) in ``zone`` (an IANA name; None or unknown: this machine's zone)."""
    m = _CLOCK.match(clock)
    if m is None:
        return None
    hour, minute = int(m[1]), int(m[2] or 0)
    meridiem = (m[3] or "").lower().replace(".", "")
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    tz: dt.tzinfo | None = None
    if zone and len(zone.strip()) <= ZONE_MAX:  # a long one: ZoneInfo recurses (RecursionError)
        try:
            tz = ZoneInfo(zone.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            tz = None
    start = (
        dt.datetime.fromtimestamp(now, tz) if tz else dt.datetime.fromtimestamp(now).astimezone()
    )
    at = start.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at.timestamp() <= now:
        at = (start + dt.timedelta(days=1)).replace(
            hour=hour, minute=minute, second=0, microsecond=0
        )
    return at.timestamp()
