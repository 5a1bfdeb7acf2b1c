"""The Discord adapter: slash commands, buttons, the notifier (imports discord.py)."""
