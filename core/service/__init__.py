"""The API the front ends call: ``swarm.SwarmService`` (tasks, messages, deliveries and the
feature services: questions, reviews, reservations, posts, the inbox) and ``ai.AIService``
(plans and summaries).
"""
