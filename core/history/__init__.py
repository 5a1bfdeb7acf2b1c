"""The event log: queries over it, and retention to a compressed archive."""
