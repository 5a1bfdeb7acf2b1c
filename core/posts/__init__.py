"""The front ends' live posts (one message per task), their cursor, and the Discord
notifier's loops' health (``health``)."""
