"""File reservations: patterns, rows, reserving and releasing, the service."""
