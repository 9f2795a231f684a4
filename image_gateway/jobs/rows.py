"""A job as data: the row read back (`JobRow`), what creating one takes (`NewJob`), its
statuses, and the conflict an Idempotency-Key can meet. Without SQLAlchemy: routes and the
job service use them, and the store (`jobs/store.py`) loads on first use (issue 16)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

ACTIVE = ("queued", "running")
TERMINAL = ("succeeded", "failed", "canceled")


class IdempotencyConflict(Exception):
    """The same Idempotency-Key was used with a different request."""


@dataclass(slots=True)
class JobRow:
    values: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def id(self) -> str:
        return str(self.values["id"])

    @property
    def status(self) -> str:
        return str(self.values["status"])

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(slots=True)
class NewJob:
    owner: str
    user_id: str | None
    kind: str
    request: dict[str, Any]
    inputs: dict[str, Any] | None
    public_base_url: str
    webhook_url: str | None
    webhook_secret: str | None
    idempotency_key: str | None
    request_hash: str | None
    request_id: str | None
    admission: dict[str, Any] | None = None  # what the job's admission holds, until it ends


def new_job_id() -> str:
    return f"job_{secrets.token_hex(12)}"
