"""Telegram as the notifier's front end (``core.coordinator.front_end.FrontEnd``): each item a
message of the configured chat in the HTML parse mode, with its inline buttons; a task's
lines are replies to its card (its "thread" is the card's message id); an edit that Telegram
finds unchanged is no error. The notifier in core decides what is posted when."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.telegram.markup import MESSAGE_LIMIT
from bot.telegram.render import Shown, shown
from bot.telegram.settings import FRONT_END
from core.coordinator.front_end import Failure, Item
from core.formats.text import one_line, shorten
from core.models import Event, Task
from core.posts.queries import Post

GONE = ("message to edit not found", "message to be replied not found", "message to delete")
UNCHANGED = "message is not modified"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(message: Shown) -> InlineKeyboardMarkup | None:
    """The message's buttons as an inline keyboard (None: no buttons)."""
    if not message.rows:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(text, callback_data=data) for text, data in row]
            for row in message.rows
        ]
    )


def telegram_failure(exc: BaseException) -> Failure | None:
    """Gone (the message was deleted), refused for good (no access, a bad token, a payload
    Telegram refuses), for now (flood control, the network, Telegram's own errors)."""
    if not isinstance(exc, TelegramError):
        return None
    if isinstance(exc, RetryAfter | TimedOut | Conflict):
        return Failure.transient
    if isinstance(exc, BadRequest) and any(g in exc.message.lower() for g in GONE):
        return Failure.gone
    if isinstance(exc, Forbidden | InvalidToken | ChatMigrated | BadRequest):
        return Failure.refused
    if isinstance(exc, NetworkError):
        return Failure.transient
    return Failure.refused


def describe(exc: BaseException) -> str:
    """``BadRequest: Message to edit not found``, ``Forbidden: bot was kicked ...``."""
    return shorten(one_line(f"{type(exc).__name__}: {exc}"), 300)


class TelegramFrontEnd:
    """The notifier's posts as messages of ``chat_id`` sent by ``bot``."""

    name = FRONT_END
    text_limit = MESSAGE_LIMIT - 200  # the lines of one post, with room for escapes

    def __init__(self, bot: Bot, chat_id: int) -> None:
        self.bot = bot
        self.chat_id = chat_id

    def shown(self, item: Item) -> str:
        """What ``item``'s message shows: its text and its buttons."""
        return shown(item).key

    async def send(self, item: Item, thread: str | None = None) -> str:
        """Post ``item`` in the chat (``thread``: as a reply to that message, the card)."""
        message = shown(item)
        reply = ReplyParameters(int(thread)) if thread else None
        sent = await self.bot.send_message(
            self.chat_id,
            message.html,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(message),
            reply_parameters=reply,
            link_preview_options=NO_PREVIEW,
        )
        return str(sent.message_id)

    async def edit(self, post: Post, item: Item) -> None:
        """Show ``item`` in the message of ``post`` (its buttons replaced, or gone)."""
        await self.show_in(int(post.message_id), shown(item))

    async def show_in(self, message_id: int, message: Shown) -> None:
        """Edit the message ``message_id`` to show ``message``; unchanged is no error."""
        try:
            await self.bot.edit_message_text(
                message.html,
                self.chat_id,
                message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message),
                link_preview_options=NO_PREVIEW,
            )
        except BadRequest as exc:
            if UNCHANGED not in exc.message.lower():
                raise

    async def open_thread(self, post: Post, task: Task) -> str:
        """A task's lines reply to its card: the card's message is its thread."""
        return post.message_id

    def failure(self, exc: BaseException) -> Failure | None:
        """How a request to Telegram failed."""
        return telegram_failure(exc)

    def describe(self, exc: BaseException) -> str:
        """One line for ``exc``."""
        return describe(exc)

    async def seen(self, events: Sequence[Event]) -> None:
        """Nothing: Telegram has no campaign messages."""
