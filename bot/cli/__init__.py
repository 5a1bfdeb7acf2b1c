"""The ``swarm`` command line: ``main`` parses and dispatches; one module per command group.

``args``, ``output``, ``format``, ``style`` and ``errors`` hold what the groups share, so no
group imports ``main``.
"""
