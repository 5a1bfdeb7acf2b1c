"""The databases: connections, migrations and the rows every feature shares.

``conn`` (the one connection interface and its SQLite class), ``sqlite`` (the ``Store``
protocol, SQLite through aiosqlite, ``open_store``), ``postgres/`` (the same store on
PostgreSQL, its LISTEN, failover and dead-peer detection: the only place psycopg is
imported), ``migrations``, ``tables`` (the shared rows: tasks, deliveries, events, audit),
``row_locks``, ``db_copy`` and ``access`` (a store with its settings, agents and clock: what a
service writes through). Imports only the foundations of ``core``; the front ends import
none of it (they call the features above it: ``core.database``, ``core.coordinator.db_lock``,
``core.agents._hook_intake``, the services).
"""
