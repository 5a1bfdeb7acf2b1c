"""Logging for every entry point: set-up, redaction and the folding of repeats."""
