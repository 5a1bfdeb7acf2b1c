"""The event log and the ``events`` table's statements: queries over it (``events``,
``event_queries``, with the fragments other features' statements compose), the old events
and audit rows of retention (``retention_queries``; the pass is
``core.coordinator.retention``), and ``service`` (``HistoryBook``, what the front ends call:
``service.history``)."""
