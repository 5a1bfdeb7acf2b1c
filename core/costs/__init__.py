"""What the agents' turns cost: the ledger of each turn's tokens and dollars (``ledger``),
the price table that prices a turn whose CLI gives no cost (``prices``, ``prices.toml``), and
the budgets that stop new work when spent (``budgets``)."""
