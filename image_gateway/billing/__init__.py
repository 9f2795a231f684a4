"""What a generation cost and who pays: the price table, a request's ledger rows, monthly
budgets and the usage ledger.

    pricing.py       cost in USD from the provider's figures, tokens or `prices.json`
    prices.json      the price table, with its sources
    accounting.py    a request's ledger rows: what was made, charged or maybe charged
    ledger.py        the batched, bounded background writer of ledger rows
    budget_store.py  monthly-budget reservations and their settlement (SQL)
    usage_store.py   ledger inserts and `GET /v1/usage` aggregation (SQL)
"""
