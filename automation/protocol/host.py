"""The host process of one protocol agent: it starts the agent's CLI in its ACP mode (the ACP
Python SDK does the framing), opens or loads its session, and serves swarm on a Unix socket
(``core.hosts.wire``). It outlives ``swarm run`` and ``swarm node``: what the agent says while
swarm is away waits in the host's journal until swarm acknowledges it. Here are its turns,
sessions and permission requests (``Host``); its program is ``program``, its journal
``journal``, its socket ``server``.

One turn at a time: a prompt while a turn runs is refused as ``busy`` (swarm delivers it when
the turn ends). A prompt is accepted when the agent sent its first update of the turn, asked
a permission, or answered the request, or ``ACCEPT_S`` after it was sent (in flight); a
delivery id seen before is accepted again without sending it twice.
A permission request waits for swarm's ``answer`` (the option the person chose); a cancel
answers every waiting request ``cancelled``, as ACP asks of a client, sends the agent's
cancel at once, and answers once the turn ended: by the agent's answer, or, from an ACP
agent that has not answered within ``CANCEL_ANSWER_S``, by the host (its turn end says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from automation.protocol import running_usage
from automation.protocol.bad_lines import BAD_LINE_S, BadLines
from automation.protocol.journal import Journal
from core.hosts import wire
from core.hosts.entries import (
    Answer,
    Exited,
    HostError,
    PermissionAsked,
    PermissionDone,
    RequestOption,
    Session,
    Turn,
    TurnEnd,
    TurnError,
    Update,
)
from core.hosts.permission import options_of
from core.hosts.replies import Cancelled, Done, Failed, HostHello, Opened, Taken
from core.hosts.turns import Driver, Ended, TurnFailed
from core.privacy import files
from core.waits import Background, within

__all__ = ["BAD_LINE_S", "Host", "Journal"]
log = logging.getLogger(__name__)
# a prompt with no update nor answer this long is taken as accepted (in flight): its
# delivery is answered and its agent's lane is free (a withdrawal cancels the turn at once,
# not once a model silent this long has spoken)
ACCEPT_S = 1.0
CANCEL_ANSWER_S = 2.0  # a cancelled turn's end, waited for from the agent (then the host's)
OUTPUT_END_S = 1.0  # the agent closed its output: its exit is waited for this long
INPUT_END_S = 0.5  # at a stop, the agent's exit is waited for this long once its input ended
TERM_S = 5.0  # ... and this long after SIGTERM, before SIGKILL


class Host:
    """One agent's turn, its permission requests and its journal; the socket's requests and
    the driver's callbacks call it."""

    def __init__(self, agent: str, journal: Journal, cumulative_usage: bool = False) -> None:
        self.agent = agent
        self.journal = journal
        self.cumulative_usage = cumulative_usage  # a turn end's usage: its session's so far
        # a turn whose agent has not answered its cancel may be ended by the host: where its
        # late answer cannot be taken for the next turn's (ACP's, which names its request)
        self.ends_unanswered = False
        self.driver: Driver | None = None
        self.turn: asyncio.Task[None] | None = None
        self.delivery: int | None = None
        self.taken: set[int] = set()
        self.updates = 0  # updates of the current turn
        self.accepted = asyncio.Event()
        self.pending: dict[int, asyncio.Future[str | None]] = {}
        # the requests' numbers go on from this host's start (milliseconds): a host started
        # again on the same session (``session/load``) never reuses an earlier one's number,
        # which swarm took as a request it had seen (no prompt opened: the agent waited)
        self.asked = time.time_ns() // 1_000_000
        self.exit_code: int | None = None
        self.stopping = asyncio.Event()
        self._ending = False
        self.lost: str | None = None  # the saved session the open one replaced (not loaded)
        self.bad_lines = BadLines(agent, journal)
        self.ended_output: asyncio.subprocess.Process | None = None  # its output closed
        self._tasks = Background(f"host of {agent}")  # turns, their waits, output ends

    @property
    def session(self) -> str | None:
        """The agent's session now."""
        return self.driver.session if self.driver is not None else None

    # the agent's side (the driver's callbacks)

    async def ask(
        self, title: str, kind: str, tool: Any, options: Sequence[Mapping[str, str] | RequestOption]
    ) -> str | None:
        """A permission request: journaled, then answered with swarm's choice (an option's
        id; None: cancelled). Its options are read as the journal's (those swarm cannot
        answer left out)."""
        self.asked += 1
        number = self.asked
        request = f"{self.session}#{number}"
        self.accepted.set()  # a request of the turn: the agent took its prompt
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.pending[number] = future
        asked = PermissionAsked(
            request=request, delivery=self.delivery, title=title, kind=kind,
            tool=tool if isinstance(tool, Mapping) else {}, options=options_of(options),
        )  # fmt: skip
        self.journal.add(asked)
        try:
            chosen = await future
        finally:
            self.pending.pop(number, None)
        picked = next((o for o in asked.options if o.id == chosen), RequestOption(id=""))
        done = PermissionDone(request=request, option=chosen, name=picked.name, kind=picked.kind)
        self.journal.add(done)
        return chosen

    def on_update(self, kind: str, **words: Any) -> None:
        """One update of the agent's: journaled; the first of a turn accepts its prompt. One
        that comes while no turn runs is marked ``outside`` (a loaded session's history, which
        Gemini CLI replays after ``session/load``: no work of the agent's now)."""
        running = self.turn is not None and not self.turn.done()
        self.journal.add(Update(session=self.session, kind=kind, words=words, outside=not running))
        if running:
            self.updates += 1
            self.accepted.set()

    def on_bad_line(self, why: str) -> None:
        """A line the agent wrote that its protocol cannot take: an ``agent_error``
        (``BadLines``: at most one each ``BAD_LINE_S``); the connection goes on."""
        self.bad_lines.said(why)

    def on_output_end(self, process: asyncio.subprocess.Process) -> None:
        """The agent ``process`` closed its output: while it is the agent's process, a
        prompt can no longer be taken (``prompt`` says so); one that runs on is journaled
        as a host error (an exit is said by ``watch_exit``; a process the driver replaced,
        as Claude Code's for a session it could not resume, is none of these)."""
        self.ended_output = process
        self._tasks.start(self._said_output_end(process), name="host-output-end")

    @property
    def output_ended(self) -> bool:
        """Whether the agent's process now is one whose output ended."""
        process = self.driver.process if self.driver is not None else None
        return process is not None and process is self.ended_output

    async def _said_output_end(self, process: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await within(process.wait(), OUTPUT_END_S)
            return
        if not self.output_ended:
            return  # replaced meanwhile
        self.journal.add(HostError(message=(
            f"the agent closed its output but runs on (pid {process.pid}): nothing more can "
            "come from it (swarm desktop down, then up, starts it again)"
        )))  # fmt: skip

    def saved_session(self) -> str | None:
        """The session the host had before (to load it again), if any."""
        path = _session_file(self.journal.path)
        return path.read_text(encoding="utf-8").strip() or None if path.is_file() else None

    def session_spent(self, session: str) -> float:
        """``session``'s running total cost (Claude Code's) as its last turn's end said."""
        return running_usage.spent(self.journal.path, session)

    def on_session(self, session: str, loaded: bool, lost: str | None = None) -> None:
        """A session opened: kept for a restart of the host, journaled (``lost``: the
        session the host had, which the agent could not load or resume: its conversation
        is not in the new one)."""
        files.write_file(_session_file(self.journal.path), session.encode())
        self.lost = lost
        self.journal.add(Session(session=session, loaded=loaded, lost=lost or ""))

    @property
    def agent_pid(self) -> int | None:
        """The agent process's id (None: not started)."""
        process = self.driver.process if self.driver is not None else None
        return process.pid if process else None

    # swarm's side (the socket's requests)

    async def prompt(self, delivery: int, text: str) -> Taken | Failed:
        """Send a prompt; answer once the agent accepted it."""
        if delivery in self.taken:
            return Taken(again=True)
        if self.exit_code is not None:
            return Failed(reason=f"the agent exited ({self.exit_code})", gone=True)
        if self.output_ended:
            why = "the agent closed its output: nothing can reach it on its protocol"
            return Failed(reason=why, gone=True)
        if self.session is None:
            return Failed(reason="the agent's session is not open yet", busy=True)
        if self.turn is not None and not self.turn.done():
            return Failed(reason=f"a turn is running (delivery {self.delivery})", busy=True)
        self.taken.add(delivery)
        self.delivery, self.updates = delivery, 0
        self.accepted = asyncio.Event()
        self.journal.add(Turn(delivery=delivery, chars=len(text), text=text))
        self.turn = self._tasks.start(self._turn(delivery, text), name=f"turn {delivery}")
        waiting = self._tasks.start(self.accepted.wait(), name="turn-accepted")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait(
                {waiting, self.turn}, timeout=ACCEPT_S, return_when="FIRST_COMPLETED"
            )
        waiting.cancel()
        return Taken(updates=self.updates, ended=self.turn.done())

    async def _turn(self, delivery: int, text: str) -> None:
        assert self.driver is not None
        try:
            ended = await self.driver.prompt(text)
        except TurnFailed as exc:
            self.journal.add(TurnError(delivery=delivery, code=exc.code, message=str(exc),
                                       data=_jsonable(exc.data)))  # fmt: skip
            return
        except Exception as exc:  # the connection broke: the process is gone or talks nonsense
            self.journal.add(TurnError(delivery=delivery, message=repr(exc), has_data=False))
            return
        finally:
            self.accepted.set()
        usage, so_far = self._turn_usage(ended)
        end = TurnEnd(
            delivery=delivery,
            stop_reason=ended.stop_reason,
            usage=usage,
            cost_usd=ended.cost_usd,
            meta=_jsonable(ended.meta),
            session_usage=so_far,
        )
        self.journal.add(end)
        if so_far is not None and self.session is not None:
            running_usage.keep(self.journal.path, self.session, so_far)
        if self.session is not None and end.total_cost is not None:
            running_usage.keep_spent(self.journal.path, self.session, end.total_cost)

    def _turn_usage(self, ended: Ended) -> tuple[Any, Mapping[str, Any] | None]:
        """A turn end's usage, the turn's own: where the agent says its session's running
        total (``cumulative_usage``), what the turn added to it, with the total as said."""
        if not self.cumulative_usage or not isinstance(ended.usage, dict) or not self.session:
            return ended.usage, None
        before = running_usage.before(self.journal.path, self.session)
        usage = running_usage.turn_usage(ended.usage, before)
        return usage, ended.usage

    def answer(self, answer: Answer) -> Done | Failed:
        """Answer a waiting permission request with its option (None: cancelled)."""
        session, _, number = answer.request.rpartition("#")
        future = self.pending.get(int(number)) if number.isascii() and number.isdigit() else None
        if session != self.session or future is None or future.done():
            return Failed(reason=f"no permission request {answer.request} waits")
        future.set_result(answer.option)
        return Done()

    async def cancel(self) -> Cancelled:
        """Cancel the running turn: every waiting request is answered cancelled, the
        agent's cancel sent, and its turn's end waited for (``CANCEL_ANSWER_S``); one the
        agent has not ended by then is ended by the host where it can (``ends_unanswered``)."""
        self._cancel_requests()
        turn = self.turn
        if turn is None or turn.done() or self.driver is None:
            return Cancelled(running=False)
        self.accepted.set()  # the prompt's delivery is answered now, not at its window's end
        await self.driver.cancel()
        ended, _ = await asyncio.wait({turn}, timeout=CANCEL_ANSWER_S)
        if ended or not self.ends_unanswered or turn is not self.turn:
            return Cancelled(running=True)
        await self._end_unanswered(turn)
        return Cancelled(running=True, by_host=True)

    async def _end_unanswered(self, turn: asyncio.Task[None]) -> None:
        """End ``turn``, whose agent has not answered its cancel, as cancelled: the wait for
        the agent's answer given up (a late answer is dropped) and its end journaled."""
        delivery = self.delivery
        turn.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await turn
        if self.turn is not turn or not turn.cancelled():
            return  # it ended by itself meanwhile (its end is journaled)
        why = f"the agent did not answer its cancel within {CANCEL_ANSWER_S:g} s"
        log.warning("host %s: turn %s ended by the host: %s", self.agent, delivery, why)
        meta = {"ended_by": "host", "why": why}
        self.journal.add(TurnEnd(delivery=delivery, stop_reason="cancelled", meta=meta))

    def _cancel_requests(self) -> None:
        for future in list(self.pending.values()):
            if not future.done():
                future.set_result(None)

    async def new_session(self) -> Opened | Failed:
        """A new session (the agent's context cleared); refused while a turn runs."""
        if self.turn is not None and not self.turn.done():
            return Failed(reason=f"a turn is running (delivery {self.delivery})", busy=True)
        assert self.driver is not None
        await self.driver.new_session()
        return Opened(session=self.session)

    def hello(self) -> HostHello:
        """Who and where the host is."""
        return HostHello(
            agent=self.agent, pid=os.getpid(), agent_pid=self.agent_pid, session=self.session,
            busy=self.turn is not None and not self.turn.done(), delivery=self.delivery,
            seq=self.journal.seq, acked=self.journal.acked, exit_code=self.exit_code,
        )  # fmt: skip

    async def watch_exit(self) -> None:
        """Journal the agent's exit (the host stays, so swarm reads why, until stopped)."""
        assert self.driver is not None and self.driver.process is not None
        self.exit_code = await self.driver.process.wait()
        self._cancel_requests()
        self.journal.add(Exited(code=self.exit_code))

    async def stop(self) -> None:
        """End the agent, what it started, and this host (once)."""
        if self.stopping.is_set() or self._ending:
            return
        self._ending = True
        process = self.driver.process if self.driver is not None else None
        if process is not None and process.returncode is None:
            await _end_agent(process)
        _end_group()  # what the agent left (a wrapper's child) holds its output: ended first
        if self.driver is not None:
            await self.driver.close()
        self.stopping.set()


async def _end_agent(process: asyncio.subprocess.Process) -> None:
    """End the agent as its protocol does first: its input closed (ACP and stream-json agents
    exit at its end; Gemini CLI over ACP ignores SIGTERM), then SIGTERM, then SIGKILL."""
    steps = (_close_input, lambda p: p.terminate())
    for step, wait_s in zip(steps, (INPUT_END_S, TERM_S), strict=True):
        with contextlib.suppress(ProcessLookupError, OSError, RuntimeError):
            step(process)
        if await _exited(process, wait_s):
            return
    with contextlib.suppress(ProcessLookupError):
        process.kill()


async def _exited(process: asyncio.subprocess.Process, within_s: float) -> bool:
    """Whether the agent process exited within ``within_s``: its exit, not its output's end
    (Python 3.11's ``wait()`` waits for both, and a wrapper's child, as codex-acp's native
    binary under its npm wrapper, holds the output after the wrapper is gone)."""
    deadline = time.monotonic() + within_s
    while process.returncode is None and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return process.returncode is not None


def _close_input(process: asyncio.subprocess.Process) -> None:
    """The end of the agent's input (its protocol's stream)."""
    if process.stdin is not None:
        process.stdin.close()


def _end_group() -> None:
    """Terminate what the agent left in the host's process group (an npm wrapper's native
    binary outlives the wrapper); only where the host leads its group (``launch`` starts it
    in a session of its own). The host's own SIGTERM handler finds it ending already."""
    if os.getpgrp() == os.getpid():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgrp(), signal.SIGTERM)


def _session_file(journal: Path) -> Path:
    return journal.with_suffix(wire.SESSION_SUFFIX)  # as wire.session_path names it


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
