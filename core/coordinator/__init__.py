"""The long-running loops: ``scheduler`` (the one timer loop and its delivery worker),
``jobs`` (its periodic work), ``node`` (a desktop's delivery node on PostgreSQL), ``changes``
(other processes' writes heard through LISTEN) and ``home_lock`` (one coordinator per
``SWARM_HOME``).

The top layer of ``core``: it may import every other package of it.
"""
