"""The API the front ends call: ``swarm.SwarmService`` (a holder of the store, ``.store``,
and the feature services: tasks, queue, questions, reviews, reservations, posts,
workspaces; messages, events and the inbox of its own still) and ``ai.AIService`` (plans
and summaries).
"""
