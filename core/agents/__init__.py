"""What each agent is doing and why: its signals, the judge, alerts, screens and pane text,
and what swarm installs for each agent CLI (hooks, MCP files, text rules with real panes);
``service`` (``SignalBook``): hook events and alerts, as the front ends call them."""
