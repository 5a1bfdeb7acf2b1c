"""Protocol hosts: each protocol agent (``delivery = "protocol"``) runs its CLI's structured
protocol (ACP over stdio) under a small host process that outlives swarm's own restarts, as
tmux keeps a pane. The host speaks ACP to the agent and JSON lines to swarm over a Unix socket:
``wire`` (the socket's messages and where its files are), ``host`` (the process), ``client``
(swarm's side), ``launch`` (starting and stopping hosts)."""
