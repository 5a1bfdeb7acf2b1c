"""Tests of permission prompts: what they show, and hooks that can no longer answer."""
