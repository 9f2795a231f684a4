"""What an emulator saw: request counters per kind, paid submissions, in-flight requests, and a
bounded record of the requests whose bodies it parsed (so a test can assert that a field reached
the provider under the provider's own name).

A record is `{"method": "POST", "path": "/v1/flux-dev", "fields": {...}}`: a JSON body's
top-level fields as sent, or a multipart form's fields (a repeated name becomes a list; a file
part becomes `{"filename", "content_type", "bytes": <size>}`). A string longer than
`MAX_FIELD_CHARS` (a base64 image) is kept as `{"chars": <length>, "sha256": <hex of its UTF-8>}`,
so hundreds of records of large inputs stay small. The newest `MAX_RECORDS` are kept.
Thread-safe: the server's loop writes while a test reads.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from typing import Any

from starlette.datastructures import FormData, UploadFile

MAX_RECORDS = 500
MAX_FIELD_CHARS = 4096


class RequestLog:
    def __init__(self, kinds: tuple[str, ...]) -> None:
        self.kinds = kinds
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.by_kind = dict.fromkeys(self.kinds, 0)
            self.submissions = 0
            self.in_flight = 0
            self.max_in_flight = 0
            self.faults_triggered = 0
            self._records: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)

    def begin(self, kind: str) -> None:
        with self._lock:
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def fault_triggered(self) -> None:
        with self._lock:
            self.faults_triggered += 1

    def submitted(self, n: int = 1) -> None:
        """A paid submission the provider accepted (one it would bill)."""
        with self._lock:
            self.submissions += n

    def record(self, method: str, path: str, fields: dict[str, Any]) -> None:
        with self._lock:
            self._records.append({"method": method, "path": path, "fields": fields})

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._records)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "submissions": self.submissions,
                "requests": dict(self.by_kind),
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "faults_triggered": self.faults_triggered,
            }


def json_fields(payload: Any) -> dict[str, Any]:
    """A JSON body's fields for a record (a body that is not an object: under `""`)."""
    fields = payload if isinstance(payload, dict) else {"": payload}
    return {str(name): bounded(value) for name, value in fields.items()}


def bounded(value: Any) -> Any:
    """`value` with every string longer than MAX_FIELD_CHARS replaced by its length and hash."""
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        return {"chars": len(value), "sha256": hashlib.sha256(value.encode()).hexdigest()}
    if isinstance(value, list):
        return [bounded(item) for item in value]
    if isinstance(value, dict):
        return {key: bounded(item) for key, item in value.items()}
    return value


async def form_fields(form: FormData) -> dict[str, Any]:
    """A multipart form's fields for a record; file parts by name, type and size."""
    out: dict[str, Any] = {}
    for name, value in form.multi_items():
        item: Any = bounded(value)
        if isinstance(value, UploadFile):
            size = value.size
            if size is None:
                size = len(await value.read())
                await value.seek(0)
            item = {"filename": value.filename, "content_type": value.content_type, "bytes": size}
        if name in out:
            previous = out[name]
            out[name] = [*previous, item] if isinstance(previous, list) else [previous, item]
        else:
            out[name] = item
    return out
