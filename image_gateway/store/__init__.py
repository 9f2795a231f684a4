"""Persistence: one SQL database (SQLite file by default, PostgreSQL to scale out) holding
gateway keys, budget reservations and the usage ledger — and, later, jobs.

    urls.py        DATABASE_URL normalisation and redaction (no SQLAlchemy import)
    engine.py      `Database`: the async engine, read/write transactions per dialect
    tables.py      every table, in SQLAlchemy Core
    migrate.py     the schema to the newest revision (Alembic, imported only when a revision
                   is to be applied), run at start-up and by `image-gateway db upgrade`
    keys.py        stored gateway keys: create, list, get, revoke, look up by hash
    budget.py      atomic monthly-budget reservations and their settlement
    usage.py       ledger inserts and `GET /v1/usage` aggregation

Only SQLAlchemy Core with bound parameters touches the database: no SQL is built from strings.
"""
