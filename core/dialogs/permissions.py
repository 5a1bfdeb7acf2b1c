"""Permission prompts: an agent asks a person to choose (allow once, always, deny ...).

A prompt comes from the agent's hook (Claude Code's ``PermissionRequest``: the hook waits for
the decision and returns it), its terminal's text or its screen (the decision is then typed
into its window). It is decided once, by one person (a second decision is refused, naming
who decided), or closed without a decision when the agent moved on or the wait ran out.
Events: ``prompt.opened``, ``prompt.decided``, ``prompt.closed``.

A prompt's text is kept whole (what a person approves is what runs); the front ends show its
head and its tail with a mark of what was cut between them (``Prompt.shown``). A hook's prompt
records the process waiting for it (``HookProcess``) and the end of its wait (``expires_at``),
so the coordinator can close it when that process is gone or the wait is long over.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.agent_state import Signal
from core.context import Ctx
from core.dialogs import prompt_queries
from core.dialogs.prompt_queries import PromptRow
from core.errors import InvalidInput, InvalidState, NotFound
from core.event_kinds import EventKind
from core.formats.text import escape_controls, head_tail
from core.models import ALLOW_ALWAYS, ALLOW_ONCE, REJECT_ALWAYS, REJECT_ONCE, PromptOption
from core.store.conn import Conn
from core.store.tables import insert_event

PROMPT_TEXT_LIMIT = 1_000_000  # characters of a prompt's text kept (a longer request opens none)
EVENT_CUT = " […{cut:,} characters cut…] "  # in an event's one line
PERMISSION = "permission"  # the kind of a tool-permission prompt
OPTIONS_MAX = 16  # options of one prompt kept (the rest dropped, and said in its text)


def bounded(options: Sequence[PromptOption]) -> tuple[tuple[PromptOption, ...], int]:
    """At most ``OPTIONS_MAX`` of ``options`` (labels within ``LABEL_MAX``), and how many
    were dropped."""
    kept = tuple(PromptOption.of(o.key, o.label, o.kind) for o in options[:OPTIONS_MAX])
    return kept, max(0, len(options) - OPTIONS_MAX)


def choice(options: Sequence[PromptOption], kinds: Sequence[str]) -> PromptOption | None:
    """The first option of the first of ``kinds`` any has (None: none has one)."""
    for kind in kinds:
        for option in options:
            if option.kind == kind:
                return option
    return None


@dataclass(frozen=True)
class HookProcess:
    """The ``swarm hook`` process waiting for a prompt's decision: where it runs (``host``,
    its pid namespace ``pidns``) and which process it is (``pid`` and its start time
    ``started``, so a pid the kernel gave to another process is not taken for it)."""

    host: str
    pid: int
    started: str
    pidns: str = ""

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}"


@dataclass(frozen=True)
class Prompt:
    """One prompt of one agent, open, decided or closed."""

    id: int
    agent: str
    task_id: int | None
    source: Signal
    kind: str
    text: str
    options: tuple[PromptOption, ...]
    session: str | None
    opened_at: float
    decided_at: float | None = None
    decision: str | None = None
    decided_by: str | None = None
    closed_at: float | None = None
    closed_why: str | None = None
    hook: HookProcess | None = None
    expires_at: float | None = None
    pane_seen_at: float | None = None  # a hook's prompt: when its dialog was in the pane

    @property
    def open(self) -> bool:
        """Neither decided nor closed."""
        return self.decided_at is None and self.closed_at is None

    def option(self, key: str) -> PromptOption:
        """The option ``key`` (case-blind); InvalidInput naming the options otherwise."""
        for opt in self.options:
            if opt.key.lower() == key.strip().lower():
                return opt
        keys = ", ".join(o.key for o in self.options)
        raise InvalidInput(f"prompt {self.id} has no option {key!r}: choose one of {keys}")

    def approving(self) -> PromptOption | None:
        """The narrowest option that allows (once before always); None: none allows."""
        return choice(self.options, (ALLOW_ONCE, ALLOW_ALWAYS))

    def rejecting(self) -> PromptOption | None:
        """The option that rejects (once before always, never one that allows); None: none."""
        return choice(self.options, (REJECT_ONCE, REJECT_ALWAYS))

    def shown(self, limit: int, more: str = "") -> str:
        """The text in at most ``limit`` characters: whole, or its head and tail with a line
        between them saying how much was cut (``more``: where to see it all)."""
        return head_tail(self.text, limit, more)

    def to_json(self) -> dict[str, Any]:
        """A plain dict (``swarm inbox --json``, the dashboard, the REST API)."""
        return {
            "id": self.id,
            "agent": self.agent,
            "task_id": self.task_id,
            "source": self.source.value,
            "kind": self.kind,
            "text": self.text,
            "options": [o.to_json() for o in self.options],
            "opened_at": self.opened_at,
            "decided_at": self.decided_at,
            "decision": self.decision,
            "decided_by": self.decided_by,
            "closed_at": self.closed_at,
            "closed_why": self.closed_why,
            "length": len(self.text),
            "hook": None if self.hook is None else {"host": self.hook.host, "pid": self.hook.pid},
            "expires_at": self.expires_at,
        }


def _row(row: PromptRow) -> Prompt:
    options = tuple(
        PromptOption.of(str(o["key"]), str(o["label"]), o.get("kind"))
        for o in json.loads(row.options)
    )
    return Prompt(
        id=int(row.id),
        agent=row.agent,
        task_id=row.task_id,
        source=Signal(row.source),
        kind=row.kind,
        text=row.text,
        options=options,
        session=row.session,
        opened_at=float(row.opened_at),
        decided_at=row.decided_at,
        decision=row.decision,
        decided_by=row.decided_by,
        closed_at=row.closed_at,
        closed_why=row.closed_why,
        hook=_hook(row),
        expires_at=row.expires_at,
        pane_seen_at=row.pane_seen_at,
    )


def _hook(row: PromptRow) -> HookProcess | None:
    if row.hook_pid is None:
        return None
    return HookProcess(
        row.hook_host or "",
        int(row.hook_pid),
        row.hook_start or "",
        row.hook_pidns or "",
    )


def get_prompt(conn: Conn, prompt_id: int) -> Prompt:
    """Prompt ``prompt_id``; NotFound otherwise."""
    row = prompt_queries.by_id(conn, prompt_id)
    if row is None:
        raise NotFound(f"no prompt {prompt_id}")
    return _row(row)


def open_prompts(conn: Conn, agent: str | None = None) -> list[Prompt]:
    """Prompts still open (of one agent, or all), oldest first."""
    return [_row(r) for r in prompt_queries.open_rows(conn, agent)]


def oldest_open_rows(conn: Conn) -> dict[str, PromptRow]:
    """agent -> the row of its oldest open prompt (``prompt_of`` reads it: one agent's row
    that cannot be read spoils no other's)."""
    oldest: dict[str, PromptRow] = {}
    for row in prompt_queries.open_rows(conn):  # oldest first
        oldest.setdefault(row.agent, row)
    return oldest


def prompt_of(row: PromptRow) -> Prompt:
    """A stored prompt's row as a prompt."""
    return _row(row)


def escaped(text: str) -> str:
    """``text`` stripped, its control characters escaped (line breaks kept)."""
    return escape_controls(text.strip(), keep="\n")


def stored_text(text: str) -> str:
    """A prompt's text as ``open_prompt`` stores it: ``escaped``, at most
    ``PROMPT_TEXT_LIMIT`` characters (head and tail)."""
    return head_tail(escaped(text), PROMPT_TEXT_LIMIT)


def open_prompt(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    source: Signal,
    text: str,
    options: Sequence[PromptOption],
    *,
    kind: str = PERMISSION,
    task_id: int | None = None,
    session: str | None = None,
    hook: HookProcess | None = None,
    expires_at: float | None = None,
    quiet: bool = False,
) -> Prompt:
    """Record a prompt ``agent`` shows; the same open prompt (same text, and the same hook
    process waiting for it) again is not new. ``hook``: the process waiting for the
    decision; ``expires_at``: when its wait ends; ``quiet``: no ``prompt.opened`` (swarm
    answers it itself)."""
    if not options:
        raise InvalidInput("a prompt needs at least one option")
    options, dropped = bounded(options)
    if dropped:
        text += f"\n({dropped} more option(s) the agent gave are not shown: at most {OPTIONS_MAX})"
    text = stored_text(text)
    for same in open_prompts(conn, agent):
        if same.text == text and same.source is source and same.hook == hook:
            return same
    prompt_id = prompt_queries.insert(
        conn,
        (
            agent,
            task_id,
            source.value,
            kind,
            text,
            json.dumps([o.to_json() for o in options]),
            session,
            ctx.now,
            *((hook.host, hook.pid, hook.started, hook.pidns) if hook else (None,) * 4),
            expires_at,
        ),
    )
    if quiet:
        return get_prompt(conn, prompt_id)
    insert_event(
        conn,
        ctx.now,
        EventKind.PROMPT_OPENED,
        f"{agent} asks: {head_tail(text, 200, mark=EVENT_CUT)}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={"prompt": prompt_id, "source": source.value, "kind": kind},
    )
    return get_prompt(conn, prompt_id)


def decide(conn: Conn, ctx: Ctx, prompt_id: int, key: str) -> Prompt:
    """Choose option ``key`` of an open prompt, as ``ctx.actor``; once only."""
    prompt = get_prompt(conn, prompt_id)
    if prompt.decided_at is not None:  # before the key: a late press hears who decided
        raise InvalidState(
            f"prompt {prompt_id} was already answered {prompt.decision!r} by {prompt.decided_by}"
        )
    if prompt.closed_at is not None:
        raise InvalidState(f"prompt {prompt_id} is closed: {prompt.closed_why}")
    option = prompt.option(key)
    if not prompt_queries.decide(conn, prompt_id, option.key, ctx.actor, ctx.now):
        # decided by another writer in between
        return decide(conn, ctx, prompt_id, key)
    insert_event(
        conn,
        ctx.now,
        EventKind.PROMPT_DECIDED,
        f"{ctx.actor} chose {option.label!r} for {prompt.agent}'s prompt {prompt_id}",
        task_id=prompt.task_id,
        agent=prompt.agent,
        actor=ctx.actor,
        data={"prompt": prompt_id, "decision": option.key},
    )
    return get_prompt(conn, prompt_id)


def close(conn: Conn, ctx: Ctx, prompt_id: int, why: str) -> Prompt:
    """Close an open prompt without a decision (the agent moved on, the wait ran out)."""
    close_if_open(conn, ctx, prompt_id, why)
    return get_prompt(conn, prompt_id)


def close_if_open(conn: Conn, ctx: Ctx, prompt_id: int, why: str) -> Prompt | None:
    """Close prompt ``prompt_id`` if it is still open; the prompt as it was when this closed
    it, None when it was decided or closed already (by another writer in between)."""
    prompt = get_prompt(conn, prompt_id)
    return prompt if prompt.open and _close(conn, ctx, prompt, why) else None


def _close(conn: Conn, ctx: Ctx, prompt: Prompt, why: str) -> bool:
    prompt_id = prompt.id
    if not prompt_queries.close(conn, prompt_id, why, ctx.now):
        # decided or closed by another writer in between
        return False
    insert_event(
        conn,
        ctx.now,
        EventKind.PROMPT_CLOSED,
        f"{prompt.agent}'s prompt {prompt_id} closed: {why}",
        task_id=prompt.task_id,
        agent=prompt.agent,
        actor=ctx.actor,
        data={"prompt": prompt_id},
    )
    return True


def pane_shows(conn: Conn, prompt_id: int, at: float) -> None:
    """The agent's pane shows the dialog of hook prompt ``prompt_id`` (first seen ``at``)."""
    prompt_queries.pane_seen(conn, prompt_id, at)


def hook_prompt(conn: Conn, agent: str, now: float, settle_s: float) -> Prompt | None:
    """The hook prompt of ``agent`` that a dialog in its pane belongs to: the open one (the
    oldest), else one decided or closed less than ``settle_s`` ago (its dialog is still
    leaving the pane); None when there is none."""
    row = prompt_queries.hook_row(conn, agent, Signal.HOOK.value, now - settle_s)
    return None if row is None else _row(row)


def waiting_hooks(conn: Conn) -> list[Prompt]:
    """The open prompts a hook process waits for (or that have a deadline), oldest first."""
    return [p for p in open_prompts(conn) if p.hook is not None or p.expires_at is not None]
