"""What the presses, commands and replies share: the service, the settings, the front end,
who is acting and whether they may decide (audited either way; a refusal is an
``access.refused`` event with the Telegram user id)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update, User
from telegram.ext import ContextTypes

from bot.telegram.front_end import TelegramFrontEnd
from bot.telegram.settings import TelegramSettings
from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
REFUSED = "Only swarm admins decide here: ask one to add your Telegram id."


def actor(user: User) -> str:
    """How a Telegram user is named in events: ``telegram:<username>`` (else the id)."""
    return f"telegram:{user.username or user.id}"


@dataclass
class Desk:
    """The bot's side of each update."""

    service: SwarmService
    settings: TelegramSettings
    front: TelegramFrontEnd

    def ours(self, update: Update) -> bool:
        """True for an update of the configured chat from a person (not a bot: the bot never
        acts on text a bot or an agent wrote); others are ignored."""
        chat = update.effective_chat
        user = update.effective_user
        return (
            chat is not None
            and chat.id == self.settings.chat_id
            and user is not None
            and not user.is_bot
        )

    async def allowed(self, user: User, what: str) -> bool:
        """Whether ``user`` may do ``what`` (a swarm admin); audited, a refusal recorded as
        ``access.refused`` with their Telegram user id."""
        if user.id in self.settings.admin_ids:
            await self.service.history.audit(user.id, actor(user), what, True)
            return True
        log.warning("telegram: refused %s for %s (%s)", what, actor(user), user.id)
        await self.service.history.refused(
            actor(user), None, what, "not a swarm admin on Telegram", str(user.id)
        )
        return False

    async def refuse_in_reply(self, message: Message) -> None:
        """The one line a refused command or reply gets."""
        await message.reply_text(REFUSED)
