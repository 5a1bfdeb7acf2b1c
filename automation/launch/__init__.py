"""An agent's start, one seam: what every route does to start, stop and tell the state of
its agents, and what starting an agent needs outside the routes (the sandbox, its door, the
hooks installed before a CLI reads them)."""
