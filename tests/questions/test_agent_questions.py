"""An agent's own questions (Claude Code's ``AskUserQuestion`` under its host): the agent's
text read within caps and on one line each, a person's answer read as the request takes it,
and the answer kept for the agent's host and sent once (issue 79). The real Claude Code's
side is ``tests/agents/test_claude_code_questions_live.py``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from core import questions
from core.clis.claude_code import ask_user
from core.coordinator.prompt_keys import PromptKeys
from core.errors import InvalidInput, InvalidState
from core.hosts.answers import ANSWERS, answers_of, answers_option
from core.models import Agent, Receipt, TaskSpec
from core.protocols import ManualClock
from core.questions import _choices as choices
from core.questions._hook import GONE, GONE_AFTER_S
from core.service.swarm import SwarmService
from tests.helpers import run_cli

pytestmark = pytest.mark.both_databases

DATABASE = {
    "question": "Which database should we use?",
    "header": "Database",
    "multiSelect": False,
    "options": [
        {"label": "Postgres", "description": "the server one"},
        {"label": "SQLite", "description": "one file"},
    ],
}
FEATURES = {
    "question": "Which features?",
    "header": "Features",
    "multiSelect": True,
    "options": [{"label": "Search"}, {"label": "Export"}, {"label": "Login"}],
}


def test_the_agents_text_is_read_within_caps_and_on_one_line_each() -> None:
    forged = "Pick one\nAnswer with an option's number, or your own words.\x1b[2J"
    given = {
        "questions": [
            {"question": forged + "?" * 5000, "header": "H" * 500, "options": [
                {"label": "a\nb", "description": "d" * 5000}, "not an option", *[
                    {"label": f"o{n}"} for n in range(20)
                ],
            ]},
            *[DATABASE] * 10,
        ]
    }  # fmt: skip
    asked = choices.read_questions(given)
    assert len(asked) == choices.QUESTIONS_MAX
    first = asked[0]
    assert len(first.question) <= choices.QUESTION_CHARS and "\n" not in first.question
    assert "\x1b" not in first.question and "\\x1b" in first.question
    assert len(first.header) <= choices.HEADER_CHARS
    assert len(first.options) == choices.OPTIONS_MAX
    assert first.options[0].label == "a b"
    assert len(first.options[0].description) <= choices.DESCRIPTION_CHARS
    assert first.options[1].label == "option 2"  # its place kept: answers go by number
    text = choices.item_text(asked)
    # one line per question and per option, and the closing line: nothing forged
    assert len(text.splitlines()) == sum(1 + len(q.options) for q in asked) + 1
    assert text.splitlines()[-1].startswith("Answer one line per question")


@pytest.mark.parametrize(
    "given",
    [None, [], "text", {"questions": "x"}, {"questions": [1, None]}, {"questions": [{}]}],
)
def test_any_shape_of_input_is_read_without_raising(given: Any) -> None:
    for question in choices.read_questions(given):
        assert question.question and isinstance(question.options, tuple)


def test_an_answer_is_an_options_number_its_label_or_the_persons_words() -> None:
    one = choices.read_questions({"questions": [DATABASE]})
    assert choices.read_answer(one, "2") == [[1]]
    assert choices.read_answer(one, " sqlite ") == [[1]]
    assert choices.read_answer(one, "Mongo, because\nwe have it") == ["Mongo, because\nwe have it"]
    with pytest.raises(InvalidInput, match="1 to 2"):
        choices.read_answer(one, "3")
    with pytest.raises(InvalidInput, match="takes one option"):
        choices.read_answer(one, "1,2")
    two = choices.read_questions({"questions": [FEATURES, DATABASE]})
    assert choices.read_answer(two, "1, 3, 1\n\nPostgres") == [[0, 2], [0]]
    with pytest.raises(InvalidInput, match="one line each"):
        choices.read_answer(two, "1")
    assert choices.answer_words(two, [[0, 2], "my own"]) == "Search, Login; my own"


def test_the_answers_option_carries_only_what_swarm_writes() -> None:
    answers: list[list[int] | str] = [[0, 2], "words \u2603"]
    assert answers_of(answers_option(answers)) == answers
    for bad in (None, "allow", ANSWERS + "{", ANSWERS + '{"a": 1}', ANSWERS + "[[true]]",
                ANSWERS + "[[-1]]", ANSWERS + "[1]", ANSWERS + "[[1.5]]"):  # fmt: skip
        assert answers_of(bad) is None, bad


def test_claude_code_gets_its_own_question_texts_and_labels_back() -> None:
    label = "Postgres\x1b[31m (long) " + "x" * 300  # shown cut and escaped, given back whole
    given = {"questions": [FEATURES, {**DATABASE, "options": [{"label": label}, {}]}]}
    allowed = ask_user.answer(answers_option([[2, 0, 9], [0]]), given)
    assert allowed["behavior"] == "allow"
    assert allowed["updatedInput"]["questions"] == given["questions"]
    assert allowed["updatedInput"]["answers"] == {
        "Which features?": "Login, Search",  # a number past its options is left out
        "Which database should we use?": label,
    }
    said = ask_user.answer(answers_option(["my words"]), {"questions": [DATABASE]})
    assert said["updatedInput"]["answers"] == {"Which database should we use?": "my words"}
    assert ask_user.answer(ask_user.SKIP, given)["behavior"] == "deny"
    assert ask_user.answer(None, given) == {"behavior": "deny", "message": "Cancelled."}


class Answers:
    """A route that records the answers sent to agents' requests."""

    def __init__(self, ok: bool = True) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.ok = ok

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        self.sent.append((agent.id, request, option))
        return Receipt.delivered("protocol") if self.ok else Receipt.failed("the host is gone")

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        raise AssertionError("nothing is typed for a question")


async def _queued(service: SwarmService) -> int:
    return sum(e.kind == "message.queued" for e in await service.history.events(0, 1000))


async def _asked(service: SwarmService, request: str = "s#1") -> questions.Question:
    task = await service.tasks.create(TaskSpec("Pick a database", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    given = {"questions": [DATABASE]}
    asked = await service.store.write(
        "Agent-2", questions.ask_request, "Agent-2", request, given, task.id
    )
    assert asked is not None
    again = await service.store.write(  # the same request read again (a replayed journal)
        "Agent-2", questions.ask_request, "Agent-2", request, given, task.id
    )
    assert again is not None and again.id == asked.id
    return asked


async def test_the_answer_goes_to_the_agents_request_once_not_as_a_message(
    service: SwarmService,
) -> None:
    asked = await _asked(service)
    (item,) = [n for n in await service.inbox.needs() if n.ref == f"Q-{asked.id}"]
    assert item.kind == "question" and "1) Postgres - the server one" in item.text
    with pytest.raises(InvalidInput):
        await service.inbox.reply(f"Q-{asked.id}", "5", "person")
    assert (await service.questions.question(asked.id)).open  # a wrong answer leaves it open
    queued = await _queued(service)
    await service.inbox.reply(f"Q-{asked.id}", "2", "person")
    assert await _queued(service) == queued  # no message to the agent: its request's answer
    route = Answers()
    keys = PromptKeys(service, route, None)
    assert await keys.next_due() is not None
    assert await keys.fire() == 1
    assert route.sent == [("Agent-2", "s#1", answers_option([[1]]))]
    assert await keys.fire() == 0 and await keys.next_due() is None  # once
    sent = await service.questions.question(asked.id)
    assert sent.sent == "sent as the request's answer" and sent.answer == "2"
    events = await service.history.events(0, 100)
    assert any(e.kind == "task.answered" and "SQLite" in e.text for e in events)


async def test_a_failed_send_is_said_and_a_withdrawn_question_takes_no_answer(
    service: SwarmService,
) -> None:
    asked = await _asked(service)
    await service.inbox.reply(f"Q-{asked.id}", "Postgres", "person")
    route = Answers(ok=False)
    assert await PromptKeys(service, route, None).fire() == 1
    failed = await service.questions.question(asked.id)
    assert failed.sent == "not sent: the host is gone"
    events = await service.history.events(0, 100)
    assert any("not sent to Agent-2: not sent: the host is gone" in e.text for e in events)
    later = await _asked(service, "s#2")
    await service.store.write("swarm", questions.withdraw, "Agent-2", "s#2", "the turn ended")
    closed = await service.questions.question(later.id)
    assert not closed.open and closed.answered_by == "swarm" and closed.reply is None
    with pytest.raises(InvalidState, match="already answered by swarm"):
        await service.inbox.reply(f"Q-{later.id}", "1", "person")
    assert await service.store.read(questions.unsent) == []


async def test_the_question_of_a_hook_killed_outright_is_closed_after_its_wait(
    service: SwarmService, clock: ManualClock
) -> None:
    task = await service.tasks.create(TaskSpec("Pick a database", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    given = {"questions": [DATABASE]}
    asked = await service.store.write(
        "Agent-2", questions.ask_request, "Agent-2", "hook:1", given, task.id
    )
    assert asked is not None
    keys = PromptKeys(service, Answers(), None)
    wait_s = service.settings.approval_wait_s
    gone_at = asked.asked_at + wait_s + GONE_AFTER_S
    assert await keys.next_due() == gone_at
    assert await keys.fire() == 0 and (await service.questions.question(asked.id)).open
    clock.advance(gone_at - clock.now())
    assert await keys.fire() == 1
    closed = await service.questions.question(asked.id)
    assert closed.answered_by == "swarm" and GONE in (closed.answer or "")
    assert await keys.next_due() is None


async def test_swarm_inbox_lists_it_and_swarm_reply_answers_it(
    home: Path, service: SwarmService
) -> None:
    asked = await _asked(service)
    listed = run_cli(home, "inbox", "--json")
    (item,) = [i for i in json.loads(listed.out) if i["ref"] == f"Q-{asked.id}"]
    assert item["kind"] == "question" and "2) SQLite - one file" in item["text"]
    wrong = run_cli(home, "reply", f"Q-{asked.id}", "3")
    assert wrong.code == 2 and wrong.err.startswith("swarm: error: '3' picks no option")
    replied = run_cli(home, "reply", f"Q-{asked.id}", "SQLite")
    assert replied.code == 0, replied.err
    kept = await service.questions.question(asked.id)
    assert kept.reply == answers_option([[1]]) and kept.answered_by == "cli"
