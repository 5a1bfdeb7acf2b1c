"""A dialog in an agent's pane as a prompt (the TEXT signal: ``core.watch.text_signal``
reads and classifies the pane, this decides what its dialog opens or closes): a text prompt
opened for the one dialog at the input (the same prompt is not opened twice, nor one whose
answer is still to be typed), closed once it leaves the pane; or, when the agent's hook asks
about that dialog, the hook's prompt, its twin: one dialog, one item, answered through the
hook, closed when its dialog leaves the pane (answered in the terminal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.agent_state import AgentState, Signal
from core.context import Ctx
from core.dialogs import answer_keys as prompt_typing
from core.dialogs import permissions as prompts
from core.dialogs.permissions import Prompt
from core.formats.text import escape_controls, shorten
from core.models import PromptOption
from core.store import row_locks
from core.store.conn import Conn

HOOK_ASKS_S = 10.0  # a dialog this soon after the hook's tool call waits for the hook's prompt
TOOL_CALL = "hook: PreToolUse"  # the hook's evidence of a tool call about to run
HOOK_SETTLE_S = 15.0  # a hook prompt's dialog may stay in the pane this long after its answer
ANSWERED_IN_TERMINAL = "answered in the agent's terminal: its dialog left the pane"


@dataclass(frozen=True)
class PaneDialog:
    """What one look at an agent's pane says of its dialogs: ``shown``, the one dialog at
    its input (its text and options) if any; ``clear``: the pane was read and classified
    and shows no more than one dialog; ``left``: why an open text prompt of the agent is no
    longer the pane's."""

    agent: str
    target: str  # the pane (``session:window.pane``): a text prompt's session
    shown: tuple[str, tuple[PromptOption, ...]] | None
    clear: bool
    left: str


def same_prompt_text(text: str) -> str:
    """A prompt's text as ``prompts.open_prompt`` stores it (to compare with a stored one)."""
    return shorten(escape_controls(text.strip(), keep="\n"), prompts.PROMPT_TEXT_LIMIT)


# what an agent's hook said last (``core.agents._queries.HookWord``): its state, in words, when
HookWord = tuple[str, str, float]


def record_pane(
    conn: Conn,
    ctx: Ctx,
    seen: PaneDialog,
    hook_word: Callable[[], HookWord | None],
    task: Callable[[], int | None],
) -> None:
    """Open the prompt of the pane's dialog, or mark the hook's prompt of it seen; close the
    agent's text prompts that left the pane, and its hook prompt answered in the terminal.
    ``hook_word()``: the agent's hook observation on record (``state``, ``evidence``,
    ``at``), or None; ``task()``: the agent's task in hand."""
    keep = None
    shown = seen.shown
    if shown is not None:  # its hook's prompt of it, written at once elsewhere, comes first
        row_locks.hold_key(conn, "dialogs")
    answering = _answering(conn, seen.agent, shown[0]) if shown else None
    hooked = prompts.hook_prompt(conn, seen.agent, ctx.now, HOOK_SETTLE_S)
    if shown is not None and answering is None and hooked is not None:
        if hooked.open:  # the hook's own dialog: one item, answered through the hook
            prompts.pane_shows(conn, hooked.id, ctx.now)
    elif shown is not None and answering is None and _hook_asks_soon(conn, ctx, seen, hook_word):
        pass  # its hook's own prompt of this dialog is on its way: one item, the hook's
    elif shown is not None and answering is None:
        keep = prompts.open_prompt(
            conn, ctx, seen.agent, Signal.TEXT, shown[0], shown[1],
            task_id=task(), session=seen.target,
        ).id  # fmt: skip
    elif _answered_in_terminal(seen, hooked):
        assert hooked is not None
        prompts.close(conn, ctx, hooked.id, ANSWERED_IN_TERMINAL)
    for stale in prompts.open_prompts(conn, seen.agent):
        if stale.source is Signal.TEXT and stale.id != keep:
            prompts.close(conn, ctx, stale.id, seen.left)


def _hook_asks_soon(
    conn: Conn, ctx: Ctx, seen: PaneDialog, hook_word: Callable[[], HookWord | None]
) -> bool:
    """Whether the agent's hook said a tool call began less than ``HOOK_ASKS_S`` ago and no
    prompt of the pane's dialog is open yet: the CLI draws its dialog while its
    ``PermissionRequest`` hook starts, and under load the pane is read first (with 32 real
    CLIs, 7 of 61 dialogs became two items so)."""
    said = hook_word()
    if said is None:
        return False
    state, evidence, at = said
    if state != AgentState.WORKING.value:
        return False
    if not evidence.startswith(TOOL_CALL) or at < ctx.now - HOOK_ASKS_S:
        return False
    assert seen.shown is not None
    text = prompts.stored_text(seen.shown[0])
    return not any(p.source is Signal.TEXT and p.text == text
                   for p in prompts.open_prompts(conn, seen.agent))  # fmt: skip


def _answered_in_terminal(seen: PaneDialog, hooked: Prompt | None) -> bool:
    """The open hook prompt's dialog was in the pane and has left it (the pane read, with no
    dialog): someone answered it in the agent's terminal."""
    return (
        hooked is not None
        and hooked.open
        and hooked.pane_seen_at is not None
        and seen.shown is None
        and seen.clear
    )


def _answering(conn: Conn, agent: str, text: str) -> int | None:
    """The decided prompt of ``agent`` with this text whose key is still to be typed: the
    pane shows it until then, and it is not a new prompt."""
    same = same_prompt_text(text)
    for prompt in prompt_typing.untyped(conn, [agent]):
        if prompt.source is Signal.TEXT and prompt.text == same:
            return prompt.id
    return None
