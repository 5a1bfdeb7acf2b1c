"""The API the front ends call: ``swarm.SwarmService`` (tasks, messages, questions,
deliveries, posts, audit) and ``ai.AIService`` (plans and summaries).

Imports ``workflows``, ``planning``, ``reports``, ``ai`` and everything below them.
"""
