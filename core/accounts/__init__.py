"""Accounts: the API key or subscription an agent runs on, shared by every agent on it.

An agent's account is named in the agents file (``account = "anthropic-team"``) or derived
from its CLI and a fingerprint of the credential it runs with (``naming``). A usage limit
belongs to the account: the first one seen opens the account's breaker (``breaker``) and no
agent of it gets a new task until the reset, when one agent's next task probes it.
"""
