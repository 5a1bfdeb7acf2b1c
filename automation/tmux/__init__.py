"""The tmux route (``delivery = "tmux"``): prompts pasted straight into the agents' panes
(``delivery``) and ``desktop up --headless`` (``headless``). The ``swarm-<agent>`` sessions
``swarm desktop up`` runs the terminal agents in, and what a pane's input shows, are shared
with the desktop route (``automation.tmux_sessions``, ``automation.pane_input``)."""
