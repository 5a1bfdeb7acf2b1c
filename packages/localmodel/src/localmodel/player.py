"""Deciding what a request gets: a queued step, else the script's step for its turn.

Queued steps (:meth:`Player.queue`) answer the next requests in order, whatever they say (a
planner test's "the next call gets this"). Otherwise the latest prompt picks the turn and the
request's ``position`` picks the step: output steps (text, tool calls) are counted by the
answers already in the history; failures are served ``times`` times per conversation (to the
requests for their ``model`` only), then the turn goes on.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localmodel.script import Script, Step
from localmodel.tools import Choice, named_choice, shell_choice
from localmodel.view import View, estimate_tokens, schema_instance

if TYPE_CHECKING:
    from localmodel.recording import RecordedRequest

log = logging.getLogger(__name__)
Responder = Callable[["RecordedRequest"], Step]
END_TEXT = "localmodel: this turn's script has no more steps"
SIDE_TEXT = "ok"


@dataclass(frozen=True)
class ToolCall:
    """A call the model makes: the tool's name, its input, its namespace (Responses)."""

    name: str
    arguments: dict[str, Any]
    namespace: str | None = None

    @property
    def arguments_json(self) -> str:
        """The input as JSON text (how the OpenAI APIs carry it)."""
        return json.dumps(self.arguments)


@dataclass(frozen=True)
class Outcome:
    """What one request gets: the step, the text and call it becomes, whether it stalls."""

    step: Step
    text: str
    call: ToolCall | None
    stall: bool
    input_tokens: int
    output_tokens: int
    note: str

    @property
    def failure(self) -> bool:
        """Whether the answer is an HTTP error."""
        return self.step.failure


class Player:
    """The script, the queue and the counters of served failures and stalls."""

    def __init__(self, script: Script, responder: Responder | None = None) -> None:
        self.script = script
        self.responder = responder
        self.queued: deque[Step] = deque()
        self._served: dict[tuple[str, int], int] = {}

    def set_script(self, script: Script) -> None:
        """Replace the script; turns under way follow the new one from their position."""
        self.script = script
        self._served.clear()

    def queue(self, steps: Sequence[Step]) -> None:
        """Answer the next requests with these steps, one each, in order."""
        self.queued.extend(steps)

    def decide(self, view: View, request: RecordedRequest) -> Outcome:
        """The outcome for one request."""
        if self.queued:
            step = self.queued.popleft()
            stall = step.stall_after is not None and step.model in view.model
            return self._realize(step, view, "queued", stall=stall)
        steps = self.script.steps_for(view.prompt)
        if steps is self.script.default and self.responder is not None:
            return self._realize(self.responder(request), view, "responder", stall=False)
        source = "default" if steps is self.script.default else "turn"
        picked = self._pick(steps, view)
        if picked is None:
            return self._realize(Step(text=END_TEXT), view, f"{source}: no steps left", False)
        index, step, stall = picked
        return self._realize(step, view, f"{source} step {index + 1}", stall)

    def _pick(self, steps: Sequence[Step], view: View) -> tuple[int, Step, bool] | None:
        outputs = 0
        for index, step in enumerate(steps):
            if outputs == view.position and step.failure:
                if step.model in view.model and self._take(view.key, index, step.times):
                    return index, step, False
            elif outputs == view.position:
                stall = (
                    step.stall_after is not None
                    and step.model in view.model
                    and self._take(view.key, index, step.times)
                )
                return index, step, stall
            elif not step.failure:
                outputs += 1
        return None

    def _take(self, key: str, index: int, times: int | None) -> bool:
        served = self._served.get((key, index), 0)
        if times is not None and served >= times:
            return False
        self._served[(key, index)] = served + 1
        return True

    def _realize(self, step: Step, view: View, note: str, stall: bool) -> Outcome:
        text, call = step.text, None
        if step.calls_tool and not step.failure:
            choice = _choice(step, view)
            if choice.tool is not None:
                call = ToolCall(choice.tool.name, choice.arguments, choice.tool.namespace)
                text = "" if choice.loads else text
                note += f" (loading {choice.arguments['query'][7:]})" if choice.loads else ""
            elif not view.tools:
                text = step.text or SIDE_TEXT  # a side request (a title, a check): no tools
                note += " (no tools offered: text)"
            else:
                log.warning("localmodel: %s", choice.problem)
                text = f"localmodel: {choice.problem}"
                note += f" ({choice.problem})"
        if view.json_schema is not None and call is None and not step.failure:
            # a side request that asks for JSON (Gemini CLI's model router): a value of its schema
            text = json.dumps(schema_instance(view.json_schema, step.text or SIDE_TEXT))
            note += " (JSON asked: its schema's value)"
        spoken = text + (call.arguments_json if call else "")
        return Outcome(
            step,
            text,
            call,
            stall,
            step.input_tokens if step.input_tokens is not None else estimate_tokens(view.text),
            step.output_tokens if step.output_tokens is not None else estimate_tokens(spoken),
            note,
        )


def _choice(step: Step, view: View) -> Choice:
    if step.shell is not None:
        return shell_choice(view.tools, step.shell, step.tool, step.input)
    return named_choice(view, step.tool or "", step.input)
