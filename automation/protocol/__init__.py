"""The protocol route: each protocol agent (``delivery = "protocol"``) runs its CLI's
structured protocol (ACP, or the CLI's own such as Claude Code's stream-json) under a host
process of swarm's that outlives swarm's restarts, as tmux keeps a pane.

``host`` is that process's turns and sessions (``program`` runs it, ``journal`` writes its
journal, ``server`` serves its socket, ``acp_driver`` speaks ACP to the agent; ``callers``
says who may use its socket), ``launch`` starts and stops hosts, ``session`` is ``swarm
desktop up --protocol``'s part, ``delivery`` puts a prompt to a host, ``attach`` is ``swarm
attach`` for a protocol agent. What both sides agree on (the socket's messages, the journal,
the files) is ``core.hosts``."""
