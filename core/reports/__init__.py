"""What the swarm did, told back: ``summary`` (period summaries, by the model or as plain
numbers), ``stats`` (counts and the PNG chart), ``export`` (CSV and JSON), ``dashboard`` (the
dashboard's reads), ``service`` (``ReportBook``, what the front ends call).

Imports ``ai``, ``store`` and the foundations.
"""
