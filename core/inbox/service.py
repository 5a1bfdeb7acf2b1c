"""What needs a person, as the front ends ask for it (``service.inbox``): the open items,
one item, and the answers (reply, approve, reject, act, decide a prompt).

``core.inbox.needs`` and ``actions`` load plans and workflows: they are imported by the
call that needs them, so a command that never reads the inbox does not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.dialogs import permissions as prompts
from core.inbox import actions, needs
from core.store.access import StoreAccess

if TYPE_CHECKING:
    from core.dialogs.permissions import Prompt
    from core.inbox.needs import Answered, Need
    from core.questions import Question


class InboxBook:
    """The "Needs you" queue and its answers (``service.inbox``)."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    async def needs(self) -> list[Need]:
        """Open questions, prompts, gates, draft plans, held items, open alerts, ready tasks
        no configured agent can take and tasks held by a limited agent, oldest first."""

        return await self.access.read(needs.needs, False, self.access.ctx("swarm"))

    async def item(self, ref: str) -> Need:
        """One item with its whole text (a prompt also once decided or closed)."""

        return await self.access.read(needs.show, ref, self.access.ctx("swarm"))

    async def reply(self, ref: str, text: str, actor: str) -> Question:
        """Answer question ``Q-3`` (or task ``T-3``'s oldest open question)."""

        return await self.access.write(actor, needs.reply, ref, text)

    async def approve(
        self, ref: str, actor: str, option: str | None = None, note: str = ""
    ) -> Answered:
        """Approve a gate (``T-12``) or a plan (``P-3``), or choose a prompt's (``R-7``)
        first option or ``option``."""

        return await self.access.write(actor, needs.approve, ref, option, note)

    async def reject(
        self, ref: str, actor: str, option: str | None = None, note: str = ""
    ) -> Answered:
        """Reject a gate or a plan, or choose a prompt's last option (or ``option``)."""

        return await self.access.write(actor, needs.reject, ref, option, note)

    async def act(
        self,
        ref: str,
        action: str,
        actor: str,
        agent: str | None = None,
        dollars: float | None = None,
    ) -> Answered:
        """Retry or dismiss a failed delivery (``D-5``); hand on, reassign (to ``agent``),
        nudge or cancel the task of a stalled or limited agent, or a stranded task; raise
        a spent budget (to ``dollars``) or cancel what it covers (``core/inbox/actions.py``)."""

        return await self.access.write(actor, actions.act, ref, action, agent, dollars)

    async def decide_prompt(self, prompt_id: int, key: str, actor: str) -> Answered:
        """Choose option ``key`` of an open prompt, once (InvalidState names who decided)."""

        return await self.access.write(actor, needs.decide_prompt, prompt_id, key)

    async def prompt(self, prompt_id: int) -> Prompt:
        """One permission prompt, open, decided or closed."""
        return await self.access.read(prompts.get_prompt, prompt_id)
