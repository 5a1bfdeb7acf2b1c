"""Swarm's state is its owner's alone: private files and credentials redacted."""
