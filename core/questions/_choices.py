"""An agent's own questions with its own choices (Claude Code's ``AskUserQuestion``, as its
host journals it: ``core.hosts.answers.QUESTION_KIND``), read from what the agent wrote,
shown as one question item, and a person's answer read back as the agents' request takes it.

Everything here is the agent's text: read within caps (questions, options, characters),
flattened to one line each (no control character, no line of its own forged), and kept as
data; the answer goes back by the options' numbers, so the host gives the agent its own
labels and question texts unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput
from core.formats.text import flat, shorten
from core.hosts.answers import Answers

QUESTIONS_MAX = 4  # questions of one request shown (Claude Code asks 1-4)
OPTIONS_MAX = 8  # options of one question shown (Claude Code offers 2-4)
QUESTION_CHARS = 1000  # characters of a question's text shown
HEADER_CHARS = 40  # characters of its header (Claude Code's: at most 12)
LABEL_CHARS = 120  # characters of an option's label
DESCRIPTION_CHARS = 300  # characters of an option's description
NUMBERS = re.compile(r"^\d+(\s*,\s*\d+)*$")


@dataclass(frozen=True)
class Choice:
    """One option the agent offers: its label and what it means."""

    label: str
    description: str = ""


@dataclass(frozen=True)
class AgentQuestion:
    """One of the agent's questions: its text, its header, its options, and whether several
    may be chosen."""

    question: str
    header: str
    options: tuple[Choice, ...]
    multi: bool = False

    def to_json(self) -> dict[str, Any]:
        """A plain dict (stored with the question, ``task show --json``)."""
        return {
            "question": self.question,
            "header": self.header,
            "options": [{"label": c.label, "description": c.description} for c in self.options],
            "multiSelect": self.multi,
        }


def _words(value: Any, limit: int) -> str:
    return shorten(flat(value).strip(), limit) if isinstance(value, str) else ""


def read_questions(given: Any) -> tuple[AgentQuestion, ...]:
    """The questions in a request's input (``{"questions": [...]}``), capped; a question of
    no text is shown as such (its place kept: the answers go back in order)."""
    found = given.get("questions") if isinstance(given, Mapping) else None
    if not isinstance(found, list):
        return ()
    return tuple(_question(q) for q in found[:QUESTIONS_MAX])


def _question(given: Any) -> AgentQuestion:
    if not isinstance(given, Mapping):
        return AgentQuestion("(a question swarm cannot read)", "", ())
    offered = given.get("options")
    choices = tuple(
        _choice(n, o)
        for n, o in enumerate(offered[:OPTIONS_MAX] if isinstance(offered, list) else [], 1)
    )
    return AgentQuestion(
        _words(given.get("question"), QUESTION_CHARS) or "(no question text)",
        _words(given.get("header"), HEADER_CHARS),
        choices,
        given.get("multiSelect") is True,
    )


def _choice(number: int, given: Any) -> Choice:
    """An option in its place (one swarm cannot read is named by its number: the answers
    go back by number)."""
    if not isinstance(given, Mapping):
        return Choice(f"option {number}")
    label = _words(given.get("label"), LABEL_CHARS) or f"option {number}"
    return Choice(label, _words(given.get("description"), DESCRIPTION_CHARS))


def stored(questions: tuple[AgentQuestion, ...]) -> str:
    """The questions as the ``choices`` column keeps them."""
    return json.dumps([q.to_json() for q in questions], ensure_ascii=False)


def loaded(text: str | None) -> tuple[AgentQuestion, ...]:
    """The questions a ``choices`` column holds (none: not an agent's own question)."""
    if not text:
        return ()
    try:
        return read_questions({"questions": json.loads(text)})
    except ValueError:
        return ()


def item_text(questions: tuple[AgentQuestion, ...]) -> str:
    """The item a person reads: each question, its options numbered, how to answer."""
    lines: list[str] = []
    for n, q in enumerate(questions, 1):
        head = f"[{q.header}] " if q.header else ""
        number = f"{n}. " if len(questions) > 1 else ""
        several = " (choose one or more: 1,3)" if q.multi else ""
        lines.append(f"{number}{head}{q.question}{several}")
        for k, choice in enumerate(q.options, 1):
            meaning = f" - {choice.description}" if choice.description else ""
            lines.append(f"   {k}) {choice.label}{meaning}")
    if len(questions) > 1:
        lines.append("Answer one line per question: an option's number, or your own words.")
    else:
        lines.append("Answer with an option's number, or your own words.")
    return "\n".join(lines)


def read_answer(questions: tuple[AgentQuestion, ...], text: str) -> Answers:
    """A person's answer as the agent's request takes it: per question, the numbers of the
    options chosen (from 0) or the person's own words. One question: the whole text; more:
    one line each. InvalidInput when the lines do not match the questions, or a number picks
    no option (or several where one must be chosen)."""
    if len(questions) <= 1:
        said = [text.strip()]
    else:
        said = [line.strip() for line in text.splitlines() if line.strip()]
        if len(said) != len(questions):
            raise InvalidInput(
                f"the agent asks {len(questions)} questions: answer one line each "
                f"({len(said)} given)"
            )
    return [_one(q, words) for q, words in zip(questions or (None,), said, strict=False)]


def _one(question: AgentQuestion | None, words: str) -> list[int] | str:
    if question is None or not question.options:
        return words
    if NUMBERS.match(words):
        picked = [int(n) for n in words.split(",")]
        if not all(1 <= n <= len(question.options) for n in picked):
            raise InvalidInput(
                f"{words!r} picks no option of {question.question!r}: "
                f"1 to {len(question.options)}, or your own words"
            )
        if len(picked) > 1 and not question.multi:
            raise InvalidInput(f"{question.question!r} takes one option, not {words!r}")
        return [n - 1 for n in dict.fromkeys(picked)]
    for n, choice in enumerate(question.options):
        if choice.label.casefold() == words.casefold():
            return [n]
    return words


def answer_words(questions: tuple[AgentQuestion, ...], answers: Answers) -> str:
    """The answers as the history says them: each option's label, or the person's words."""
    said = []
    for q, a in zip(questions, answers, strict=False):
        said.append(a if isinstance(a, str) else ", ".join(q.options[n].label for n in a))
    return "; ".join(said)
