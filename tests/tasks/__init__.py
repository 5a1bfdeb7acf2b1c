"""Tests of the task graph: lifecycle, actions, edits, text taken in, the hot path."""
