"""Telegram as a front end: its settings, posts, buttons, commands and bot (docs/telegram.md)."""
