"""The databases and their row-level reads and writes.

``conn`` (the one connection interface store functions run on, and its SQLite class),
``database`` (the ``Store`` protocol, SQLite through aiosqlite, migrations, ``open_store``),
``postgres`` (the same store on PostgreSQL, with its network timeouts, scheduler
lock and LISTEN connection in the ``postgres_*`` modules: the only place psycopg is imported),
``tables`` (reads and writes of one connection), ``event_query``, ``posts``, ``db_copy``,
``retention``, and ``access`` (a store with its settings, agents and clock: what a service
writes through). Imports only the foundations of ``core``.
"""
