"""Tests of the running coordinator: the scheduler, its loop, reloads, stop, failover."""
