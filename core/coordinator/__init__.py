"""The long-running loops: ``scheduler`` (the one timer loop and its delivery worker),
``jobs`` (its periodic work), ``node`` (a desktop's delivery node on PostgreSQL), ``changes``
(other processes' writes heard through LISTEN), ``home_lock`` (one coordinator per
``SWARM_HOME``), ``db_lock`` (one per PostgreSQL database, and who runs a store's) and
``notifier`` (the posts of each front end, which plugs in as a ``front_end.FrontEnd``),
``retention`` (old history archived, then deleted: each owner's statements).

In ``core``'s top tier (the loops): it may import every other package of ``core``.
"""
