"""Tests of the event log: filters and retention."""
