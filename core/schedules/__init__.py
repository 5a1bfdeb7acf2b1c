"""Recurring work on a cron expression or an interval: prompts, summaries."""
