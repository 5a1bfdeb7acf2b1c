"""A local Telegram Bot API to run and test python-telegram-bot bots against, unchanged:
``ApplicationBuilder().token(server.token).base_url(f"{server.url}/bot")``."""

from localtelegram.limits import GROUP_RATE, ApiError, RateLimit
from localtelegram.server import LocalTelegramServer, running
from localtelegram.webpage import ChatPage
from localtelegram.world import Chat, Message, User

__all__ = [
    "GROUP_RATE",
    "ApiError",
    "Chat",
    "ChatPage",
    "LocalTelegramServer",
    "Message",
    "RateLimit",
    "User",
    "running",
]
