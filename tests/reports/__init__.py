"""Tests of reports: charts and stats."""
