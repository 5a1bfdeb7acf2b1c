"""Claude Code's ``AskUserQuestion``: the model asks the person its own questions (1-4, each
with 2-4 options and a free answer, ``multiSelect`` for several). Over stream-json it is a
``can_use_tool`` request like any other; Claude Code takes the person's answers as the
allowed call's ``updatedInput``: the input given back with ``answers``, each question's text
to the label chosen (several joined by ", ") or the person's own words (the pinned 2.1.328's
``AskUserQuestionInput.answers``). A deny, or an allow without ``answers``, gives the model
"The user did not answer the questions"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.hosts.answers import QUESTION_KIND, Answers, answers_of

ASK_USER = "AskUserQuestion"
KIND = QUESTION_KIND  # the request's kind on the host's journal: swarm opens a question
TITLE = "questions for you"
SKIP = "skip"  # the request's one option: not answering (the person's answer is its own option)


def options() -> list[dict[str, str]]:
    """The request's offered option: skip; answers come as swarm's answers option."""
    return [{"id": SKIP, "name": "Skip the questions", "kind": "reject_once"}]


def answer(chosen: str | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """The permission response for ``chosen``: allow with the person's answers in the input,
    else deny (skipped, or withdrawn: nobody chose)."""
    answers = answers_of(chosen)
    if answers is None:
        words = "The person skipped your questions." if chosen else "Cancelled."
        return {"behavior": "deny", "message": words}
    return {"behavior": "allow", "updatedInput": {**given, "answers": answered(given, answers)}}


def answered(given: Mapping[str, Any], answers: Answers) -> dict[str, str]:
    """Each question's text (as the model wrote it) to its answer: the labels of the options
    chosen, joined by ", ", or the person's words (a question with no text is left out)."""
    questions = given.get("questions")
    found: dict[str, str] = {}
    for asked, said in zip(questions if isinstance(questions, list) else [], answers, strict=False):
        if not isinstance(asked, Mapping) or not isinstance(asked.get("question"), str):
            continue
        if isinstance(said, str):
            found[asked["question"]] = said
            continue
        offered = asked.get("options")
        offered = offered if isinstance(offered, list) else []
        labels = [_label(offered[n]) for n in said if n < len(offered)]
        found[asked["question"]] = ", ".join(label for label in labels if label)
    return found


def _label(option: Any) -> str:
    label = option.get("label") if isinstance(option, Mapping) else None
    return label if isinstance(label, str) else ""
