"""The typing of decided prompts' answers: ``PromptKeys``, a ``core.protocols.Timer`` of the
scheduler's loop (and of a delivery node's, for its own agents), types each decided text or
screen prompt's key into the agent's window through a ``KeyPresser`` (the desktop driver:
its input lock, kill switch and human checks), once, and sends a protocol prompt's option
to its agent's host. A text prompt is typed only while the dialog at the input is the one
shown (the whole text, read by ``core.watch.text_signal.TextWatcher``), and the typing is
verified: the prompt leaves the pane. The typing is recorded before the key is sent
(``typing_at``): one found begun at a later look (the process was killed in between) is
never typed again, only settled by what the pane shows.

The prompts' rows and their typing's record are ``core.dialogs``' (``answer_keys``); this
timer lives in the loops' tier because it holds the service and reads the panes through
the text watcher, both above the features.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from core import questions
from core.agent_state import Signal
from core.agents import TextMatch
from core.dialogs import answer_keys as prompt_typing
from core.dialogs import pane_prompts
from core.dialogs.permissions import Prompt
from core.models import Agent, Receipt
from core.questions import Question
from core.watch.text_signal import TextWatcher, why_left

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
VERIFY_S = 5.0  # how long a typed answer has to make its prompt leave the pane
RETRY_S = 2.0  # a deferred typing (the human is busy, input paused) is tried again after this
GIVE_UP_S = 600.0  # a decision still not typed this long after it was made never will be
LEFT = "the prompt left the pane before its answer was typed"
OTHER = "the dialog at the input is not the one that was shown"


@runtime_checkable
class KeyPresser(Protocol):
    """Presses keys into an agent's window (the desktop driver).

    A receipt: ok when the keys were pressed (with a ``reason`` when no change was seen on
    the screen after them); failed and ``deferred`` when it could not try now (the human is
    busy, input is paused): nothing was pressed then.
    """

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Press ``keys`` (key names: ``1``, ``y``, ``enter``) into ``agent``'s window."""
        ...


@runtime_checkable
class AnswersRequests(Protocol):
    """Sends a decided protocol prompt's option back to the agent's host (nothing typed)."""

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """Answer the agent's request ``request`` (the prompt's ``session``) with ``option``."""
        ...


class PromptKeys:
    """A Timer: types each decided text/screen prompt's key into its agent's window, once."""

    def __init__(
        self,
        service: SwarmService,
        presser: KeyPresser,
        text: TextWatcher | None,
        verify_s: float = VERIFY_S,
        retry_s: float = RETRY_S,
        give_up_s: float = GIVE_UP_S,
        node: str | None = None,
    ) -> None:
        self.service = service
        self.node = node  # types for the agents this process serves (``waiting``)
        self.presser = presser
        self.text = text
        self.verify_s = verify_s
        self.retry_s = retry_s
        self.give_up_s = give_up_s
        self._not_before: dict[int, float] = {}  # prompt id -> when to try again (deferred)

    async def start(self) -> None:
        """Nothing to prepare: decided prompts left from before are typed when due."""

    async def waiting(self) -> list[Prompt]:
        """The decided prompts whose key this process types: of the agents it serves (a
        delivery node's, on its desktop; the coordinator's: the others, and those of agents
        no longer configured, which it settles)."""
        agents = self.service.agents.values()
        if self.node is None:
            served = [a.id for a in agents if a.node is not None]
            return await self.service.store.read(prompt_typing.untyped, None, served)
        mine = [a.id for a in agents if a.node == self.node]
        return await self.service.store.read(prompt_typing.untyped, mine)

    async def answers_due(self) -> list[Question]:
        """Answered questions of the served agents' own requests, their answers not yet sent
        to the agents' hosts."""
        unsent = await self.service.store.read(questions.unsent)
        return [q for q in unsent if self._serves(q.agent)]

    def _serves(self, agent_id: str | None) -> bool:
        agent = self.service.agents.get(agent_id or "")
        node = agent.node if agent is not None else None
        return node == self.node if self.node is not None else node is None

    async def next_due(self) -> float | None:
        """Now when a decided prompt waits for its key (or when its retry is due), or an
        answer for an agent's own request waits to be sent."""
        if await self.answers_due():
            return self.service.clock.now()
        wait_s = self.service.settings.approval_wait_s
        gone = None  # when a hook question is past its hook's wait (the coordinator's)
        if self.node is None:
            gone = await self.service.store.read(questions.hooks_gone_at, wait_s)
        waiting = await self.waiting()
        if not waiting:
            self._not_before.clear()
            return gone
        now = self.service.clock.now()
        due = min(self._not_before.get(p.id, now) for p in waiting)
        return due if gone is None else min(due, gone)

    async def fire(self) -> int:
        """Type every decided prompt that is due; how many were settled."""
        now = self.service.clock.now()
        waiting = await self.waiting()
        settled = 0
        for prompt in waiting:
            if self._not_before.get(prompt.id, now) <= now:
                settled += await self.type_answer(prompt)
        for question in await self.answers_due():
            settled += await self.send_answer(question)
        if self.node is None:  # the coordinator closes the questions of hooks gone
            wait_s = self.service.settings.approval_wait_s
            settled += await self.service.store.write("swarm", questions.close_gone_hooks, wait_s)
        return settled

    async def send_answer(self, question: Question) -> int:
        """A person's answer to an agent's own request (its question), sent to the agent's
        host as the request's answer: recorded first, once; 1 if settled."""
        agent = self.service.agents.get(question.agent or "")
        if not await self.service.store.write("swarm", questions.mark_sent, question.id):
            return 0  # another sender began it
        if agent is None or not isinstance(self.presser, AnswersRequests):
            how, ok = "no protocol route to the agent here", False
        else:
            receipt = await self.presser.answer(agent, question.request or "", question.reply or "")
            how = "sent as the request's answer" if receipt.ok else f"not sent: {receipt.reason}"
            ok = receipt.ok
        await self.service.store.write("swarm", questions.sent, question, ok, how)
        return 1

    async def stop(self) -> None:
        """Nothing held (the text watcher is closed by the watcher)."""

    async def type_answer(self, prompt: Prompt) -> int:
        """Type ``prompt``'s decided key (checked, recorded first, verified) or record why
        not; 1 if settled."""
        agent = self.service.agents.get(prompt.agent)
        began, keys_then = await self.service.store.read(prompt_typing.typing_state, prompt.id)
        if began is not None:
            return await self._interrupted(agent, prompt, keys_then)
        if agent is None:
            return await self._settle(prompt, "", f"{prompt.agent} is not configured now")
        key = prompt.option(prompt.decision or "").key
        if prompt.source is Signal.PROTOCOL:
            return await self._answer_request(agent, prompt, key)
        keys: tuple[str, ...] = (key,)
        if prompt.source is Signal.TEXT:
            shown = await self._shown(agent, prompt)
            if isinstance(shown, str):
                return await self._settle(prompt, "", shown)
            keys = shown.keys_for(key)
        typed = "+".join(keys)
        if not await self.service.store.write(
            "swarm", prompt_typing.begin_typing, prompt.id, typed
        ):
            return 0  # another typist began it
        receipt = await self.presser.press_keys(agent, keys)
        if not receipt.ok:
            return await self._not_pressed(prompt, receipt)
        verified, result = await self._verify(agent, prompt, receipt)
        return await self._settle(prompt, typed, result, typed=True, verified=verified)

    async def _answer_request(self, agent: Agent, prompt: Prompt, key: str) -> int:
        """A protocol prompt's option, sent to the agent's host as its request's response
        (recorded first, once); 1 if settled."""
        if not isinstance(self.presser, AnswersRequests) or prompt.session is None:
            return await self._settle(prompt, "", "no protocol route to the agent here")
        if not await self.service.store.write("swarm", prompt_typing.begin_typing, prompt.id, key):
            return 0
        receipt = await self.presser.answer(agent, prompt.session, key)
        if not receipt.ok:
            return await self._settle(prompt, "", f"not answered: {receipt.reason}")
        return await self._settle(prompt, key, "sent as the request's answer", typed=True,
                                  verified=True)  # fmt: skip

    async def _not_pressed(self, prompt: Prompt, receipt: Receipt) -> int:
        """A typing the driver deferred (nothing pressed: tried again later, until it gives
        up) or could not do; 1 if settled."""
        now = self.service.clock.now()
        if receipt.deferred:
            await self.service.store.write("swarm", prompt_typing.not_begun, prompt.id)
            if now - (prompt.decided_at or now) < self.give_up_s:
                self._not_before[prompt.id] = now + self.retry_s
                log.info("prompt %d: typing deferred (%s)", prompt.id, receipt.reason)
                return 0
            why = f"not typed {self.give_up_s:g} s after the decision ({receipt.reason})"
            return await self._settle(prompt, "", why)
        return await self._settle(prompt, "", f"the desktop driver failed: {receipt.reason}")

    async def _interrupted(self, agent: Agent | None, prompt: Prompt, keys: str) -> int:
        """Settle a typing begun before and never settled (its process was killed between
        recording it and settling it): the key may have gone in, so it is never typed again.
        The prompt is settled by what the pane shows; a dialog still there is asked anew."""
        began = f"the typing of {keys!r} began and was never settled (swarm stopped in between)"
        if agent is None or prompt.source is not Signal.TEXT:
            why = f"{began}; whether it went in is not known, so it is not typed again"
            return await self._settle(prompt, "", why)
        shown = await self._shown(agent, prompt)
        if not isinstance(shown, str):
            why = f"{began}; the dialog is still at the input: it is asked again, never typed twice"
            return await self._settle(prompt, "", why)
        if shown in (LEFT, OTHER):
            why = f"{began}; the prompt has left the pane since"
            return await self._settle(prompt, keys, why, typed=True)
        return await self._settle(prompt, "", f"{began}; {shown}: it is not typed again")

    async def _shown(self, agent: Agent, prompt: Prompt) -> TextMatch | str:
        """The pane's prompt when it still is ``prompt``; else why its key must not be typed."""
        if self.text is None or not agent.tmux:
            return "its tmux pane is not watched"
        (reading,) = await self.text.read([agent])
        if reading.pane.gone is not None:
            return reading.pane.gone
        if reading.ambiguous:
            return f"{why_left(reading)}: which one would take the key cannot be told"
        shown = reading.prompt
        if shown is None:
            return LEFT
        if pane_prompts.same_prompt_text(shown.prompt) != prompt.text:
            return OTHER
        return shown

    async def _verify(self, agent: Agent, prompt: Prompt, receipt: Receipt) -> tuple[bool, str]:
        """Whether the typed answer was seen to work, and how, in words."""
        if prompt.source is not Signal.TEXT or self.text is None:
            return receipt.reason is None, receipt.reason or "the window changed"
        deadline = time.monotonic() + self.verify_s
        while True:
            (reading,) = await self.text.read([agent])
            shown = reading.prompt
            if shown is None or pane_prompts.same_prompt_text(shown.prompt) != prompt.text:
                return True, "the prompt left the pane"
            if time.monotonic() >= deadline:
                return False, f"the prompt was still in the pane {self.verify_s:g} s later"
            await asyncio.sleep(0.1)

    async def _settle(
        self, prompt: Prompt, keys: str, result: str, *, typed: bool = False, verified: bool = False
    ) -> int:
        self._not_before.pop(prompt.id, None)
        level = logging.INFO if verified else logging.WARNING
        word = "answered" if prompt.source is Signal.PROTOCOL else "typed"  # no key in a host
        log.log(level, "prompt %d of %s: %s%s", prompt.id, prompt.agent,
                f"{word} {keys!r}, " if typed else f"not {word}: ", result)  # fmt: skip
        mark = functools.partial(prompt_typing.mark_typed, typed=typed, verified=verified)
        await self.service.store.write("swarm", mark, prompt.id, keys, result)
        return 1
