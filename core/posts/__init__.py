"""The front ends' live posts (one message per task), their cursors, what each
``SWARM_NOTIFY`` level shows (``notify``) and the notifier's loops' health (``health``).
The loop that posts them is ``core/coordinator/notifier.py``."""
