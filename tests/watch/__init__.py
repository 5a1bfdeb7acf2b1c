"""Tests of the watcher: stalls, nudges, alerts, schedules, stats and exports."""
