"""The API the front ends call: ``swarm.SwarmService`` (a holder of the store, ``.store``,
and the feature services: tasks, inbox, history, messages, queue, questions, reviews,
reservations, posts, workspaces; the agents' rows and status of its own) and ``ai.AIBook`` (plans
and summaries).
"""
