"""Slack as a front end: the notifier's posts in one channel, buttons and a ``/swarm`` command
over Socket Mode (slack-bolt), decisions by the configured admins only."""
