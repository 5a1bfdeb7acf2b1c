"""The TEXT signal: each tmux agent's pane, read and classified every watch tick, and the
answers to its text prompts typed into its window.

``TextWatcher.tick`` reads the pane of every agent with a ``tmux`` key (the tmux CLI, in a
worker thread), classifies its last lines with the agent rule files
(``core.agents.text_rules``) and, in one transaction, records an ``Observation(Signal.TEXT)``
per agent (``core.agents.signals.record``) and what its dialog opens or closes
(``core.dialogs.pane_prompts``: a text prompt, or the hook's prompt of the same dialog). A
pane that is gone is evidence: the agent is ``offline``. The prompt is the dialog at the
agent's input, its text the pane's last lines as they are (``core.dialogs.pane``); a pane
with more than one dialog opens none, and a ``dialogs`` alert says so until it ends.

``PromptKeys`` (a ``core.protocols.Timer`` of the scheduler's loop) types each decided text
or screen prompt's key into the agent's window through a ``KeyPresser`` (the desktop
driver: its input lock, kill switch and human checks), once. A text prompt is typed only
while the dialog at the input is the one shown (the whole text), and the typing is
verified: the prompt leaves the pane. The typing is recorded before the key is sent
(``typing_at``): one found begun at a later look (the process was killed in between) is
never typed again, only settled by what the pane shows.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from core.agent_state import AgentState, Observation, Signal
from core.agents import alerts
from core.agents import queries as agent_queries
from core.agents import signals as agent_signals
from core.agents.text_rules import RuleSet, TextMatch, classify_any
from core.clis import by_name
from core.clis.logs import LogFinding, LogTail, log_path
from core.context import Ctx
from core.dialogs import answer_keys as prompt_typing
from core.dialogs import pane_prompts
from core.dialogs.permissions import Prompt
from core.formats.text import escape_controls, shorten
from core.models import Agent, Receipt
from core.store.conn import Conn
from core.tasks import queries as task_queries
from core.tmux import PaneRef, PaneText, capture_all

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
MOVING = "the screen above its input moved since the last look: its answer is arriving"
VERIFY_S = 5.0  # how long a typed answer has to make its prompt leave the pane
RETRY_S = 2.0  # a deferred typing (the human is busy, input paused) is tried again after this
GIVE_UP_S = 600.0  # a decision still not typed this long after it was made never will be
DIALOGS = "dialogs"  # the alert kind: a pane shows more than one dialog
TERMINAL_DIALOG = "terminal-dialog"  # the alert kind: a dialog only its terminal can answer
UNKNOWN_AFTER_S = 10.0  # a screen no rule knows this long (a CLI's start passes quicker)
UNKNOWN_LINES = 8  # the last lines of such a screen that its alert shows
LEFT = "the prompt left the pane before its answer was typed"
OTHER = "the dialog at the input is not the one that was shown"
PanesReader = Callable[[Sequence[PaneRef]], list[PaneText]]


@dataclass(frozen=True)
class PaneReading:
    """What one look at one agent's pane saw."""

    agent: str
    pane: PaneText
    match: TextMatch | None
    failed: str | None = None  # why the pane's text could not be classified (a bug's error)
    unknown_since: float | None = None  # since when no rule has known its screen

    @property
    def unknown(self) -> bool:
        """The pane was read and no rule knows what it shows."""
        return self.pane.ok and self.failed is None and self.match is None

    def observation(self, now: float) -> Observation:
        """The TEXT signal's observation of the agent."""
        if self.pane.gone is not None:
            return Observation(self.agent, Signal.TEXT, AgentState.OFFLINE, now,
                               f"text: {self.pane.gone}")  # fmt: skip
        if self.failed is not None:
            return Observation(self.agent, Signal.TEXT, AgentState.UNKNOWN, now,
                               f"text: the pane cannot be classified ({self.failed})")  # fmt: skip
        if self.match is None:
            return Observation(self.agent, Signal.TEXT, AgentState.UNKNOWN, now,
                               "text: no rule matched the pane's last lines")  # fmt: skip
        detail = {"cli": self.match.cli, "version": self.match.version, "rule": self.match.rule}
        return Observation(self.agent, Signal.TEXT, self.match.state, now, self.match.evidence,
                           until=self.match.until, detail=detail,
                           work=not self.match.still)  # fmt: skip

    @property
    def prompt(self) -> TextMatch | None:
        """The permission prompt the pane shows (a match with options, the only dialog in
        the last lines), if any."""
        m = self.match
        return m if m is not None and m.options and not m.ambiguous and self.pane.ok else None

    @property
    def ambiguous(self) -> bool:
        """The pane shows more than one dialog: no prompt is opened, nothing typed."""
        return self.pane.ok and self.match is not None and self.match.ambiguous


def pane_ref(agent: Agent) -> PaneRef | None:
    """The agent's tmux pane, if it has one."""
    return PaneRef(agent.tmux, agent.tmux_socket) if agent.tmux else None


class TextWatcher:
    """Reads and classifies the tmux agents' panes; records what they say (``tick``)."""

    def __init__(
        self,
        service: SwarmService,
        rule_sets: Sequence[RuleSet],
        reader: PanesReader = capture_all,
        node: str | None = None,
    ) -> None:
        self.service = service
        self.rule_sets = list(rule_sets)
        self.reader = reader
        self.node = node
        self._executor: ThreadPoolExecutor | None = None
        self._known = {rs.cli for rs in self.rule_sets}
        self._unclassified: set[str] = set()  # agents whose pane failed to classify (logged)
        self._above: dict[str, tuple[str, ...]] = {}  # a moving rule's lines at the last look
        # (agent, cli) -> its CLI's debug log (Gemini CLI), None when it has none
        self._tails: dict[tuple[str, str | None], LogTail | None] = {}
        self._retry: dict[str, LogFinding] = {}  # agent -> the newest retry its log said
        self._looked: dict[str, float] = {}  # agent -> when its pane was last read
        self._moved_after: dict[str, float] = {}  # agent -> its screen last moved after this
        self._unknown_since: dict[str, float] = {}  # agent -> since when no rule knows its pane
        for agent in self.agents():
            if agent.cli is not None and agent.cli not in self._known:
                log.error(
                    "agent %s: cli %r has no rule file (known: %s); its pane is read with "
                    "every rule file",
                    agent.id,
                    agent.cli,
                    ", ".join(sorted(self._known)),
                )

    def agents(self) -> list[Agent]:
        """The agents with a tmux pane that this process watches."""
        return [a for a in self.service.agents.values() if a.tmux and a.node == self.node]

    async def read(
        self, agents: Sequence[Agent] | None = None, logs: bool = False
    ) -> list[PaneReading]:
        """Read and classify the panes of ``agents`` (default: all watched here); with
        ``logs`` (a watch look), what their CLIs' debug logs added too, in the same trip to
        the reading thread (a prompt's check between looks reads the panes alone)."""
        chosen = list(self.agents() if agents is None else agents)
        refs = [ref for a in chosen if (ref := pane_ref(a)) is not None]
        if not refs:
            return []
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="panes")
        loop = asyncio.get_running_loop()
        panes, retries = await loop.run_in_executor(
            self._executor, self._read_all, refs, chosen if logs else ()
        )
        self._retry.update(retries)
        now = self.service.clock.now()
        return [
            self._classify(a, pane, now)
            for a, pane in zip([a for a in chosen if a.tmux], panes, strict=True)
        ]

    def _read_all(
        self, refs: Sequence[PaneRef], agents: Sequence[Agent]
    ) -> tuple[list[PaneText], dict[str, LogFinding]]:
        """The panes of ``refs`` and the debug logs of ``agents``; in the reading thread."""
        return self.reader(refs), self._read_logs(agents)

    def _read_logs(self, agents: Sequence[Agent]) -> dict[str, LogFinding]:
        """agent -> the newest retry its CLI's debug log added since the last look (of the
        agents whose CLI writes one that swarm named: ``core.clis.logs``); in the reading
        thread."""
        found = {}
        for agent in agents:
            key = (agent.id, agent.cli)  # its CLI may change when the agents file is reloaded
            if key not in self._tails:
                cli = by_name(agent.cli)
                reader = cli.log_reader if cli is not None and agent.tmux else None
                path = log_path(self.service.settings.home, agent.id)
                self._tails[key] = LogTail(path, reader) if reader is not None else None
            tail = self._tails[key]  # None: its CLI writes no log swarm reads
            if tail is not None and (finding := tail.read()) is not None:
                found[agent.id] = finding
        return found

    def _classify(self, agent: Agent, pane: PaneText, now: float) -> PaneReading:
        """What ``agent``'s pane says. A text that cannot be classified reads as unknown with
        the error in its evidence (``swarm agents``, explain), logged once per agent: the
        other panes are read all the same."""
        try:
            found = classify_any(self.rule_sets, pane.lines, now, self._cli(agent))
        except Exception as exc:
            if agent.id not in self._unclassified:
                log.exception("the pane of %s cannot be classified; read as unknown", agent.id)
            self._unclassified.add(agent.id)
            return PaneReading(agent.id, pane, None, shorten(f"{type(exc).__name__}: {exc}", 200))
        self._unclassified.discard(agent.id)
        match = self._retrying(agent.id, self._moving(agent.id, found), now)
        since = self._unknown_since.pop(agent.id, now) if match is None and pane.ok else None
        if since is not None:
            self._unknown_since[agent.id] = since
        return PaneReading(agent.id, pane, match, unknown_since=since)

    def _retrying(self, agent: str, found: TextMatch | None, now: float) -> TextMatch | None:
        """A working reading as the retry the CLI's log said since its screen last moved
        (limited until the retry, or errored), until that retry is overdue; a reading that
        is not working ends the log's news (the turn is over)."""
        before, self._looked[agent] = self._looked.get(agent, now), now
        if found is None or found.state is not AgentState.WORKING:
            self._retry.pop(agent, None)
            return found
        if not found.still:  # moved since the last look: a retry said before it is past
            self._moved_after[agent] = before
        retry = self._retry.get(agent)
        if retry is None or retry.at <= self._moved_after.get(agent, 0.0):
            return found
        if now > retry.expires:
            del self._retry[agent]
            return found
        return replace(found, state=retry.state, until=retry.until, log=retry.line)

    def _moving(self, agent: str, found: TextMatch | None) -> TextMatch | None:
        """Against the last look: an idle reading of a ``moving`` rule whose lines above the
        input changed reads working (the answer is still arriving); a working reading of a
        ``spinner`` or ``moving`` rule whose screen did not move (but for its spinner) is no
        progress."""
        above = found.above if found is not None else None
        before = self._above.pop(agent, None)
        if found is None or above is None:
            return found
        self._above[agent] = above
        if found.state is AgentState.WORKING:
            return replace(found, still=True) if before == above else found
        if before is None or before == above:
            return found
        return replace(found, state=AgentState.WORKING, line=MOVING)

    def _cli(self, agent: Agent) -> str | None:
        return agent.cli if agent.cli in self._known else None

    async def tick(self) -> list[Observation]:
        """One look at every pane, recorded in one transaction; the observations."""
        readings = await self.read(logs=True)
        if not readings:
            return []
        observations: list[Observation] = await self.service.store.write(
            "watch", record_readings, readings
        )
        return observations

    async def close(self) -> None:
        """Stop the reading thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


def record_readings(conn: Conn, ctx: Ctx, readings: Sequence[PaneReading]) -> list[Observation]:
    """Each reading as the agent's TEXT observation; its prompt opened, stale ones closed;
    the ``dialogs`` alert of a pane with more than one dialog opened, or cleared."""
    out = []
    open_kinds = alerts.open_kinds(conn)
    flagged = {agent for agent, kinds in open_kinds.items() if DIALOGS in kinds}
    keyless = {agent for agent, kinds in open_kinds.items() if TERMINAL_DIALOG in kinds}
    for reading in readings:
        obs = reading.observation(ctx.now)
        agent_signals.record(conn, obs)
        out.append(obs)
        pane_prompts.record_pane(
            conn,
            ctx,
            pane_dialog(reading),
            functools.partial(agent_queries.hook_word, conn, reading.agent),
            functools.partial(_current_task, conn, reading.agent),
        )
        _flag_dialogs(conn, ctx, reading, reading.agent in flagged)
        _flag_keyless(conn, ctx, reading, reading.agent in keyless)
        _flag_unknown(conn, ctx, reading, open_kinds.get(reading.agent, set()))
    return out


def pane_dialog(reading: PaneReading) -> pane_prompts.PaneDialog:
    """What ``reading`` says of the pane's dialogs, as ``core.dialogs.pane_prompts`` takes it."""
    shown = reading.prompt
    return pane_prompts.PaneDialog(
        reading.agent,
        reading.pane.ref.target,
        None if shown is None else (shown.prompt, shown.options),
        not reading.ambiguous and not reading.pane.gone and not reading.failed,
        reading.pane.gone or _left(reading),
    )


def _left(reading: PaneReading) -> str:
    """Why an open text prompt is no longer the pane's."""
    if reading.ambiguous:
        assert reading.match is not None
        return f"the pane shows {len(reading.match.questions)} dialogs at once"
    return "the prompt left the pane"


def _flag_dialogs(conn: Conn, ctx: Ctx, reading: PaneReading, flagged: bool) -> None:
    """Open the agent's ``dialogs`` alert while its pane shows several dialogs; clear it
    once it shows one or none."""
    agent = reading.agent
    if reading.ambiguous and not flagged:
        assert reading.match is not None
        alerts.open_alert(conn, ctx, agent, DIALOGS, (
            f"{agent}'s pane {reading.pane.ref.target} shows {len(reading.match.questions)} "
            "dialogs at once (text a program printed can look like one): swarm opens no "
            "prompt and types nothing into it; answer the dialog in the agent's terminal"
        ), _current_task(conn, agent))  # fmt: skip
    elif flagged and not reading.ambiguous:
        alerts.clear_alert(conn, ctx, agent, DIALOGS, f"{agent}'s pane shows one dialog or none")


def _flag_keyless(conn: Conn, ctx: Ctx, reading: PaneReading, flagged: bool) -> None:
    """Open the agent's ``terminal-dialog`` alert while its pane shows a dialog whose
    options have no key (chosen with the arrows: swarm opens no prompt for it, and no hook
    may ask either), so that "Needs you" says so; clear it once the dialog has left."""
    if not reading.pane.ok or reading.failed is not None:
        return  # not read this time: no news either way
    agent, match = reading.agent, reading.match
    shown = match is not None and match.state is AgentState.WAITING and not match.options
    if shown and not flagged:
        assert match is not None
        alerts.open_alert(conn, ctx, agent, TERMINAL_DIALOG, (
            f"{agent}'s pane {reading.pane.ref.target} shows a dialog swarm cannot answer "
            f"({match.rule}: {shorten(match.line, 120)!r}): answer it in the agent's "
            f"terminal (swarm attach {agent})"
        ), _current_task(conn, agent))  # fmt: skip
    elif flagged and not shown:
        alerts.clear_alert(
            conn, ctx, agent, TERMINAL_DIALOG, f"{agent}'s pane no longer shows that dialog"
        )


def _flag_unknown(conn: Conn, ctx: Ctx, reading: PaneReading, kinds: set[str]) -> None:
    """Open the agent's ``unknown-screen`` alert once its pane has shown a screen no rule
    knows for ``UNKNOWN_AFTER_S`` (its last lines in "Needs you"; it gets no new task and
    nothing is typed into it meanwhile); clear it, and an ``input-unseen`` hold, once a rule
    knows the screen again (an input, work, a dialog, a limit)."""
    if not reading.pane.ok or reading.failed is not None:
        return  # not read this time: no news either way
    agent = reading.agent
    since = reading.unknown_since
    if reading.unknown and since is not None and ctx.now - since >= UNKNOWN_AFTER_S:
        if alerts.UNKNOWN_SCREEN not in kinds:
            alerts.open_alert(conn, ctx, agent, alerts.UNKNOWN_SCREEN,
                              unknown_text(agent, reading), _current_task(conn, agent))  # fmt: skip
        return
    if reading.match is None:
        return
    said = f"{agent}'s pane shows a screen swarm knows again ({reading.match.rule})"
    if alerts.UNKNOWN_SCREEN in kinds:
        alerts.clear_alert(conn, ctx, agent, alerts.UNKNOWN_SCREEN, said)
    if alerts.INPUT_UNSEEN in kinds and reading.match.state is AgentState.IDLE:
        alerts.clear_alert(conn, ctx, agent, alerts.INPUT_UNSEEN, said)


def unknown_text(agent: str, reading: PaneReading) -> str:
    """``Agent-1 shows a screen swarm does not know: …`` with its last lines."""
    lines = [escape_controls(shorten(x.rstrip(), 160)) for x in reading.pane.lines if x.strip()]
    shown = "\n".join(lines[-UNKNOWN_LINES:]) or "(a blank screen)"
    return (
        f"{agent} shows a screen swarm does not know:\n{shown}\n(pane {reading.pane.ref.target}: "
        "nothing is typed into it, and it gets no new task until it shows a screen swarm "
        f"knows: answer it in its terminal, swarm attach {agent}, or add a rule for it)"
    )


def _current_task(conn: Conn, agent: str) -> int | None:
    return task_queries.first_held(conn, agent)


# -- typing a decided prompt's answer ---------------------------------------------------------


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
        untyped = await self.service.store.read(prompt_typing.untyped)
        agents = self.service.agents
        if self.node is None:
            return [p for p in untyped if p.agent not in agents or agents[p.agent].node is None]
        return [p for p in untyped if p.agent in agents and agents[p.agent].node == self.node]

    async def next_due(self) -> float | None:
        """Now when a decided prompt waits for its key (or when its retry is due)."""
        waiting = await self.waiting()
        if not waiting:
            self._not_before.clear()
            return None
        now = self.service.clock.now()
        return min(self._not_before.get(p.id, now) for p in waiting)

    async def fire(self) -> int:
        """Type every decided prompt that is due; how many were settled."""
        now = self.service.clock.now()
        waiting = await self.waiting()
        settled = 0
        for prompt in waiting:
            if self._not_before.get(prompt.id, now) <= now:
                settled += await self.type_answer(prompt)
        return settled

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
            return f"{_left(reading)}: which one would take the key cannot be told"
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
        log.log(level, "prompt %d of %s: %s%s", prompt.id, prompt.agent,
                f"typed {keys!r}, " if typed else "not typed: ", result)  # fmt: skip
        mark = functools.partial(prompt_typing.mark_typed, typed=typed, verified=verified)
        await self.service.store.write("swarm", mark, prompt.id, keys, result)
        return 1
