"""Real applications for the desktop driver's tests and benchmarks (see ``desktop.py``)."""
