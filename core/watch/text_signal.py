"""The TEXT signal: each tmux agent's pane, read and classified every watch tick.

``TextWatcher.tick`` reads the pane of every agent with a ``tmux`` key (the tmux CLI, in a
worker thread), classifies its last lines with the agent rule files
(``core.agents.text_rules``) and, in one transaction, records an ``Observation(Signal.TEXT)``
per agent (``core.agents.signals.record``) and what its dialog opens or closes
(``core.dialogs.pane_prompts``: a text prompt, or the hook's prompt of the same dialog). A
pane that is gone is evidence: the agent is ``offline``. The prompt is the dialog at the
agent's input, its text the pane's last lines as they are (``core.dialogs.pane``); a pane
with more than one dialog opens none, and a ``dialogs`` alert says so until it ends. The
answers to its text prompts are typed by ``core.coordinator.prompt_keys.PromptKeys``, which
reads the pane through ``TextWatcher.read``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from core.agent_state import AgentState, Observation, Signal
from core.agents import RuleSet, SandboxFailure, TextMatch, alerts, classify_any, sandbox_failure
from core.agents import queries as agent_queries
from core.agents import signals as agent_signals
from core.clis import by_name
from core.clis.logs import LogFinding, LogTail, log_path
from core.context import Ctx
from core.dialogs import pane_prompts
from core.formats.text import escape_controls, shorten
from core.models import Agent
from core.store.conn import Conn
from core.tasks import queries as task_queries
from core.tmux import PaneRef, PaneText, capture_all

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
MOVING = "the screen above its input moved since the last look: its answer is arriving"
DIALOGS = "dialogs"  # the alert kind: a pane shows more than one dialog
TERMINAL_DIALOG = "terminal-dialog"  # the alert kind: a dialog only its terminal can answer
UNKNOWN_AFTER_S = 10.0  # a screen no rule knows this long (a CLI's start passes quicker)
UNKNOWN_LINES = 8  # the last lines of such a screen that its alert shows
PanesReader = Callable[[Sequence[PaneRef]], list[PaneText]]


@dataclass(frozen=True)
class PaneReading:
    """What one look at one agent's pane saw."""

    agent: str
    pane: PaneText
    match: TextMatch | None
    failed: str | None = None  # why the pane's text could not be classified (a bug's error)
    unknown_since: float | None = None  # since when no rule has known its screen
    # when the look began: what the pane showed then (its observation's time: a look that
    # waited for the reading thread or the store is not evidence of a later moment)
    captured_at: float | None = None
    sandbox: SandboxFailure | None = None  # its CLI's own line: its sandbox failed

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
        captured = self.service.clock.now()
        panes, retries = await loop.run_in_executor(
            self._executor, self._read_all, refs, chosen if logs else ()
        )
        self._retry.update(retries)
        now = self.service.clock.now()
        return [
            dataclasses.replace(self._classify(a, pane, now), captured_at=captured)
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
        failure = self._sandbox(agent, pane)
        return PaneReading(agent.id, pane, match, unknown_since=since, sandbox=failure)

    def _sandbox(self, agent: Agent, pane: PaneText) -> SandboxFailure | None:
        """The line of ``agent``'s own CLI (its rule file alone) saying its sandbox failed."""
        cli = self._cli(agent)
        chosen = [rs for rs in self.rule_sets if rs.cli == cli]
        return sandbox_failure(chosen[0], pane.lines) if chosen and pane.ok else None

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
    sandboxed = {agent for agent, kinds in open_kinds.items() if alerts.SANDBOX_FAILED in kinds}
    for reading in readings:
        obs = reading.observation(min(ctx.now, reading.captured_at or ctx.now))
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
        _flag_sandbox(conn, ctx, reading, reading.agent in sandboxed)
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
        reading.pane.gone or why_left(reading),
    )


def why_left(reading: PaneReading) -> str:
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


def _flag_sandbox(conn: Conn, ctx: Ctx, reading: PaneReading, flagged: bool) -> None:
    """Open the agent's ``sandbox-failed`` alert while its pane shows its CLI's own line
    saying its sandbox failed (the line, and what would allow it); clear it once it is gone."""
    if not reading.pane.ok or reading.failed is not None:
        return  # not read this time: no news either way
    agent, failure = reading.agent, reading.sandbox
    if failure is not None and not flagged:
        said = escape_controls(shorten(failure.line, 200))
        alerts.open_alert(conn, ctx, agent, alerts.SANDBOX_FAILED, (
            f"{agent}'s own sandbox failed: {said!r} ({failure.rule}); {failure.hint}"
        ), _current_task(conn, agent))  # fmt: skip
    elif flagged and failure is None:
        alerts.clear_alert(conn, ctx, agent, alerts.SANDBOX_FAILED,
                           f"{agent}'s pane no longer shows its sandbox failing")  # fmt: skip


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
