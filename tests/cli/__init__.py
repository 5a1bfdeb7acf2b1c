"""Tests of the ``swarm`` command line, in real child processes."""
