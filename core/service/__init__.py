"""The API the front ends call: ``swarm.SwarmService`` (tasks, messages, questions,
deliveries, posts, audit, file reservations: ``service.reservations``) and
``ai.AIService`` (plans and summaries).

Imports ``workflows``, ``planning``, ``reports``, ``ai`` and everything below them.
"""
