"""Tests against the real agent CLIs (skipped when a CLI is not installed)."""
