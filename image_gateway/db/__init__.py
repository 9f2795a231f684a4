"""The SQL database: one async engine (SQLite file by default, PostgreSQL to scale out), every
table, and the migrations that build them. The queries live with their owners
(`access/key_store.py`, `billing/budget_store.py`, `billing/usage_store.py`, `jobs/store.py`).

    database_url.py  DATABASE_URL normalisation and redaction (no SQLAlchemy import)
    engine.py        `Database`: the async engine, read/write transactions per dialect
    tables.py        every table, in SQLAlchemy Core
    migrate.py       the schema to the newest revision (Alembic, imported only when a revision
                     is to be applied), run at start-up and by `image-gateway db upgrade`
    migrations/      Alembic's revisions

Only SQLAlchemy Core with bound parameters touches the database: no SQL is built from strings.
"""
