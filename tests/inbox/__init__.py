"""Tests of the needs-you queue."""
