"""What the swarm did, told back: ``summary`` (period summaries, by the model or as plain
numbers), ``stats`` (counts and the PNG chart), ``export`` (CSV and JSON).

Imports ``ai``, ``store`` and the foundations.
"""
