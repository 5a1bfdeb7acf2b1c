"""The watchers of a running coordinator: ``stalls`` (one watch tick: stalls, nudges, the
agents' states), ``text_signal`` (each tmux pane read and classified), ``gateways`` (the
sandboxes' model gateways and their refusals) and ``settings``.

Import the submodules directly: this package stays empty so that ``core.service.swarm`` can
read alerts without loading APScheduler.
"""
