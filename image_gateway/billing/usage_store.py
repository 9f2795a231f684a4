"""The usage ledger in the database: batch inserts and `GET /v1/usage` aggregation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, insert, select
from sqlalchemy.engine import Dialect

from image_gateway.billing.usage_query import GROUPS, UsageQuery
from image_gateway.db.engine import Database
from image_gateway.db.tables import usage
from image_gateway.db.values import MICROS


class UsageStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._bulk: _BulkInsert | None = None

    async def insert_many(self, rows: list[dict[str, Any]]) -> None:
        """Insert ledger rows (dicts of the table's columns but `id`) in one transaction."""
        if rows:
            async with self.db.write() as conn:
                bulk = self._bulk
                if bulk is None or bulk.dialect is not conn.dialect:
                    bulk = self._bulk = _BulkInsert(conn.dialect)
                await conn.exec_driver_sql(bulk.sql, [bulk.params(row) for row in rows])

    async def aggregate(self, q: UsageQuery) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        """(rows, totals, truncated) for the query; every filter is a bound parameter."""
        conditions = _filters(q)
        where = and_(*conditions) if conditions else None
        names: list[str] = []
        for group in q.group_by:
            names.extend(c for c in GROUPS[group] if c not in names)
        columns = [usage.c[name] for name in names]
        measures = _measures()
        query = select(*columns, *measures)
        totals_query = select(*measures)
        if where is not None:
            query = query.where(where)
            totals_query = totals_query.where(where)
        if columns:
            query = query.group_by(*columns).order_by(*columns).limit(q.limit + 1)
        async with self.db.read() as conn:
            rows = [r._asdict() for r in (await conn.execute(query)).all()]
            totals = (await conn.execute(totals_query)).one()._asdict()
        truncated = len(rows) > q.limit if columns else False
        shaped = [_shape(r) for r in rows[: q.limit]] if columns else []
        return shaped, _shape(totals), truncated


def _filters(q: UsageQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if q.start:
        found.append(usage.c.day >= q.start)
    if q.end:
        found.append(usage.c.day <= q.end)
    if q.key_id is not None:
        found.append(usage.c.key_id == q.key_id)
    if q.own_env_client:
        found.append(usage.c.key_id.is_(None))
    if q.key_name is not None:
        found.append(usage.c.key_name == q.key_name)
    if q.user_id is not None:
        found.append(usage.c.user_id == q.user_id)
    if q.provider is not None:
        found.append(usage.c.provider == q.provider)
    if q.model is not None:
        found.append(usage.c.model == q.model)
    return found


def _measures() -> list[Any]:
    succeeded = case((usage.c.status == "succeeded", 1), else_=0)
    is_unknown = usage.c.status == "unknown"
    unknown = case((is_unknown, 1), else_=0)
    unknown_cost = case((is_unknown, usage.c.cost_micros), else_=0)
    unpriced = case((usage.c.cost_micros.is_(None), 1), else_=0)
    return [
        func.count().label("requests"),
        func.coalesce(func.sum(succeeded), 0).label("succeeded"),
        func.coalesce(func.sum(unknown), 0).label("unknown"),
        func.coalesce(func.sum(usage.c.images), 0).label("images"),
        func.coalesce(func.sum(usage.c.cost_micros), 0).label("cost_micros"),
        func.coalesce(func.sum(unknown_cost), 0).label("unknown_cost_micros"),
        func.coalesce(func.sum(unpriced), 0).label("unpriced"),
    ]


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    """A group's (or the totals') measures. `cost_usd` is everything spent or possibly spent —
    what budgets count; `outcome_unknown_cost_usd` is the part estimated for rows whose calls
    may have been charged without an answer (`outcome_unknown` of them)."""
    # str(): SQLAlchemy names columns with a str subclass, which orjson refuses as a key.
    out = {str(k): v for k, v in row.items() if k not in _MEASURE_NAMES}
    requests = int(row["requests"])
    succeeded = int(row["succeeded"])
    unknown = int(row["unknown"])
    out.update(
        requests=requests,
        succeeded=succeeded,
        failed=requests - succeeded - unknown,
        outcome_unknown=unknown,
        images=int(row["images"]),
        cost_usd=round(int(row["cost_micros"]) / MICROS, 6),
        outcome_unknown_cost_usd=round(int(row["unknown_cost_micros"] or 0) / MICROS, 6),
        unpriced_requests=int(row["unpriced"]),
    )
    return out


_MEASURE_NAMES = {
    "requests",
    "succeeded",
    "unknown",
    "images",
    "cost_micros",
    "unknown_cost_micros",
    "unpriced",
}


class _BulkInsert:
    """The ledger's INSERT, compiled once for a dialect, and each row's driver parameters.

    The driver's own executemany takes the rows: SQLAlchemy's per-row parameter handling for
    `execute(insert(usage), rows)` cost more CPU than SQLite's insert itself (bench/RESULTS.md,
    round 3), on the event loop's thread. Each column's bind
    processor (SQLite's DATETIME to text, for one) still applies, as SQLAlchemy would apply it.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        columns = [c for c in usage.columns if c.name != "id"]
        compiled = insert(usage).compile(dialect=dialect, column_keys=[c.name for c in columns])
        self.sql = str(compiled)
        names = list(compiled.positiontup or ()) if compiled.positional else []
        by_name = {c.name: c for c in columns}
        self.names = names or [c.name for c in columns]
        self.convert: list[tuple[int, Callable[[Any], Any]]] = []
        for index, name in enumerate(self.names):
            process = dialect.type_descriptor(by_name[name].type).bind_processor(dialect)
            if process is not None:
                self.convert.append((index, process))
        self.positional = bool(names)

    def params(self, row: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = [row[name] for name in self.names]
        for index, process in self.convert:
            values[index] = process(values[index])
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))
