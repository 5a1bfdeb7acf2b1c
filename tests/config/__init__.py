"""Tests of configuration: the agents file, the user config, the composition root, TOML."""
