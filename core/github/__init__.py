"""GitHub in the loop: labelled issues become tasks, a done task a pull request,
CI failures and review comments go back to the agent that wrote the code.

``settings`` (read by the composition root), ``rules`` (pure text rules: the fenced issue,
labels, dependencies, the PR body), ``client`` (gidgethub over httpx: ETags, rate limit),
``links`` (the ``github_issues`` rows), ``trust`` (the writers-only rule), ``intake`` (issues
imported, outsiders' reviews and edits held for a person), ``once`` (comments and reviews
written once), ``push`` (git push with the token in the environment only), ``sync`` (the
loop's timer), ``status`` (what ``swarm github status`` and doctor say), ``webhook`` (the
dashboard's endpoint logic: each delivery taken once), ``service`` (``GitHubBook``: what the
front ends call). A loop (core's top tier): it holds the service and imports the
features below it.
"""
