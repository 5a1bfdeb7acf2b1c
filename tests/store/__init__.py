"""Tests of the databases: set-up, errors, the protocol, races, concurrency, a full disk."""
