"""The API the front ends call: ``swarm.SwarmService`` (a holder of the store, ``.store``,
and the feature services: tasks, inbox, history, queue, questions, reviews, reservations,
posts, workspaces; messages and agents' rows of its own still) and ``ai.AIService`` (plans
and summaries).
"""
