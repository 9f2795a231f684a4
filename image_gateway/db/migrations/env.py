"""Alembic environment: runs on the connection `image_gateway.db.migrate` hands over.

Migrations run inside the gateway (start-up, `image-gateway db upgrade`), never from an
`alembic.ini`, so the database URL and credentials come from the gateway's own settings.
"""

from __future__ import annotations

from alembic import context

from image_gateway.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `image-gateway db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
