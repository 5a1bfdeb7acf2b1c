"""Agents ask about their task and people answer."""
