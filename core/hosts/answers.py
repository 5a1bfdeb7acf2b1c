"""A question request's answers (Claude Code's ``AskUserQuestion``): the one option swarm
answers it with, carrying the person's answers, written and read back. Plain JSON, no wire
model: a hook or a report command that reads an answer imports no pydantic."""

from __future__ import annotations

import json

# A request that asks the person the agent's own questions (Claude Code's AskUserQuestion):
# its ``kind``; its tool's ``rawInput`` holds them as ``{"questions": [{"question", "header",
# "options": [{"label", "description"}], "multiSelect"}]}``. Swarm answers it with one
# option, ``ANSWERS`` and the person's answers in JSON, one per question in their order:
# the numbers of the options chosen (from 0), or the person's own words.
QUESTION_KIND = "question"
ANSWERS = "swarm:answers:"
Answers = list[list[int] | str]


def answers_option(answers: Answers) -> str:
    """The option that answers a question request with ``answers``."""
    return ANSWERS + json.dumps(answers, ensure_ascii=False)


def answers_of(option: str | None) -> Answers | None:
    """The answers an option carries (None: it is no answers' option, or not one swarm
    writes: each answer a list of whole numbers or a string)."""
    if option is None or not option.startswith(ANSWERS):
        return None
    try:
        given = json.loads(option.removeprefix(ANSWERS))
    except ValueError:
        return None
    if not isinstance(given, list):
        return None
    found: Answers = []
    for answer in given:
        if isinstance(answer, str):
            found.append(answer)
        elif isinstance(answer, list) and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in answer
        ):
            found.append(list(answer))
        else:
            return None
    return found
