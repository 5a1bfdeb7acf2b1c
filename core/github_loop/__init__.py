"""GitHub in the loop, the part that holds the service and runs on the scheduler's timer:
``sync`` (the loop: labelled issues become tasks, a done task a pull request, CI failures and
review comments go back to the agent that wrote the code), ``intake`` (issues imported,
outsiders' reviews and edits held for a person), ``merge`` (a pull request merged when its
task is). GitHub's rows, rules, client and webhook are the feature ``core.github`` below.
"""
