"""Every table of the gateway's database (SQLAlchemy Core). Alembic migrations create them.

Conventions: times are naive UTC `DATETIME`s (the same on SQLite and PostgreSQL); money is an
integer count of micro-dollars (1 USD = 1,000,000) so sums and budget checks are exact; a key
is stored only as the SHA-256 hex of its text plus a short display prefix, never the key.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
LedgerId = BigInteger().with_variant(Integer(), "sqlite")

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("allowed_providers", JSON, nullable=True),  # null = any provider
    Column("allowed_models", JSON, nullable=True),  # null = any; "provider/model" ids
    Column("requests_per_minute", Integer, nullable=True),
    Column("max_concurrent", Integer, nullable=True),
    Column("monthly_budget_micros", BigInteger, nullable=True),
    # Settled spend of the month `spend_month` ("YYYY-MM"); a new month starts from zero.
    Column("spend_month", String(7), nullable=True),
    Column("spend_micros", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)

# An in-flight request's estimated cost, held against its key's budget until it settles. The
# expiry frees what a crashed instance held.
budget_reservations = Table(
    "budget_reservations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("key_id", String(32), ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
    Column("amount_micros", BigInteger, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index(None, "key_id"),
)

# One row per generation request that reached a provider (or was refused by it).
usage = Table(
    "usage",
    metadata,
    Column("id", LedgerId, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("day", String(10), nullable=False),  # "YYYY-MM-DD" (UTC): grouping without SQL dialects
    Column("request_id", String(128), nullable=True),
    Column("key_id", String(32), nullable=True),  # null for GATEWAY_API_KEYS / development
    Column("key_name", String(100), nullable=False),
    Column("user_id", String(256), nullable=True),
    Column("provider", String(64), nullable=False),
    Column("model", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("images", Integer, nullable=False),
    Column("size", String(16), nullable=True),
    Column("quality", String(16), nullable=True),
    Column("latency_ms", Float, nullable=False),
    Column("cost_micros", BigInteger, nullable=True),  # null = no price known
    Index(None, "day"),
    Index(None, "key_id", "day"),
    Index(None, "key_name", "day"),
)

# Asynchronous jobs (`Prefer: respond-async`, `Idempotency-Key`). The row is the source of
# truth: a worker claims it with a lease before running it, writes the provider's handle into
# `journal` before anything else happens, and a restarted or other worker resumes from there.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(140), nullable=False),  # "key:<id>", "env:<name>" or "development"
    Column("user_id", String(256), nullable=True),
    Column("status", String(16), nullable=False),  # queued|running|succeeded|failed|canceled
    Column("kind", String(8), nullable=False),  # generate | edit
    Column("request", JSON, nullable=False),  # the validated body, as the client sent it
    Column("inputs", JSON, nullable=True),  # stored input image ids: {"images": [...], "mask"}
    Column("public_base_url", String(2048), nullable=False),
    Column("journal", JSON, nullable=True),  # candidate index and each call's provider handle
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("progress", Float, nullable=True),
    Column("webhook_url", String(2083), nullable=True),
    Column("webhook_secret", String(256), nullable=True),
    Column("webhook", JSON, nullable=True),  # delivery state: attempts, last status, delivered
    Column("webhook_next_at", DateTime, nullable=True),
    Column("idempotency_key", String(256), nullable=True),
    Column("request_hash", String(64), nullable=True),
    Column("cancel_requested", Integer, nullable=False, server_default="0"),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", DateTime, nullable=True),
    Column("not_before", DateTime, nullable=True),  # a job put back (rate limited) waits
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("request_id", String(128), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("started_at", DateTime, nullable=True),
    Column("finished_at", DateTime, nullable=True),
    # What the admission taken at submission holds (slot, budget reservation) until the job
    # ends; null for jobs queued before 0003, which are admitted when they run.
    Column("admission", JSON, nullable=True),
    # What the running job's provider calls last reported besides `progress`
    # (`jobs/activity.py`): {"provider_status", "queue_position"}; null until one reports.
    Column("activity", JSON, nullable=True),
    Index(None, "owner", "created_at"),
    Index(None, "status", "lease_expires_at"),
    Index(None, "owner", "idempotency_key", unique=True),
    Index(None, "webhook_next_at"),
)
