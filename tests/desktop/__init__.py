"""``swarm desktop up``: real terminals, tmux and the driver on Xvfb."""
