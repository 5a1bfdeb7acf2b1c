"""Dialogs in a pane's text: the one at the agent's input, how many there are, what is shown.

A rule with an ``option`` pattern (``core.agents._text_rules``) finds a dialog by its question
line. A program's output can be drawn exactly like a dialog (``cat`` of a file), so where
the question is decides, not which pattern matched first:

- the dialog taken is the lowest question of the file's dialog rules in their last lines:
  the one at the agent's input (the real one is drawn in place of the input box);
- it is no dialog at all when a line below its options is one another rule of the file
  recognises (the input box, the spinner): then it is old text above the agent's own UI;
- every question line in those lines is counted (``questions``): a pane with more than one
  is ambiguous, and swarm opens no prompt for it (``core.watch.text_signal``);
- the person is shown the dialog as the pane shows it (``shown_text``), never a text rebuilt
  from the match: the rule's last lines from the dialog's top (the box or the rule drawn
  across the pane above its question: ``dialog_top``), so what the agent printed above the
  dialog is not taken for what it asks (with several dialogs, all the rule's last lines);
  a dialog whose body draws rules of its own is shown from its title (the rule's ``top``:
  Claude Code's plan under "Ready to code?"), looked for in the whole pane.

Lines are matched with the box's side borders and the spaces around them removed
(``clean_line``); blank lines are skipped.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from core.formats.text import escape_controls
from core.models import PromptOption

BORDERS = "│┃║|"
_MARKED = re.compile(r"\((\w)\)(?=\w)")  # aider's "(Y)es": the key in parentheses
RIGHT_BORDERS = ("│", "┃", "║")
_RULE = re.compile(r"([─━═])\1{3,}")  # a box's horizontal border, drawn across the pane
_TOP = re.compile(r"^[╭┌]?([─━═])\1{3,}")  # a dialog's top: its box's, or a rule across the pane
_WORD = re.compile(r"[^\W_]")  # a letter or a digit: a line with something to read
SHOWN_LIMIT = 4000  # characters of the pane text a person is shown: the bottom, and a digest


class Asking(Protocol):
    """What finding a dialog reads of a rule (``core.agents._text_rules.Rule``)."""

    @property
    def match(self) -> re.Pattern[str]: ...

    @property
    def lines(self) -> int: ...

    @property
    def option(self) -> re.Pattern[str] | None: ...

    @property
    def options(self) -> str: ...

    @property
    def before(self) -> int: ...

    @property
    def top(self) -> re.Pattern[str] | None: ...


R = TypeVar("R", bound=Asking)


@dataclass(frozen=True)
class Dialog(Generic[R]):
    """The dialog at the input: its rule, its rule's last lines and where its question is.

    ``questions``: how many lines above the pane's last non-blank line each question line of
    the file's dialog rules is (0: the last line), nearest first; more than one: ambiguous.
    """

    rule: R
    window: tuple[str, ...]
    index: int
    options: tuple[PromptOption, ...]
    shown: str
    questions: tuple[int, ...]


def clean_line(line: str) -> str:
    """A pane line without the box borders and spaces around it."""
    return line.strip().strip(BORDERS).strip()


def last_lines(lines: Sequence[str], count: int) -> list[str]:
    """The last ``count`` non-blank lines, cleaned (``clean_line``)."""
    return [clean for clean, _ in _window(lines, count)]


def _window(lines: Sequence[str], count: int) -> list[tuple[str, str]]:
    """The last ``count`` non-blank lines: each cleaned, and as the pane shows it."""
    pairs = [(clean_line(line), line) for line in lines]
    return [pair for pair in pairs if pair[0]][-count:]


def find(rules: Sequence[R], lines: Sequence[str]) -> Dialog[R] | None:
    """The dialog at the input among ``rules``' dialogs (those with ``option``); None when
    there is none, or the lowest is followed by a line one of the other rules recognises."""
    seen: list[tuple[int, R, list[tuple[str, str]], int]] = []
    for rule in rules:
        if rule.option is None:
            continue
        window = _window(lines, rule.lines)
        for index, (line, _) in enumerate(window):
            if rule.match.search(line):
                seen.append((len(window) - 1 - index, rule, window, index))
    if not seen:
        return None
    _, rule, window, index = min(seen, key=lambda s: s[0])  # ties: the rule listed first
    clean = tuple(line for line, _ in window)
    options, end = parse_options(rule, clean, index)
    others = [r for r in rules if r.option is None]
    if any(_recognised(others, line, len(clean) - 1 - i) for i, line in _after(clean, end)):
        return None
    questions = tuple(sorted({s[0] for s in seen}))
    raw = [line for _, line in window]
    if len(questions) > 1:
        shown = shown_text(raw)  # several: all the rule's last lines
    elif rule.top is not None:
        shown = shown_text(titled(lines, rule.top, len(window) - index))
    else:
        shown = shown_text(raw[dialog_top(raw, index, rule.before) :])
    return Dialog(rule, clean, index, options, shown, questions)


def titled(lines: Sequence[str], top: re.Pattern[str], below: int) -> list[str]:
    """A dialog's lines (as the pane shows them) from its title, the nearest line above its
    question that ``top`` matches; all the pane's when the title has scrolled away. The
    question is the ``below``-th non-blank line from the pane's end."""
    pane = [line for _, line in _window(lines, len(lines))]
    question = len(pane) - below
    for at in range(question - 1, -1, -1):
        if top.search(clean_line(pane[at])):
            return pane[at:]
    return pane


def dialog_top(raw: Sequence[str], index: int, before: int = 0) -> int:
    """Where the dialog whose question is ``raw[index]`` begins: the nearest line above it
    that starts a box or is a rule drawn from the pane's left edge (Gemini CLI's box, Claude
    Code's rule; a box nested in the dialog starts further in); else ``before`` lines above
    its question (Codex's "• Running touch x.txt" over its question), all the lines when 0."""
    for at in range(index - 1, -1, -1):
        if _TOP.match(raw[at]):
            return at
    return max(index - before, 0) if before else 0


def _after(window: tuple[str, ...], end: int) -> list[tuple[int, str]]:
    return [(i, window[i]) for i in range(end + 1, len(window))]


def _recognised(rules: Sequence[Asking], line: str, below: int) -> bool:
    """Whether one of ``rules`` sees ``line`` (``below`` lines above the last one)."""
    return any(below < rule.lines and rule.match.search(line) for rule in rules)


def parse_options(
    rule: Asking, window: Sequence[str], index: int
) -> tuple[tuple[PromptOption, ...], int]:
    """The options of a dialog whose question is ``window[index]``: on its line
    (``inline``), or the run of option lines below it; and the index of its last line."""
    assert rule.option is not None
    if rule.options == "inline":
        return _unique([_option(m) for m in rule.option.finditer(window[index])]), index
    options: list[PromptOption] = []
    end = index
    for at in range(index + 1, len(window)):
        m = rule.option.search(window[at])
        if m is None:
            if options:
                break
            continue
        options.append(_option(m))
        end = at
    return _unique(options), end


def _option(m: re.Match[str]) -> PromptOption:
    return PromptOption(m["key"], _MARKED.sub(r"\1", m["label"]).strip())


def _unique(options: list[PromptOption]) -> tuple[PromptOption, ...]:
    seen: dict[str, PromptOption] = {}
    for option in options:
        seen.setdefault(option.key.lower(), option)
    return tuple(seen.values())


def _compact(line: str) -> str:
    """A box line without its padding; a border line (nothing to read) not drawn across.
    (No regular expression for the padding: one would backtrack over a long run of spaces.)"""
    body = line[:-1].rstrip()
    if line.endswith(RIGHT_BORDERS) and len(line) - len(body) > 2:
        line = f"{body} {line[-1]}"
    return line if _WORD.search(line) else _RULE.sub(r"\1\1\1", line)


def shown_text(raw: Sequence[str]) -> str:
    """The lines a person is shown: each as the pane shows it (only a box's padding before
    its right border and its horizontal borders shortened; control characters escaped).
    Longer than a prompt's text may be: the top is cut, and a first line says how much,
    with the SHA-256 of the whole, so two texts that differ above the cut never compare
    equal. (Kept for the last panes seen: a dialog stays on screen for many ticks.)"""
    return _shown(tuple(raw))


@functools.lru_cache(maxsize=64)
def _shown(raw: tuple[str, ...]) -> str:
    lines = [_compact(line.rstrip()) for line in raw]
    text = escape_controls("\n".join(lines), keep="\n")
    if len(text) <= SHOWN_LIMIT:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    mark = f"[… {{}} characters above not shown; SHA-256 of the whole text {digest}]\n"
    keep = SHOWN_LIMIT - len(mark.format(len(text)))
    return mark.format(len(text) - keep) + text[-keep:]
