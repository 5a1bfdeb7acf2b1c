"""The state database as a whole, for the commands that look after it rather than its rows:
``copy`` (``swarm db copy``: a SQLite home's database into PostgreSQL, checked before
anything is read) and ``checks`` (``swarm doctor``: the SQLite file writable, the
PostgreSQL database reachable and its schema not newer than this swarm). The front ends
call these; the work is the store's (``core.store``).

Imports only ``core.store`` and the foundations.
"""
