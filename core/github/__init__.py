"""GitHub's feature: its rows, rules, client and webhook, for the loop (``core.github_loop``:
labelled issues become tasks, a done task a pull request, CI failures and review comments go
back to the agent that wrote the code) and the front ends.

``settings`` (read by the composition root), ``rules`` (pure text rules: the fenced issue,
labels, dependencies, the PR body), ``client`` (gidgethub over httpx: ETags, rate limit),
``links`` (the ``github_issues`` rows), ``trust`` (the writers-only rule), ``once`` (comments
and reviews written once), ``push`` (git push with the token in the environment only),
``status`` (what ``swarm github status`` and doctor say), ``webhook`` (the
dashboard's endpoint logic: each delivery taken once), ``service`` (``GitHubBook``: what the
front ends call, as ``service.github``). A feature: it imports the features it serves
(tasks, workspaces, history, reviews), never the service.
"""
