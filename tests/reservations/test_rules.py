"""File reservations' rules: normalising patterns, matching, and the exact overlap decision,
checked against brute force (an independent matcher built on ``fnmatch`` over whole
segments) with hypothesis."""

from __future__ import annotations

import fnmatch
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.reservations._patterns import matches, normalise, overlap, witness

# -- an independent matcher: segments, fnmatch within a segment ------------------------------


def oracle(pattern: str, path: str) -> bool:
    """``path`` matches ``pattern`` by the documented rules, checked segment by segment."""
    return _segs(pattern.split("/"), path.split("/"))


def _segs(pats: list[str], parts: list[str]) -> bool:
    if not pats:
        return not parts
    head, rest = pats[0], pats[1:]
    if head == "**":
        if not rest:  # a final ** is one or more segments
            return len(parts) >= 1
        return any(_segs(rest, parts[k:]) for k in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], head) and _segs(rest, parts[1:])


# -- generated patterns and paths, over a small alphabet so that they meet often -----------

ATOMS = st.sampled_from(["a", "b", ".", "*", "?", "[ab]", "[!a]", "[a-b]", "[!ab]"])
SEGMENT = st.one_of(
    st.just("**"),
    st.lists(ATOMS, min_size=1, max_size=3).map("".join).filter(lambda s: s not in (".", "..")),
)
PATTERN = st.lists(SEGMENT, min_size=1, max_size=3).map("/".join).map(normalise)
PATH_SEGMENT = st.text(alphabet="ab.c", min_size=1, max_size=4)
PATH = st.lists(PATH_SEGMENT, min_size=1, max_size=4).map("/".join)

# every path of up to 3 segments of up to 3 characters over {a, b}: brute force
SMALL_SEGMENTS = ["".join(p) for n in (1, 2, 3) for p in itertools.product("ab", repeat=n)]
SMALL_PATHS = [
    "/".join(parts) for n in (1, 2, 3) for parts in itertools.product(SMALL_SEGMENTS, repeat=n)
]


@settings(max_examples=300, deadline=None)
@given(PATTERN, PATH)
def test_matches_agrees_with_the_oracle(pattern: str, path: str) -> None:
    assert matches(pattern, path) == oracle(pattern, path)


# longer patterns of many wildcards: what matching commits to (the leftmost place after a
# wildcard) loses no match
MANY_ATOMS = st.sampled_from(["a", "b", "*", "?", "[ab]", "[!a]"])
MANY_SEGMENT = st.one_of(st.just("**"), st.lists(MANY_ATOMS, min_size=1, max_size=6).map("".join))
MANY_PATTERN = st.lists(MANY_SEGMENT, min_size=1, max_size=6).map("/".join).map(normalise)
AB_PATH = st.lists(st.text(alphabet="ab", min_size=1, max_size=6), min_size=1, max_size=7).map(
    "/".join
)


@settings(max_examples=300, deadline=None)
@given(MANY_PATTERN, AB_PATH)
def test_matches_agrees_with_the_oracle_on_many_wildcards(pattern: str, path: str) -> None:
    assert matches(pattern, path) == oracle(pattern, path)


@settings(max_examples=300, deadline=None)
@given(PATTERN, PATTERN, PATH)
def test_overlap_is_exact(first: str, second: str, path: str) -> None:
    """A witness matches both (the answer yes is right); a path that matches both means the
    answer is yes (the answer no is right); symmetric."""
    found = witness(first, second)
    if found is not None:
        assert oracle(first, found) and oracle(second, found), found
    if oracle(first, path) and oracle(second, path):
        assert found is not None, path
    assert overlap(second, first) == (found is not None)


@settings(max_examples=60, deadline=None)
@given(PATTERN, PATTERN)
def test_no_overlap_means_no_common_path_by_brute_force(first: str, second: str) -> None:
    """Over every path of up to 3 segments of up to 3 letters: both match one only when the
    decision says they overlap."""
    if overlap(first, second):
        return
    assert not any(oracle(first, p) and oracle(second, p) for p in SMALL_PATHS)


@pytest.mark.parametrize(
    ("first", "second", "meet"),
    [
        ("src/api/**", "src/api/users.py", True),
        ("src/api/**", "src/api", False),  # ** at the end: what is inside, not the folder
        ("*.md", "docs/*.md", False),  # * stays within a segment
        ("**/*.md", "docs/*.md", True),
        ("src/**/test_*.py", "src/a/b/test_x.py", True),
        ("src/x.py", "src/y.py", False),
        ("[!a]*", "a*", False),
        ("a*b", "*c", False),
        ("a/**/b", "a/b", True),  # ** in the middle: zero or more segments
        ("src/", "src/deep/x", True),  # a trailing / is the folder's contents
    ],
)
def test_examples(first: str, second: str, meet: bool) -> None:
    assert overlap(normalise(first), normalise(second)) is meet


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("", "is empty"),
        ("  ", "is empty"),
        ("/etc/passwd", "is absolute"),
        ("C:/x", "is absolute"),
        ("src/../../x", "has '..'"),
        ("src/[ab", "unclosed '['"),
        ("src/[z-a].py", "backward range"),
        ("a\x1b[31m", "control character"),
        (".", "names no file"),
    ],
)
def test_bad_patterns_are_one_line_errors(raw: str, said: str) -> None:
    with pytest.raises(InvalidInput) as err:
        normalise(raw)
    assert said in str(err.value) and "\n" not in str(err.value)


def test_one_spelling() -> None:
    assert normalise("./src//api/") == "src/api/**"
    assert normalise("a/**/**/b") == "a/**/b"
    assert normalise(" docs/*.md ") == "docs/*.md"
