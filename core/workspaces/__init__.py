"""Agent workspaces: one git worktree per agent on its own branch (``swarm/<agent>``).

``git`` runs the git command line; ``manifest`` stores what ``init`` made per repository
under ``$SWARM_HOME/workspaces/<repo>/``; ``manager`` creates, lists, syncs and removes;
``reservation_hook`` is the file reservations' per-worktree ``pre-commit`` hook;
``task_branch`` a task's own branch.
"""
