"""Watching the swarm: screen activity, stalls, nudges, alerts, and the periodic jobs.

Import the submodules directly (``core.watch.rules``, ``core.watch.jobs``...): this package
stays empty so that ``core.service.swarm`` can read alerts without loading APScheduler.
"""
