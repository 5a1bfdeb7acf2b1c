"""File reservations' rules (pure): patterns, whether a path matches one, and whether two
patterns can match a common path (an exact decision).

A pattern is a path or glob relative to the repository root, segments split by ``/``:
``*`` matches any characters within one segment, ``?`` one character, ``[abc]`` /
``[a-z]`` / ``[!a]`` one character of (or not of) a class, and a whole segment ``**`` any
number of segments (zero or more; one or more when it ends the pattern: ``src/**`` is
everything under ``src``). A trailing ``/`` means the folder's contents (``src/`` is
``src/**``). Matching is case-sensitive, as git is.

Two patterns overlap when some path matches both: decided on the product of their automata
(characters grouped into classes), so the answer is exact, never a guess. The decision's work
is bounded: a caller passes a :class:`Budget` of steps, and :class:`TooComplex` ends it when
the steps run out (patterns of many wildcards against many others). Matching a path commits
to the leftmost place of what follows each wildcard (atomic groups), so its time grows with
the pattern and the path, never exponentially.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import InvalidInput, TooComplex

MAX_PATTERN = 300
MAX_CHAR = 0x10FFFF
SLASH = ord("/")
GLOB_CHARS = frozenset("*?[")

# a set of characters: sorted, disjoint, non-adjacent closed intervals of code points
Chars = tuple[tuple[int, int], ...]
ANY: Chars = ((0, SLASH - 1), (SLASH + 1, MAX_CHAR))  # any character but "/"


def normalise(pattern: str) -> str:
    """``pattern`` in its one spelling (``./a//b/`` → ``a/b/**``); InvalidInput in one line
    for an empty, absolute or ``..`` pattern, a control character or a bad class."""
    raw = pattern.strip()
    shown = repr(pattern if len(pattern) <= 60 else pattern[:57] + "...")
    if not raw:
        raise InvalidInput("a reservation pattern is empty: give a path or glob like src/api/**")
    if len(raw) > MAX_PATTERN:
        raise InvalidInput(f"pattern {shown} is longer than {MAX_PATTERN} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise InvalidInput(f"pattern {shown} has a control character")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", raw) or raw.startswith("~"):
        raise InvalidInput(
            f"pattern {shown} is absolute: give it relative to the repository root (src/x.py)"
        )
    folder = raw.endswith("/")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInput(f"pattern {shown} has '..': give it inside the repository")
    if not parts:
        raise InvalidInput(f"pattern {shown} names no file: give a path or glob like src/api/**")
    if folder and parts[-1] != "**":
        parts.append("**")
    squeezed: list[str] = []
    for part in parts:
        if part == "**" and squeezed and squeezed[-1] == "**":
            continue  # a/**/**/b is a/**/b
        squeezed.append(part)
    for part in squeezed:
        _segment_atoms(part, shown)  # refuses an unclosed or backward class
    return "/".join(squeezed)


def is_glob(pattern: str) -> bool:
    """True when ``pattern`` has a wildcard (else it names one path)."""
    return any(c in GLOB_CHARS for c in pattern)


def matches(pattern: str, path: str) -> bool:
    """True when the repository path ``path`` (``a/b.py``) matches the normalised
    ``pattern``."""
    return _regex(pattern).fullmatch(path.strip("/")) is not None


class Budget:
    """Steps an overlap decision may still take (a step: one pair of edges compared); its
    :meth:`spend` raises TooComplex when they run out."""

    def __init__(self, steps: int) -> None:
        self.limit = steps
        self.left = steps

    def spend(self, steps: int) -> None:
        """Take ``steps``; TooComplex when fewer are left."""
        self.left -= steps
        if self.left < 0:
            raise TooComplex(f"the overlap checks took more than {self.limit:,} steps")


def overlap(first: str, second: str, budget: Budget | None = None) -> bool:
    """True when some path matches both normalised patterns (within ``budget``, if any)."""
    return witness(first, second, budget) is not None


def witness(first: str, second: str, budget: Budget | None = None) -> str | None:
    """A path that matches both normalised patterns (one of the shortest), None when no path
    does; TooComplex when ``budget`` runs out first."""
    if first == second:
        auto = _automaton(first)
        return _common(auto, auto, budget)
    if not _ends_agree(first, second):
        return None
    return _common(_automaton(first), _automaton(second), budget)


# -- patterns as automata --------------------------------------------------------------------


@dataclass(frozen=True)
class Automaton:
    """A nondeterministic automaton over characters: ``edges[state]`` are (characters, next
    state) pairs; state 0 is the start, ``final`` the one final state."""

    edges: tuple[tuple[tuple[Chars, int], ...], ...]
    final: int


class _Builder:
    def __init__(self) -> None:
        self.edges: list[list[tuple[Chars, int]]] = []

    def state(self) -> int:
        self.edges.append([])
        return len(self.edges) - 1

    def step(self, start: int, chars: Chars) -> int:
        end = self.state()
        self.edges[start].append((chars, end))
        return end

    def segment(self, start: int, atoms: Sequence[Chars | None]) -> int:
        """One segment's atoms (None is ``*``) from ``start``; its end state."""
        at = start
        for atom in atoms:
            if atom is None:
                self.edges[at].append((ANY, at))  # a loop on the state itself
            else:
                at = self.step(at, atom)
        return at

    def any_segments(self, start: int, at_least_one: bool) -> int:
        """``**``: segments of one or more characters, each followed by "/" (``**/``), or
        one or more segments joined by "/" (a final ``**``)."""
        if at_least_one:
            inside = self.step(start, ANY)
            self.edges[inside].append((ANY, inside))
            back = self.step(inside, ((SLASH, SLASH),))
            self.edges[back].append((ANY, inside))
            return inside
        inside = self.step(start, ANY)
        self.edges[inside].append((ANY, inside))
        self.edges[inside].append((((SLASH, SLASH),), start))
        return start

    def done(self, final: int) -> Automaton:
        return Automaton(tuple(tuple(e) for e in self.edges), final)


@functools.lru_cache(maxsize=4096)
def _automaton(pattern: str) -> Automaton:
    """The automaton of a normalised pattern over whole paths."""
    build = _Builder()
    at = build.state()
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            # ``a/**/b``: the "/" before ``**`` is already read; ``**/`` reads its own
            at = build.any_segments(at, at_least_one=last)
            continue
        at = build.segment(at, _segment_atoms(part, repr(pattern)))
        if not last:
            at = build.step(at, ((SLASH, SLASH),))
    return build.done(at)


@functools.lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a normalised pattern (what :func:`matches` uses).

    What follows a wildcard is taken at its leftmost place and never tried again (an atomic
    group: ``(?>[^/]*?x)``), which loses no match when another wildcard comes after it: a
    later place leaves that wildcard less to take, never more. Only the part after the last
    wildcard, anchored at the end, is searched, once. So no path makes the match backtrack
    exponentially (``*a*a*...*b`` against ``aaaa...``)."""
    parts = pattern.split("/")
    out: list[str] = []
    at = 0
    while at < len(parts):
        if parts[at] != "**":
            out.append(_segment_regex(parts[at], pattern) + ("/" if at < len(parts) - 1 else ""))
            at += 1
        elif at == len(parts) - 1:
            out.append("[^/]+(?:/[^/]+)*")  # a final ``**``: one or more segments
            at += 1
        elif (upto := _next_any(parts, at)) is None:
            out.append("(?:[^/]+/)*")  # the last ``**`` before the end: searched
            at += 1
        else:  # ``**/x/y/`` up to the next ``**``: its leftmost place, atomically
            block = "".join(_segment_regex(p, pattern) + "/" for p in parts[at + 1 : upto])
            out.append(f"(?>(?:[^/]+/)*?{block})")
            at = upto
    return re.compile("".join(out), re.DOTALL)


def _next_any(parts: list[str], at: int) -> int | None:
    """The index of the first ``**`` after ``at``, None when there is none."""
    return next((i for i in range(at + 1, len(parts)) if parts[i] == "**"), None)


def _segment_regex(segment: str, pattern: str) -> str:
    """One segment's expression: each run of atoms between two ``*`` at its leftmost place
    (atomic), the run after the last ``*`` anchored by what follows the segment."""
    runs: list[list[str]] = [[]]
    for atom in _segment_atoms(segment, repr(pattern)):
        if atom is None:
            runs.append([])
        else:
            runs[-1].append(_class_regex(atom))
    if len(runs) == 1:
        return "".join(runs[0])
    middle = "".join(f"(?>[^/]*?{''.join(run)})" for run in runs[1:-1])
    return "".join(runs[0]) + middle + "[^/]*" + "".join(runs[-1])


def _class_regex(chars: Chars) -> str:
    pieces = [
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in chars
    ]
    return f"[{''.join(pieces)}]"


@functools.lru_cache(maxsize=8192)
def _segment_atoms(segment: str, shown: str) -> tuple[Chars | None, ...]:
    """A segment's atoms: a character set each, None for ``*`` (``**`` inside a segment, as
    in ``a**b``, is ``*``). InvalidInput for an unclosed or backward class."""
    atoms: list[Chars | None] = []
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            if not atoms or atoms[-1] is not None:
                atoms.append(None)
            i += 1
        elif c == "?":
            atoms.append(ANY)
            i += 1
        elif c == "[":
            chars, i = _parse_class(segment, i, shown)
            atoms.append(chars)
        else:
            atoms.append(((ord(c), ord(c)),))
            i += 1
    return tuple(atoms)


def _parse_class(segment: str, start: int, shown: str) -> tuple[Chars, int]:
    """The class opening at ``segment[start]`` (``[``) and the index after its ``]``."""
    i = start + 1
    negate = i < len(segment) and segment[i] == "!"
    i += negate
    ranges: list[tuple[int, int]] = []
    first = True
    while i < len(segment) and (first or segment[i] != "]"):
        first = False
        lo = segment[i]
        if i + 2 < len(segment) and segment[i + 1] == "-" and segment[i + 2] != "]":
            hi = segment[i + 2]
            if hi < lo:
                raise InvalidInput(f"pattern {shown} has a backward range [{lo}-{hi}]")
            ranges.append((ord(lo), ord(hi)))
            i += 3
        else:
            ranges.append((ord(lo), ord(lo)))
            i += 1
    if i >= len(segment):
        raise InvalidInput(f"pattern {shown} has an unclosed '[': close it with ']'")
    chars = _intersect(_merge(ranges), ANY)
    if negate:
        chars = _intersect(_complement(chars), ANY)
    if not chars:
        raise InvalidInput(f"pattern {shown} has a class that matches no character")
    return chars, i + 1


# -- character sets ------------------------------------------------------------------------


def _merge(ranges: list[tuple[int, int]]) -> Chars:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _complement(chars: Chars) -> Chars:
    out: list[tuple[int, int]] = []
    at = 0
    for lo, hi in chars:
        if lo > at:
            out.append((at, lo - 1))
        at = hi + 1
    if at <= MAX_CHAR:
        out.append((at, MAX_CHAR))
    return tuple(out)


def _intersect(a: Chars, b: Chars) -> Chars:
    if a == b:
        return a
    if a is ANY and len(b) == 1 and not b[0][0] <= SLASH <= b[0][1]:
        return b  # the common case: a wildcard and a plain character (or range)
    if b is ANY and len(a) == 1 and not a[0][0] <= SLASH <= a[0][1]:
        return a
    return _intersect_slow(a, b)


def _intersect_slow(a: Chars, b: Chars) -> Chars:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _pick(chars: Chars) -> str:
    """A readable character of a set: a letter or digit when it has one."""
    for lo, hi in chars:
        for want in (ord("a"), ord("0"), ord("A")):
            if lo <= want <= hi:
                return chr(want)
    return chr(chars[0][0])


# -- the decision --------------------------------------------------------------------------


def _common(a: Automaton, b: Automaton, budget: Budget | None) -> str | None:
    """Breadth-first over pairs of states (and whether the path's current segment has a
    character yet: no empty segment): the shortest common path, or None; each pair of
    states taken costs ``budget`` its pairs of edges."""
    start = (0, 0, False)
    came: dict[tuple[int, int, bool], tuple[tuple[int, int, bool], str] | None] = {start: None}
    todo = deque([start])
    while todo:
        pair = todo.popleft()
        x, y, filled = pair
        if x == a.final and y == b.final and filled:
            return _path(came, pair)
        if budget is not None:
            budget.spend(len(a.edges[x]) * len(b.edges[y]) or 1)
        for ca, nx in a.edges[x]:
            for cb, ny in b.edges[y]:
                both = _intersect(ca, cb)
                if not both:
                    continue
                slash = both == ((SLASH, SLASH),)
                if slash and not filled:
                    continue  # "//" or a leading "/": no such path
                nxt = (nx, ny, not slash)
                if nxt not in came:
                    came[nxt] = (pair, "/" if slash else _pick(both))
                    todo.append(nxt)
    return None


def _path(
    came: dict[tuple[int, int, bool], tuple[tuple[int, int, bool], str] | None],
    end: tuple[int, int, bool],
) -> str:
    chars: list[str] = []
    step = came[end]
    while step is not None:
        prev, char = step
        chars.append(char)
        step = came[prev]
    return "".join(reversed(chars))


def _ends_agree(first: str, second: str) -> bool:
    """False when the patterns' literal beginnings (up to the first wildcard) or literal
    endings (the last segment's trailing plain characters) already differ: a quick no."""
    a, b = _literal_ends(first), _literal_ends(second)
    heads = a[0].startswith(b[0]) or b[0].startswith(a[0])
    return heads and (a[1].endswith(b[1]) or b[1].endswith(a[1]))


@functools.lru_cache(maxsize=4096)
def _literal_ends(pattern: str) -> tuple[str, str]:
    """Every path matching ``pattern`` starts with the first string and ends with the
    second."""
    cut = min((i for i, c in enumerate(pattern) if c in GLOB_CHARS), default=len(pattern))
    last = pattern.rsplit("/", 1)[-1]
    tail: list[str] = []
    if last != "**":
        for atom in reversed(_segment_atoms(last, repr(pattern))):
            if atom is None or len(atom) != 1 or atom[0][0] != atom[0][1]:
                break
            tail.append(chr(atom[0][0]))
    return pattern[:cut], "".join(reversed(tail))
