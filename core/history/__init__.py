"""The event log: queries over it (``events``), retention to a compressed archive
(``retention``), and ``service`` (``HistoryBook``, what the front ends call:
``service.history``)."""
