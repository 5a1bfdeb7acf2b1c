"""The Bot API methods a bot calls (``/bot<token>/<method>``), as documented at
https://core.telegram.org/bots/api: each takes the request's parameters and returns the
``result`` of ``{"ok": true, "result": ...}``, or raises the ApiError Telegram answers."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from localtelegram.limits import ApiError
from localtelegram.markup import EntityError, plain_text
from localtelegram.params import Params
from localtelegram.world import Chat, Message, auto_entities, utf16_len

if TYPE_CHECKING:
    from localtelegram.server import LocalTelegramServer

TEXT_LIMIT = 4096  # characters of a message's text (UTF-16 code units), after parsing
CALLBACK_DATA_LIMIT = 64  # bytes of a button's callback_data
Method = Callable[["LocalTelegramServer", Params], Awaitable[Any]]


async def get_me(server: LocalTelegramServer, params: Params) -> Any:
    """``getMe``: the bot's own user, with what it may do."""
    return server.bot_user.to_api() | {
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


async def get_updates(server: LocalTelegramServer, params: Params) -> Any:
    """``getUpdates``: long polling from ``offset``, up to ``timeout`` seconds."""
    offset = params.int("offset", 0)
    limit = min(max(params.int("limit", 100), 1), 100)
    timeout_s = min(max(params.int("timeout", 0), 0), 50)
    return await server.poll(offset, limit, float(timeout_s))


async def delete_webhook(server: LocalTelegramServer, params: Params) -> Any:
    """``deleteWebhook``: there is none; ``drop_pending_updates`` forgets the queue."""
    if str(params.raw.get("drop_pending_updates", "")).lower() == "true":
        server.updates.pending.clear()
    return True


async def send_message(server: LocalTelegramServer, params: Params) -> Any:
    """``sendMessage``: a message from the bot, maybe a reply, maybe with buttons."""
    chat = server.chat(params.int("chat_id"))
    reply_to = _replied(chat, params)
    text, html, entities = _text(params)
    markup = _markup(params)
    server.limits.take(chat.id)
    message = server.add_message(chat, server.bot_user, text, html=html, entities=entities)
    message.reply_to, message.reply_markup = reply_to, markup
    return message.to_api()


async def edit_message_text(server: LocalTelegramServer, params: Params) -> Any:
    """``editMessageText``: the bot's message shows new text (and buttons, or none)."""
    message = _own_message(server, params, "edit")
    text, html, entities = _text(params)
    markup = _markup(params)
    if (text, html, markup) == (message.text, message.html, message.reply_markup):
        raise ApiError(
            400,
            "Bad Request: message is not modified: specified new message content and "
            "reply markup are exactly the same as a current content and reply markup "
            "of the message",
        )
    server.limits.take(message.chat.id)
    message.text, message.html, message.entities = text, html, entities
    message.reply_markup = markup
    _edited(server, message)
    return message.to_api()


async def edit_message_reply_markup(server: LocalTelegramServer, params: Params) -> Any:
    """``editMessageReplyMarkup``: the bot's message's buttons replaced (or removed)."""
    message = _own_message(server, params, "edit")
    markup = _markup(params)
    if markup == message.reply_markup:
        raise ApiError(
            400,
            "Bad Request: message is not modified: specified new message content and "
            "reply markup are exactly the same as a current content and reply markup "
            "of the message",
        )
    server.limits.take(message.chat.id)
    message.reply_markup = markup
    _edited(server, message)
    return message.to_api()


async def delete_message(server: LocalTelegramServer, params: Params) -> Any:
    """``deleteMessage``."""
    message = _own_message(server, params, "delete")
    del message.chat.messages[message.message_id]
    server.changed()
    return True


async def answer_callback_query(server: LocalTelegramServer, params: Params) -> Any:
    """``answerCallbackQuery``: the press answered, once (its text a toast)."""
    query_id = params.text("callback_query_id")
    if query_id not in server.queries or query_id in server.answers:
        raise ApiError(
            400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
        )
    server.answers[query_id] = params.text("text", "")
    server.changed()
    return True


async def set_my_commands(server: LocalTelegramServer, params: Params) -> Any:
    """``setMyCommands``: the command list a person's client offers."""
    commands = params.object("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError(400, "Bad Request: commands must be a list of at most 100")
    for command in commands:
        name = str(command.get("command", "")) if isinstance(command, dict) else ""
        if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    server.commands = [{"command": c["command"], "description": c["description"]} for c in commands]
    return True


async def get_my_commands(server: LocalTelegramServer, params: Params) -> Any:
    """``getMyCommands``."""
    return server.commands


def _text(params: Params) -> tuple[str, str | None, list[dict[str, Any]]]:
    """The plain text, the HTML it came as (None: no parse mode), its entities."""
    raw = params.text("text")
    mode = params.text("parse_mode", "")
    html: str | None = None
    if mode.lower() == "html":
        try:
            text, html = plain_text(raw), raw
        except EntityError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    elif mode:
        raise ApiError(400, f"Bad Request: unsupported parse_mode {mode!r} (local: HTML only)")
    else:
        text = raw
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise ApiError(400, "Bad Request: message is too long")
    return text, html, auto_entities(text)


def _markup(params: Params) -> dict[str, Any] | None:
    """An inline keyboard, checked as Telegram checks it (None: no buttons)."""
    markup = params.object("reply_markup")
    if markup is None:
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        raise ApiError(400, "Bad Request: local Telegram supports inline keyboards only")
    for row in rows:
        for button in row:
            data = button.get("callback_data")
            if not button.get("text") or (data is None and "url" not in button):
                raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
            if data is not None and not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup if any(rows) else None


def _replied(chat: Chat, params: Params) -> Message | None:
    """The message replied to (``reply_parameters`` or ``reply_to_message_id``)."""
    wanted = params.object("reply_parameters") or {}
    message_id = wanted.get("message_id") if isinstance(wanted, dict) else None
    message_id = message_id or params.int("reply_to_message_id", 0)
    if not message_id:
        return None
    found = chat.messages.get(int(message_id))
    lenient = isinstance(wanted, dict) and wanted.get("allow_sending_without_reply")
    if found is None and not lenient:
        raise ApiError(400, "Bad Request: message to be replied not found")
    return found


def _own_message(server: LocalTelegramServer, params: Params, what: str) -> Message:
    """The message named by ``chat_id`` and ``message_id``, which the bot may change."""
    chat = server.chat(params.int("chat_id"))
    message = chat.messages.get(params.int("message_id"))
    if message is None:
        raise ApiError(400, f"Bad Request: message to {what} not found")
    if what == "edit" and message.sender is not server.bot_user:
        raise ApiError(400, "Bad Request: message can't be edited")
    return message


def _edited(server: LocalTelegramServer, message: Message) -> None:
    message.edit_date = int(time.time())
    message.edits += 1
    server.changed()


METHODS: dict[str, Method] = {
    "getme": get_me,
    "getupdates": get_updates,
    "deletewebhook": delete_webhook,
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback_query,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
}
