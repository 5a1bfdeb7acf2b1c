"""Tests of agents' questions and people's answers."""
