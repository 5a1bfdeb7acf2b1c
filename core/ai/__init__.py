"""Calls to an OpenAI-compatible model: settings (``core.ai.settings``), a recording client
(``core.ai.client``), usage and cost (``core.ai.usage``), errors (``core.ai.errors``).

Nothing is imported here, so reading the AI settings' declarations (every command that checks
a user config file) does not import the client; ``openai`` is imported only when a call is
made.
"""
