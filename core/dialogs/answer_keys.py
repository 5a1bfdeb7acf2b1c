"""Typing a decided prompt's answer: which decided prompts still wait for their key, the
record that the key is about to be sent (``typing_at``, committed before it is), and the
record that it was typed (once: ``typed_at``), or why it was not.

A prompt seen in an agent's terminal text or on its screen is answered by typing the chosen
option's key into the agent's window (a hook's prompt is answered by the hook itself). Events:
``prompt.typed`` (the key went in; ``data.verified``: the prompt was seen to go away) and
``prompt.not_typed`` (it never will be: the prompt left before, or the driver could not).

A prompt with ``typing_at`` and no ``typed_at`` was being typed when its typist stopped (a
kill, a crash): the key may or may not have gone in, so it is never typed again; the typist
settles it by what the agent's window shows (``core.watch.text_signal``).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.agent_state import Signal
from core.context import Ctx
from core.dialogs import prompt_queries
from core.dialogs.permissions import Prompt, _row, get_prompt
from core.event_kinds import EventKind
from core.store.conn import Conn
from core.store.tables import insert_event

TYPED_SOURCES = (Signal.TEXT, Signal.SCREEN, Signal.PROTOCOL)  # answered by swarm (keys, or
# a protocol agent's request answered through its host)


def untyped(
    conn: Conn, agents: Sequence[str] | None = None, other_than: Sequence[str] = ()
) -> list[Prompt]:
    """Decided text, screen and protocol prompts whose key was not typed yet, oldest
    decision first: of ``agents`` (None: of any agent) but none of ``other_than``."""
    sources = [s.value for s in TYPED_SOURCES]
    rows = prompt_queries.untyped_rows(conn, sources, agents, other_than)
    return [_row(r) for r in rows]


def typing_state(conn: Conn, prompt_id: int) -> tuple[float | None, str]:
    """When the typing of prompt ``prompt_id``'s key began (None: it did not), and its keys."""
    row = prompt_queries.typing_row(conn, prompt_id)
    return (None, "") if row is None else (row.typing_at, row.typed_keys or "")


def begin_typing(conn: Conn, ctx: Ctx, prompt_id: int, keys: str) -> bool:
    """Record that ``keys`` are about to be sent for the decided prompt (before they are);
    False when its typing began or was settled already (by another writer)."""
    return prompt_queries.begin_typing(conn, prompt_id, keys, ctx.now)


def not_begun(conn: Conn, ctx: Ctx, prompt_id: int) -> None:
    """Forget a begun typing whose keys were not pressed (the driver deferred it)."""
    prompt_queries.forget_typing(conn, prompt_id)


def typed_state(conn: Conn, prompt_id: int) -> tuple[float | None, str, str]:
    """When prompt ``prompt_id``'s key was typed (None: not yet), the keys, and how it went."""
    row = prompt_queries.typed_row(conn, prompt_id)
    if row is None:
        return None, "", ""
    return row.typed_at, row.typed_keys or "", row.typed_result or ""


def mark_typed(
    conn: Conn,
    ctx: Ctx,
    prompt_id: int,
    keys: str,
    result: str,
    *,
    typed: bool,
    verified: bool = False,
) -> bool:
    """Record that the decided prompt's ``keys`` were typed (``typed``) or never will be, with
    ``result`` in words; False when it was recorded already (by another writer)."""
    prompt = get_prompt(conn, prompt_id)
    if not prompt_queries.mark_typed(conn, prompt_id, keys if typed else None, result, ctx.now):
        return False
    kind = EventKind.PROMPT_TYPED if typed else EventKind.PROMPT_NOT_TYPED
    text = (
        _answered(prompt, keys, result)
        if typed
        else f"{prompt.agent}'s prompt {prompt_id}: its answer was not typed: {result}"
    )
    insert_event(
        conn,
        ctx.now,
        kind,
        text,
        task_id=prompt.task_id,
        agent=prompt.agent,
        actor=ctx.actor,
        data={"prompt": prompt_id, "keys": keys, "verified": verified},
    )
    return True


def _answered(prompt: Prompt, keys: str, result: str) -> str:
    """What giving the decided answer did, in the words of the agent's route: a protocol
    agent's request is answered with its option (its label), a pane or window is typed
    into."""
    if prompt.source is Signal.PROTOCOL:
        label = next((o.label for o in prompt.options if o.key == keys), keys)
        return f"answered {prompt.agent}'s request (prompt {prompt.id}) with {label!r}: {result}"
    return f"typed {keys!r} into {prompt.agent}'s window for prompt {prompt.id}: {result}"
